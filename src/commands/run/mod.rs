//! `voiceswarm run`: its flags (Goose's own flattened in, voiceswarm's beside them) and the order
//! of a load run — load the journeys and targets, resolve the plan, reach the system under test,
//! open the run folder, run the swarm.

pub mod resolve;

use crate::commands::shared::{load_targets, JourneyArgs, ResultsArgs};
use crate::sut::{check_reachable, SystemUnderTest};
use anyhow::anyhow;
use clap::Args;
use goose::config::GooseConfiguration;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use voiceswarm_backend::BackendConfig;
use voiceswarm_engine::measure::step::StepContext;
use voiceswarm_engine::swarm::attack::{attack, goose_error_line};
use voiceswarm_engine::swarm::ending::coordinated_omission_text;
use voiceswarm_engine::swarm::{given_journeys, unselected_targets, Swarm};
use voiceswarm_model::arrival::rate::{parse_positive_rate, Shape};
use voiceswarm_model::arrival::schedule::Process;
use voiceswarm_model::arrival::OnFull;
use voiceswarm_model::plan::worker::WorkerArgs;
use voiceswarm_model::plan::{ClientMode, Load, Profile};
use voiceswarm_model::scenario::Journeys;
use voiceswarm_model::stats::Recorder;
use voiceswarm_model::units::parse_number_above_zero;
use voiceswarm_results::export::Exporter;
use voiceswarm_results::folder::RunFolder;
use voiceswarm_results::load_run::LoadRun;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Named load profile: light 10 users 2/s 2m, medium 50/5/5m, heavy 100/10/10m, stress 200/20/10m
    #[arg(long, value_enum, ignore_case = true, help_heading = "Load")]
    pub profile: Option<Profile>,
    /// Users started per second (Locust's name for Goose's -r) [default: 2, the light profile]
    #[arg(
        long,
        value_name = "RATE",
        help_heading = "Load",
        conflicts_with = "increase_rate",
        value_parser = parse_number_above_zero
    )]
    pub spawn_rate: Option<f64>,
    /// Run without the web UI (the default)
    #[arg(long, help_heading = "Load", conflicts_with = "web")]
    pub headless: bool,
    /// Serve the web UI (Goose's live dashboard, port 8089) and wait for Start on the page
    #[arg(long, help_heading = "Load")]
    pub web: bool,
    /// HTTP clients: one per user (like separate devices) or one shared (least memory)
    #[arg(
        long,
        value_enum,
        default_value = "per-user",
        help_heading = "Journeys and targets"
    )]
    pub client: ClientMode,
    #[command(flatten)]
    pub journey: JourneyArgs,
    #[command(flatten)]
    pub results: ResultsArgs,
    /// Also copy Goose's HTML report to FILE
    #[arg(long, value_name = "FILE", help_heading = "Results")]
    pub html: Option<PathBuf>,
    /// Locust's --csv: write every request to PREFIX_requests.csv (Goose's request log, CSV)
    #[arg(long, value_name = "PREFIX", help_heading = "Results")]
    pub csv: Option<String>,
    /// What the run tested, e.g. version=1.4.2, deploy=abc123, env=staging (repeatable; adds to VOICESWARM_LABELS)
    #[arg(long = "label", value_name = "KEY=VALUE", help_heading = "Results",
          value_parser = |s: &str| voiceswarm_model::labels::parse_label(s).map(|_| s.to_string()))]
    pub labels: Vec<String>,

    /// Open arrivals: callers arrive at RATE (5/s, 120/m, 7200/h), each one journey, whatever the backend's speed
    #[arg(long, value_name = "RATE", help_heading = "Arrivals (calls per second)",
          value_parser = |s: &str| parse_positive_rate(s).map(|_| s.to_string()),
          conflicts_with_all = ["users", "spawn_rate", "increase_rate", "iterations", "test_plan", "arrival_plan", "web"])]
    pub arrival_rate: Option<String>,
    /// Ramping arrivals: "1/s,1m;10/s,5m;0/s,30s", each stage ramps linearly from the previous rate (from 0)
    #[arg(long, value_name = "PLAN", help_heading = "Arrivals (calls per second)",
          value_parser = |s: &str| Shape::plan(s).map(|_| s.to_string()),
          conflicts_with_all = ["users", "spawn_rate", "increase_rate", "iterations", "test_plan", "run_time", "web"])]
    pub arrival_plan: Option<String>,
    /// How arrivals are spread: poisson (independent callers) or constant [default: poisson]
    #[arg(
        long,
        value_enum,
        value_name = "MODEL",
        help_heading = "Arrivals (calls per second)"
    )]
    pub arrivals: Option<Process>,
    /// Users that carry arrivals [default: the peak rate × twice the journeys' estimated length]
    #[arg(long, value_name = "N", help_heading = "Arrivals (calls per second)", value_parser = at_least_one)]
    pub max_concurrency: Option<usize>,
    /// When every user is busy: drop the arrival (counted, fails the run) or queue it [default: drop]
    #[arg(
        long,
        value_enum,
        value_name = "WHAT",
        help_heading = "Arrivals (calls per second)"
    )]
    pub on_full: Option<OnFull>,

    /// Serve the run's figures at http://ADDR/metrics for Prometheus to scrape, e.g. 127.0.0.1:9464 (port 0: any free one)
    #[arg(long, value_name = "ADDR", help_heading = "Monitoring", value_parser = listen_address)]
    pub prometheus_listen: Option<std::net::SocketAddr>,
    /// After the run, keep /metrics up this long so a scrape collects the final figures
    #[arg(long, value_name = "TIME", default_value = "15s", help_heading = "Monitoring",
          value_parser = voiceswarm_model::units::parse_duration)]
    pub prometheus_linger: std::time::Duration,
    /// Push the final figures to the Prometheus Pushgateway at URL (job voiceswarm, labelled)
    #[arg(long, value_name = "URL", help_heading = "Monitoring", value_parser = http_url)]
    pub prometheus_push: Option<String>,
    /// Write the final figures to FILE as CloudWatch Embedded Metric Format JSON lines
    #[arg(long, value_name = "FILE", help_heading = "Monitoring")]
    pub cloudwatch_emf: Option<PathBuf>,

    #[command(flatten)]
    pub worker: WorkerArgs,

    #[command(flatten)]
    pub backend: BackendConfig,

    /// Goose's own options, flattened in (declared last so voiceswarm's come first in help).
    #[command(flatten)]
    pub goose: GooseConfiguration,
}

