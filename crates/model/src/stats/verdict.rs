//! Verdicts: the one place where a run is judged. Every kind of check — a latency target, the
//! error rate, throughput, a Goose `--threshold` rule, a component's errors — becomes a
//! [`Verdict`] here, is saved in summary.json, and is only rendered elsewhere. The live status
//! line, capacity's SLO checks and both regression gates use these verdicts too.
//!
//! # A latency target, and what an inconclusive one does to the exit code
//!
//! A latency target is judged on its percentile's point estimate, as it always was: at or
//! within the limit (in the same histogram bucket counts as at it) is met, above is missed.
//! Beside it every judged percentile carries its 95 % confidence interval ([`super::interval`]).
//! When the interval straddles the limit the verdict is marked *inconclusive* and says how many
//! samples would settle it, but the point estimate still decides met or missed — unless the
//! target sets `min_samples` and the run has fewer: then the status is
//! [`Status::Inconclusive`], which fails the run (exit code 1) unless the target is optional.
//!
//! Why: the exit code stays a deterministic function of the recording, and the same run gives
//! the same exit code it gave before intervals existed. Failing every straddling interval would
//! make a short CI run red whenever a healthy service sits near its limit; passing them would
//! let a real miss through whenever the run is short. The point estimate is the best single
//! guess either way, and the inconclusive mark tells the reader how far to trust it. A CI job
//! that wants evidence, not a best guess, sets `min_samples`.

use super::histogram::{ms, percentile_us, within_limit};
use super::interval::{
    decide, quantile_interval, samples_to_settle, ConfidenceInterval, Decision, CONFIDENCE,
};
use super::targets::Target;
use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a check came out.
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    Missed,
    /// No samples: fails the run unless the target is optional.
    NoData,
    /// Not measured on purpose (e.g. no Redis to probe); never claimed met.
    Skipped,
    /// No user ran the journeys that record it (fewer users than journeys): neither met nor
    /// failed, and said so.
    NotRun,
    /// Fewer samples than the target's `min_samples` and a confidence interval that straddles
    /// the limit: fails the run unless the target is optional.
    Inconclusive,
}

/// What was checked, with the figures of that kind of check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// A metric's percentile against a limit, and optionally a goal (reported, never failed).
    Latency {
        percentile: f64,
        limit_ms: f64,
        /// The percentile's point estimate, which decides met or missed.
        observed_ms: Option<f64>,
        /// The percentile's 95 % confidence interval (None without data, and for P100).
        #[serde(default)]
        interval: Option<ConfidenceInterval>,
        /// The interval straddles the limit: the point estimate decided, chance could have.
        #[serde(default)]
        inconclusive: bool,
        /// Inconclusive: about how many samples would settle it, at the observed spread (None
        /// when the percentile sits in the limit's histogram bucket: no count can).
        #[serde(default)]
        samples_to_settle: Option<u64>,
        /// The target's minimum of samples for judging a straddling interval on its estimate.
        #[serde(default)]
        min_samples: Option<u64>,
        goal_ms: Option<f64>,
        /// None without a goal or without data.
        goal_met: Option<bool>,
        /// Without samples it is "no data" without failing the run.
        optional: bool,
    },
    /// The share of failed requests against its limit.
    ErrorRate {
        limit_percent: f64,
        observed_percent: f64,
    },
    /// Requests per second against a minimum.
    Throughput { min_rps: f64, observed_rps: f64 },
    /// A Goose `--threshold` rule, judged by Goose on its own request tables.
    GooseThreshold { rule: String, observed: String },
    /// A component whose calls failed (the probe): any error fails it.
    ComponentErrors { errors: u64, first_error: String },
    /// One counter as a share of another (failed calls of all calls) against a limit.
    Rate {
        counted: String,
        of: String,
        limit_percent: f64,
        observed_percent: f64,
    },
    /// The generator's own real time: its frames' lateness P99 (or, for `generator:reading`,
    /// how late it read the bot's audio) against a limit. Missed, the figures are the
    /// generator's, not the system's.
    Pacing {
        /// The metric judged (`call:frame_lateness`, `call:read_lag`; empty in runs from before
        /// it was named: frame lateness).
        #[serde(default)]
        metric: String,
        p99_ms: f64,
        limit_ms: f64,
        /// The P99's 95 % confidence interval.
        #[serde(default)]
        interval: Option<ConfidenceInterval>,
    },
}

