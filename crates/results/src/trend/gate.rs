//! The regression gate: the newest run against the median of the previous N comparable runs
//! (same profile, load, scenario file and host), by the same rule `report --baseline` states —
//! a judged percentile worse by more than the threshold, or a target that flipped to missed.

use super::Point;
use serde::Serialize;
use voiceswarm_model::stats::regression::{change_percent, Rule};
use voiceswarm_model::stats::Status;

/// What the gate found wrong with the newest run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// The metric or verdict (`pipeline:voice_turn`, `error_rate`).
    pub name: String,
    /// The judged percentile, for a slower metric.
    pub percentile: Option<f64>,
    pub baseline_ms: Option<f64>,
    pub now_ms: Option<f64>,
    pub change_percent: Option<f64>,
    /// Met in the previous comparable run, missed now.
    pub flipped: bool,
}

impl Finding {
    /// One line: `pipeline:voice_turn P90 612.0 ms → 1836.0 ms (+200.0%)`.
    pub fn line(&self) -> String {
        match (self.percentile, self.baseline_ms, self.now_ms) {
            (Some(p), Some(b), Some(n)) => format!(
                "{} P{p}: {b:.1} ms → {n:.1} ms ({:+.1}%){}",
                self.name,
                self.change_percent.unwrap_or(0.0),
                if self.flipped {
                    "; its target was met before and is missed now"
                } else {
                    ""
                }
            ),
            _ => format!(
                "{}: met in the previous comparable run, missed now",
                self.name
            ),
        }
    }
}

/// The gate's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gate {
    /// The rule, in words.
    pub rule: String,
    /// How many earlier comparable runs the baseline takes, at most.
    pub baseline_runs: usize,
    /// The run judged (None: no runs).
    pub newest: Option<String>,
    /// The earlier runs its baseline is the median of, oldest first.
    pub baseline: Vec<String>,
    pub findings: Vec<Finding>,
    pub regressed: bool,
}

/// The median of `values` (not empty).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// The judged percentiles of `newest` against the median of `earlier`'s.
fn slower(newest: &Point, earlier: &[&Point], rule: Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, target) in &newest.targets {
        let Some(now) = target.observed_ms else {
            continue;
        };
        let mut before: Vec<f64> = earlier
            .iter()
            .filter_map(|p| p.targets.get(name))
            .filter(|t| t.percentile == target.percentile)
            .filter_map(|t| t.observed_ms)
            .collect();
        if before.is_empty() {
            continue;
        }
        let base = median(&mut before);
        if rule.regressed(base * 1000.0, now * 1000.0) {
            out.push(Finding {
                name: name.clone(),
                percentile: Some(target.percentile),
                baseline_ms: Some(base),
                now_ms: Some(now),
                change_percent: Some(change_percent(base, now)),
                flipped: false,
            });
        }
    }
    out
}

/// Judges the newest of `points` (oldest first) against up to `runs` earlier comparable ones.
pub fn judge(points: &[Point], rule: Rule, runs: usize) -> Gate {
    let mut gate = Gate {
        rule: format!(
            "the newest run against the median of up to {runs} earlier comparable runs (same \
             profile, load, scenario file and host): {}",
            rule.describe()
        ),
        baseline_runs: runs,
        newest: None,
        baseline: Vec::new(),
        findings: Vec::new(),
        regressed: false,
    };
    let Some((newest, rest)) = points.split_last() else {
        return gate;
    };
    gate.newest = Some(newest.folder.clone());
    let comparable: Vec<&Point> = rest
        .iter()
        .filter(|p| p.comparable == newest.comparable)
        .collect();
    let earlier = &comparable[comparable.len().saturating_sub(runs)..];
    gate.baseline = earlier.iter().map(|p| p.folder.clone()).collect();
    let Some(previous) = earlier.last() else {
        return gate;
    };
    let mut findings = slower(newest, earlier, rule);
    for (name, status) in &newest.verdicts {
        let flipped =
            *status == Status::Missed && previous.verdicts.get(name) == Some(&Status::Met);
        if !flipped {
            continue;
        }
        match findings.iter_mut().find(|f| &f.name == name) {
            Some(f) => f.flipped = true,
            None => findings.push(Finding {
                name: name.clone(),
                percentile: None,
                baseline_ms: None,
                now_ms: None,
                change_percent: None,
                flipped: true,
            }),
        }
    }
    gate.regressed = !findings.is_empty();
    gate.findings = findings;
    gate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trend::Judged;
    use std::collections::BTreeMap;

    fn point(folder: &str, key: &str, p90: f64, limit: f64) -> Point {
        let status = if p90 < limit {
            Status::Met
        } else {
            Status::Missed
        };
        let judged = Judged {
            percentile: 90.0,
            limit_ms: limit,
            observed_ms: Some(p90),
            status,
        };
        Point {
            folder: folder.into(),
            started_at: String::new(),
            time: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
            profile: "light".into(),
            host: "built-in".into(),
            labels: Default::default(),
            git_commit: None,
            comparable: key.into(),
            passed: status == Status::Met,
            metrics: BTreeMap::new(),
            targets: BTreeMap::from([("llm:chat".to_string(), judged)]),
            verdicts: BTreeMap::from([("llm:chat".to_string(), status)]),
            error_rate_percent: 0.0,
            error_rate_limit_percent: Some(1.0),
            cache_hit_ratio: None,
            rps: 1.0,
        }
    }

    const RULE: Rule = Rule {
        threshold_percent: 10.0,
    };

    #[test]
    fn the_baseline_is_the_median_of_the_last_n_comparable_runs() {
        let runs = vec![
            point("a", "k", 900.0, 2000.0),
            point("b", "k", 100.0, 2000.0),
            point("other", "k2", 10.0, 2000.0),
            point("c", "k", 110.0, 2000.0),
            point("d", "k", 120.0, 2000.0),
            point("new", "k", 125.0, 2000.0),
        ];
        // Last 3 comparable: b, c, d → median 110; 125 is +13.6%.
        let g = judge(&runs, RULE, 3);
        assert_eq!(g.baseline, ["b", "c", "d"]);
        assert!(g.regressed);
        assert_eq!(g.findings[0].baseline_ms, Some(110.0));
        assert!(g.findings[0]
            .line()
            .contains("110.0 ms → 125.0 ms (+13.6%)"));
        // With a, the median of 4 is (110+120)/2 = 115: +8.7% is within 10%.
        let g = judge(&runs, RULE, 5);
        assert_eq!(g.baseline.len(), 4);
        assert!(!g.regressed, "{:?}", g.findings);
    }

    #[test]
    fn a_flipped_target_regresses_and_a_lone_run_does_not() {
        let runs = vec![point("a", "k", 100.0, 105.0), point("b", "k", 106.0, 105.0)];
        let g = judge(&runs, RULE, 5);
        assert!(g.regressed);
        assert!(g.findings[0].flipped && g.findings[0].now_ms.is_none());
        assert!(g.findings[0].line().contains("met in the previous"));
        let g = judge(&runs[1..], RULE, 5);
        assert!(!g.regressed && g.baseline.is_empty());
        assert_eq!(g.newest.as_deref(), Some("b"));
        assert!(!judge(&[], RULE, 5).regressed);
    }
}
