//! Turns compiled journeys into Goose scenarios: one transaction per step (weights, sequences,
//! on-start steps), wait times from the think setting, each transaction measuring its step.

use super::load::{CompiledStep, Journeys};
use crate::measure::step::{execute, StepContext};
use goose::prelude::*;
use std::sync::Arc;

fn transaction(
    step: &Arc<CompiledStep>,
    ctx: &Arc<StepContext>,
    on_start: bool,
) -> Result<Transaction, GooseError> {
    let (s, c) = (step.clone(), ctx.clone());
    let function: TransactionFunction = Arc::new(move |user| {
        let (s, c) = (s.clone(), c.clone());
        Box::pin(async move { execute(user, &s, &c).await })
    });
    let mut t = Transaction::new(function)
        .set_name(&step.name)
        .set_weight(step.weight)?;
    if let Some(seq) = step.sequence {
        t = t.set_sequence(seq);
    }
    if on_start {
        t = t.set_on_start();
    }
    Ok(t)
}

/// The Goose scenarios for `journeys`, measuring into `ctx`.
pub fn scenarios(journeys: &Journeys, ctx: &Arc<StepContext>) -> Result<Vec<Scenario>, GooseError> {
    let mut out = Vec::new();
    for s in &journeys.scenarios {
        let mut scenario = Scenario::new(&s.name).set_weight(s.weight)?;
        if let Some((min, max)) = s.wait {
            if ctx.think_scale > 0.0 {
                scenario = scenario
                    .set_wait_time(min.mul_f64(ctx.think_scale), max.mul_f64(ctx.think_scale))?;
            }
        }
        if let Some(host) = &s.host {
            scenario = scenario.set_host(host);
        }
        for step in &s.on_start {
            scenario = scenario.register_transaction(transaction(step, ctx, true)?);
        }
        for step in &s.steps {
            scenario = scenario.register_transaction(transaction(step, ctx, false)?);
        }
        out.push(scenario);
    }
    Ok(out)
}

/// A Goose attack with `config` and every journey registered.
pub fn attack(
    config: goose::config::GooseConfiguration,
    journeys: &Journeys,
    ctx: &Arc<StepContext>,
) -> Result<GooseAttack, GooseError> {
    let mut attack = GooseAttack::initialize_with_config(config)?;
    for s in scenarios(journeys, ctx)? {
        attack = attack.register_scenario(s);
    }
    Ok(attack)
}