/// One judged check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Verdict {
    /// The metric (`stt:transcribe`), or `error_rate`, `throughput`, `calls_failed`,
    /// `packet_loss`, `dropped_arrivals`, `goose_threshold: <rule>`, `<component>:errors`.
    pub name: String,
    pub status: Status,
    /// Why there is no data, why it was skipped.
    pub reason: Option<String>,
    #[serde(flatten)]
    pub check: Check,
}

impl Verdict {
    /// Whether this verdict fails the run.
    pub fn fails(&self) -> bool {
        match self.status {
            Status::Missed => true,
            Status::NoData | Status::Inconclusive => {
                !matches!(self.check, Check::Latency { optional: true, .. })
            }
            Status::Met | Status::Skipped | Status::NotRun => false,
        }
    }

    /// Whether a goal was set, measured and missed (shown, never a failure).
    pub fn goal_missed(&self) -> bool {
        matches!(
            self.check,
            Check::Latency {
                goal_met: Some(false),
                ..
            }
        )
    }

    /// Whether the percentile's confidence interval straddles the limit (the status then came
    /// from the point estimate, or is [`Status::Inconclusive`]).
    pub fn inconclusive(&self) -> bool {
        self.status == Status::Inconclusive
            || matches!(
                self.check,
                Check::Latency {
                    inconclusive: true,
                    ..
                }
            )
    }

    /// Whether this is a latency target (the kind the per-metric tables show).
    pub fn is_latency(&self) -> bool {
        matches!(self.check, Check::Latency { .. })
    }

    /// A verdict that is neither met nor missed but not judged at all (skipped, not run, or
    /// optional without data): it is not counted among the judged targets.
    pub fn judged(&self) -> bool {
        let unjudged = matches!(self.status, Status::NoData | Status::Inconclusive);
        !(matches!(self.status, Status::Skipped | Status::NotRun) || (unjudged && !self.fails()))
    }

    /// A target without data whose journeys no user ran is not run, for `why`; any other
    /// verdict stays as it is.
    pub fn not_run(mut self, why: &str) -> Self {
        if self.status == Status::NoData && self.is_latency() {
            self.status = Status::NotRun;
            self.reason = Some(why.to_string());
        }
        self
    }

    /// A latency target judged on `hist` (None or empty: no samples); `skipped` says why the
    /// metric was deliberately not measured.
    pub fn latency(target: &Target, hist: Option<&Histogram<u64>>, skipped: Option<&str>) -> Self {
        let judged = hist
            .filter(|h| !h.is_empty())
            .map(|h| Judged::of(target, h));
        let (status, reason) = match (skipped, &judged) {
            (Some(why), _) => (Status::Skipped, Some(why.to_string())),
            (None, None) => (Status::NoData, Some("no samples recorded".to_string())),
            (None, Some(j)) => (j.status, j.reason.clone()),
        };
        let judged = judged.filter(|_| status != Status::Skipped);
        Verdict {
            name: target.metric.clone(),
            status,
            reason,
            check: Check::Latency {
                percentile: target.percentile,
                limit_ms: ms(target.limit_us),
                observed_ms: hist
                    .filter(|h| !h.is_empty())
                    .map(|h| ms(percentile_us(h, target.percentile))),
                interval: judged.as_ref().and_then(|j| j.interval.clone()),
                inconclusive: judged.as_ref().is_some_and(|j| j.inconclusive),
                samples_to_settle: judged.as_ref().and_then(|j| j.samples_to_settle),
                min_samples: target.min_samples,
                goal_ms: target.goal_us.map(ms),
                goal_met: judged.as_ref().and_then(|j| j.goal_met),
                optional: target.optional,
            },
        }
    }

    /// The error rate: `failures` of `requests` against `limit_percent`.
    pub fn error_rate(requests: u64, failures: u64, limit_percent: f64) -> Self {
        let observed_percent = percent(failures, requests);
        let (status, reason) = if requests == 0 {
            (Status::NoData, Some("no requests made".to_string()))
        } else if observed_percent <= limit_percent {
            (Status::Met, None)
        } else {
            (Status::Missed, None)
        };
        Verdict {
            name: "error_rate".into(),
            status,
            reason,
            check: Check::ErrorRate {
                limit_percent,
                observed_percent,
            },
        }
    }

