//! The Locust-style swarm: runs compiled journeys on Goose as a plan says — headless to its end,
//! or from the web UI (Goose's live dashboard) — and post-processes every run into its folder.

pub mod arrivals;
pub mod attack;
pub mod finish;
pub use arrivals::Dispatch;
mod headless;
pub mod status;
mod web;

use crate::arrivals::pool::Pool;
use crate::export::Exporter;
use crate::measure::clients::ClientFactory;
use crate::measure::step::StepContext;
use crate::output::RunFolder;
use crate::plan::ClientMode;
use crate::plan::{goose::goose_config, Load, RunPlan};
use crate::scenario::Journeys;
use crate::stats::{Recorder, Targets};
use anyhow::anyhow;
use attack::goose_error_line;
use finish::{coordinated_omission_text, Finisher};
use goose::config::GooseConfiguration;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a swarm runs: the plan, its journeys, the targets that judge it, and the user's own
/// Goose flags (passed through).
pub struct Swarm<'a> {
    pub plan: RunPlan,
    pub journeys: &'a Journeys,
    pub targets: Targets,
    pub targets_text: String,
    pub goose_flags: GooseConfiguration,
}

/// The targets the journeys `plan` selects (`--scenarios`) can never record: not judged, and
/// said so, rather than failed for want of data.
fn unselected_targets(
    plan: &RunPlan,
    journeys: &Journeys,
    targets: &Targets,
) -> BTreeMap<String, String> {
    let Some(Ok(selected)) = plan.journeys.as_ref().map(|p| journeys.select(p)) else {
        return BTreeMap::new();
    };
    let names = Journeys::names_of(selected.into_iter());
    targets
        .metrics
        .iter()
        .filter(|t| !names.contains(&t.metric))
        .map(|t| {
            (
                t.metric.clone(),
                "not recorded by the journeys --scenarios selects".to_string(),
            )
        })
        .collect()
}

/// The context every step of a run shares, recording into `recorder`; per-user clients are
/// built with Goose's client settings from `config`.
pub fn step_context(
    plan: &RunPlan,
    journeys: &Journeys,
    recorder: Arc<Recorder>,
    config: &GooseConfiguration,
) -> anyhow::Result<StepContext> {
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
            let scenario = arrivals::scenario(journeys, plan.journeys.as_deref(), &pool, ctx)?;
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
fn dashboard(config: &mut GooseConfiguration, folder: &RunFolder) -> anyhow::Result<Option<u16>> {
    if config.dashboard_port == Some(0) {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        config.dashboard_port = Some(l.local_addr()?.port());
    }
    config.report_file.clear();
    config.output_dir = Some(folder.dir.to_string_lossy().into_owned());
    Ok(config.dashboard_port)
}

impl Swarm<'_> {
    /// Runs against `host` into `folder`; the exit code (0 every target met, 1 one missed).
    pub async fn run(self, host: &str, folder: &RunFolder) -> anyhow::Result<u8> {
        let recorder = Arc::new(Recorder::for_this_machine());
        let mut config = goose_config(&self.plan, self.goose_flags, host, Some(&folder.dir));
        let ctx = Arc::new(step_context(
            &self.plan,
            self.journeys,
            recorder.clone(),
            &config,
        )?);
        let dashboard_port = match self.plan.web {
            true => dashboard(&mut config, folder)?,
            false => None,
        };
        let coordinated_omission = coordinated_omission_text(config.co_mitigation.as_ref());
        let (attack, dispatch) = prepare(&self.plan, self.journeys, &ctx, config)?;
        let exporter = Exporter::start(
            &self.plan,
            recorder.clone(),
            ctx.users_seen.clone(),
            &self.targets,
        )
        .await?;
        let finisher = Finisher {
            exporter,
            users_seen: ctx.users_seen.clone(),
            skipped: unselected_targets(&self.plan, self.journeys, &self.targets),
            recorder,
            targets: self.targets,
            targets_text: self.targets_text,
            plan: self.plan,
            coordinated_omission,
        };
        let sigterm = tokio::spawn(async {
            crate::signals::sigterm().await;
            goose::trigger_killswitch("SIGTERM received");
        });
        if let Some(w) = &finisher.plan.worker {
            w.wait_for_start().await;
        }
        let code = match dashboard_port {
            Some(port) => web::run(attack, port, folder, &finisher, host).await,
            None => {
                if let Some(d) = finisher.plan.latest_end() {
                    let _ = ctx.deadline.set(std::time::Instant::now() + d);
                }
                let status = status::Status {
                    recorder: finisher.recorder.clone(),
                    targets: finisher.targets.clone(),
                    planned: finisher.plan.planned_duration(),
                    users_seen: ctx.users_seen.clone(),
                };
                headless::run(attack, &finisher, folder, host, status, dispatch).await
            }
        };
        sigterm.abort();
        let exported = finisher.exporter.close().await;
        let code = code?;
        exported?;
        Ok(code)
    }
}
