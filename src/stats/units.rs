//! Parsing the human-written quantities of targets files and flags: times (`100ms`, `1.5s`,
//! `250us`), percentiles (`p90`, `p99.9`) and percentages (`1%`).

/// A time with its unit, in microseconds, above 0. Accepts `us`, `ms` and `s`.
pub fn parse_time_us(text: &str) -> Result<f64, String> {
    match parse_duration_us(text)? {
        v if v > 0.0 => Ok(v),
        _ => Err(format!("'{text}': a time must be greater than 0")),
    }
}

/// A time with its unit, in microseconds, 0 allowed (think times).
pub fn parse_duration_us(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1_000.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000_000.0)
    } else {
        return Err(format!(
            "'{text}' has no unit: write it as 250us, 100ms or 1.5s"
        ));
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a time: write it as 250us, 100ms or 1.5s"))?;
    if !v.is_finite() || v < 0.0 || v * mult > 86_400e6 {
        return Err(format!("'{text}': a time must be from 0 to 24h"));
    }
    Ok(v * mult)
}

/// A percentile such as `p90` or `p99.9`, as a number in (0, 100].
pub fn parse_percentile(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let n = t
        .strip_prefix('p')
        .or_else(|| t.strip_prefix('P'))
        .ok_or_else(|| {
            format!("'{text}' is not a percentile: write p50, p90, p95, p99 or p99.9")
        })?;
    let v: f64 = n
        .parse()
        .map_err(|_| format!("'{text}' is not a percentile: write p50, p90, p95, p99 or p99.9"))?;
    if !(v > 0.0 && v <= 100.0) {
        return Err(format!(
            "'{text}': a percentile must be above 0 and at most 100"
        ));
    }
    Ok(v)
}

/// A percentage such as `1%` or `0.5%`, as a number in [0, 100].
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let n = t
        .strip_suffix('%')
        .ok_or_else(|| format!("'{text}' is not a percentage: write it as 1% or 0.5%"))?;
    let v: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a percentage: write it as 1% or 0.5%"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("'{text}': a percentage must be from 0% to 100%"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn times() {
        assert_eq!(parse_time_us("100ms").unwrap(), 100_000.0);
        assert_eq!(parse_time_us("1.5s").unwrap(), 1_500_000.0);
        assert_eq!(parse_time_us("250us").unwrap(), 250.0);
        assert!(parse_time_us("100").unwrap_err().contains("no unit"));
        assert!(parse_time_us("100min").is_err());
        assert!(parse_time_us("-5ms").is_err());
        assert!(parse_time_us("NaNms").is_err());
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

    proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC*") {
            let _ = parse_time_us(&s);
            let _ = parse_percentile(&s);
            let _ = parse_percent(&s);
        }
    }
}
