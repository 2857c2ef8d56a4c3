//! Arrival rates and plans: `5/s`, `120/m`, `7200/h`; a plan `"1/s,1m;10/s,5m;0/s,30s"` ramps the
//! rate linearly over each stage (from 0 before the first), as k6's ramping-arrival-rate does.
//! The cumulative count of arrivals Λ(t) and its inverse place every arrival in time.

use crate::units::parse_duration;
use serde::{Serialize, Serializer};
use std::time::Duration;

/// A rate in arrivals per second, `>= 0`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not a rate: write 5/s, 120/m or 7200/h");
    let (n, per) = text.trim().split_once('/').ok_or_else(bad)?;
    let seconds = match per.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("'{text}': a rate must be 0 or more"));
    }
    Ok(n / seconds)
}

/// A rate that must be above 0 (`--arrival-rate`).
pub fn parse_positive_rate(text: &str) -> Result<f64, String> {
    match parse_rate(text)? {
        r if r > 0.0 => Ok(r),
        _ => Err(format!("'{text}': the arrival rate must be above 0")),
    }
}

/// A stretch of the plan: the rate goes linearly from `from` to `to` (per second) over `for_`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Stage {
    pub from: f64,
    pub to: f64,
    #[serde(rename = "duration_s", serialize_with = "seconds")]
    #[schemars(with = "f64")]
    pub duration: Duration,
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Stage {
    /// Arrivals expected within the stage's first `t` seconds.
    fn count(&self, t: f64) -> f64 {
        let d = self.duration.as_secs_f64();
        self.from * t + (self.to - self.from) * t * t / (2.0 * d)
    }

    /// The time within the stage at which `n` arrivals are expected (n ≤ the stage's total).
    fn time_of(&self, n: f64) -> f64 {
        let d = self.duration.as_secs_f64();
        let a = (self.to - self.from) / (2.0 * d);
        if a.abs() < 1e-12 {
            return n / self.from;
        }
        // a t² + from t − n = 0, the root within [0, d].
        let disc = (self.from * self.from + 4.0 * a * n).max(0.0);
        ((-self.from + disc.sqrt()) / (2.0 * a)).clamp(0.0, d)
    }
}

/// The arrival rate over the run.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Shape {
    /// As written (`5/s`, or the plan).
    pub text: String,
    pub stages: Vec<Stage>,
}

impl Shape {
    /// A constant `rate` (per second) for `duration`.
    pub fn constant(text: &str, rate: f64, duration: Duration) -> Self {
        Self {
            text: text.to_string(),
            stages: vec![Stage {
                from: rate,
                to: rate,
                duration,
            }],
        }
    }

    /// A plan: stages `RATE,TIME` separated by `;`, each ramping from the previous rate.
    pub fn plan(text: &str) -> Result<Self, String> {
        let mut stages = Vec::new();
        let mut from = 0.0;
        for (i, part) in text.split(';').enumerate() {
            let bad = |why: String| format!("stage {} '{}': {why}", i + 1, part.trim());
            let (rate, time) = part
                .split_once(',')
                .ok_or_else(|| bad("write RATE,TIME such as 10/s,5m".into()))?;
            let to = parse_rate(rate).map_err(bad)?;
            let duration = parse_duration(time).map_err(bad)?;
            if duration.is_zero() {
                return Err(bad("a stage lasts more than 0".into()));
            }
            stages.push(Stage { from, to, duration });
            from = to;
        }
        if stages.iter().all(|s| s.from == 0.0 && s.to == 0.0) {
            return Err("every stage has a rate of 0: nobody would arrive".into());
        }
        Ok(Self {
            text: text.to_string(),
            stages,
        })
    }

    pub fn duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// The highest rate anywhere in the plan.
    pub fn peak(&self) -> f64 {
        self.stages
            .iter()
            .map(|s| s.from.max(s.to))
            .fold(0.0, f64::max)
    }

    /// Arrivals expected over the whole run.
    pub fn total(&self) -> f64 {
        self.stages
            .iter()
            .map(|s| s.count(s.duration.as_secs_f64()))
            .sum()
    }

    /// When (from the start) the expected count reaches `n`; None past the end.
    pub fn time_of(&self, n: f64) -> Option<Duration> {
        let mut before = 0.0;
        let mut offset = 0.0;
        for s in &self.stages {
            let d = s.duration.as_secs_f64();
            let here = s.count(d);
            if n <= before + here && here > 0.0 {
                return Some(Duration::from_secs_f64(offset + s.time_of(n - before)));
            }
            before += here;
            offset += d;
        }
        None
    }

    /// This shape with every rate multiplied by `f` (a worker's share of a distributed run).
    pub fn scaled(&self, f: f64) -> Self {
        Self {
            text: format!("{} × {f:.4}", self.text),
            stages: self
                .stages
                .iter()
                .map(|s| Stage {
                    from: s.from * f,
                    to: s.to * f,
                    ..*s
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_plans_parse_or_say_why() {
        assert_eq!(parse_rate("5/s").unwrap(), 5.0);
        assert_eq!(parse_rate("120/m").unwrap(), 2.0);
        assert_eq!(parse_rate("7200/h").unwrap(), 2.0);
        for bad in ["abc/s", "5", "5/d", "-1/s", "NaN/s", ""] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert!(parse_positive_rate("0/s").is_err());
        let p = Shape::plan("1/s,1m;10/s,5m;0/s,30s").unwrap();
        assert_eq!(p.duration(), Duration::from_secs(390));
        assert_eq!(p.peak(), 10.0);
        assert_eq!(p.stages[1].from, 1.0);
        assert!(
            (p.total() - (30.0 + 1650.0 + 150.0)).abs() < 1e-6,
            "{}",
            p.total()
        );
        for bad in ["", "10/s", "10/s,0", "-1/s,1m", "0/s,1m", "5/s,1m;x"] {
            assert!(Shape::plan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_inverse_places_arrivals_where_the_rate_puts_them() {
        let c = Shape::constant("2/s", 2.0, Duration::from_secs(10));
        assert_eq!(c.time_of(1.0), Some(Duration::from_millis(500)));
        assert_eq!(c.time_of(21.0), None);
        // A ramp 0 → 10/s over 10 s: n arrivals by t = t²/2, so the 50th at 10 s.
        let r = Shape::plan("10/s,10s").unwrap();
        let t = r.time_of(50.0).unwrap().as_secs_f64();
        assert!((t - 10.0).abs() < 1e-6, "{t}");
        let t = r.time_of(12.5).unwrap().as_secs_f64();
        assert!((t - 5.0).abs() < 1e-6, "{t}");
    }
}
