//! The targets file users edit (`scenarios/targets.json`): per metric a percentile, a limit, an
//! optional goal and an optional minimum of samples; the error-rate limit; an optional minimum
//! throughput. Loading validates all.

use crate::inputs::Input;
use crate::units::{parse_percent, parse_percentile, parse_time_us};
use crate::vocab::{is_metric_name, METRIC_NAME_HELP};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// A targets file that cannot be used.
#[derive(Debug, Error)]
pub enum TargetsError {
    /// It cannot be read; the message names the flag that sets it.
    #[error("{0}")]
    Read(String),
    /// Its content is wrong: `file` names it, `detail` says where and what is accepted.
    #[error("{file}: {detail}")]
    Invalid { file: String, detail: String },
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
    min_samples: Option<u64>,
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
    #[serde(default)]
    calls_failed: Option<String>,
    #[serde(default)]
    dropped_arrivals: Option<String>,
    #[serde(default)]
    packet_loss: Option<String>,
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
    /// With fewer samples than this, a percentile whose confidence interval straddles the limit
    /// is not judged on its point estimate: the verdict is `inconclusive`, which fails the run
    /// unless the target is optional. None: the point estimate always decides.
    pub min_samples: Option<u64>,
    pub description: Option<String>,
}

impl Target {
    /// A target from a rule such as `pipeline:voice_turn p90<500ms` (capacity's `--slo`).
    pub fn from_rule(text: &str) -> Result<Self, String> {
        let bad =
            |why: &str| format!("'{text}': {why}; write it as 'pipeline:voice_turn p90<500ms'");
        let (metric, rule) = text
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("no percentile rule"))?;
        if !is_metric_name(metric) {
            return Err(bad("the metric is not component:action"));
        }
        let (p, limit) = rule.trim().split_once('<').ok_or_else(|| bad("no '<'"))?;
        Ok(Self {
            metric: metric.to_string(),
            percentile: parse_percentile(p).map_err(|e| bad(&e))?,
            limit_us: parse_time_us(limit).map_err(|e| bad(&e))?,
            goal_us: None,
            optional: false,
            min_samples: None,
            description: None,
        })
    }

    /// The target as a rule: `pipeline:voice_turn p90<500ms`.
    pub fn rule(&self) -> String {
        format!(
            "{} p{}<{}ms",
            self.metric,
            self.percentile,
            self.limit_us / 1000.0
        )
    }
}

/// Every target of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    pub metrics: Vec<Target>,
    /// Largest acceptable share of failed requests, in percent.
    pub error_rate_percent: f64,
    pub min_rps: Option<f64>,
    /// Largest acceptable share of failed calls, in percent (judged when calls were made).
    pub calls_failed_percent: Option<f64>,
    /// Largest acceptable share of dropped arrivals, in percent (0 when unset: an arrival run
    /// that drops any arrival did not offer the load asked for).
    pub dropped_arrivals_percent: Option<f64>,
    /// Largest acceptable share of the bots' RTP packets lost on the way to WebRTC callers, in
    /// percent (judged when WebRTC calls were made).
    pub packet_loss_percent: Option<f64>,
}

impl Targets {
    /// The targets in `input` (which `flag` sets) and their text, kept with the run's results.
    pub fn read(input: &Input, flag: &str) -> Result<(Self, String), TargetsError> {
        let text = input.read(flag).map_err(TargetsError::Read)?;
        let targets = Self::parse(&text, &input.name())?;
        Ok((targets, text))
    }

