//! One capacity step: the base plan projected to a load — users, or an arrival rate — held for
//! the step time (its ramp and a settle second left out of the numbers), run on Goose, and
//! judged by the SLOs as targets: the same summariser and verdicts as any run.

use anyhow::anyhow;
use goose::config::GooseConfiguration;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_engine::arrivals::pool_for;
use voiceswarm_engine::swarm::attack::goose_error_line;
use voiceswarm_engine::swarm::goose_config::goose_config;
use voiceswarm_engine::swarm::{prepare, step_context};
use voiceswarm_model::arrival::rate::Shape;
use voiceswarm_model::arrival::schedule::Process;
use voiceswarm_model::arrival::OnFull;
use voiceswarm_model::plan::{Load, RunPlan};
use voiceswarm_model::scenario::Journeys;
use voiceswarm_model::stats::summary::Arrivals;
use voiceswarm_model::stats::{
    summarize, Percentiles, Recorder, Recording, RunInfo, Summary, SummaryKind, Targets,
};
use voiceswarm_results::render::words;

/// What the search grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Concurrent users, each looping its journey.
    Users,
    /// Arrivals per second (open arrivals): a load unit is 0.01 arrivals/s.
    Arrivals,
}

impl Mode {
    /// A load of the search, in arrivals per second (arrival mode).
    pub fn rate(load: usize) -> f64 {
        load as f64 / 100.0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricAtStep {
    pub name: String,
    pub count: u64,
    #[serde(flatten)]
    pub percentiles: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// The search's load unit (users, or hundredths of an arrival per second).
    #[serde(skip)]
    pub load: usize,
    /// The users that ran (arrival mode: the pool that carried the arrivals).
    pub users: usize,
    /// Arrival mode: the arrivals per second offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_rate: Option<f64>,
    pub rps: f64,
    pub requests: u64,
    pub error_rate_percent: f64,
    pub measured_s: f64,
    pub metrics: Vec<MetricAtStep>,
    pub passed: bool,
    /// The first SLO this step broke, with what was observed.
    pub broke: Option<String>,
}

impl StepResult {
    /// Where the step sits on the chart's x axis.
    pub fn x(&self) -> f64 {
        self.arrival_rate.unwrap_or(self.users as f64)
    }
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
    pub mode: Mode,
}

impl Stepper<'_> {
    /// The base plan at `load`: users all started within the ramp, or Poisson arrivals at the
    /// rate with a pool sized for it; held for the step time.
    pub fn plan(&self, load: usize) -> RunPlan {
        let mut plan = self.base.clone();
        let time = self.hold + Duration::from_secs(1);
        plan.load = match self.mode {
            Mode::Users => Load::Users {
                users: load,
                spawn_rate: (load as f64 / RAMP.as_secs_f64()).max(1.0),
                run_time: Some(time),
                iterations: None,
            },
            Mode::Arrivals => {
                let r = Mode::rate(load);
                let rate = Shape::constant(&format!("{r}/s"), r, time);
                Load::Arrivals {
                    max_concurrency: pool_for(&rate, self.journeys),
                    rate,
                    process: Process::Poisson,
                    on_full: OnFull::Drop,
                }
            }
        };
        plan
    }

    /// Runs `load` for the hold time and judges the SLOs on what the hold measured.
    pub async fn step(&self, load: usize) -> anyhow::Result<Measured> {
        let recorder = Arc::new(Recorder::for_this_machine());
        let plan = self.plan(load);
        let config = goose_config(&plan, GooseConfiguration::default(), &self.host, None);
        let ctx = Arc::new(step_context(
            &plan,
            self.journeys,
            recorder.clone(),
            &config,
        )?);
        let (attack, dispatch) = prepare(&plan, self.journeys, &ctx, config)?;
        let window_start = Arc::new(parking_lot::Mutex::new(None::<Instant>));
        let (r2, w2) = (recorder.clone(), window_start.clone());
        let settle = tokio::spawn(async move {
            tokio::time::sleep(RAMP + Duration::from_secs(1)).await;
            r2.reset();
            *w2.lock() = Some(Instant::now());
        });
        let result = attack.execute().await;
        settle.abort();
        let arrivals = match dispatch {
            Some(d) => Some(d.finish().await.0),
            None => None,
        };
        result.map_err(|e| anyhow!(goose_error_line(&e)))?;
        let measured_s = window_start
            .lock()
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        Ok(self.judge(load, &plan, recorder.snapshot(), measured_s, arrivals))
    }

    fn judge(
        &self,
        load: usize,
        plan: &RunPlan,
        recording: Recording,
        measured_s: f64,
        arrivals: Option<Arrivals>,
    ) -> Measured {
        let arrival_rate = (self.mode == Mode::Arrivals).then(|| Mode::rate(load));
        let users = plan.users().unwrap_or(0);
        let info = RunInfo {
            kind: SummaryKind::Capacity,
            label: match arrival_rate {
                Some(r) => format!("capacity step: {r} arrivals/s"),
                None => format!("capacity step: {users} users"),
            },
            started_at: chrono::Utc::now().to_rfc3339(),
            duration_s: measured_s,
            completed: true,
            arrivals,
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
                percentiles: m.percentiles(),
            })
            .collect();
        let result = StepResult {
            load,
            users,
            arrival_rate,
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
