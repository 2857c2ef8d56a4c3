//! Builds the Goose attack from compiled journeys: one Goose scenario per journey, one transaction
//! per step (weights, sequences, on-start steps), think times as Goose wait times — or, for
//! journeys that listen, a `listen` transaction after each step, so the time a caller spends
//! listening is never inside the step's own transaction.

use crate::journey::run_step;
use crate::measure::clients::USER_AGENT;
use crate::measure::session;
use crate::measure::step::StepContext;
use goose::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use voiceswarm_model::scenario::{between, CompiledScenario, CompiledStep, Journeys, Think};

/// The name of the transaction in which a caller listens to the reply (and pauses after it).
pub const LISTEN: &str = "listen";

/// Goose's errors, said in one line.
pub fn goose_error_line(e: &GooseError) -> String {
    match e {
        GooseError::InvalidOption {
            option,
            value,
            detail,
        } => format!("{option} {value}: {detail}"),
        other => other.to_string(),
    }
}

/// A Goose attack with `config` and every journey registered, measuring into `ctx`.
pub fn attack(
    config: goose::config::GooseConfiguration,
    journeys: &Journeys,
    ctx: &Arc<StepContext>,
) -> Result<GooseAttack, GooseError> {
    let scenarios = journeys
        .scenarios
        .iter()
        .map(|s| scenario(s, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    with_scenarios(config, scenarios)
}

/// A Goose attack with `config` running `scenarios`. Goose builds one client, without cookies,
/// that every user starts with: shared, it serves every caller (`--client shared`); per user,
/// each caller replaces it with its own at its first request (`measure::clients`), so no
/// client is built before a caller needs one.
///
/// The run's host is Goose's default host, not its `--host`: Goose puts `--host` above every
/// scenario's own host, and a journey's `host` (scenarios/README.md) is for that journey only.
pub fn with_scenarios(
    mut config: goose::config::GooseConfiguration,
    scenarios: Vec<Scenario>,
) -> Result<GooseAttack, GooseError> {
    let host = config.host.take();
    let mut attack = GooseAttack::initialize_with_config(config)?;
    if let Some(host) = host {
        attack = *attack.set_default(GooseDefault::Host, host.as_str())?;
    }
    for s in scenarios {
        attack = attack.register_scenario(s);
    }
    attack.set_client_builder_without_cookies(
        goose::client::GooseClientBuilder::new()
            .without_cookies()
            .user_agent(USER_AGENT),
    )
}

fn scenario(s: &CompiledScenario, ctx: &Arc<StepContext>) -> Result<Scenario, GooseError> {
    let mut scenario = Scenario::new(&s.name).set_weight(s.weight)?;
    if let Some(host) = &s.host {
        scenario = scenario.set_host(host);
    }
    for step in &s.on_start {
        let t = step_transaction(step, ctx, false)?.set_on_start();
        scenario = scenario.register_transaction(t);
    }
    match s.think {
        Think::Listen(lo, hi) => {
            for (i, step) in s.iteration().into_iter().enumerate() {
                let t = step_transaction(step, ctx, true)?.set_sequence(2 * i + 1);
                let listen = listen_transaction(ctx, lo, hi).set_sequence(2 * i + 2);
                scenario = scenario
                    .register_transaction(t)
                    .register_transaction(listen);
            }
        }
        think => {
            if let (Think::Pause(lo, hi), true) = (think, ctx.think_scale > 0.0) {
                scenario = scenario
                    .set_wait_time(lo.mul_f64(ctx.think_scale), hi.mul_f64(ctx.think_scale))?;
            }
            for step in &s.steps {
                let mut t = step_transaction(step, ctx, false)?.set_weight(step.weight)?;
                if let Some(seq) = step.sequence {
                    t = t.set_sequence(seq);
                }
                scenario = scenario.register_transaction(t);
            }
        }
    }
    Ok(scenario)
}

/// How long a caller past the run's planned end waits before Goose looks for its stop again.
const AFTER_THE_END: Duration = Duration::from_millis(200);

fn step_transaction(
    step: &Arc<CompiledStep>,
    ctx: &Arc<StepContext>,
    listens: bool,
) -> Result<Transaction, GooseError> {
    let (s, c) = (step.clone(), ctx.clone());
    let function: TransactionFunction = Arc::new(move |user| {
        let (s, c) = (s.clone(), c.clone());
        Box::pin(async move {
            match run_step(user, &s, &c).await? {
                Some(audio) if listens => session::state(user).listen_owed = audio,
                Some(_) => {}
                // Past the planned end: wait for Goose's stop (it comes between transactions).
                None => tokio::time::sleep(AFTER_THE_END).await,
            }
            Ok(())
        })
    });
    Ok(Transaction::new(function).set_name(&step.name))
}

/// Listens to the audio the last step returned, then pauses between `lo` and `hi`, both scaled
/// by the think scale. Nothing of the last request is held while it waits, and the wait ends
/// at the run's planned end.
fn listen_transaction(ctx: &Arc<StepContext>, lo: Duration, hi: Duration) -> Transaction {
    let c = ctx.clone();
    let function: TransactionFunction = Arc::new(move |user| {
        let c = c.clone();
        Box::pin(async move {
            let owed = std::mem::take(&mut session::state(user).listen_owed);
            c.think(owed + between(lo, hi)).await;
            Ok(())
        })
    });
    Transaction::new(function).set_name(LISTEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use voiceswarm_model::inputs::Input;
    use voiceswarm_model::scenario::StepKind;

    /// Goose moves a transaction's future to the heap at every request, so an HTTP step's future
    /// must stay small: a call's (kilobytes of frames and protocol state) is boxed on its own.
    #[test]
    fn an_http_step_future_is_not_call_sized() {
        let input = Input::BuiltIn("voice_assistant.json".into());
        let journeys =
            voiceswarm_model::scenario::load::load(&input, "--scenario-file").expect("built-in");
        let ctx = Arc::new(StepContext::plain(journeys.data.clone()));
        let config = goose::config::GooseConfiguration::default();
        let mut user = GooseUser::single("http://127.0.0.1/".parse().unwrap(), &config).unwrap();
        let step = journeys
            .scenarios
            .iter()
            .flat_map(|s| s.steps.iter())
            .find(|s| matches!(s.kind, StepKind::Http(_)))
            .expect("an HTTP step");
        let function = step_transaction(step, &ctx, false).unwrap().function;
        let future = function(&mut user);
        let size = std::mem::size_of_val(&*future);
        assert!(size < 4096, "an HTTP step's future is {size} bytes");
    }
}