    pub fn parse(text: &str, file: &str) -> Result<Self, TargetsError> {
        let err = |detail: String| TargetsError::Invalid {
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
            if !is_metric_name(&name) {
                return Err(at(format!("not a metric name: {METRIC_NAME_HELP}")));
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
            if t.min_samples == Some(0) {
                return Err(at(
                    "min_samples: write a count of at least 1 (or leave it out)".into(),
                ));
            }
            metrics.push(Target {
                metric: name,
                percentile,
                limit_us,
                goal_us,
                optional: t.optional,
                min_samples: t.min_samples,
                description: t.description,
            });
        }
        // The optional rate targets: a percentage each, the field named when it is not one.
        let percent = |field: &str, value: Option<&str>| {
            value
                .map(parse_percent)
                .transpose()
                .map_err(|e| err(format!("{field}: {e}")))
        };
        let calls_failed_percent = percent("calls_failed", raw.calls_failed.as_deref())?;
        let dropped_arrivals_percent =
            percent("dropped_arrivals", raw.dropped_arrivals.as_deref())?;
        let packet_loss_percent = percent("packet_loss", raw.packet_loss.as_deref())?;
        Ok(Targets {
            metrics,
            error_rate_percent,
            min_rps: raw.min_rps,
            calls_failed_percent,
            dropped_arrivals_percent,
            packet_loss_percent,
        })
    }

    /// The targets as a targets file (what `voiceswarm report` reads back from a run folder).
    pub fn to_file_text(&self) -> String {
        let metrics: serde_json::Map<String, serde_json::Value> = self
            .metrics
            .iter()
            .map(|t| {
                let mut v = serde_json::json!({
                    "percentile": format!("p{}", t.percentile),
                    "limit": format!("{}us", t.limit_us),
                    "optional": t.optional,
                });
                if let Some(g) = t.goal_us {
                    v["goal"] = format!("{g}us").into();
                }
                if let Some(m) = t.min_samples {
                    v["min_samples"] = m.into();
                }
                if let Some(d) = &t.description {
                    v["description"] = d.clone().into();
                }
                (t.metric.clone(), v)
            })
            .collect();
        let mut doc = serde_json::json!({
            "error_rate": format!("{}%", self.error_rate_percent),
            "metrics": metrics,
        });
        if let Some(r) = self.min_rps {
            doc["min_rps"] = r.into();
        }
        if let Some(c) = self.calls_failed_percent {
            doc["calls_failed"] = format!("{c}%").into();
        }
        if let Some(d) = self.dropped_arrivals_percent {
            doc["dropped_arrivals"] = format!("{d}%").into();
        }
        if let Some(l) = self.packet_loss_percent {
            doc["packet_loss"] = format!("{l}%").into();
        }
        format!("{doc:#}\n")
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
                return Err(TargetsError::Invalid {
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
            "pipeline:voice_turn": {"limit": "500ms", "goal": "335ms", "min_samples": 400},
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
        assert_eq!(turn.min_samples, Some(400));
    }

    #[test]
    fn the_shipped_targets_file_loads() {
        let t = Targets::parse(crate::inputs::BUILT_IN_TARGETS, "targets.json").unwrap();
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
        let e = err(r#"{"error_rate":"1%","metrics":{"a:b":{"limit":"100"}}}"#);
        assert!(e.contains("no unit"), "{e}");
        let e = err(r#"{"error_rate":"1%","metrics":{"a:b":{"limit":"1ms","colour":1}}}"#);
        assert!(e.contains("unknown field"), "{e}");
        let e = err(r#"{"error_rate":"1%","metrics":{"a:b":{"limit":"1ms","goal":"2ms"}}}"#);
        assert!(e.contains("goal"), "{e}");
        let e = err(r#"{"error_rate":"1%","metrics":{"a:b":{"limit":"1ms","min_samples":0}}}"#);
        assert!(e.contains("metrics.a:b: min_samples"), "{e}");
        let e = err(r#"{"error_rate":"1%","metrics":{"a:b":{"limit":"1ms","min_samples":-5}}}"#);
        assert!(
            e.contains("min_samples") || e.contains("invalid value"),
            "{e}"
        );
    }

    #[test]
    fn targets_written_as_a_file_read_back_the_same() {
        let t = Targets::parse(GOOD, "t.json").unwrap();
        assert_eq!(Targets::parse(&t.to_file_text(), "again").unwrap(), t);
    }

    #[test]
    fn rules_parse_into_targets_and_back() {
        let t = Target::from_rule("pipeline:voice_turn p90<500ms").unwrap();
        assert_eq!((t.percentile, t.limit_us), (90.0, 500_000.0));
        assert_eq!(t.rule(), "pipeline:voice_turn p90<500ms");
        assert!(Target::from_rule("pipeline:voice_turn").is_err());
        assert!(Target::from_rule("Voice p90<5ms").is_err());
        assert!(Target::from_rule("a:b p90<5")
            .unwrap_err()
            .contains("no unit"));
        assert!(Target::from_rule("a:b q90<5ms").is_err());
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
