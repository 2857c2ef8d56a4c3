//! `summary.md`: the summary as Markdown tables, for pasting into a pull request.

use super::words;
use std::fmt::Write;
use voiceswarm_model::stats::Summary;

pub fn render(s: &Summary) -> String {
    let mut o = format!(
        "## voiceswarm {} — {}\n\n{}\n\n",
        s.kind.name(),
        s.label,
        if s.passed {
            "✓ **All performance targets MET**".to_string()
        } else {
            format!(
                "✗ **{} target(s) MISSED**: {}",
                s.missed.len(),
                s.missed.join(", ")
            )
        }
    );
    if !s.labels.is_empty() {
        let _ = writeln!(o, "Labels: `{}`\n", s.labels.text());
    }
    o.push_str("| Check | Observed | Target | Status |\n|---|---|---|---|\n");
    for v in &s.verdicts {
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} {} |",
            v.name,
            words::observed(v),
            words::target(v),
            words::mark(v),
            words::status(v)
        );
    }
    o.push_str("\n| Metric | Count | Mean | Median | P90 | P95 | P99 | Min | Max |\n");
    o.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for m in &s.metrics {
        let _ = writeln!(
            o,
            "| `{}` | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            m.name,
            m.count,
            m.mean_ms,
            m.median_ms,
            m.p90_ms,
            m.p95_ms,
            m.p99_ms,
            m.min_ms,
            m.max_ms
        );
    }
    let t = &s.totals;
    let _ = write!(
        o,
        "\nTimes in milliseconds; a judged percentile shows its 95% confidence interval in \
         brackets. {} requests, {} failed ({:.2}%), {:.1} requests/s over {:.1} s.",
        t.requests, t.failures, t.error_rate_percent, t.rps, t.duration_s
    );
    if let Some(r) = t.cache_hit_ratio {
        let _ = write!(o, " Cache hit ratio {:.1}%.", r * 100.0);
    }
    if s.interrupted {
        o.push_str(" The run was interrupted.");
    }
    o.push('\n');
    o
}
