//! `voiceswarm probe`: the component latency probe. N sequential calls per component (after a
//! warm-up), then the whole voice turn, then Redis cache read/write; judged like a load run, with
//! any component's failed calls a verdict of their own.

use crate::commands::shared::{ResultsArgs, TargetsArgs};
use crate::sut::SystemUnderTest;
use clap::Args;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use voiceswarm_backend::BackendConfig;
use voiceswarm_engine::probe::cache::{self, CacheOutcome};
use voiceswarm_engine::probe::Prober;
use voiceswarm_model::plan::probe::ProbePlan;
use voiceswarm_model::stats::{summarize, RunInfo, SummaryKind, Targets, Verdict};
use voiceswarm_model::vocab::{counter::REQUESTS, metric, stage, Component};
use voiceswarm_results::folder::{FolderKind, RunFolder};
use voiceswarm_results::session::Session;

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Backend to probe (default: the built-in reference backend)
    #[arg(short = 'H', long, value_name = "URL")]
    pub host: Option<String>,
    /// Measured calls per component
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub samples: u64,
    /// Unmeasured calls per component first
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub warmup: u64,
    /// Only these components (comma separated)
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Component>,
    /// Redis for the cache rows (else a private redis-server, if installed)
    #[arg(long, env = "REDIS_URL", value_name = "URL")]
    pub redis_url: Option<String>,
    /// How long each call may take
    #[arg(long, default_value = "30s", value_name = "TIME", value_parser = voiceswarm_model::units::parse_positive_duration)]
    pub call_timeout: Duration,
    #[command(flatten)]
    pub targets: TargetsArgs,
    #[command(flatten)]
    pub results: ResultsArgs,
    #[command(flatten)]
    pub backend: BackendConfig,
}

fn progress(c: Component, done: u64, total: u64) {
    if done == total || done.is_multiple_of((total / 4).max(1)) {
        eprintln!("probe: {:<8} {done}/{total}", c.name());
    }
}

/// Every metric of a component left out with `--only`, with the reason.
fn not_selected(selected: &[Component]) -> BTreeMap<String, String> {
    let components: Vec<&str> = Component::ALL
        .iter()
        .filter(|c| !selected.contains(c))
        .map(|c| c.name())
        .collect();
    metric::PROBED
        .iter()
        .filter(|m| components.iter().any(|c| m.split(':').next() == Some(c)))
        .map(|m| (m.to_string(), "not selected with --only".to_string()))
        .collect()
}

/// Measures every selected component in turn; returns the metrics skipped and why.
async fn measure(
    p: &mut Prober,
    args: &ProbeArgs,
    selected: &[Component],
) -> BTreeMap<String, String> {
    let mut skipped = not_selected(selected);
    for &c in selected {
        if c == Component::Cache {
            let progress = |done| progress(c, done, args.samples);
            let outcome = cache::probe(
                p,
                args.redis_url.clone(),
                args.warmup,
                args.samples,
                progress,
            )
            .await;
            if let CacheOutcome::Skipped(why) = outcome {
                eprintln!("probe: cache    skipped: {why}");
                for m in [metric::CACHE_READ, metric::CACHE_WRITE] {
                    skipped.insert(m.to_string(), why.clone());
                }
            }
            continue;
        }
        for i in 0..args.warmup {
            let _ = p.sample(c, 1_000_000 + i).await;
        }
        for i in 0..args.samples {
            p.recorder.count(0, REQUESTS, 1);
            match p.sample(c, i).await {
                Ok(rows) => rows
                    .into_iter()
                    .for_each(|(m, t)| p.recorder.record(0, m, t)),
                Err(e) => p.note_error(c, e),
            }
            progress(c, i + 1, args.samples);
        }
    }
    skipped
}

/// `voiceswarm probe`: the exit code.
pub async fn run(args: ProbeArgs) -> anyhow::Result<u8> {
    let targets_input = args.targets.input();
    let (targets, targets_text) = Targets::read(&targets_input, "--targets")?;
    // Call targets are a load run's (real-time calls): accepted, and skipped here.
    let known = metric::PROBED
        .iter()
        .chain(stage::METRICS)
        .chain(metric::CALL)
        .copied();
    targets.check_known(&targets_input.name(), known)?;
    println!("Targets: {}", targets_input.name());
    let mut selected: Vec<Component> = if args.only.is_empty() {
        Component::ALL.to_vec()
    } else {
        args.only.clone()
    };
    selected.sort();
    selected.dedup();
    let sut = SystemUnderTest::reach(args.host.as_deref(), &args.backend, "probing").await?;
    let folder = RunFolder::open(
        args.results.out.as_deref(),
        &args.results.reports_dir,
        "probe",
    )
    .map_err(anyhow::Error::msg)?;
    let plan = ProbePlan {
        components: selected.iter().map(|c| c.name().to_string()).collect(),
        samples: args.samples,
        warmup: args.warmup,
        targets: targets_input,
    };
    let session = Session::open(folder, FolderKind::Probe, &plan, &sut.url)?;
    let clock = Instant::now();
    let mut p = Prober::new(&sut.url, args.call_timeout)?;
    let mut skipped = measure(&mut p, &args, &selected).await;
    for t in targets
        .metrics
        .iter()
        .filter(|t| metric::CALL.contains(&t.metric.as_str()))
    {
        let why = "measured by phone calls in a load run, not by the probe";
        skipped.insert(t.metric.clone(), why.to_string());
    }
    let recording = p.recorder.snapshot();
    let info = RunInfo {
        kind: SummaryKind::Probe,
        label: "probe".into(),
        started_at: session.started_at().to_string(),
        duration_s: clock.elapsed().as_secs_f64(),
        completed: true,
        skipped,
        facts: p
            .errors
            .iter()
            .map(|(c, (n, first))| Verdict::component_errors(c.name(), *n, first))
            .collect(),
        ..Default::default()
    };
    let summary = summarize(&recording, &targets, &info);
    session.write_results(&summary, &recording, &targets_text)?;
    session.end(info.duration_s, false, summary.exit_code, None)?;
    sut.stop().await;
    Ok(summary.exit_code as u8)
}
