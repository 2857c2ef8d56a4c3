//! `voiceswarm capacity`: finds the maximum sustainable load. Its flags, the plan every step
//! projects from, and the order: journeys and SLOs, system under test, folder, search, files.

use crate::capacity::search::Search;
use crate::capacity::step::{Mode, Stepper};
use crate::commands::shared::{known_metrics, load_targets, JourneyArgs, ResultsArgs};
use crate::sut::SystemUnderTest;
use anyhow::anyhow;
use clap::Args;
use std::time::Duration;
use voiceswarm_backend::BackendConfig;
use voiceswarm_model::arrival::rate::parse_positive_rate;
use voiceswarm_model::inputs::Input;
use voiceswarm_model::plan::headers::ENV_API_KEY;
use voiceswarm_model::plan::{ClientMode, Console, Headers, Load, Profile, RunPlan};
use voiceswarm_model::scenario::Journeys;
use voiceswarm_model::stats::{Target, Targets};
use voiceswarm_model::units::{parse_percent, parse_positive_duration};
use voiceswarm_results::folder::{FolderKind, RunFolder};
use voiceswarm_results::session::Session;

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Backend to measure (default: the built-in reference backend)
    #[arg(short = 'H', long, value_name = "URL")]
    pub host: Option<String>,
    /// An SLO, e.g. 'pipeline:voice_turn p90<500ms' (repeatable; default: every required target)
    #[arg(long = "slo", value_name = "RULE", value_parser = |s: &str| Target::from_rule(s))]
    pub slos: Vec<Target>,
    /// Largest acceptable error rate [default: the targets file's]
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub max_error_rate: Option<f64>,
    /// Search the arrival rate (calls per second, open arrivals) instead of users: the highest
    /// rate within the SLOs with no dropped arrival
    #[arg(long)]
    pub arrivals: bool,
    /// Arrival mode: the first step's rate
    #[arg(long, default_value = "1/s", value_name = "RATE", value_parser = parse_positive_rate)]
    pub start_rate: f64,
    /// Arrival mode: never offer more than this rate
    #[arg(long, default_value = "1000/s", value_name = "RATE", value_parser = parse_positive_rate)]
    pub max_rate: f64,
    /// Users of the first step
    #[arg(long, default_value_t = 10, value_name = "N",
          value_parser = at_least_one)]
    pub start_users: usize,
    /// Never run more users than this
    #[arg(long, default_value_t = 10_000, value_name = "N",
          value_parser = at_least_one)]
    pub max_users: usize,
    /// How long each step holds its users (after a ramp that is not measured), whole seconds
    #[arg(long, default_value = "60s", value_name = "TIME", value_parser = step_time)]
    pub step_time: Duration,
    /// Stop bisecting when the gap between good and bad is at most this share of good
    #[arg(long, default_value = "10%", value_name = "PERCENT", value_parser = parse_percent)]
    pub resolution: f64,
    #[command(flatten)]
    pub journey: JourneyArgs,
    #[command(flatten)]
    pub results: ResultsArgs,
    #[command(flatten)]
    pub backend: BackendConfig,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number, at least 1".into()),
    }
}

fn step_time(text: &str) -> Result<Duration, String> {
    let d = parse_positive_duration(text)?;
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "'{text}': a step time is whole seconds, such as 30s"
        ));
    }
    Ok(d)
}

/// The plan every step projects from: the journeys, targets and headers; each step sets the load.
fn base_plan(args: &CapacityArgs, journeys: &Journeys, targets: &Input) -> anyhow::Result<RunPlan> {
    let api_key = std::env::var(ENV_API_KEY).ok();
    Ok(RunPlan {
        label: "capacity".into(),
        profile: Profile::Light,
        load: Load::TestPlan,
        journeys: None,
        host: args.host.clone(),
        scenario: journeys.input.clone(),
        scenario_hash: journeys.hash.clone(),
        targets: targets.clone(),
        web: false,
        client: ClientMode::PerUser,
        think_scale: args.journey.think_scale,
        csv: None,
        html: None,
        worker: None,
        headers: Headers::parse(&args.journey.headers, api_key.as_deref())
            .map_err(anyhow::Error::msg)?,
        labels: Default::default(),
        export: Default::default(),
        console: Console {
            verbose: 0,
            goose_tables_every_s: None,
        },
        sources: Default::default(),
    })
}

