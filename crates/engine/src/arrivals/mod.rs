//! Open arrivals: callers arrive on a schedule (`--arrival-rate`, `--arrival-plan`), whatever the
//! backend's speed, as calls reach a call centre — not a fixed pool of users looping. Goose's
//! users are the pool that carries them: each waits for an arrival, runs one iteration of a
//! journey picked by the scenarios' weights, as a new caller, and waits again.

pub mod pool;

use crate::journey::run_step;
use crate::measure::session::CallerState;
use crate::measure::step::StepContext;
use goose::prelude::*;
use pool::Pool;
use std::sync::Arc;
use std::time::Duration;
use voiceswarm_model::scenario::{between, CompiledScenario, CompiledStep, Journeys, Think};
use voiceswarm_model::vocab::{counter, metric};

/// The name of the Goose scenario and transaction that carry arrivals.
pub const ARRIVAL: &str = "arrival";

/// The users a pool needs when none is given: the peak rate × twice the journeys' mean
/// estimated length (weighted as arrivals pick them), at least 1.
pub fn pool_for(rate: &voiceswarm_model::arrival::rate::Shape, journeys: &Journeys) -> usize {
    let total: usize = journeys.scenarios.iter().map(|s| s.weight).sum();
    let mean_s: f64 = journeys
        .scenarios
        .iter()
        .map(|s| s.estimated_duration().as_secs_f64() * s.weight as f64)
        .sum::<f64>()
        / total.max(1) as f64;
    ((rate.peak() * mean_s * 2.0).ceil() as usize).clamp(1, 100_000)
}

/// A journey, picked per arrival by its weight.
fn pick(journeys: &Journeys) -> &CompiledScenario {
    let total: usize = journeys.scenarios.iter().map(|s| s.weight).sum();
    let mut n = rand::random_range(0..total.max(1));
    for s in &journeys.scenarios {
        if n < s.weight {
            return s;
        }
        n -= s.weight;
    }
    &journeys.scenarios[0]
}

/// One step of an arrival's journey, then its think time (ended by the run's planned end).
async fn step(
    user: &mut GooseUser,
    s: &CompiledScenario,
    st: &CompiledStep,
    ctx: &StepContext,
) -> TransactionResult {
    let Some(audio) = run_step(user, st, ctx).await? else {
        return Ok(());
    };
    ctx.think(match s.think {
        Think::None => Duration::ZERO,
        Think::Pause(lo, hi) => between(lo, hi),
        Think::Listen(lo, hi) => audio + between(lo, hi),
    })
    .await;
    Ok(())
}

/// One arrival: waits for its ticket, then runs a journey as a new caller, timed from when it
/// was due.
async fn arrival(
    user: &mut GooseUser,
    journeys: &Journeys,
    pool: &Pool,
    ctx: &StepContext,
) -> TransactionResult {
    let Some(ticket) = pool.take().await else {
        // The schedule is over: wait for Goose to stop this user rather than spin.
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Ok(());
    };
    let hint = user.weighted_users_index;
    ctx.recorder.with_shard(hint, |s| {
        s.count(counter::ARRIVALS_STARTED, 1);
        s.record(metric::ARRIVAL_START_DELAY, ticket.due.elapsed());
    });
    user.set_session_data(CallerState::default());
    let journey = pick(journeys);
    let mut result = Ok(());
    for st in journey.on_start.iter().chain(journey.iteration()) {
        result = step(user, journey, st, ctx).await;
        if result.is_err() {
            break;
        }
    }
    ctx.recorder
        .record(hint, metric::ARRIVAL_JOURNEY, ticket.due.elapsed());
    pool.done();
    result
}

/// The Goose scenario of an arrival run: every user carries arrivals from `pool`.
pub fn scenario(journeys: &Arc<Journeys>, pool: &Arc<Pool>, ctx: &Arc<StepContext>) -> Scenario {
    let (j, p, c) = (journeys.clone(), pool.clone(), ctx.clone());
    let function: TransactionFunction = Arc::new(move |user| {
        let (j, p, c) = (j.clone(), p.clone(), c.clone());
        Box::pin(async move { arrival(user, &j, &p, &c).await })
    });
    Scenario::new(ARRIVAL).register_transaction(Transaction::new(function).set_name(ARRIVAL))
}
