//! An arrival run on Goose: the pool of users (one Goose scenario whose transaction carries one
//! arrival at a time) and the dispatcher that feeds it on schedule, started beside the attack.

use crate::arrivals::pool::{OnFull, Pool};
use crate::measure::step::StepContext;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use voiceswarm_model::arrival::rate::Shape;
use voiceswarm_model::arrival::schedule::{Process, Schedule};
use voiceswarm_model::scenario::Journeys;
use voiceswarm_model::stats::summary::Arrivals;

/// The dispatcher of a running arrival run.
pub struct Dispatch {
    pool: Arc<Pool>,
    task: tokio::task::JoinHandle<Arrivals>,
    /// Set when the dispatcher ended the run itself, its schedule done and drained.
    ended_run: Arc<AtomicBool>,
}

/// After the schedule, arrivals still in progress or queued get this long to finish (as k6's
/// graceful stop); then the run ends, and queued arrivals never started count as dropped.
pub const GRACE: Duration = voiceswarm_model::plan::ARRIVAL_GRACE;

/// The pool's users all wait for their first arrival within this long, or the schedule starts
/// anyway (and any arrival finding none free is counted as dropped or queued).
const READY: Duration = Duration::from_secs(10);

impl Dispatch {
    /// Starts the dispatcher: once the pool's users are ready it runs the schedule.
    pub fn start(
        rate: &Shape,
        process: Process,
        on_full: OnFull,
        pool: Arc<Pool>,
        ctx: &StepContext,
        size: usize,
    ) -> Self {
        let schedule = Schedule::new(rate.clone(), process, rand::random());
        let described = Arrivals {
            model: format!("{process:?}").to_lowercase(),
            rate: rate.text.clone(),
            on_full: format!("{on_full:?}").to_lowercase(),
            pool: size,
            ..Default::default()
        };
        let (p, recorder) = (pool.clone(), ctx.recorder.clone());
        let ended_run = Arc::new(AtomicBool::new(false));
        let ended = ended_run.clone();
        let task = tokio::spawn(async move {
            p.wait_until_ready(READY).await;
            let c = p
                .clone()
                .dispatch(schedule, on_full == OnFull::Queue, recorder.clone())
                .await;
            p.drain(GRACE).await;
            if !goose::is_killswitch_triggered() {
                ended.store(true, Ordering::SeqCst);
                goose::trigger_killswitch(
                    "the arrival schedule is over and every arrival finished",
                );
            }
            recorder.count(
                0,
                voiceswarm_model::vocab::counter::ARRIVALS_DROPPED,
                p.unstarted() as u64,
            );
            Arrivals {
                mean_concurrency: c.mean,
                max_concurrency: c.max,
                concurrency_over_time: c.per_second,
                ..described
            }
        });
        Self {
            pool,
            task,
            ended_run,
        }
    }

    /// After the attack: stops a schedule the run outlived, and says what the dispatcher saw
    /// and whether it ended the run itself (not an interruption).
    pub async fn finish(self) -> (Arrivals, bool) {
        self.pool.stop();
        let arrivals = self.task.await.unwrap_or_default();
        let ended = self.ended_run.load(Ordering::SeqCst);
        if ended {
            // The dispatcher's own signal, consumed: a capacity search's next step must not
            // read it as Ctrl-C.
            goose::reset_killswitch();
        }
        (arrivals, ended)
    }
}

/// The Goose scenario every user of an arrival run runs: each arrival picks one of the
/// journeys `selected` names (`--scenarios`; all when None) by their weights.
pub fn scenario(
    journeys: &Journeys,
    selected: Option<&[String]>,
    pool: &Arc<Pool>,
    ctx: &Arc<StepContext>,
) -> anyhow::Result<goose::prelude::Scenario> {
    let chosen = journeys
        .only(selected)
        .map_err(|p| anyhow::anyhow!("--scenarios {p}: no journey of that name"))?;
    Ok(crate::arrivals::scenario(&Arc::new(chosen), pool, ctx))
}
