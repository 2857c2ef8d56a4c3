//! The targets file users edit (`scenarios/targets.json`): per metric a percentile, a limit and an
//! optional goal; the error-rate limit; an optional minimum throughput. Loading validates all.

use super::units::{parse_percent, parse_percentile, parse_time_us};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("{file}: {detail}")]
pub struct TargetsError {
    pub file: String,
    pub detail: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    #[serde(default)]
    percentile: Option<String>,
    limit: String,
    #[serde(default)]
    goal: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    #[serde(default, rename = "$comment")]
    _comment: Option<serde_json::Value>,
    error_rate: String,
    #[serde(default)]
    min_rps: Option<f64>,
    metrics: BTreeMap<String, RawTarget>,
}

/// One metric's target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub metric: String,
    /// The percentile judged, e.g. 90.0.
    pub percentile: f64,
    pub limit_us: f64,
    pub goal_us: Option<f64>,
    /// No samples is then "no data" without failing the run.
    pub optional: bool,
    pub description: Option<String>,
}

/// Every target of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    pub metrics: Vec<Target>,
    /// Largest acceptable share of failed requests, in percent.
    pub error_rate_percent: f64,
    pub min_rps: Option<f64>,
}

/// Whether `name` is a metric name: `component:action`, lower case letters, digits and `_`.
pub fn valid_metric_name(name: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    matches!(name.split_once(':'), Some((c, a)) if ok(c) && ok(a))
}

impl Targets {
    pub fn load(path: &Path) -> Result<Self, TargetsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TargetsError {
            file: file.clone(),
            detail: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<Self, TargetsError> {
        let err = |detail: String| TargetsError {
            file: file.to_string(),
            detail,
        };
        let raw: RawTargets = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
        let error_rate_percent =
            parse_percent(&raw.error_rate).map_err(|e| err(format!("error_rate: {e}")))?;
        if let Some(rps) = raw.min_rps {
            if !(rps.is_finite() && rps >= 0.0) {
                return Err(err(format!("min_rps: {rps} must be a number >= 0")));
            }
        }
        let mut metrics = Vec::new();
        for (name, t) in raw.metrics {
            let at = |e: String| err(format!("metrics.{name}: {e}"));
            if !valid_metric_name(&name) {
                return Err(at(
                    "a metric name is component:action in lower case, e.g. stt:transcribe".into(),
                ));
            }
            let percentile = match &t.percentile {
                Some(p) => parse_percentile(p).map_err(|e| at(format!("percentile: {e}")))?,
                None => 90.0,
            };
            let limit_us = parse_time_us(&t.limit).map_err(|e| at(format!("limit: {e}")))?;
            let goal_us = match &t.goal {
                Some(g) => Some(parse_time_us(g).map_err(|e| at(format!("goal: {e}")))?),
                None => None,
            };
            if goal_us.is_some_and(|g| g > limit_us) {
                return Err(at("goal: must not be above the limit".into()));
            }
            metrics.push(Target {
                metric: name,
                percentile,
                limit_us,
                goal_us,
                optional: t.optional,
                description: t.description,
            });
        }
        Ok(Targets {
            metrics,
            error_rate_percent,
            min_rps: raw.min_rps,
        })
    }

    /// Refuses targets on metrics this run can never produce (a typo would otherwise be a
    /// permanent "no data"). `known` lists every metric the run's journeys or probe can record.
    pub fn check_known<'a>(
        &self,
        file: &str,
        known: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<(), TargetsError> {
        for t in &self.metrics {
            if !known.clone().into_iter().any(|k| k == t.metric) {
                let mut names: Vec<&str> = known.clone().into_iter().collect();
                names.sort_unstable();
                names.dedup();
                return Err(TargetsError {
                    file: file.to_string(),
                    detail: format!(
                        "metrics.{}: unknown metric; this run records: {}",
                        t.metric,
                        names.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "error_rate": "1%",
        "metrics": {
            "stt:transcribe": {"percentile": "p90", "limit": "100ms"},
            "pipeline:voice_turn": {"limit": "500ms", "goal": "335ms"},
            "cache:read": {"limit": "5ms", "optional": true}
        }
    }"#;

    #[test]
    fn parses_the_default_shape() {
        let t = Targets::parse(GOOD, "t.json").unwrap();
        assert_eq!(t.metrics.len(), 3);
        assert_eq!(t.error_rate_percent, 1.0);
        let turn = t
            .metrics
            .iter()
            .find(|m| m.metric == "pipeline:voice_turn")
            .unwrap();
        assert_eq!(turn.percentile, 90.0);
        assert_eq!(turn.goal_us, Some(335_000.0));
    }

    #[test]
    fn the_shipped_targets_file_loads() {
        let t = Targets::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/targets.json"
        )))
        .unwrap();
        assert!(t.metrics.len() >= 8);
    }

    fn err(text: &str) -> String {
        Targets::parse(text, "t.json").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_field_and_what_is_accepted() {
        assert!(err("{").starts_with("t.json: "));
        let e = err(r#"{"error_rate":"1%","metrics":{"stt:transcribe":{"limit":"100"}}}"#);
        assert!(
            e.contains("metrics.stt:transcribe: limit:") && e.contains("100ms"),
            "{e}"
        );
        let e = err(r#"{"error_rate":"1","metrics":{}}"#);
        assert!(e.contains("error_rate"), "{e}");
        let e = err(r#"{"error_rate":"1%","metrics":{"STT":{"limit":"1ms"}}}"#);
        assert!(e.contains("component:action"), "{e}");
        let e = err(r#"{"error_rate":"1%","metrics":{"a:b":{"limit":"1ms","colour":1}}}"#);
        assert!(e.contains("unknown field"), "{e}");
        let e = err(r#"{"error_rate":"1%","metrics":{"a:b":{"limit":"1ms","goal":"2ms"}}}"#);
        assert!(e.contains("goal"), "{e}");
    }

    #[test]
    fn unknown_metric_is_refused_with_the_known_list() {
        let t = Targets::parse(GOOD, "t.json").unwrap();
        let e = t
            .check_known("t.json", ["stt:transcribe", "cache:read"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pipeline:voice_turn") && e.contains("cache:read"),
            "{e}"
        );
    }
}
