//! `voiceswarm capacity`: finds the maximum sustainable load. Grows the users in doubling steps,
//! each held long enough for stable percentiles with its ramp left out, then bisects between the
//! last good and first bad step to the resolution; reports users, requests/s, the step table,
//! why it stopped, and a chart with the knee.

mod chart;
pub mod slo;

use crate::backend::BackendConfig;
use crate::measure::step::StepContext;
use crate::report::write_atomic;
use crate::scenario::{self, Journeys};
use crate::stats::summary::{percentile_us, within_limit, FAILURES, REQUESTS};
use crate::stats::units::parse_percent;
use crate::stats::{Recorder, Targets};
use crate::swarm::{folder, goose_error_line, preflight};
use anyhow::{anyhow, Context};
use clap::Args;
use goose::config::GooseConfiguration;
use serde::Serialize;
use slo::Slo;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Backend to measure (default: the built-in reference backend)
    #[arg(short = 'H', long, value_name = "URL")]
    pub host: Option<String>,
    /// An SLO, e.g. 'pipeline:voice_turn p90<500ms' (repeatable; default: every required target)
    #[arg(long = "slo", value_name = "RULE")]
    pub slos: Vec<String>,
    /// Largest acceptable error rate (default: the targets file's)
    #[arg(long, value_name = "PERCENT")]
    pub max_error_rate: Option<String>,
    /// Users of the first step
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub start_users: usize,
    /// Never run more users than this
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_users: usize,
    /// How long each step holds its users (after a ramp that is not measured)
    #[arg(long, default_value = "60s", value_name = "TIME")]
    pub step_time: String,
    /// Stop bisecting when the gap between good and bad is at most this share of good
    #[arg(long, default_value = "10%", value_name = "PERCENT")]
    pub resolution: String,
    /// The journeys to run
    #[arg(
        long,
        default_value = "scenarios/voice_assistant.json",
        value_name = "FILE"
    )]
    pub scenario_file: PathBuf,
    /// Targets file (for the default SLOs and error rate)
    #[arg(long, default_value = "scenarios/targets.json", value_name = "FILE")]
    pub targets: PathBuf,
    /// Multiply every think time (0: none)
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub think_scale: f64,
    /// Write the files into DIR (default: reports/<UTC time>-capacity/)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where run folders go
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub reports_dir: PathBuf,
    #[command(flatten)]
    pub backend: BackendConfig,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricAtStep {
    pub name: String,
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub users: usize,
    pub rps: f64,
    pub requests: u64,
    pub error_rate_percent: f64,
    pub measured_s: f64,
    pub metrics: Vec<MetricAtStep>,
    pub passed: bool,
    /// The first SLO this step broke, with what was observed.
    pub broke: Option<String>,
}

#[derive(Debug, Serialize)]
struct CapacityReport<'a> {
    schema_version: u32,
    host: &'a str,
    slos: Vec<String>,
    max_error_rate_percent: f64,
    step_time_s: u64,
    resolution_percent: f64,
    max_sustainable_users: Option<usize>,
    max_sustainable_rps: Option<f64>,
    first_failing_users: Option<usize>,
    stopped_because: String,
    interrupted: bool,
    steps_run: usize,
    steps: &'a [StepResult],
}

struct Stepper<'a> {
    journeys: &'a Journeys,
    host: String,
    hold: Duration,
    slos: &'a [Slo],
    max_error_rate: f64,
    think_scale: f64,
}

