//! The words every renderer uses for a verdict — its mark, status, target and what was observed
//! (a judged percentile with its confidence interval) — so the console, Markdown, JUnit and HTML
//! say the same thing the same way.

use voiceswarm_model::stats::interval::bounds_text;
use voiceswarm_model::stats::{Check, Status, Verdict};
use voiceswarm_model::vocab::metric;

/// ✓ met, ✗ fails the run, – neither (skipped, or optional without data).
pub fn mark(v: &Verdict) -> &'static str {
    match v.status {
        Status::Met => "✓",
        _ if v.fails() => "✗",
        _ => "–",
    }
}

/// The status in words: `met`, `met, goal missed`, `missed`, `no data`, `no data (optional)`,
/// `skipped`, `not run`, `inconclusive: too few samples`; `(inconclusive)` after met or missed when the
/// interval straddles the limit.
pub fn status(v: &Verdict) -> &'static str {
    let unsure = v.inconclusive();
    match v.status {
        Status::Met if v.goal_missed() && unsure => "met (inconclusive), goal missed",
        Status::Met if v.goal_missed() => "met, goal missed",
        Status::Met if unsure => "met (inconclusive)",
        Status::Met => "met",
        Status::Missed if unsure => "missed (inconclusive)",
        Status::Missed => "missed",
        Status::NoData if v.fails() => "no data",
        Status::NoData => "no data (optional)",
        Status::Skipped => "skipped",
        Status::NotRun => "not run",
        Status::Inconclusive if v.fails() => "inconclusive: too few samples",
        Status::Inconclusive => "inconclusive (optional)",
    }
}

/// A judged percentile's confidence interval: `(298.00–330.10)`, `(298.00–?)` without an upper
/// bound; None for other checks, or without one.
pub fn interval(v: &Verdict) -> Option<String> {
    match &v.check {
        Check::Latency {
            interval: Some(i), ..
        }
        | Check::Pacing {
            interval: Some(i), ..
        } => Some(format!("({})", bounds_text(i))),
        _ => None,
    }
}

/// What would settle an inconclusive verdict: `412 samples; about 2,400 would settle it at the
/// observed spread`.
pub fn settle(v: &Verdict) -> Option<String> {
    if !v.inconclusive() {
        return None;
    }
    let Check::Latency {
        samples_to_settle,
        interval,
        ..
    } = &v.check
    else {
        return None;
    };
    let have = interval.as_ref().map_or(0, |i| i.samples);
    let counted = match have {
        1 => "1 sample".to_string(),
        n => format!("{} samples", thousands(n)),
    };
    Some(match samples_to_settle {
        Some(n) => format!(
            "{counted}; about {} would settle it at the observed spread",
            thousands(*n)
        ),
        None if have < 2 => format!("{counted}: too few to estimate how many would settle it"),
        None => format!("{counted}; the percentile sits at the limit, no run length settles it"),
    })
}

/// An inconclusive target's samples and what would settle it, short: `12 of ~36`, `1 sample`.
pub fn samples_and_needed(v: &Verdict) -> String {
    let Check::Latency {
        samples_to_settle,
        interval,
        ..
    } = &v.check
    else {
        return String::new();
    };
    let have = interval.as_ref().map_or(0, |i| i.samples);
    match samples_to_settle {
        Some(n) => format!("{} of ~{}", thousands(have), thousands(*n)),
        None if have == 1 => "1 sample".to_string(),
        None => format!("{} samples", thousands(have)),
    }
}

/// `2400` as `2,400`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
        Check::Pacing {
            metric, limit_ms, ..
        } => match metric.as_str() {
            metric::CALL_READ_LAG => format!("read lag P99 ≤ {limit_ms}ms"),
            _ => format!("frame lateness P99 ≤ {limit_ms}ms"),
        },
    }
}

/// What was observed: `85.12ms (84.10–86.30)`, `0.52%`, `12.3 requests/s`, `3 errors (first: …)`.
pub fn observed(v: &Verdict) -> String {
    let with_interval = |x: f64| match interval(v) {
        Some(i) => format!("{x:.2}ms {i}"),
        None => format!("{x:.2}ms"),
    };
    match &v.check {
        Check::Latency { observed_ms, .. } => match observed_ms {
            Some(x) => with_interval(*x),
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
        Check::Pacing { p99_ms, .. } => with_interval(*p99_ms),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(2_400), "2,400");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
