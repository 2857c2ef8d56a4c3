//! Capacity search: the search (`search.rs`) driven by real steps (`step.rs`), what it found as
//! capacity.json, and its chart and page (`page.rs`). The command's flags and order are
//! `commands::capacity`.

mod page;
pub mod search;
pub mod step;

use search::{Next, Search, Stopped};
use serde::Serialize;
use step::{Measured, StepResult, Stepper};
use voiceswarm_model::files::CAPACITY_JSON;
use voiceswarm_model::stats::Target;
use voiceswarm_results::folder::RunFolder;
use voiceswarm_results::render::data::Json;
use voiceswarm_results::render::Renderer;

/// capacity.json.
#[derive(Debug, Serialize)]
pub struct CapacityReport {
    pub schema_version: u32,
    pub host: String,
    pub slos: Vec<String>,
    pub max_error_rate_percent: f64,
    pub step_time_s: f64,
    pub resolution_percent: f64,
    /// Users mode: the most users that held; arrival mode: the pool at the best rate.
    pub max_sustainable_users: Option<usize>,
    /// Arrival mode: the highest arrival rate (per second) that held, with no drops.
    pub max_sustainable_arrival_rate: Option<f64>,
    pub max_sustainable_rps: Option<f64>,
    pub first_failing_users: Option<usize>,
    pub stopped_because: String,
    pub interrupted: bool,
    pub steps_run: usize,
    pub steps: Vec<StepResult>,
    /// The step at the maximum sustainable load (else the first step), judged in full: its
    /// files go into the folder beside capacity.json.
    #[serde(skip)]
    pub judged_step: Option<Measured>,
    /// The SLOs as targets (the chart draws the limits of those judged at P90).
    #[serde(skip)]
    pub slo_targets: Vec<Target>,
}

/// A step's load in words: `40 users`, `12.5 arrivals/s`.
fn load_text(s: &StepResult) -> String {
    match s.arrival_rate {
        Some(r) => format!("{r} arrivals/s"),
        None => format!("{} users", s.users),
    }
}

fn print_step(s: &StepResult) {
    let metrics: Vec<String> = s
        .metrics
        .iter()
        .map(|m| format!("{} p90 {:.1}ms", m.name, m.percentiles.p90_ms))
        .collect();
    println!(
        "capacity: {:>16}  {:>9.1} req/s  {:>6.2}% errors  {}  {}",
        load_text(s),
        s.rps,
        s.error_rate_percent,
        if s.passed {
            "✓".to_string()
        } else {
            s.broke.clone().unwrap_or_default()
        },
        metrics.join(", ")
    );
}

fn describe(why: &Stopped, resolution: f64, steps: &[StepResult]) -> String {
    match why {
        Stopped::StartLoadBreaks => "even the start load breaks an SLO".into(),
        Stopped::MaximumHeld(m) => {
            let at = steps
                .iter()
                .find(|s| s.load == *m)
                .map(load_text)
                .unwrap_or_default();
            format!("the maximum ({at}) held without breaking an SLO")
        }
        Stopped::Bisected { good, bad } => {
            let find = |l: &usize| steps.iter().rev().find(|s| s.load == *l);
            let (g, b) = (find(good), find(bad));
            let broke = b.and_then(|s| s.broke.clone()).unwrap_or_default();
            format!(
                "bisected to within {resolution}%: {} hold, {} break: {broke}",
                g.map(load_text).unwrap_or_default(),
                b.map(load_text).unwrap_or_default()
            )
        }
    }
}

/// Runs the search step by step (Ctrl-C ends it, keeping what was measured) and fills the report.
pub async fn search(
    stepper: &Stepper<'_>,
    mut search: Search,
    resolution: f64,
) -> anyhow::Result<CapacityReport> {
    let mut steps: Vec<StepResult> = Vec::new();
    let mut judged_step: Option<Measured> = None;
    let mut users = search.first();
    let interrupted_because = "interrupted: the steps measured so far are reported".to_string();
    let (stopped_because, interrupted) = loop {
        if goose::is_killswitch_triggered() {
            break (interrupted_because, true);
        }
        let m = stepper.step(users).await?;
        print_step(&m.result);
        let passed = m.result.passed;
        steps.push(m.result.clone());
        let better = judged_step
            .as_ref()
            .is_none_or(|j| passed && (!j.result.passed || j.result.load < m.result.load));
        if better {
            judged_step = Some(m);
        }
        if goose::is_killswitch_triggered() {
            break (interrupted_because, true);
        }
        match search.record(passed) {
            Next::Step(n) => users = n,
            Next::Stop(why) => break (describe(&why, resolution, &steps), false),
        }
    };
    let best = search
        .good()
        .and_then(|g| steps.iter().find(|s| s.load == g && s.passed));
    Ok(CapacityReport {
        schema_version: 1,
        host: stepper.host.clone(),
        slos: stepper.slos.metrics.iter().map(|t| t.rule()).collect(),
        max_error_rate_percent: stepper.slos.error_rate_percent,
        step_time_s: stepper.hold.as_secs_f64(),
        resolution_percent: resolution,
        max_sustainable_users: best.map(|s| s.users),
        max_sustainable_arrival_rate: best.and_then(|s| s.arrival_rate),
        max_sustainable_rps: best.map(|s| s.rps),
        first_failing_users: search
            .bad()
            .and_then(|b| steps.iter().find(|s| s.load == b))
            .map(|s| s.users),
        stopped_because,
        interrupted,
        steps_run: steps.len(),
        steps,
        judged_step,
        slo_targets: stepper.slos.metrics.clone(),
    })
}

impl CapacityReport {
    /// The verdict in one line.
    pub fn verdict(&self) -> String {
        let load = match (
            self.max_sustainable_arrival_rate,
            self.max_sustainable_users,
        ) {
            (Some(r), _) => format!("{r} arrivals/s"),
            (None, Some(u)) => format!("{u} users"),
            (None, None) => return format!("No sustainable load found: {}", self.stopped_because),
        };
        format!(
            "Maximum sustainable load: {load}, {:.1} requests/s ({} steps; {})",
            self.max_sustainable_rps.unwrap_or(0.0),
            self.steps_run,
            self.stopped_because
        )
    }

    /// Writes capacity.json, capacity.svg and capacity.html into `folder`.
    pub fn write(&self, folder: &RunFolder) -> std::io::Result<()> {
        let outputs: [&dyn Renderer<CapacityReport>; 3] = [
            &Json(CAPACITY_JSON),
            &page::CapacityChart,
            &page::CapacityPage,
        ];
        for output in outputs {
            output.write(self, &folder.dir)?;
        }
        Ok(())
    }
}
