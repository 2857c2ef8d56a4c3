//! Voice user journeys as data: scenario files (`scenarios/*.json`) parsed, checked and compiled
//! into journeys. How they are run belongs to `swarm` and `measure`; this module knows none of it.

pub mod call_step;
mod error;
pub mod journeys;
pub mod load;
pub mod model;
pub mod pointer;
mod step;
pub mod template;
pub mod webrtc;

pub use error::ScenarioError;
pub use journeys::{
    between, CallPlan, CompiledBody, CompiledScenario, CompiledStep, Defaults, HttpStep, Journeys,
    StepKind, Think,
};
pub use load::{load, parse};
