//! The baseline comparison as console text: the rule first, then each metric's P50/P90/P95/P99
//! before and after, regressions marked with their evidence, rises chance can explain and runs
//! too small to tell said as such, metrics without a target labelled as not judged.

use std::fmt::Write;
use voiceswarm_model::stats::regression::{Delta, Finding, Outcome, Rule};

/// The tag after a metric's name: what the rule made of its judged percentile.
fn tag(finding: Option<&Finding>) -> String {
    let Some(f) = finding else {
        return "  (no target: not judged)".to_string();
    };
    let p = f.percentile.unwrap_or_default();
    let change = f.change_percent.unwrap_or_default();
    match f.outcome {
        Outcome::Regressed if f.flipped => format!(
            "  ✗ REGRESSION: target now missed, P{p} {change:+.1}%, {}",
            f.evidence()
        ),
        Outcome::Regressed => format!("  ✗ REGRESSION: P{p} {change:+.1}%, {}", f.evidence()),
        Outcome::NotSignificant | Outcome::TooFewSamples => {
            format!("  ? not a regression: P{p} {change:+.1}%, {}", f.evidence())
        }
        Outcome::Within => format!("  ✓ judged at P{p}"),
    }
}

pub fn render(deltas: &[Delta], rule: Rule) -> String {
    let mut s = String::from("BASELINE COMPARISON\n===================\n");
    let _ = writeln!(s, "Rule: {}.", rule.describe());
    for d in deltas {
        let _ = writeln!(s, "\n{}{}", d.metric, tag(d.finding.as_ref()));
        for c in &d.percentiles {
            let _ = writeln!(
                s,
                "  P{:<3} {:>9.2}ms → {:>9.2}ms  ({:+.1}%)",
                c.percentile, c.baseline_ms, c.new_ms, c.change_percent
            );
        }
    }
    let names = |keep: fn(&Delta) -> bool| -> Vec<&str> {
        deltas
            .iter()
            .filter(|d| keep(d))
            .map(|d| d.metric.as_str())
            .collect()
    };
    let regressions = names(Delta::regressed);
    let unsettled = names(|d| {
        d.finding
            .as_ref()
            .is_some_and(|f| matches!(f.outcome, Outcome::NotSignificant | Outcome::TooFewSamples))
    });
    if regressions.is_empty() {
        let _ = writeln!(s, "\n✓ No regression");
    } else {
        let _ = writeln!(
            s,
            "\n✗ {} regression(s): {}",
            regressions.len(),
            regressions.join(", ")
        );
    }
    if !unsettled.is_empty() {
        let _ = writeln!(
            s,
            "? Slower by more than the threshold without the evidence for a regression: {}",
            unsettled.join(", ")
        );
    }
    s
}