impl Stepper<'_> {
    /// Runs `users` for the hold time and judges the SLOs on what the hold measured.
    async fn step(&self, users: usize) -> anyhow::Result<StepResult> {
        let recorder = Arc::new(Recorder::for_this_machine());
        let ctx = Arc::new(StepContext {
            recorder: recorder.clone(),
            data: self.journeys.data.clone(),
            extra_headers: Default::default(),
            think_scale: self.think_scale,
        });
        // Start every user within about two seconds; the ramp and one more second are left out.
        let ramp = Duration::from_secs(2);
        let mut g = GooseConfiguration::default();
        g.host = Some(self.host.clone());
        g.users = Some(users);
        g.increase_rate = Some(format!(
            "{:.3}",
            (users as f64 / ramp.as_secs_f64()).max(1.0)
        ));
        g.run_time = Some(format!("{}", self.hold.as_secs() + 1));
        g.no_telnet = true;
        g.quiet = 1;
        g.no_print_metrics = true;
        let attack = scenario::goose::attack(g, self.journeys, &ctx)
            .map_err(|e| anyhow!(goose_error_line(&e)))?;
        let window_start = Arc::new(parking_lot::Mutex::new(None::<Instant>));
        let (r2, w2) = (recorder.clone(), window_start.clone());
        let settle = tokio::spawn(async move {
            tokio::time::sleep(ramp + Duration::from_secs(1)).await;
            r2.reset();
            *w2.lock() = Some(Instant::now());
        });
        let result = attack.execute().await;
        settle.abort();
        if let Err(e) = &result {
            return Err(anyhow!(goose_error_line(e)));
        }
        let measured_s = window_start
            .lock()
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        let rec = recorder.snapshot();
        let requests = rec.counter(REQUESTS);
        let error_rate_percent = if requests == 0 {
            0.0
        } else {
            rec.counter(FAILURES) as f64 * 100.0 / requests as f64
        };
        let mut metrics = Vec::new();
        let mut broke = None;
        for slo in self.slos {
            match rec.histograms.get(&slo.metric).filter(|h| !h.is_empty()) {
                Some(h) => {
                    let observed = percentile_us(h, slo.percentile);
                    metrics.push(MetricAtStep {
                        name: slo.metric.clone(),
                        count: h.len(),
                        p50_ms: percentile_us(h, 50.0) / 1000.0,
                        p90_ms: percentile_us(h, 90.0) / 1000.0,
                        p99_ms: percentile_us(h, 99.0) / 1000.0,
                    });
                    if broke.is_none() && !within_limit(h, observed, slo.limit_us) {
                        broke = Some(format!(
                            "{} (observed {:.1}ms)",
                            slo.describe(),
                            observed / 1000.0
                        ));
                    }
                }
                None if broke.is_none() => broke = Some(format!("{} (no samples)", slo.describe())),
                None => {}
            }
        }
        if broke.is_none() && error_rate_percent > self.max_error_rate {
            broke = Some(format!(
                "error rate {error_rate_percent:.2}% > {}%",
                self.max_error_rate
            ));
        }
        Ok(StepResult {
            users,
            rps: if measured_s > 0.0 {
                requests as f64 / measured_s
            } else {
                0.0
            },
            requests,
            error_rate_percent,
            measured_s,
            metrics,
            passed: broke.is_none(),
            broke,
        })
    }
}

fn print_step(s: &StepResult) {
    let metrics: Vec<String> = s
        .metrics
        .iter()
        .map(|m| format!("{} p90 {:.1}ms", m.name, m.p90_ms))
        .collect();
    println!(
        "capacity: {:>6} users  {:>9.1} req/s  {:>6.2}% errors  {}  {}",
        s.users,
        s.rps,
        s.error_rate_percent,
        if s.passed {
            "✓".to_string()
        } else {
            format!("✗ {}", s.broke.as_deref().unwrap_or(""))
        },
        metrics.join(", ")
    );
}

