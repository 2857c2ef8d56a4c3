//! The words every renderer uses for a verdict — its mark, status, target and what was observed —
//! so the console, Markdown, JUnit and HTML say the same thing the same way.

use voiceswarm_model::stats::{Check, Status, Verdict};

/// ✓ met, ✗ fails the run, – neither (skipped, or optional without data).
pub fn mark(v: &Verdict) -> &'static str {
    match v.status {
        Status::Met => "✓",
        _ if v.fails() => "✗",
        _ => "–",
    }
}

/// The status in words: `met`, `met, goal missed`, `missed`, `no data`, `no data (optional)`,
/// `skipped`, `not run`.
pub fn status(v: &Verdict) -> &'static str {
    match v.status {
        Status::Met if v.goal_missed() => "met, goal missed",
        Status::Met => "met",
        Status::Missed => "missed",
        Status::NoData if v.fails() => "no data",
        Status::NoData => "no data (optional)",
        Status::Skipped => "skipped",
        Status::NotRun => "not run",
    }
}

/// What the check asks for: `P90 < 100ms`, `< 1% errors`, `≥ 20 requests/s`, the Goose rule.
pub fn target(v: &Verdict) -> String {
    match &v.check {
        Check::Latency {
            percentile,
            limit_ms,
            goal_ms,
            ..
        } => match goal_ms {
            Some(g) => format!("P{percentile} < {limit_ms}ms, goal {g}ms"),
            None => format!("P{percentile} < {limit_ms}ms"),
        },
        Check::ErrorRate { limit_percent, .. } => format!("≤ {limit_percent}% errors"),
        Check::Throughput { min_rps, .. } => format!("≥ {min_rps} requests/s"),
        Check::GooseThreshold { rule, .. } => format!("Goose threshold {rule}"),
        Check::ComponentErrors { .. } => "no failed calls".into(),
        Check::Rate {
            counted,
            of,
            limit_percent,
            ..
        } => format!("≤ {limit_percent}% {counted} of {of}"),
        Check::Pacing { limit_ms, .. } => format!("frame lateness P99 ≤ {limit_ms}ms"),
    }
}

/// What was observed: `85.12ms`, `0.52%`, `12.3 requests/s`, `3 errors (first: …)`.
pub fn observed(v: &Verdict) -> String {
    match &v.check {
        Check::Latency { observed_ms, .. } => match observed_ms {
            Some(x) => format!("{x:.2}ms"),
            None => v.reason.clone().unwrap_or_else(|| "no samples".into()),
        },
        Check::ErrorRate {
            observed_percent, ..
        } => format!("{observed_percent:.2}%"),
        Check::Throughput { observed_rps, .. } => format!("{observed_rps:.1} requests/s"),
        Check::GooseThreshold { observed, .. } => observed.clone(),
        Check::ComponentErrors {
            errors,
            first_error,
        } => format!("{errors} error(s) (first: {first_error})"),
        Check::Rate {
            observed_percent, ..
        } => format!("{observed_percent:.2}%"),
        Check::Pacing { p99_ms, .. } => format!("{p99_ms:.2}ms"),
    }
}

/// The verdict in one line: `✗ error_rate: 3.20%, target ≤ 1% errors (missed)`.
pub fn line(v: &Verdict) -> String {
    format!(
        "{} {}: {}, target {} ({})",
        mark(v),
        v.name,
        observed(v),
        target(v),
        status(v)
    )
}
