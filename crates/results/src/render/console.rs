//! The console PERFORMANCE SUMMARY, in the seed's format: per judged metric Count, Mean, Median,
//! P90 with its confidence interval and ✓/✗ against its target (and goal), P95, P99, Min, Max;
//! the other metrics one line each; then every other verdict, the totals, and the final verdict
//! line. One function per section.

use super::words;
use std::fmt::Write;
use voiceswarm_model::stats::summary::{MetricStats, Summary};
use voiceswarm_model::stats::{Check, Status, Verdict};

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    header(&mut o, s);
    let judged = |m: &&MetricStats| s.verdict(&m.name).is_some_and(|v| v.is_latency());
    for m in s.metrics.iter().filter(judged) {
        metric_block(&mut o, m, s.verdict(&m.name));
    }
    other_metrics(&mut o, s.metrics.iter().filter(|m| !judged(m)));
    unmeasured(&mut o, s);
    other_verdicts(&mut o, s);
    totals(&mut o, s);
    verdict_line(&mut o, s);
    o
}

fn header(o: &mut String, s: &Summary) {
    let measurements: u64 = s.metrics.iter().map(|m| m.count).sum();
    let _ = writeln!(o, "\nPERFORMANCE SUMMARY\n===================");
    let _ = writeln!(o, "Metrics measured: {}", s.metrics.len());
    let _ = writeln!(o, "Total Measurements: {measurements}");
    if !s.labels.is_empty() {
        let _ = writeln!(o, "Labels: {}", s.labels.text());
    }
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
}

/// `(Target: 100ms)`, `(Target: 500ms, Goal: 335ms — goal missed)`, as the seed writes them.
fn target_in_brackets(v: &Verdict) -> String {
    let Check::Latency {
        limit_ms, goal_ms, ..
    } = &v.check
    else {
        return String::new();
    };
    let goal = match goal_ms {
        Some(g) if v.goal_missed() => format!(", Goal: {g}ms — goal missed"),
        Some(g) => format!(", Goal: {g}ms"),
        None => String::new(),
    };
    format!("(Target: {limit_ms}ms{goal})")
}

