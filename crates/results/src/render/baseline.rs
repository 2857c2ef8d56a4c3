//! The baseline comparison as console text: the rule first, then each metric's P50/P90/P95/P99
//! before and after, regressions marked, metrics without a target labelled as not judged.

use std::fmt::Write;
use voiceswarm_model::stats::regression::{Delta, Rule};

pub fn render(deltas: &[Delta], rule: Rule) -> String {
    let mut s = String::from("BASELINE COMPARISON\n===================\n");
    let _ = writeln!(s, "Rule: {}.", rule.describe());
    for d in deltas {
        let tag = match (d.regression, d.target_flipped, d.judged_percentile) {
            (true, true, _) => "  ✗ REGRESSION (target now missed)".to_string(),
            (true, false, Some(p)) => format!(
                "  ✗ REGRESSION (P{p} {:+.1}%)",
                d.judged_change_percent.unwrap_or_default()
            ),
            (false, _, Some(p)) => format!("  ✓ judged at P{p}"),
            (_, _, None) => "  (no target: not judged)".to_string(),
        };
        let _ = writeln!(s, "\n{}{tag}", d.metric);
        for c in &d.percentiles {
            let _ = writeln!(
                s,
                "  P{:<3} {:>9.2}ms → {:>9.2}ms  ({:+.1}%)",
                c.percentile, c.baseline_ms, c.new_ms, c.change_percent
            );
        }
    }
    let regressions: Vec<&str> = deltas
        .iter()
        .filter(|d| d.regression)
        .map(|d| d.metric.as_str())
        .collect();
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
    s
}
