//! The regression gate: the newest run against the median of the previous N comparable runs
//! (same profile, load, scenario file and host), by the rule `report --baseline` applies too
//! ([`Rule`]): a judged percentile worse by more than the threshold and significantly so, or a
//! target that flipped to missed with evidence (a significant rise, or a conclusive miss). Rises
//! chance can explain and runs too small to tell are listed apart, never failed.

use super::Point;
use serde::Serialize;
pub use voiceswarm_model::stats::regression::Finding;
use voiceswarm_model::stats::regression::{Flip, Outcome, Rule, Side};
use voiceswarm_model::stats::Status;

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
    /// The regressions.
    pub findings: Vec<Finding>,
    /// Rises over the threshold (or flips) that are not regressions: not significant, or too
    /// few samples to tell.
    pub unsettled: Vec<Finding>,
    pub regressed: bool,
}

/// The judged percentiles of `newest` against the baseline of `earlier`'s, each with the rule's
/// outcome; `previous` is the latest earlier run, whose verdicts say what flipped.
fn judged(newest: &Point, earlier: &[&Point], previous: &Point, rule: Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, target) in &newest.targets {
        let Some(now) = target.observed_ms else {
            continue;
        };
        let before: Vec<Side> = earlier
            .iter()
            .filter_map(|p| p.targets.get(name))
            .filter(|t| t.percentile == target.percentile)
            .filter_map(|t| Some(Side::of(t.observed_ms?, t.interval.as_ref())))
            .collect();
        let Some(base) = Side::baseline_of(&before) else {
            continue;
        };
        let flip = flipped(name, newest, previous).then_some(Flip {
            limit_ms: target.limit_ms,
        });
        let now = Side::of(now, target.interval.as_ref());
        out.push(rule.judge(name, target.percentile, &base, &now, flip));
    }
    out
}

/// Met in `previous`, missed in `newest`.
fn flipped(name: &str, newest: &Point, previous: &Point) -> bool {
    newest.verdicts.get(name) == Some(&Status::Missed)
        && previous.verdicts.get(name) == Some(&Status::Met)
}

/// Judges the newest of `points` (oldest first) against up to `runs` earlier comparable ones.
pub fn judge(points: &[Point], rule: Rule, runs: usize) -> Gate {
    let mut gate = Gate {
        rule: format!(
            "the newest run against the median of up to {runs} earlier comparable runs (same \
             profile, load, scenario file and host; the baseline's upper bound is the median of \
             theirs): {}",
            rule.describe()
        ),
        baseline_runs: runs,
        newest: None,
        baseline: Vec::new(),
        findings: Vec::new(),
        unsettled: Vec::new(),
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
    let mut all = judged(newest, earlier, previous, rule);
    // Verdicts without a percentile (the error rate) flip without statistics.
    all.extend(
        newest
            .verdicts
            .keys()
            .filter(|name| !newest.targets.contains_key(*name))
            .filter(|name| flipped(name, newest, previous))
            .map(|name| Finding::flip(name)),
    );
    for f in all {
        match f.outcome {
            Outcome::Regressed => gate.findings.push(f),
            Outcome::NotSignificant | Outcome::TooFewSamples => gate.unsettled.push(f),
            Outcome::Within => {}
        }
    }
    gate.regressed = !gate.findings.is_empty();
    gate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trend::Judged;
    use std::collections::BTreeMap;
    use voiceswarm_model::stats::ConfidenceInterval;

    /// A run whose P90 is `p90` with a confidence interval of ±1 % (a long run).
    fn point(folder: &str, key: &str, p90: f64, limit: f64) -> Point {
        point_within(folder, key, p90, limit, Some((0.99 * p90, 1.01 * p90)))
    }

    /// A run whose P90 is `p90` with the confidence interval `bounds` (None: a summary from
    /// before intervals).
    fn point_within(
        folder: &str,
        key: &str,
        p90: f64,
        limit: f64,
        bounds: Option<(f64, f64)>,
    ) -> Point {
        let status = if p90 < limit {
            Status::Met
        } else {
            Status::Missed
        };
        let interval = bounds.map(|(lo, hi)| ConfidenceInterval {
            lower_ms: Some(lo),
            upper_ms: Some(hi),
            confidence: 0.95,
            achieved_confidence: 0.95,
            samples: 100,
        });
        let judged = Judged {
            percentile: 90.0,
            limit_ms: limit,
            observed_ms: Some(p90),
            interval,
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
        // The flip is a regression because the rise is significant (105.0 > 101.0); the finding
        // carries its figures now, so the line says both.
        assert!(g.findings[0].flipped && g.findings[0].significant);
        assert!(g.findings[0]
            .line()
            .contains("met before and is missed now"));
        let g = judge(&runs[1..], RULE, 5);
        assert!(!g.regressed && g.baseline.is_empty());
        assert_eq!(g.newest.as_deref(), Some("b"));
        assert!(!judge(&[], RULE, 5).regressed);
    }

    #[test]
    fn a_rise_chance_can_explain_is_listed_not_failed() {
        // The two identical small runs: 283.1 ms, then 315.9 ms (+11.6 %), with the
        // wide intervals of a few dozen samples.
        let runs = vec![
            point_within("a", "k", 283.1, 2000.0, Some((250.0, 330.0))),
            point_within("b", "k", 315.9, 2000.0, Some((280.0, 350.0))),
        ];
        let g = judge(&runs, RULE, 5);
        assert!(!g.regressed && g.findings.is_empty(), "{g:?}");
        assert_eq!(g.unsettled.len(), 1);
        let line = g.unsettled[0].line();
        assert!(
            line.contains("(+11.6%); not significant, chance can explain it"),
            "{line}"
        );
        // Three times slower is told apart even so.
        let runs = vec![
            point_within("a", "k", 283.1, 2000.0, Some((250.0, 330.0))),
            point_within("b", "k", 849.3, 2000.0, Some((760.0, 990.0))),
        ];
        assert!(judge(&runs, RULE, 5).regressed);
    }

    #[test]
    fn runs_too_small_to_tell_are_said_so() {
        // The baseline has no upper bound (fewer than 36 samples), or was saved before intervals.
        let runs = vec![
            point_within("a", "k", 100.0, 2000.0, None),
            point("b", "k", 150.0, 2000.0),
        ];
        let g = judge(&runs, RULE, 5);
        assert!(!g.regressed);
        assert!(g.unsettled[0].line().contains("too few samples to tell"));
        // A flipped error rate has no statistics: it regresses as before.
        let mut a = point("a", "k", 100.0, 2000.0);
        let mut b = point("b", "k", 100.0, 2000.0);
        a.verdicts.insert("error_rate".into(), Status::Met);
        b.verdicts.insert("error_rate".into(), Status::Missed);
        let g = judge(&[a, b], RULE, 5);
        assert!(g.regressed && g.findings[0].percentile.is_none());
        assert!(g.findings[0]
            .line()
            .contains("error_rate: met in the previous"));
    }
}
