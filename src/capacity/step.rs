//! One capacity step: the base plan projected to `users` held for the step time (its ramp and a
//! settle second left out of the numbers), run on Goose, and judged by the SLOs as targets — the
//! same summariser and verdicts as any run.

use crate::plan::{goose::goose_config, Load, RunPlan};
use crate::report::words;
use crate::scenario::Journeys;
use crate::stats::{summarize, Recorder, Recording, RunInfo, Summary, SummaryKind, Targets};
use crate::swarm::attack::{attack, goose_error_line};
use crate::swarm::step_context;
use anyhow::anyhow;
use goose::config::GooseConfiguration;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// A step's result, with the recording and summary it was judged from.
#[derive(Debug)]
pub struct Measured {
    pub result: StepResult,
    pub recording: Recording,
    pub summary: Summary,
}

/// Every user starts within this long; it and one more second are left out of the numbers.
const RAMP: Duration = Duration::from_secs(2);

pub struct Stepper<'a> {
    pub base: RunPlan,
    pub journeys: &'a Journeys,
    pub host: String,
    pub hold: Duration,
    /// The SLOs and the error-rate limit, as targets.
    pub slos: Targets,
}

impl Stepper<'_> {
    /// The base plan at `users`: all started within the ramp, held for the step time.
    pub fn plan(&self, users: usize) -> RunPlan {
        let mut plan = self.base.clone();
        plan.load = Load::Users {
            users,
            spawn_rate: (users as f64 / RAMP.as_secs_f64()).max(1.0),
            run_time: Some(self.hold + Duration::from_secs(1)),
            iterations: None,
        };
        plan
    }

    /// Runs `users` for the hold time and judges the SLOs on what the hold measured.
    pub async fn step(&self, users: usize) -> anyhow::Result<Measured> {
        let recorder = Arc::new(Recorder::for_this_machine());
        let plan = self.plan(users);
        let ctx = Arc::new(step_context(&plan, self.journeys, recorder.clone()));
        let config = goose_config(&plan, GooseConfiguration::default(), &self.host, None);
        let attack = attack(config, self.journeys, &ctx, plan.client)
            .map_err(|e| anyhow!(goose_error_line(&e)))?;
        let window_start = Arc::new(parking_lot::Mutex::new(None::<Instant>));
        let (r2, w2) = (recorder.clone(), window_start.clone());
        let settle = tokio::spawn(async move {
            tokio::time::sleep(RAMP + Duration::from_secs(1)).await;
            r2.reset();
            *w2.lock() = Some(Instant::now());
        });
        let result = attack.execute().await;
        settle.abort();
        result.map_err(|e| anyhow!(goose_error_line(&e)))?;
        let measured_s = window_start
            .lock()
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        Ok(self.judge(users, recorder.snapshot(), measured_s))
    }

    fn judge(&self, users: usize, recording: Recording, measured_s: f64) -> Measured {
        let info = RunInfo {
            kind: SummaryKind::Capacity,
            label: format!("capacity step: {users} users"),
            started_at: chrono::Utc::now().to_rfc3339(),
            duration_s: measured_s,
            completed: true,
            ..Default::default()
        };
        let s = summarize(&recording, &self.slos, &info);
        let metrics = self
            .slos
            .metrics
            .iter()
            .filter_map(|t| s.metrics.iter().find(|m| m.name == t.metric))
            .map(|m| MetricAtStep {
                name: m.name.clone(),
                count: m.count,
                p50_ms: m.median_ms,
                p90_ms: m.p90_ms,
                p99_ms: m.p99_ms,
            })
            .collect();
        let result = StepResult {
            users,
            rps: s.totals.rps,
            requests: s.totals.requests,
            error_rate_percent: s.totals.error_rate_percent,
            measured_s,
            metrics,
            passed: s.passed,
            broke: s.verdicts.iter().find(|v| v.fails()).map(words::line),
        };
        Measured {
            result,
            recording,
            summary: s,
        }
    }
}