fn metric_block(o: &mut String, m: &MetricStats, verdict: Option<&Verdict>) {
    let _ = writeln!(o, "\n{}:", m.name);
    let _ = writeln!(o, "  Count: {}", m.count);
    let _ = writeln!(o, "  Mean: {:.2}ms", m.mean_ms);
    let _ = writeln!(o, "  Median: {:.2}ms", m.median_ms);
    let judged = verdict.and_then(|v| match v.check {
        Check::Latency {
            percentile,
            observed_ms,
            ..
        } => Some((v, percentile, observed_ms.unwrap_or_default())),
        _ => None,
    });
    match judged {
        Some((v, 90.0, _)) => judged_line(o, 90.0, m.p90_ms, v),
        Some((v, p, observed)) => {
            let _ = writeln!(o, "  P90: {:.2}ms", m.p90_ms);
            judged_line(o, p, observed, v);
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

/// The judged percentile: `  P90: 312.12ms (298.00–330.10) ✓ (Target: 500ms)`, and when its
/// interval straddles the limit, how many samples would settle it.
fn judged_line(o: &mut String, p: f64, observed: f64, v: &Verdict) {
    let interval = words::interval(v)
        .map(|i| format!(" {i}"))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "  P{p}: {observed:.2}ms{interval} {} {}",
        words::mark(v),
        target_in_brackets(v)
    );
    if let Some(settle) = words::settle(v) {
        let _ = writeln!(o, "    inconclusive: {settle}");
    }
}

/// Metrics without a target, one line each.
/// The metrics without a target, one row each; the backend's own Server-Timing metrics
/// (`server:*`) folded into one line, as they are the system's view of the same requests.
fn other_metrics<'a>(o: &mut String, metrics: impl Iterator<Item = &'a MetricStats>) {
    let (server, metrics): (Vec<_>, Vec<_>) = metrics.partition(|m| m.name.starts_with("server:"));
    let mut header = false;
    for m in metrics {
        if !header {
            let _ = writeln!(
                o,
                "\nOther metrics (ms)          count      mean    median       P90       P99       max"
            );
            header = true;
        }
        let _ = writeln!(
            o,
            "  {:<24} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            m.name, m.count, m.mean_ms, m.median_ms, m.p90_ms, m.p99_ms, m.max_ms
        );
    }
    if !server.is_empty() {
        let total = match server.iter().find(|m| m.name == "server:total") {
            Some(t) => format!("; server:total P90 {:.2}", t.p90_ms),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "  server:* ({} metrics, the backend's Server-Timing{total}): in summary.md",
            server.len()
        );
    }
}

/// Latency targets without samples: skipped, no data, optional.
fn unmeasured(o: &mut String, s: &Summary) {
    let list: Vec<&Verdict> = s
        .verdicts
        .iter()
        .filter(|v| v.is_latency() && matches!(v.status, Status::NoData | Status::Skipped))
        .collect();
    if list.is_empty() {
        return;
    }
    let _ = writeln!(o);
    for v in list {
        let _ = writeln!(
            o,
            "{}: {} {} {}{}",
            v.name,
            words::mark(v),
            words::status(v).to_uppercase(),
            target_in_brackets(v),
            v.reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
}

/// Every verdict that is not a latency target: error rate, throughput, Goose's thresholds,
/// component errors.
fn other_verdicts(o: &mut String, s: &Summary) {
    let _ = writeln!(o);
    let t = &s.totals;
    for v in s.verdicts.iter().filter(|v| !v.is_latency()) {
        match &v.check {
            Check::ErrorRate { limit_percent, .. } => {
                let _ = writeln!(
                    o,
                    "Error rate: {:.2}% ({} of {} requests) {} (Target: ≤ {limit_percent}%)",
                    t.error_rate_percent,
                    t.failures,
                    t.requests,
                    words::mark(v),
                );
            }
            _ => {
                let _ = writeln!(o, "{}", words::line(v));
            }
        }
    }
}

fn totals(o: &mut String, s: &Summary) {
    let t = &s.totals;
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
    if let Some(r) = t.cache_hit_ratio {
        let _ = writeln!(
            o,
            "Cache hit ratio: {:.1}% ({} hits, {} misses)",
            r * 100.0,
            t.cache_hits,
            t.cache_misses
        );
    }
    if let Some(a) = &s.arrivals {
        let _ = writeln!(
            o,
            "Arrivals ({}, {}; {} when all {} users are busy): {} scheduled, {} started, {} dropped, {} queued; \
             in progress: mean {:.1}, max {}",
            a.model, a.rate, a.on_full, a.pool, a.scheduled, a.started, a.dropped, a.queued,
            a.mean_concurrency, a.max_concurrency
        );
        let _ = writeln!(
            o,
            "  arrival:journey times each caller from its arrival (queueing included): free of coordinated omission"
        );
    }
    if let Some(c) = &t.calls {
        let _ = writeln!(
            o,
            "Calls: {} started, {} completed, {} failed, {} cut short by the end of the run; {} stutters, {} barge-ins ignored",
            c.started, c.completed, c.failed, c.cut_short, c.stutters, c.barge_ins_ignored
        );
    }
    for n in &s.notes {
        let _ = writeln!(o, "Note: {n}");
    }
}

fn verdict_line(o: &mut String, s: &Summary) {
    let _ = writeln!(o);
    let names = |keep: fn(&Verdict) -> bool| -> Vec<&str> {
        s.verdicts
            .iter()
            .filter(|v| keep(v))
            .map(|v| v.name.as_str())
            .collect()
    };
    let skipped = names(|v| v.status == Status::Skipped);
    let goals = names(Verdict::goal_missed);
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
        let judged = s.verdicts.iter().filter(|v| v.judged()).count();
        let _ = writeln!(
            o,
            "✗ {} of {judged} targets MISSED: {}",
            s.missed.len(),
            s.missed.join(", ")
        );
    }
    if !goals.is_empty() {
        let _ = writeln!(o, "  goal missed (not a failure): {}", goals.join(", "));
    }
    if !s.inconclusive.is_empty() {
        let _ = writeln!(
            o,
            "  inconclusive, the 95% interval straddles the limit: {}",
            s.inconclusive.join(", ")
        );
    }
}
