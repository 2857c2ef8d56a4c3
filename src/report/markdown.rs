//! `summary.md`: the summary as Markdown tables, for pasting into a pull request.

use crate::stats::summary::{Status, Summary};

pub fn render(s: &Summary) -> String {
    let mut o = format!(
        "## voiceswarm {} — {}\n\n{}\n\n",
        s.kind,
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
    o.push_str("| Target | Percentile | Observed | Limit | Goal | Status |\n");
    o.push_str("|---|---|---|---|---|---|\n");
    for v in &s.verdicts {
        let (obs, lim) = match v.limit_ms {
            Some(l) => (
                v.observed_ms.map_or("—".into(), |x| format!("{x:.2} ms")),
                format!("{l} ms"),
            ),
            None => (
                v.observed.map_or("—".into(), |x| format!("{x:.2}")),
                format!("{}", v.limit.unwrap_or_default()),
            ),
        };
        let status = match v.status {
            Status::Met => "✓ met",
            Status::Missed => "✗ missed",
            Status::NoData if v.optional => "– no data (optional)",
            Status::NoData => "✗ no data",
            Status::Skipped => "– skipped",
        };
        o.push_str(&format!(
            "| `{}` | {} | {obs} | {lim} | {} | {status} |\n",
            v.name,
            v.percentile.map_or("—".into(), |p| format!("P{p}")),
            v.goal_ms.map_or("—".into(), |g| format!("{g} ms")),
        ));
    }
    o.push_str("\n| Metric | Count | Mean | Median | P90 | P95 | P99 | Min | Max |\n");
    o.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for m in &s.metrics {
        o.push_str(&format!(
            "| `{}` | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            m.name,
            m.count,
            m.mean_ms,
            m.median_ms,
            m.p90_ms,
            m.p95_ms,
            m.p99_ms,
            m.min_ms,
            m.max_ms
        ));
    }
    let t = &s.totals;
    o.push_str(&format!(
        "\nTimes in milliseconds. {} requests, {} failed ({:.2}%), {:.1} requests/s over {:.1} s.",
        t.requests, t.failures, t.error_rate_percent, t.rps, t.duration_s
    ));
    if let Some(r) = t.cache_hit_ratio {
        o.push_str(&format!(" Cache hit ratio {:.1}%.", r * 100.0));
    }
    if s.interrupted {
        o.push_str(" The run was interrupted.");
    }
    o.push('\n');
    o
}
