//! `summary.md`: the summary as Markdown tables, for pasting into a pull request, and every
//! judged metric's block in the seed's format (the console shows one table instead).

use super::{words, Judged, Renderer};
use std::fmt::Write;
use voiceswarm_model::stats::summary::MetricStats;
use voiceswarm_model::stats::{Check, Summary, Verdict};

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
    judged_blocks(&mut o, s);
    o
}

/// Every judged metric with samples as the seed's block (Count, Mean, Median, P90 ✓/✗ against
/// its target, P95, P99, Min, Max), in a text block.
fn judged_blocks(o: &mut String, s: &Summary) {
    let judged = |m: &&MetricStats| s.verdict(&m.name).is_some_and(|v| v.is_latency());
    let mut blocks = String::new();
    for m in s.metrics.iter().filter(judged) {
        metric_block(&mut blocks, m, s.verdict(&m.name));
    }
    if !blocks.is_empty() {
        let _ = write!(
            o,
            "\n### Judged metrics\n\n```text\n{}```\n",
            blocks.trim_start()
        );
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
        Some((v, 90.0, _)) => {
            let _ = writeln!(
                o,
                "  P90: {:.2}ms {} {}",
                m.p90_ms,
                words::mark(v),
                target_in_brackets(v)
            );
        }
        Some((v, p, observed)) => {
            let _ = writeln!(o, "  P90: {:.2}ms", m.p90_ms);
            let _ = writeln!(
                o,
                "  P{p}: {observed:.2}ms {} {}",
                words::mark(v),
                target_in_brackets(v)
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

/// `summary.md`.
pub struct Markdown;

impl Renderer<Judged<'_>> for Markdown {
    fn file_name(&self) -> Option<&str> {
        Some(voiceswarm_model::files::SUMMARY_MD)
    }

    fn render(&self, run: &Judged) -> std::io::Result<String> {
        Ok(render(run.summary))
    }
}
