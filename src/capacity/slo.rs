//! Service-level objectives for the capacity search: `metric pNN<limit` rules from `--slo`, or
//! every required target of the targets file.

use crate::stats::targets::{valid_metric_name, Targets};
use crate::stats::units::{parse_percentile, parse_time_us};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slo {
    pub metric: String,
    pub percentile: f64,
    pub limit_us: f64,
}

impl Slo {
    /// Parses `pipeline:voice_turn p90<500ms`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("--slo '{text}': {why}; write it as 'pipeline:voice_turn p90<500ms'")
        };
        let (metric, rule) = text
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("no percentile rule"))?;
        if !valid_metric_name(metric) {
            return Err(bad("the metric is not component:action"));
        }
        let (p, limit) = rule.trim().split_once('<').ok_or_else(|| bad("no '<'"))?;
        let percentile = parse_percentile(p).map_err(|e| bad(&e))?;
        let limit_us = parse_time_us(limit).map_err(|e| bad(&e))?;
        Ok(Self {
            metric: metric.to_string(),
            percentile,
            limit_us,
        })
    }

    /// Every required target of a targets file.
    pub fn from_targets(t: &Targets) -> Vec<Self> {
        t.metrics
            .iter()
            .filter(|m| !m.optional)
            .map(|m| Self {
                metric: m.metric.clone(),
                percentile: m.percentile,
                limit_us: m.limit_us,
            })
            .collect()
    }

    pub fn describe(&self) -> String {
        format!(
            "{} p{}<{}ms",
            self.metric,
            self.percentile,
            self.limit_us / 1000.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let s = Slo::parse("pipeline:voice_turn p90<500ms").unwrap();
        assert_eq!((s.percentile, s.limit_us), (90.0, 500_000.0));
        assert!(Slo::parse("pipeline:voice_turn").is_err());
        assert!(Slo::parse("Voice p90<5ms").is_err());
        assert!(Slo::parse("a:b p90<5").unwrap_err().contains("no unit"));
        assert!(Slo::parse("a:b q90<5ms").is_err());
    }
}