/// An address to listen on: `127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`.
fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        "expected ADDRESS:PORT, such as 127.0.0.1:9464 (port 0 picks a free one)".to_string()
    })
}

/// An http:// or https:// URL.
fn http_url(text: &str) -> Result<String, String> {
    match reqwest::Url::parse(text.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(text.trim().to_string()),
        _ => Err("expected an http:// or https:// URL, such as http://127.0.0.1:9091".into()),
    }
}

/// A whole number, at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number, at least 1".into()),
    }
}

/// Goose's own `--list`: the journeys' scenarios with their weights and steps.
async fn list(goose: GooseConfiguration, journeys: &Journeys) -> anyhow::Result<u8> {
    let ctx = Arc::new(StepContext::plain(journeys.data.clone()));
    let mut g = goose;
    g.host.get_or_insert_with(|| "http://127.0.0.1".into());
    attack(g, journeys, &ctx)
        .map_err(|e| anyhow!(goose_error_line(&e)))?
        .execute()
        .await
        .map_err(|e| anyhow!(goose_error_line(&e)))?;
    Ok(0)
}

/// The lines that say what a run will run: its journeys (which of them), its targets, and for
/// open arrivals their rate and the users that carry them.
fn say_what_runs(
    plan: &voiceswarm_model::plan::RunPlan,
    journeys: &Journeys,
    scenario_input: &voiceswarm_model::inputs::Input,
    targets_input: &voiceswarm_model::inputs::Input,
    max_concurrency_flag: Option<usize>,
) {
    let running = match plan.journeys.as_deref().map(|p| journeys.select(p)) {
        Some(Ok(chosen)) => {
            let names: Vec<&str> = chosen.iter().map(|s| s.name.as_str()).collect();
            format!(
                "{} of {} scenarios: {}",
                names.len(),
                journeys.scenarios.len(),
                names.join(", ")
            )
        }
        _ => format!("{} scenarios", journeys.scenarios.len()),
    };
    println!(
        "Journeys: {} ({running}); targets: {}",
        scenario_input.name(),
        targets_input.name()
    );
    if let Load::Arrivals {
        rate,
        process,
        max_concurrency,
        on_full,
    } = &plan.load
    {
        let how = match max_concurrency_flag {
            Some(_) => "--max-concurrency".to_string(),
            None => "the peak rate × twice the journeys' estimated length; set it with --max-concurrency".into(),
        };
        println!(
            "Arrivals: {} ({process:?}) for {}; {max_concurrency} users carry them ({how}); {on_full:?} when all are busy",
            rate.text,
            voiceswarm_model::units::format_duration(rate.duration())
        );
    }
}

