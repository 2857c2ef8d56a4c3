//! A run's final figures as CloudWatch Embedded Metric Format (EMF) JSON lines — the format the
//! CloudWatch agent and Lambda turn into metrics with no SDK: namespace `voiceswarm`, one line
//! per voiceswarm metric (P50/P90/P95/P99 in milliseconds, its sample count) and one for the
//! run (`metric` = `run`: error rate, requests per second, cache hit ratio, targets missed).
//! Each line has two dimension sets: metric + profile (what alarms watch, stable across hosts
//! and versions) and metric + profile + host + the run's labels (what charts split by).

use super::Identity;
use crate::folder::write_atomic;
use crate::render::{Judged, Renderer};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use voiceswarm_model::stats::Summary;

pub const NAMESPACE: &str = "voiceswarm";
/// The `metric` dimension of the run's own figures.
pub const RUN_METRIC: &str = "run";
/// The specification's limits: metrics per directive, keys per dimension set.
pub const MAX_METRICS: usize = 100;
pub const MAX_DIMENSIONS: usize = 30;
/// CloudWatch Logs takes events of up to 1 MB (256 KB before 2025): every line stays under
/// the older limit.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// One EMF document: `values` (name, unit, value) under the dimensions of `metric`.
fn line(id: &Identity, metric: &str, values: &[(&str, &str, f64)], timestamp_ms: i64) -> Value {
    let mut root = Map::new();
    root.insert("metric".into(), json!(metric));
    root.insert("profile".into(), json!(id.profile));
    root.insert("host".into(), json!(id.host));
    let mut detailed = vec!["metric".to_string(), "profile".into(), "host".into()];
    for (k, v) in id.labels.iter() {
        root.insert(k.clone(), json!(v));
        detailed.push(k.clone());
    }
    let mut definitions = Vec::new();
    for (name, unit, value) in values {
        root.insert((*name).into(), json!(value));
        definitions.push(json!({"Name": name, "Unit": unit}));
    }
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["metric", "profile"], detailed],
                "Metrics": definitions,
            }]
        }),
    );
    Value::Object(root)
}

/// Every line for `summary`, stamped `timestamp_ms` (the run's end, ms since the epoch).
pub fn lines(summary: &Summary, id: &Identity, timestamp_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    for m in &summary.metrics {
        let values = [
            ("P50", "Milliseconds", m.median_ms),
            ("P90", "Milliseconds", m.p90_ms),
            ("P95", "Milliseconds", m.p95_ms),
            ("P99", "Milliseconds", m.p99_ms),
            ("Samples", "Count", m.count as f64),
        ];
        out.push(line(id, &m.name, &values, timestamp_ms).to_string());
    }
    let t = &summary.totals;
    let mut values = vec![
        ("ErrorRate", "Percent", t.error_rate_percent),
        ("RequestsPerSecond", "Count/Second", t.rps),
        ("Requests", "Count", t.requests as f64),
        ("TargetsMissed", "Count", summary.missed.len() as f64),
    ];
    if let Some(r) = t.cache_hit_ratio {
        values.push(("CacheHitRatio", "Percent", r * 100.0));
    }
    out.push(line(id, RUN_METRIC, &values, timestamp_ms).to_string());
    out
}

/// The EMF lines of a judged run, stamped `timestamp_ms`, written to `path` (`--cloudwatch-emf`).
pub struct Emf {
    pub id: Identity,
    pub timestamp_ms: i64,
    pub path: PathBuf,
}

impl Renderer<Judged<'_>> for Emf {
    /// None: the file is where `--cloudwatch-emf` says, not in the run folder.
    fn file_name(&self) -> Option<&str> {
        None
    }

    fn render(&self, run: &Judged) -> std::io::Result<String> {
        let mut text = lines(run.summary, &self.id, self.timestamp_ms).join("\n");
        text.push('\n');
        Ok(text)
    }

    fn write(&self, run: &Judged, _dir: &Path) -> std::io::Result<()> {
        write_atomic(&self.path, self.render(run)?.as_bytes())
    }
}