    /// Throughput: at least `min_rps` requests per second.
    pub fn throughput(observed_rps: f64, min_rps: f64) -> Self {
        Verdict {
            name: "throughput".into(),
            status: if observed_rps >= min_rps {
                Status::Met
            } else {
                Status::Missed
            },
            reason: None,
            check: Check::Throughput {
                min_rps,
                observed_rps,
            },
        }
    }

    /// A Goose `--threshold` rule as Goose judged it.
    pub fn goose_threshold(rule: &str, observed: &str, passed: bool) -> Self {
        Verdict {
            name: format!("goose_threshold: {rule}"),
            status: if passed { Status::Met } else { Status::Missed },
            reason: None,
            check: Check::GooseThreshold {
                rule: rule.to_string(),
                observed: observed.to_string(),
            },
        }
    }

    /// A component's failed calls: any error fails it, whatever the error-rate target allows.
    pub fn component_errors(component: &str, errors: u64, first_error: &str) -> Self {
        Verdict {
            name: format!("{component}:errors"),
            status: if errors == 0 {
                Status::Met
            } else {
                Status::Missed
            },
            reason: None,
            check: Check::ComponentErrors {
                errors,
                first_error: first_error.to_string(),
            },
        }
    }

    /// `counted` as a share of `of` (two counters) against `limit_percent`; with none of
    /// `of` at all it is skipped (no calls made: not claimed met).
    pub fn rate(name: &str, counted: (&str, u64), of: (&str, u64), limit_percent: f64) -> Self {
        let observed_percent = percent(counted.1, of.1);
        let (status, reason) = if of.1 == 0 {
            (Status::Skipped, Some(format!("no {} counted", of.0)))
        } else if observed_percent <= limit_percent {
            (Status::Met, None)
        } else {
            (Status::Missed, None)
        };
        Verdict {
            name: name.to_string(),
            status,
            reason,
            check: Check::Rate {
                counted: counted.0.to_string(),
                of: of.0.to_string(),
                limit_percent,
                observed_percent,
            },
        }
    }

    /// The generator kept real time when the P99 of `metric` (its frames' lateness, or how late
    /// it read the bot's audio) is within `limit_us`: `generator:pacing`, `generator:reading`.
    pub fn pacing(metric: &str, h: &Histogram<u64>, limit_us: f64) -> Self {
        let p99 = percentile_us(h, 99.0);
        let interval = quantile_interval(h, 99.0, CONFIDENCE).map(|i| ConfidenceInterval::of(&i));
        let kept = within_limit(h, p99, limit_us);
        let (name, behind) = match metric {
            crate::vocab::metric::CALL_READ_LAG => (
                "generator:reading",
                "the generator read the bot's audio over a frame late: voice-to-voice may read a \
                 frame long",
            ),
            _ => (
                "generator:pacing",
                "the generator fell behind real time: these figures are not the bot's",
            ),
        };
        Verdict {
            name: name.into(),
            status: if kept { Status::Met } else { Status::Missed },
            reason: (!kept)
                .then(|| format!("{behind} (use more generator cores, or fewer calls per core)")),
            check: Check::Pacing {
                metric: metric.to_string(),
                p99_ms: ms(p99),
                limit_ms: ms(limit_us),
                interval,
            },
        }
    }

    /// Whether this verdict can be judged again from a recording and targets (the others —
    /// Goose's thresholds, component errors — are facts of the run, carried over as they are).
    pub fn from_recording(&self) -> bool {
        !matches!(
            self.check,
            Check::GooseThreshold { .. } | Check::ComponentErrors { .. }
        )
    }
}

/// A latency target's percentile judged on a histogram with samples.
struct Judged {
    status: Status,
    reason: Option<String>,
    interval: Option<ConfidenceInterval>,
    inconclusive: bool,
    samples_to_settle: Option<u64>,
    goal_met: Option<bool>,
}

