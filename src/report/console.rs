//! The console PERFORMANCE SUMMARY, in the seed's format: per metric Count, Mean, Median, P90 with
//! ✓/✗ against its target (and goal), P95, P99, Min, Max; then errors, throughput, cache, verdict.

use crate::stats::summary::{Status, Summary, Verdict};
use std::fmt::Write;

fn mark(v: &Verdict) -> &'static str {
    match v.status {
        Status::Met => "✓",
        Status::Missed => "✗",
        Status::NoData if v.optional => "–",
        Status::NoData => "✗",
        Status::Skipped => "–",
    }
}

fn target_text(v: &Verdict) -> String {
    let mut t = format!("Target: {}ms", v.limit_ms.unwrap_or_default());
    if let Some(g) = v.goal_ms {
        let _ = write!(t, ", Goal: {g}ms");
    }
    t
}

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\nPERFORMANCE SUMMARY");
    let _ = writeln!(o, "===================");
    let measurements: u64 = s.metrics.iter().map(|m| m.count).sum();
    let _ = writeln!(o, "Total Operations: {}", s.metrics.len());
    let _ = writeln!(o, "Total Measurements: {measurements}");
    if s.interrupted {
        let _ = writeln!(
            o,
            "Run INTERRUPTED after {:.1}s: the figures cover what ran",
            s.totals.duration_s
        );
    }
    if !s.coordinated_omission.is_empty() {
        let _ = writeln!(o, "Coordinated omission: {}", s.coordinated_omission);
    }
    for m in &s.metrics {
        let verdict = s
            .verdicts
            .iter()
            .find(|v| v.name == m.name && v.percentile.is_some());
        let _ = writeln!(o, "\n{}:", m.name);
        let _ = writeln!(o, "  Count: {}", m.count);
        let _ = writeln!(o, "  Mean: {:.2}ms", m.mean_ms);
        let _ = writeln!(o, "  Median: {:.2}ms", m.median_ms);
        match verdict {
            Some(v) if v.percentile == Some(90.0) => {
                let _ = writeln!(
                    o,
                    "  P90: {:.2}ms {} ({})",
                    m.p90_ms,
                    mark(v),
                    target_text(v)
                );
            }
            Some(v) => {
                let _ = writeln!(o, "  P90: {:.2}ms", m.p90_ms);
                let _ = writeln!(
                    o,
                    "  P{}: {:.2}ms {} ({})",
                    v.percentile.unwrap_or_default(),
                    v.observed_ms.unwrap_or_default(),
                    mark(v),
                    target_text(v)
                );
            }
            None => {
                let _ = writeln!(o, "  P90: {:.2}ms", m.p90_ms);
            }
        }
        let _ = writeln!(o, "  P95: {:.2}ms", m.p95_ms);
        let _ = writeln!(o, "  P99: {:.2}ms", m.p99_ms);
        let _ = writeln!(o, "  Min: {:.2}ms", m.min_ms);
        let _ = writeln!(o, "  Max: {:.2}ms", m.max_ms);
    }
    let unmeasured: Vec<&Verdict> = s
        .verdicts
        .iter()
        .filter(|v| matches!(v.status, Status::NoData | Status::Skipped) && v.percentile.is_some())
        .collect();
    if !unmeasured.is_empty() {
        let _ = writeln!(o);
        for v in unmeasured {
            let what = if v.status == Status::Skipped {
                "SKIPPED"
            } else if v.optional {
                "no data (optional)"
            } else {
                "NO DATA"
            };
            let _ = writeln!(
                o,
                "{}: {} {} ({}){}",
                v.name,
                mark(v),
                what,
                target_text(v),
                v.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
    }
    let t = &s.totals;
    let _ = writeln!(o);
    let er = s.verdicts.iter().find(|v| v.name == "error_rate");
    let _ = writeln!(
        o,
        "Error rate: {:.2}% ({} of {} requests) {}",
        t.error_rate_percent,
        t.failures,
        t.requests,
        er.map(|v| format!("{} (Target: < {}%)", mark(v), v.limit.unwrap_or_default()))
            .unwrap_or_default()
    );
    if !t.errors_by_kind.is_empty() {
        let kinds: Vec<String> = t
            .errors_by_kind
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        let _ = writeln!(o, "Errors by kind: {}", kinds.join(", "));
    }
    let _ = writeln!(
        o,
        "Throughput: {:.1} requests/s over {:.1}s",
        t.rps, t.duration_s
    );
    if let Some(v) = s.verdicts.iter().find(|v| v.name == "throughput") {
        let _ = writeln!(
            o,
            "  {} (Target: ≥ {} requests/s)",
            mark(v),
            v.limit.unwrap_or_default()
        );
    }
    if let Some(r) = t.cache_hit_ratio {
        let _ = writeln!(
            o,
            "Cache hit ratio: {:.1}% ({} hits, {} misses)",
            r * 100.0,
            t.cache_hits,
            t.cache_misses
        );
    }
    for n in &s.notes {
        let _ = writeln!(o, "Note: {n}");
    }
    let _ = writeln!(o);
    let judged = s
        .verdicts
        .iter()
        .filter(|v| v.status != Status::Skipped && !(v.status == Status::NoData && v.optional))
        .count();
    let skipped: Vec<&str> = s
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Skipped)
        .map(|v| v.name.as_str())
        .collect();
    if s.passed {
        let _ = write!(o, "✓ All performance targets MET");
        if !skipped.is_empty() {
            let _ = write!(
                o,
                " ({} not measured: {})",
                skipped.len(),
                skipped.join(", ")
            );
        }
        let _ = writeln!(o);
    } else {
        let _ = writeln!(
            o,
            "✗ {} of {} targets MISSED: {}",
            s.missed.len(),
            judged,
            s.missed.join(", ")
        );
    }
    o
}
