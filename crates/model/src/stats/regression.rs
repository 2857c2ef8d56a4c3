//! Comparing a run with a baseline, by one stated rule: a metric with a target regresses when its
//! judged percentile grows by more than the threshold (and by more than half a millisecond), or
//! when its target was met in the baseline and is missed now. Metrics without a target are
//! compared and shown, never judged.

use super::histogram::percentile_us;
use super::recording::Recording;
use super::summary::Summary;
use super::verdict::Status;
use serde::Serialize;

/// Changes smaller than this (µs) are never a regression, whatever the ratio: sub-millisecond
/// jitter on a fast endpoint is noise.
pub const MIN_REGRESSION_US: f64 = 500.0;

/// The regression rule, with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rule {
    /// Allowed growth of a judged percentile, in percent.
    pub threshold_percent: f64,
}

impl Rule {
    /// Whether a judged percentile that went from `old_us` to `new_us` is a regression.
    pub fn regressed(&self, old_us: f64, new_us: f64) -> bool {
        change_percent(old_us, new_us) > self.threshold_percent
            && new_us - old_us > MIN_REGRESSION_US
    }

    /// The rule in words, printed with every comparison.
    pub fn describe(&self) -> String {
        format!(
            "a metric with a target regresses when its judged percentile grows by more than {}% \
             (and by more than {} ms), or when its target was met before and is missed now; \
             metrics without a target are shown, not judged",
            self.threshold_percent,
            MIN_REGRESSION_US / 1000.0
        )
    }
}

/// The growth from `old` to `new`, in percent (0 when `old` is 0).
pub fn change_percent(old: f64, new: f64) -> f64 {
    if old <= 0.0 {
        0.0
    } else {
        (new - old) * 100.0 / old
    }
}

/// One percentile of one metric, before and after.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PercentileChange {
    pub percentile: f64,
    pub baseline_ms: f64,
    pub new_ms: f64,
    pub change_percent: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Delta {
    pub metric: String,
    /// The percentile its target judges; None for a metric without a target.
    pub judged_percentile: Option<f64>,
    /// P50, P90, P95 and P99.
    pub percentiles: Vec<PercentileChange>,
    pub judged_change_percent: Option<f64>,
    /// Its target was met in the baseline and is missed now.
    pub target_flipped: bool,
    pub regression: bool,
}

/// Every metric present in both runs, compared by `rule`. Each summary must have been judged
/// with the same targets (its verdicts say which metrics have one, at which percentile).
pub fn compare(old: (&Recording, &Summary), new: (&Recording, &Summary), rule: Rule) -> Vec<Delta> {
    let mut out = Vec::new();
    for (name, new_h) in &new.0.histograms {
        let Some(old_h) = old.0.histograms.get(name) else {
            continue;
        };
        if old_h.is_empty() || new_h.is_empty() {
            continue;
        }
        let judged = new.1.verdict(name).and_then(|v| match v.check {
            super::verdict::Check::Latency { percentile, .. } => Some(percentile),
            _ => None,
        });
        let percentiles = [50.0, 90.0, 95.0, 99.0]
            .iter()
            .map(|&p| {
                let (o, n) = (percentile_us(old_h, p), percentile_us(new_h, p));
                PercentileChange {
                    percentile: p,
                    baseline_ms: o / 1000.0,
                    new_ms: n / 1000.0,
                    change_percent: change_percent(o, n),
                }
            })
            .collect();
        let status = |s: &Summary| s.verdict(name).map(|v| v.status);
        let target_flipped =
            status(old.1) == Some(Status::Met) && status(new.1) == Some(Status::Missed);
        let judged_values = judged.map(|p| (percentile_us(old_h, p), percentile_us(new_h, p)));
        out.push(Delta {
            metric: name.clone(),
            judged_percentile: judged,
            percentiles,
            judged_change_percent: judged_values.map(|(o, n)| change_percent(o, n)),
            target_flipped,
            regression: target_flipped || judged_values.is_some_and(|(o, n)| rule.regressed(o, n)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::recorder::Recorder;
    use crate::stats::summary::{summarize, RunInfo};
    use crate::stats::targets::Targets;
    use rand::{Rng, SeedableRng};

    fn run(seed: u64, scale: f64) -> (Recording, Summary) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let r = Recorder::new(1);
        for _ in 0..20_000 {
            let v: f64 = rng.random_range(80_000.0..120_000.0);
            r.record_us(0, "stt:transcribe", (v * scale) as u64);
            r.record_us(0, "health:check", (v * scale * 2.0) as u64);
        }
        r.count(0, crate::vocab::counter::REQUESTS, 20_000);
        let targets = Targets::parse(
            r#"{"error_rate":"1%","metrics":{"stt:transcribe":{"limit":"200ms"}}}"#,
            "t",
        )
        .unwrap();
        let rec = r.snapshot();
        let info = RunInfo {
            duration_s: 1.0,
            ..Default::default()
        };
        let s = summarize(&rec, &targets, &info);
        (rec, s)
    }

    #[test]
    fn flags_a_planted_regression_only_on_judged_metrics() {
        let rule = Rule {
            threshold_percent: 10.0,
        };
        let (a, sa) = run(1, 1.0);
        let (b, sb) = run(2, 1.0);
        let noise = compare((&a, &sa), (&b, &sb), rule);
        assert!(noise.iter().all(|d| !d.regression), "{noise:?}");
        let (c, sc) = run(2, 1.2);
        let slower = compare((&a, &sa), (&c, &sc), rule);
        let stt = slower
            .iter()
            .find(|d| d.metric == "stt:transcribe")
            .unwrap();
        assert!(stt.regression && !stt.target_flipped);
        let health = slower.iter().find(|d| d.metric == "health:check").unwrap();
        assert!(!health.regression && health.judged_percentile.is_none());
        assert!(health.percentiles[1].change_percent > 15.0);
        let (d, sd) = run(2, 1.9);
        let broken = compare((&a, &sa), (&d, &sd), rule);
        assert!(broken.iter().any(|d| d.target_flipped));
    }
}
