//! Voice user journeys as data: scenario files (`scenarios/*.json`) parsed, validated and
//! compiled, then turned into Goose scenarios whose transactions run and measure each step.

pub mod goose;
pub mod load;
pub mod model;
pub mod pointer;
pub mod template;

pub use load::{load, CompiledScenario, CompiledStep, Journeys, ScenarioError};
