//! The Locust-style swarm: runs compiled journeys on Goose as a plan says — headless to its end,
//! or from the web UI (Goose's live dashboard) — handing each run's ending to a `RunSink`.

pub mod attack;
pub mod dispatch;
pub mod ending;
pub mod goose_config;
pub use dispatch::Dispatch;
mod headless;
pub mod status;
mod web;

use crate::arrivals::pool::Pool;
use crate::measure::clients::ClientFactory;
use crate::measure::step::StepContext;
use anyhow::anyhow;
use attack::goose_error_line;
use goose::config::GooseConfiguration;
use goose_config::goose_config;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use voiceswarm_model::plan::ClientMode;
use voiceswarm_model::plan::{Load, RunPlan};
use voiceswarm_model::run::RunSink;
use voiceswarm_model::scenario::Journeys;
use voiceswarm_model::stats::not_run::{self, journey_metrics, JourneyMetrics};
use voiceswarm_model::stats::{Recorder, Targets};

/// What a swarm runs: the plan, its journeys, the targets the live status line judges, the
/// user's own Goose flags (passed through), and what it records into (shared with whoever
/// watches the run live).
pub struct Swarm<'a> {
    pub plan: &'a RunPlan,
    pub journeys: &'a Journeys,
    pub targets: &'a Targets,
    pub goose_flags: GooseConfiguration,
    pub recorder: Arc<Recorder>,
    /// How many users have made a request.
    pub users_seen: Arc<AtomicUsize>,
    /// Where each call and turn is written (the run folder's `calls.jsonl`).
    pub turn_log: Option<Arc<dyn voiceswarm_model::turns::TurnLog>>,
}

/// The targets the journeys `plan` runs (all, or those `--scenarios` selects) can never record:
/// not judged, and said so, rather than failed for want of data.
pub fn unselected_targets(
    plan: &RunPlan,
    journeys: &Journeys,
    targets: &Targets,
) -> BTreeMap<String, String> {
    let (names, why) = match plan.journeys.as_ref().map(|p| journeys.select(p)) {
        Some(Ok(selected)) => (
            Journeys::names_of(selected.into_iter()),
            not_run::NOT_SELECTED,
        ),
        Some(Err(_)) => return BTreeMap::new(),
        None => (
            Journeys::names_of(journeys.scenarios.iter()),
            not_run::NOT_IN_FILE,
        ),
    };
    targets
        .metrics
        .iter()
        .filter(|t| !names.contains(&t.metric))
        .map(|t| (t.metric.clone(), why.to_string()))
        .collect()
}

/// What each journey Goose gives users to (those `--scenarios` selects) records, so the results
/// can tell which got no user; nothing when the selection selects none.
pub fn given_journeys(plan: &RunPlan, journeys: &Journeys) -> JourneyMetrics {
    journeys
        .only(plan.journeys.as_deref())
        .map(|chosen| journey_metrics(&chosen))
        .unwrap_or_default()
}

/// The context every step of a run shares, recording into `recorder`; per-user clients are
/// built with Goose's client settings from `config`.
pub fn step_context(
    plan: &RunPlan,
    journeys: &Journeys,
    recorder: Arc<Recorder>,
    config: &GooseConfiguration,
) -> anyhow::Result<StepContext> {
    // WebRTC calls and arrivals sleep on the fine clock, WebSocket calls run on the frame
    // engine: without them, no run.
    crate::clock::start().map_err(anyhow::Error::msg)?;
    crate::call::frame_engine::start().map_err(anyhow::Error::msg)?;
    let clients = match plan.client {
        ClientMode::PerUser => Some(Arc::new(
            ClientFactory::new(config).map_err(anyhow::Error::msg)?,
        )),
        ClientMode::Shared => None,
    };
    Ok(StepContext {
        recorder,
        data: journeys.data.clone(),
        extra_headers: plan.headers.map().clone(),
        think_scale: plan.think_scale,
        users_seen: Default::default(),
        deadline: Default::default(),
        clients,
        turn_log: None,
    })
}

/// The Goose attack for `plan`: its journeys' scenarios — or, for open arrivals, the pool of
/// users and the dispatcher that feeds it (started, waiting for the pool).
pub fn prepare(
    plan: &RunPlan,
    journeys: &Journeys,
    ctx: &Arc<StepContext>,
    config: GooseConfiguration,
) -> anyhow::Result<(goose::GooseAttack, Option<Dispatch>)> {
    let (attack, dispatch) = match &plan.load {
        Load::Arrivals {
            rate,
            process,
            max_concurrency,
            on_full,
        } => {
            let pool = Pool::new(*max_concurrency);
            let scenario = dispatch::scenario(journeys, plan.journeys.as_deref(), &pool, ctx)?;
            let attack = attack::with_scenarios(config, vec![scenario]);
            let dispatch = Dispatch::start(rate, *process, *on_full, pool, ctx, *max_concurrency);
            (attack, Some(dispatch))
        }
        _ => (attack::attack(config, journeys, ctx), None),
    };
    Ok((attack.map_err(|e| anyhow!(goose_error_line(&e)))?, dispatch))
}

/// The web UI's port (0 picks a free one, here, so the page's URL can be printed); Goose saves
/// each page run's reports into the folder (and `<folder>-<n>`).
fn dashboard(
    config: &mut GooseConfiguration,
    dir: &std::path::Path,
) -> anyhow::Result<Option<u16>> {
    if config.dashboard_port == Some(0) {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        config.dashboard_port = Some(l.local_addr()?.port());
    }
    config.report_file.clear();
    config.output_dir = Some(dir.to_string_lossy().into_owned());
    Ok(config.dashboard_port)
}

impl Swarm<'_> {
    /// Runs against `host`, telling `sink` of every run; the exit code (0 every target met, 1
    /// one missed).
    pub async fn run(self, host: &str, sink: &dyn RunSink) -> anyhow::Result<u8> {
        let mut config = goose_config(self.plan, self.goose_flags, host, Some(sink.goose_dir()));
        let mut ctx = step_context(self.plan, self.journeys, self.recorder.clone(), &config)?;
        ctx.users_seen = self.users_seen.clone();
        ctx.turn_log = self.turn_log.clone();
        let ctx = Arc::new(ctx);
        let dashboard_port = match self.plan.web {
            true => dashboard(&mut config, sink.goose_dir())?,
            false => None,
        };
        let (attack, dispatch) = prepare(self.plan, self.journeys, &ctx, config)?;
        let sigterm = tokio::spawn(async {
            crate::signals::sigterm().await;
            goose::trigger_killswitch("SIGTERM received");
        });
        if let Some((w, delay)) = self
            .plan
            .worker
            .as_ref()
            .and_then(|w| Some((w, w.start_delay()?)))
        {
            let secs = delay.as_secs_f64();
            println!(
                "Worker {} of {}: starting in {secs:.1}s with the others",
                w.index, w.workers
            );
            tokio::time::sleep(delay).await;
        }
        let code = match dashboard_port {
            Some(port) => {
                let watched = web::Watched {
                    recorder: self.recorder.clone(),
                    users_seen: self.users_seen.clone(),
                };
                web::run(attack, port, sink, watched).await
            }
            None => {
                if let Some(d) = self.plan.latest_end() {
                    let _ = ctx.deadline.set(std::time::Instant::now() + d);
                }
                let status = status::Status {
                    recorder: self.recorder.clone(),
                    targets: self.targets.clone(),
                    planned: self.plan.planned_duration(),
                    users_seen: self.users_seen.clone(),
                };
                headless::run(attack, sink, status, dispatch).await
            }
        };
        sigterm.abort();
        code
    }
}
