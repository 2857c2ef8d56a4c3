//! What a probe runs, as its run.json records it: the components, how many calls, the targets.

use crate::inputs::Input;
use serde::Serialize;

/// The probe's plan.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProbePlan {
    pub components: Vec<String>,
    pub samples: u64,
    pub warmup: u64,
    pub targets: Input,
}
