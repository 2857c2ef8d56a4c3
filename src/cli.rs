//! The command line: `voiceswarm run | probe | serve | report | capacity | init | trend`, parsed
//! with clap.
//! Goose's own options are flattened into `run`, never re-declared; this module only adapts how
//! they read — the Locust vocabulary (-u, -r, -t, -H) with voiceswarm's true defaults and checks,
//! and the rest of Goose's options under headings that say they are Goose's, shown by `--help`.

use crate::commands::capacity::CapacityArgs;
use crate::commands::init::InitArgs;
use crate::commands::probe::ProbeArgs;
use crate::commands::report::ReportArgs;
use crate::commands::run::RunArgs;
use crate::commands::serve::ServeArgs;
use crate::commands::trend::TrendArgs;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use goose::config::GooseConfiguration;
use voiceswarm_model::units::parse_number_above_zero;

#[derive(Debug, Parser)]
#[command(
    name = "voiceswarm",
    version,
    about = "Load testing and latency validation for voice-assistant backends (STT → LLM → TTS), on Goose",
    long_about = None,
    after_help = "Exit codes: 0 every target met, 1 a target missed, 2 usage, input or runtime error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load test: voice journeys from a scenario file, Locust-style swarm controls
    Run(Box<RunArgs>),
    /// Measure each component's latency with N sequential calls, plus Redis cache read/write
    Probe(ProbeArgs),
    /// Run the reference voice-assistant backend in the foreground
    Serve(ServeArgs),
    /// Recompute, merge or compare summaries from saved run folders
    Report(ReportArgs),
    /// Find the maximum sustainable load: grow the users until an SLO breaks, then bisect
    Capacity(Box<CapacityArgs>),
    /// Write the built-in journeys, targets and audio as editable files (into ./scenarios)
    Init(InitArgs),
    /// Chart runs over time (trend.html, trend.json) and gate on the newest: exit 1 on a regression
    Trend(TrendArgs),
}

/// A whole number of users, at least 1.
fn users(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number of users, at least 1".into()),
    }
}

/// A run time in voiceswarm's grammar, whole seconds (kept as text: Goose's field is text).
fn run_time(text: &str) -> Result<String, String> {
    crate::commands::run::resolve::run_time(text).map(|_| text.to_string())
}

/// Headings of `run`'s own groups shown by `-h`; everything else waits for `--help`.
const SHORT_HELP_HEADINGS: [&str; 4] = [
    "Load",
    "Arrivals (calls per second)",
    "Journeys and targets",
    "Results",
];

/// The Locust vocabulary, shown first (in this order, with `--profile` and the UI switches).
const LOAD_FIRST: [&str; 8] = [
    "profile",
    "users",
    "spawn_rate",
    "increase_rate",
    "run_time",
    "host",
    "web",
    "headless",
];

/// One of `run`'s flags, adapted: the Locust four with voiceswarm's help, defaults and checks;
/// Goose's others under "Goose: …" headings; only `-h`'s groups shown by `-h`.
fn adapt_run_arg(a: clap::Arg, goose_ids: &[String]) -> clap::Arg {
    let id = a.get_id().to_string();
    // Goose's long help describes Goose's defaults (one user per CPU, …): voiceswarm's differ.
    let a = match id.as_str() {
        "users" => a
            .help("Users to start [default: 10, the light profile]")
            .long_help(None)
            .value_parser(users),
        "increase_rate" => a
            .help("Users started per second (Goose's name for --spawn-rate)")
            .long_help(None)
            .value_parser(|s: &str| parse_number_above_zero(s).map(|_| s.to_string())),
        "run_time" => a
            .help("How long to run: 90s, 2m, 1h30m [default: 2m, the light profile]")
            .long_help(None)
            .value_parser(run_time),
        "scenarios" => a
            .help("Run only these journeys: names from the scenario file, comma-separated, e.g. phone_call [default: all, by weight]")
            .long_help(None)
            .help_heading("Journeys and targets")
            .display_order(0),
        "host" => a
            .help("Backend to load, e.g. https://staging.example.com [default: the built-in reference backend]")
            .long_help(None),
        _ => a,
    };
    let a = match LOAD_FIRST.iter().position(|x| *x == id) {
        Some(i) => a.help_heading("Load").display_order(i),
        None if goose_ids.contains(&id) && id != "scenarios" => {
            let heading = format!("Goose: {}", a.get_help_heading().unwrap_or("options"));
            a.help_heading(heading)
        }
        None => a,
    };
    let shown = a
        .get_help_heading()
        .is_some_and(|h| SHORT_HELP_HEADINGS.contains(&h));
    a.hide_short_help(!shown)
}

/// `run` with Goose's flags adapted (see [`adapt_run_arg`]).
fn adapt_run(cmd: clap::Command) -> clap::Command {
    let goose_ids: Vec<String> = GooseConfiguration::augment_args(clap::Command::new("goose"))
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    cmd.mut_args(|a| adapt_run_arg(a, &goose_ids)).after_help(
        "-h shows voiceswarm's options; --help adds the reference backend's, distributed runs' \
         and every Goose option (reports, logs, thresholds, test plans, …).\n\
         Exit codes: 0 every target met, 1 a target missed, 2 usage, input or runtime error.",
    )
}

/// The whole command line, `run` adapted.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("run", adapt_run)
}

/// Parses `args` (the program name first).
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// A clap error as one line: `invalid value '0' for '--users <N>': expected …`, with the
/// accepted values when clap lists them (`[possible values: light, medium, heavy, stress]`).
pub fn error_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid command line");
    let line = first.trim_start_matches("error: ").trim().to_string();
    match text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("[possible values:"))
    {
        Some(values) => format!("{line} {values}"),
        None => line,
    }
}
