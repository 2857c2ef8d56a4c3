//! The one grammar for human-written quantities, in flags, environment variables and files
//! alike: times (`250us`, `100ms`, `1.5s`, `2m`, `1h30m`, bare `0`), percentiles (`p90`) and
//! percentages (`1%`). Each parser answers with what would be accepted.

use std::time::Duration;

/// Longest time any field accepts: 30 days (a soak test may run for days).
const MAX_SECONDS: f64 = 30.0 * 86_400.0;

const TIME_HELP: &str = "write a number with a unit: 250us, 100ms, 1.5s, 2m, 1h30m (or 0)";

/// Units from largest to smallest; in a compound time (`1h30m`) they must come in this order.
const UNITS: [(&str, f64); 6] = [
    ("h", 3600.0),
    ("ms", 0.001),
    ("m", 60.0),
    ("us", 0.000_001),
    ("µs", 0.000_001),
    ("s", 1.0),
];

/// Rank of a unit for the largest-first rule (h, m, s, ms, us).
fn rank(unit: &str) -> u8 {
    match unit {
        "h" => 0,
        "m" => 1,
        "s" => 2,
        "ms" => 3,
        _ => 4,
    }
}

/// A time: one or more `<number><unit>` parts, largest unit first (`1h30m`, `2m30s`, `1.5s`,
/// `250us`), or a bare `0`. A bare number other than 0 is refused: `100` could be anything.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if t.is_empty() {
        return Err(format!("'{text}' is not a time: {TIME_HELP}"));
    }
    let mut rest = t;
    let mut seconds = 0.0;
    let mut last_rank = None;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("'{text}' has no unit: {TIME_HELP}"))?;
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("'{text}' is not a time: {TIME_HELP}"))?;
        rest = &rest[digits..];
        let (unit, scale) = UNITS
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .ok_or_else(|| format!("'{text}' is not a time: {TIME_HELP}"))?;
        if last_rank.is_some_and(|r| rank(unit) <= r) {
            return Err(format!(
                "'{text}' is not a time: units go largest first, each once ({TIME_HELP})"
            ));
        }
        last_rank = Some(rank(unit));
        seconds += number * scale;
        rest = &rest[unit.len()..];
    }
    if !(seconds.is_finite() && seconds <= MAX_SECONDS) {
        return Err(format!("'{text}': a time must be from 0 to 30 days"));
    }
    // Rounded to the nanosecond: 1.234 s is 1,234 ms, not 1,233.999… ms.
    Ok(Duration::from_nanos((seconds * 1e9).round() as u64))
}

/// A time above 0 (limits, step times).
pub fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err(format!("'{text}': the time must be greater than 0")),
        d => Ok(d),
    }
}

/// A time above 0, in microseconds (targets and SLOs judge histograms of µs).
pub fn parse_time_us(text: &str) -> Result<f64, String> {
    parse_positive_duration(text).map(|d| d.as_secs_f64() * 1e6)
}

/// A duration written back in the grammar: `2m`, `1h30m`, `1.5s`, `250ms`, `0`.
pub fn format_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us == 0 {
        return "0".into();
    }
    if us < 1_000_000 {
        return if us.is_multiple_of(1000) {
            format!("{}ms", us / 1000)
        } else {
            format!("{us}us")
        };
    }
    if !us.is_multiple_of(1_000_000) {
        return format!("{}s", us as f64 / 1e6);
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// A percentile such as `p90` or `p99.9`, as a number in (0, 100].
pub fn parse_percentile(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not a percentile: write p50, p90, p95, p99 or p99.9");
    let t = text.trim();
    let n = t
        .strip_prefix('p')
        .or_else(|| t.strip_prefix('P'))
        .ok_or_else(bad)?;
    let v: f64 = n.parse().map_err(|_| bad())?;
    if !(v > 0.0 && v <= 100.0) {
        return Err(format!(
            "'{text}': a percentile must be above 0 and at most 100"
        ));
    }
    Ok(v)
}

/// A percentage such as `1%` or `0.5%`, as a number in [0, 100].
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not a percentage: write it as 1% or 0.5%");
    let t = text.trim();
    let n = t.strip_suffix('%').ok_or_else(bad)?;
    let v: f64 = n.trim().parse().map_err(|_| bad())?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("'{text}': a percentage must be from 0% to 100%"));
    }
    Ok(v)
}

/// A number from `min` up (flags such as `--think-scale`), finite.
pub fn parse_number_at_least(text: &str, min: f64) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= min => Ok(v),
        _ => Err(format!("'{text}': expected a number of at least {min}")),
    }
}

/// A number above 0 (rates such as `--spawn-rate 0.5`), finite.
pub fn parse_number_above_zero(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "'{text}': expected a number above 0, such as 2 or 0.5"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: &str) -> f64 {
        parse_duration(t).unwrap().as_secs_f64()
    }

    #[test]
    fn one_grammar_for_every_time() {
        assert_eq!(secs("250us"), 0.000_25);
        assert_eq!(secs("100ms"), 0.1);
        assert_eq!(secs("1.5s"), 1.5);
        assert_eq!(secs("90s"), 90.0);
        assert_eq!(secs("2m"), 120.0);
        assert_eq!(secs("1h30m"), 5400.0);
        assert_eq!(secs("2m30s"), 150.0);
        assert_eq!(secs("0"), 0.0);
        assert_eq!(secs("0ms"), 0.0);
        assert!(parse_duration("100").unwrap_err().contains("no unit"));
        for bad in [
            "5mins", "2m3min", "30s1m", "1s1s", "-5ms", "NaNms", "", "ms", "1e3s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_positive_duration("0").is_err());
        assert_eq!(parse_time_us("100ms").unwrap(), 100_000.0);
    }

    #[test]
    fn formats_back_into_the_grammar() {
        for t in ["2m", "1h30m", "1.5s", "250ms", "250us", "0", "45s", "1h"] {
            assert_eq!(format_duration(parse_duration(t).unwrap()), t);
        }
    }

    #[test]
    fn percentiles_and_percents() {
        assert_eq!(parse_percentile("p99.9").unwrap(), 99.9);
        assert!(parse_percentile("90").is_err());
        assert!(parse_percentile("p0").is_err());
        assert!(parse_percentile("p101").is_err());
        assert_eq!(parse_percent("1%").unwrap(), 1.0);
        assert!(parse_percent("1").is_err());
        assert!(parse_percent("120%").is_err());
    }
}
