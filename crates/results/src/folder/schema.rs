//! The JSON Schemas of the files voiceswarm writes, generated from their types so they cannot
//! drift: `schemas/summary.schema.json` and `schemas/run.schema.json` are these, committed
//! (`make schemas` writes them again; a test fails when they differ).

use super::record::RunRecord;
use serde::Serialize;
use std::path::PathBuf;
use voiceswarm_model::plan::probe::ProbePlan;
use voiceswarm_model::plan::RunPlan;
use voiceswarm_model::stats::Summary;

/// What a run.json's `plan` holds, by kind: a load run's or capacity search's plan, a probe's,
/// or the folders a merge was made of. (For the schema only: each command writes its own.)
#[derive(Serialize, schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RecordedPlan {
    Run(Box<RunPlan>),
    Probe(ProbePlan),
    Merged(Vec<PathBuf>),
}

/// (file name under schemas/, schema) of every generated schema.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    let value = |s: schemars::Schema| s.to_value();
    vec![
        ("summary.schema.json", value(schemars::schema_for!(Summary))),
        (
            "run.schema.json",
            value(schemars::schema_for!(RunRecord<RecordedPlan>)),
        ),
    ]
}