impl Judged {
    fn of(target: &Target, h: &Histogram<u64>) -> Self {
        let (p, limit) = (target.percentile, target.limit_us);
        let observed = percentile_us(h, p);
        let interval = quantile_interval(h, p, CONFIDENCE);
        let inconclusive = interval
            .as_ref()
            .is_some_and(|i| decide(h, i, limit) == Decision::Inconclusive);
        let n = h.len();
        let short = target.min_samples.filter(|&m| inconclusive && n < m);
        let status = match short {
            Some(_) => Status::Inconclusive,
            None if within_limit(h, observed, limit) => Status::Met,
            None => Status::Missed,
        };
        let reason = short.map(|m| {
            format!(
                "{n} samples, fewer than the target's min_samples ({m}), and the {}% interval \
                 straddles the limit",
                100.0 * CONFIDENCE
            )
        });
        Judged {
            status,
            reason,
            interval: interval.as_ref().map(ConfidenceInterval::of),
            inconclusive,
            samples_to_settle: inconclusive
                .then(|| samples_to_settle(h, p, limit, CONFIDENCE))
                .flatten(),
            goal_met: target.goal_us.map(|g| within_limit(h, observed, g)),
        }
    }
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::histogram::new_histogram;

    fn target(limit_us: f64, goal_us: Option<f64>, optional: bool) -> Target {
        Target {
            metric: "a:b".into(),
            percentile: 90.0,
            limit_us,
            goal_us,
            optional,
            min_samples: None,
            description: None,
        }
    }

    #[test]
    fn the_generator_is_judged_on_its_sending_and_its_reading() {
        let mut h = new_histogram();
        for us in 1..=1000 {
            h.record(us * 30).unwrap(); // up to 30 ms: P99 29.7 ms
        }
        let sending = Verdict::pacing(crate::vocab::metric::CALL_FRAME_LATENESS, &h, 20_000.0);
        let reading = Verdict::pacing(crate::vocab::metric::CALL_READ_LAG, &h, 20_000.0);
        assert_eq!(sending.name, "generator:pacing");
        assert_eq!(reading.name, "generator:reading");
        assert!(sending.fails() && reading.fails());
        assert!(reading
            .reason
            .unwrap()
            .contains("read the bot's audio over a frame late"));
        let v = Verdict::pacing(crate::vocab::metric::CALL_READ_LAG, &h, 40_000.0);
        assert_eq!(v.status, Status::Met);
    }

    #[test]
    fn latency_met_missed_goal_and_no_data() {
        let mut h = new_histogram();
        for _ in 0..10 {
            h.record(100_000).unwrap();
        }
        let v = Verdict::latency(&target(100_000.0, Some(50_000.0), false), Some(&h), None);
        assert_eq!(v.status, Status::Met);
        assert!(v.goal_missed() && !v.fails());
        let v = Verdict::latency(&target(99_000.0, None, false), Some(&h), None);
        assert!(v.fails());
        let v = Verdict::latency(&target(1.0, None, true), None, None);
        assert_eq!(v.status, Status::NoData);
        assert!(!v.fails() && !v.judged());
        let v = Verdict::latency(&target(1.0, None, false), None, None);
        assert!(v.fails() && v.judged());
        let v = Verdict::latency(&target(1.0, None, false), None, Some("no Redis"));
        assert_eq!((v.status, v.fails()), (Status::Skipped, false));
    }

    #[test]
    fn only_a_target_without_data_can_be_not_run() {
        let v = Verdict::latency(&target(1.0, None, false), None, None).not_run("no user");
        assert_eq!(
            (v.status, v.fails(), v.judged()),
            (Status::NotRun, false, false)
        );
        assert_eq!(v.reason.as_deref(), Some("no user"));
        let mut h = new_histogram();
        h.record(10).unwrap();
        let v = Verdict::latency(&target(1.0, None, false), Some(&h), None).not_run("no user");
        assert_eq!(v.status, Status::Missed);
        let v = Verdict::error_rate(0, 0, 1.0).not_run("no user");
        assert_eq!(v.status, Status::NoData);
    }

    #[test]
    fn every_kind_round_trips_through_json() {
        let all = [
            Verdict::error_rate(100, 2, 1.0),
            Verdict::throughput(5.0, 10.0),
            Verdict::goose_threshold("p90<1ms", "12ms", false),
            Verdict::component_errors("stt", 3, "HTTP 500"),
        ];
        for v in all {
            assert!(v.fails());
            let json = serde_json::to_value(&v).unwrap();
            assert!(json["kind"].is_string() && json["name"].is_string());
            assert_eq!(serde_json::from_value::<Verdict>(json).unwrap(), v);
        }
    }
}
