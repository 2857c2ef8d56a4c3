//! Comparing a run with a baseline run: per-metric P50/P90/P95/P99 deltas, and regressions where a
//! metric's judged percentile grew by more than a threshold.

use super::recording::Recording;
use super::summary::percentile_us;
use super::targets::Targets;
use serde::Serialize;

/// Changes smaller than this (µs) are never a regression, whatever the ratio: sub-millisecond
/// jitter on a fast endpoint is noise.
const MIN_REGRESSION_US: f64 = 500.0;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Delta {
    pub metric: String,
    /// The percentile judged for regression: the target's, or P90 without a target.
    pub judged_percentile: f64,
    /// (percentile, baseline ms, new ms, change in percent) for P50, P90, P95, P99.
    pub percentiles: Vec<(f64, f64, f64, f64)>,
    pub judged_change_percent: f64,
    pub regression: bool,
}

fn change(old: f64, new: f64) -> f64 {
    if old <= 0.0 {
        0.0
    } else {
        (new - old) * 100.0 / old
    }
}

/// Every metric present in both runs, compared; `threshold_percent` is the allowed growth.
pub fn compare(
    old: &Recording,
    new: &Recording,
    targets: &Targets,
    threshold_percent: f64,
) -> Vec<Delta> {
    let mut out = Vec::new();
    for (name, new_h) in &new.histograms {
        let Some(old_h) = old.histograms.get(name) else {
            continue;
        };
        if old_h.is_empty() || new_h.is_empty() {
            continue;
        }
        let judged = targets
            .metrics
            .iter()
            .find(|t| &t.metric == name)
            .map_or(90.0, |t| t.percentile);
        let percentiles = [50.0, 90.0, 95.0, 99.0]
            .iter()
            .map(|&p| {
                let (o, n) = (percentile_us(old_h, p), percentile_us(new_h, p));
                (p, o / 1000.0, n / 1000.0, change(o, n))
            })
            .collect();
        let (o, n) = (percentile_us(old_h, judged), percentile_us(new_h, judged));
        let judged_change = change(o, n);
        out.push(Delta {
            metric: name.clone(),
            judged_percentile: judged,
            percentiles,
            judged_change_percent: judged_change,
            regression: judged_change > threshold_percent && n - o > MIN_REGRESSION_US,
        });
    }
    out
}

/// The comparison as console text.
pub fn render(deltas: &[Delta], threshold_percent: f64) -> String {
    let mut s = String::from("BASELINE COMPARISON\n===================\n");
    for d in deltas {
        s.push_str(&format!(
            "\n{}{}\n",
            d.metric,
            if d.regression { "  ✗ REGRESSION" } else { "" }
        ));
        for (p, o, n, c) in &d.percentiles {
            s.push_str(&format!("  P{p:<3} {o:>9.2}ms → {n:>9.2}ms  ({c:+.1}%)\n"));
        }
    }
    let regressions: Vec<&str> = deltas
        .iter()
        .filter(|d| d.regression)
        .map(|d| d.metric.as_str())
        .collect();
    if regressions.is_empty() {
        s.push_str(&format!("\n✓ No regression beyond +{threshold_percent}%\n"));
    } else {
        s.push_str(&format!(
            "\n✗ {} regression(s) beyond +{threshold_percent}%: {}\n",
            regressions.len(),
            regressions.join(", ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::recorder::Recorder;
    use rand::{Rng, SeedableRng};

    fn run(seed: u64, scale: f64) -> Recording {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let r = Recorder::new(1);
        for _ in 0..20_000 {
            let v: f64 = rng.random_range(80_000.0..120_000.0);
            r.record_us(0, "stt:transcribe", (v * scale) as u64);
        }
        r.snapshot()
    }

    fn targets() -> Targets {
        Targets::parse(r#"{"error_rate":"1%","metrics":{}}"#, "t").unwrap()
    }

    #[test]
    fn flags_a_planted_regression_and_not_noise() {
        let noise = compare(&run(1, 1.0), &run(2, 1.0), &targets(), 10.0);
        assert!(!noise[0].regression, "{noise:?}");
        let slower = compare(&run(1, 1.0), &run(2, 1.2), &targets(), 10.0);
        assert!(slower[0].regression, "{slower:?}");
        assert!(render(&slower, 10.0).contains("REGRESSION"));
    }
}