/// The SLOs as targets: `--slo` rules, or every required target; the error-rate limit.
fn slos(args: &CapacityArgs, targets: &Targets, name: &str) -> anyhow::Result<Targets> {
    let metrics: Vec<Target> = if args.slos.is_empty() {
        targets
            .metrics
            .iter()
            .filter(|t| !t.optional)
            .cloned()
            .collect()
    } else {
        args.slos.clone()
    };
    if metrics.is_empty() {
        return Err(anyhow!(
            "{name}: no required target to use as an SLO; give --slo 'metric p90<500ms'"
        ));
    }
    Ok(Targets {
        metrics,
        error_rate_percent: args.max_error_rate.unwrap_or(targets.error_rate_percent),
        min_rps: None,
        calls_failed_percent: targets.calls_failed_percent,
        dropped_arrivals_percent: targets.dropped_arrivals_percent,
        packet_loss_percent: targets.packet_loss_percent,
    })
}

/// `voiceswarm capacity`: 0 a capacity was found, 1 even the start load breaks an SLO.
pub async fn run(args: CapacityArgs) -> anyhow::Result<u8> {
    let journeys = args.journey.load()?;
    let targets_input = args.journey.targets.input();
    let (targets, _) = load_targets(&targets_input, &journeys)?;
    let slos = slos(&args, &targets, &targets_input.name())?;
    // An --slo on a metric the journeys never record could never be met: refused, as in targets.
    let known = known_metrics(&journeys);
    slos.check_known("--slo", known.iter().map(String::as_str))?;
    if args.max_users < args.start_users {
        return Err(anyhow!(
            "--start-users {} --max-users {}: expected start <= max",
            args.start_users,
            args.max_users
        ));
    }
    let base = base_plan(&args, &journeys, &targets_input)?;
    let mode = if args.arrivals {
        Mode::Arrivals
    } else {
        Mode::Users
    };
    let sut = SystemUnderTest::reach(args.host.as_deref(), &args.backend, "measuring").await?;
    let folder = RunFolder::open(
        args.results.out.as_deref(),
        &args.results.reports_dir,
        "capacity",
    )
    .map_err(anyhow::Error::msg)?;
    let rules: Vec<String> = slos.metrics.iter().map(Target::rule).collect();
    println!(
        "capacity: SLOs {}; errors ≤ {}%; {}s per step; resolution {}%",
        rules.join(", "),
        slos.error_rate_percent,
        args.step_time.as_secs(),
        args.resolution
    );
    let clock = std::time::Instant::now();
    let session = Session::open(folder, FolderKind::Capacity, &base, &sut.url)?;
    let stepper = Stepper {
        base: base.clone(),
        journeys: &journeys,
        host: sut.url.clone(),
        hold: args.step_time,
        slos,
        mode,
    };
    let search = match mode {
        Mode::Users => Search::new(args.start_users, args.max_users, args.resolution),
        // The search counts hundredths of an arrival per second.
        Mode::Arrivals => {
            let unit = |r: f64| ((r * 100.0).round() as usize).max(1);
            Search::new(
                unit(args.start_rate),
                unit(args.max_rate).max(unit(args.start_rate)),
                args.resolution,
            )
        }
    };
    let report = crate::capacity::search(&stepper, search, args.resolution).await?;
    report.write(session.folder())?;
    if let Some(step) = &report.judged_step {
        let targets_text = stepper.slos.to_file_text();
        session.save(&step.summary, &step.recording, &targets_text)?;
    }
    let code = u8::from(report.max_sustainable_users.is_none());
    let duration_s = clock.elapsed().as_secs_f64();
    println!("\n{}", report.verdict());
    session.end(duration_s, report.interrupted, code as i32, None)?;
    sut.stop().await;
    Ok(code)
}