/// `voiceswarm run`: the exit code (0 every target met, 1 one missed); errors are exit code 2.
/// `--cloudwatch-emf FILE` is refused before the run rather than after it: the figures would
/// have nowhere to go.
fn check_emf_file(file: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let Some(file) = file {
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) || file.is_dir() {
            return Err(anyhow!(
                "--cloudwatch-emf {}: not a file in an existing folder",
                file.display()
            ));
        }
    }
    Ok(())
}

pub async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let scenario_input = args.journey.scenario_input();
    let journeys = args.journey.load()?;
    if args.goose.list {
        return list(args.goose, &journeys).await;
    }
    let targets_input = args.journey.targets.input();
    let (targets, targets_text) = load_targets(&targets_input, &journeys)?;
    let plan = resolve::resolve(&args, &journeys, &targets_input, |k| std::env::var(k).ok())
        .map_err(anyhow::Error::msg)?;
    check_emf_file(plan.export.cloudwatch_emf.as_deref())?;
    say_what_runs(
        &plan,
        &journeys,
        &scenario_input,
        &targets_input,
        args.max_concurrency,
    );
    let sut = SystemUnderTest::reach(plan.host.as_deref(), &args.backend, "load goes to").await?;
    for s in &journeys.scenarios {
        if let Some(h) = &s.host {
            check_reachable(h)
                .await
                .map_err(|e| anyhow!("scenario '{}': {e}", s.name))?;
        }
    }
    let folder = RunFolder::open(
        args.results.out.as_deref(),
        &args.results.reports_dir,
        &plan.label,
    )
    .map_err(anyhow::Error::msg)?;
    let recorder = Arc::new(Recorder::for_this_machine());
    let users_seen = Arc::new(AtomicUsize::new(0));
    let exporter = Exporter::start(&plan, recorder.clone(), users_seen.clone(), &targets).await?;
    let sink = LoadRun::new(
        folder,
        &sut.url,
        plan.clone(),
        targets.clone(),
        targets_text,
        coordinated_omission_text(args.goose.co_mitigation.as_ref()),
        unselected_targets(&plan, &journeys, &targets),
        exporter,
    )
    .given_journeys(given_journeys(&plan, &journeys));
    let swarm = Swarm {
        plan: &plan,
        journeys: &journeys,
        targets: &targets,
        goose_flags: args.goose,
        recorder,
        users_seen,
        turn_log: Some(sink.turn_log()),
    };
    let code = swarm.run(&sut.url, &sink).await;
    let exported = sink.into_exporter().close().await;
    let code = code.and_then(|c| exported.map(|()| c));
    sut.stop().await;
    code
}
