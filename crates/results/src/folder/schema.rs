//! The JSON Schemas of the files voiceswarm writes, generated from their types so they cannot
//! drift: `schemas/summary.schema.json` and `schemas/run.schema.json` are these, committed
//! (`make schemas` writes them again; a test fails when they differ).

use super::record::RunRecord;
use voiceswarm_model::stats::Summary;

/// (file name under schemas/, schema) of every generated schema.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    let value = |s: schemars::Schema| s.to_value();
    vec![
        ("summary.schema.json", value(schemars::schema_for!(Summary))),
        ("run.schema.json", value(schemars::schema_for!(RunRecord))),
    ]
}
