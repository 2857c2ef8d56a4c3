//! One step of a journey as a caller runs it — an HTTP request or a phone call — the same for
//! Goose's looping users (`swarm::attack`) and for open arrivals (`arrivals`).

use crate::measure::step::{measure, StepContext};
use goose::prelude::{GooseUser, TransactionError};
use std::time::Duration;
use voiceswarm_model::scenario::{CompiledStep, StepKind};
use voiceswarm_model::vocab::counter;

/// Runs `step` as `user`: how long the audio it returned plays (zero for a call), or None when
/// the run's planned end has passed — no step starts then, or every caller released from
/// listening at that moment would send its next request at once.
pub async fn run_step(
    user: &mut GooseUser,
    step: &CompiledStep,
    ctx: &StepContext,
) -> Result<Option<Duration>, Box<TransactionError>> {
    if ctx.past_deadline() {
        return Ok(None);
    }
    let started = counter::step_started(&step.name);
    ctx.recorder.count(user.weighted_users_index, &started, 1);
    match &step.kind {
        StepKind::Http(http) => measure(user, &step.name, http, ctx).await.map(Some),
        // A call's future is kilobytes (its frames and protocol state); boxed on its own, it
        // does not make every HTTP step's future (moved to the heap per request) that large.
        StepKind::Call(plan) => {
            Box::pin(crate::call::run(user, &step.name, plan, ctx)).await?;
            Ok(Some(Duration::ZERO))
        }
    }
}