/// `voiceswarm capacity`: 0 a capacity was found, 1 even the start load breaks an SLO.
pub async fn run(args: CapacityArgs) -> anyhow::Result<u8> {
    let journeys = scenario::load(&args.scenario_file)?;
    let targets_file = args.targets.display().to_string();
    let targets = Targets::load(&args.targets)?;
    let slos: Vec<Slo> = if args.slos.is_empty() {
        Slo::from_targets(&targets)
    } else {
        args.slos
            .iter()
            .map(|s| Slo::parse(s))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow!(e))?
    };
    if slos.is_empty() {
        return Err(anyhow!(
            "{targets_file}: no required target to use as an SLO; give --slo 'metric p90<500ms'"
        ));
    }
    let max_error_rate = match &args.max_error_rate {
        Some(t) => parse_percent(t).map_err(|e| anyhow!("--max-error-rate: {e}"))?,
        None => targets.error_rate_percent,
    };
    let resolution = parse_percent(&args.resolution).map_err(|e| anyhow!("--resolution: {e}"))?;
    let hold = goose::util::parse_timespan(&args.step_time)
        .filter(|s| *s > 0)
        .ok_or_else(|| {
            anyhow!(
                "--step-time {}: expected a time above 0 such as 30s or 2m",
                args.step_time
            )
        })?;
    if args.start_users == 0 || args.max_users < args.start_users {
        return Err(anyhow!(
            "--start-users {} --max-users {}: expected 1 <= start <= max",
            args.start_users,
            args.max_users
        ));
    }
    if !(args.think_scale.is_finite() && args.think_scale >= 0.0) {
        return Err(anyhow!(
            "--think-scale {}: expected a number >= 0",
            args.think_scale
        ));
    }
    let (host, backend) =
        preflight::resolve_target(args.host.as_deref(), &args.backend, "measuring").await?;
    let out = match &args.out {
        Some(d) => folder::use_given(d)?,
        None => folder::create(&args.reports_dir, "capacity")?,
    };
    println!(
        "capacity: SLOs {}; errors < {max_error_rate}%; {}s per step; resolution {resolution}%",
        slos.iter()
            .map(Slo::describe)
            .collect::<Vec<_>>()
            .join(", "),
        hold
    );
    let stepper = Stepper {
        journeys: &journeys,
        host: host.clone(),
        hold: Duration::from_secs(hold as u64),
        slos: &slos,
        max_error_rate,
        think_scale: args.think_scale,
    };
    let mut steps: Vec<StepResult> = Vec::new();
    let mut good_users: Option<usize> = None;
    let mut bad_users: Option<usize> = None;
    let mut users = args.start_users;
    let mut interrupted = false;
    let stopped_because = loop {
        if goose::is_killswitch_triggered() {
            interrupted = true;
            break "interrupted: the steps measured so far are reported".to_string();
        }
        let s = stepper.step(users).await?;
        print_step(&s);
        if goose::is_killswitch_triggered() {
            interrupted = true;
            steps.push(s);
            break "interrupted: the steps measured so far are reported".to_string();
        }
        if s.passed {
            good_users = Some(users)
        } else {
            bad_users = Some(users)
        }
        steps.push(s);
        match (good_users, bad_users) {
            (None, Some(_)) => break "even the start load breaks an SLO".to_string(),
            (Some(g), None) => {
                if g >= args.max_users {
                    break format!(
                        "--max-users {} reached without breaking an SLO",
                        args.max_users
                    );
                }
                users = (g * 2).min(args.max_users);
            }
            (Some(g), Some(b)) => {
                let gap = b.saturating_sub(g);
                if gap <= 1 || gap as f64 <= g as f64 * resolution / 100.0 {
                    let why = steps
                        .iter()
                        .rev()
                        .find(|s| s.users == b)
                        .and_then(|s| s.broke.clone())
                        .unwrap_or_default();
                    break format!(
                        "bisected to within {resolution}%: {g} users hold, {b} break {why}"
                    );
                }
                users = g + gap / 2;
            }
            (None, None) => unreachable!("a step either passes or fails"),
        }
    };
    let best = good_users.and_then(|g| steps.iter().find(|s| s.users == g && s.passed));
    let report = CapacityReport {
        schema_version: 1,
        host: &host,
        slos: slos.iter().map(Slo::describe).collect(),
        max_error_rate_percent: max_error_rate,
        step_time_s: hold as u64,
        resolution_percent: resolution,
        max_sustainable_users: best.map(|s| s.users),
        max_sustainable_rps: best.map(|s| s.rps),
        first_failing_users: bad_users,
        stopped_because: stopped_because.clone(),
        interrupted,
        steps_run: steps.len(),
        steps: &steps,
    };
    let verdict = match best {
        Some(b) => format!(
            "Maximum sustainable load: {} users, {:.1} requests/s ({} steps; {stopped_because})",
            b.users,
            b.rps,
            steps.len()
        ),
        None => format!("No sustainable load found: {stopped_because}"),
    };
    let names: Vec<String> = slos.iter().map(|s| s.metric.clone()).collect();
    let svg = chart::svg(&steps, &names, best.map(|b| b.users));
    let mut json = serde_json::to_vec_pretty(&report)?;
    json.push(b'\n');
    write_atomic(&out.join("capacity.json"), &json)
        .with_context(|| format!("{}", out.display()))?;
    write_atomic(&out.join("capacity.svg"), svg.as_bytes())?;
    write_atomic(
        &out.join("capacity.html"),
        chart::html(&svg, &steps, &verdict).as_bytes(),
    )?;
    if args.out.is_none() {
        folder::link_latest(&args.reports_dir, &out);
    }
    println!("\n{verdict}");
    println!("Run folder: {}", out.display());
    if let Some(b) = backend {
        b.stop().await;
    }
    Ok(if best.is_some() { 0 } else { 1 })
}
