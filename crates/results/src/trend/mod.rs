//! Results over time: load-run folders read into points (one per run, labelled with what it
//! tested), filtered, ordered by start time, and judged by the regression gate.

pub mod gate;
pub mod page;
pub mod scan;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::collections::BTreeMap;
use voiceswarm_model::plan::Labels;
use voiceswarm_model::stats::summary::Summary;
pub use voiceswarm_model::stats::Percentiles;
use voiceswarm_model::stats::{Check, ConfidenceInterval, Status};

/// A latency target as one run judged it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Judged {
    pub percentile: f64,
    pub limit_ms: f64,
    /// The judged percentile (None without samples).
    pub observed_ms: Option<f64>,
    /// Its confidence interval (None without samples, or in a summary from before intervals).
    pub interval: Option<ConfidenceInterval>,
    pub status: Status,
}

/// One run, as the trend sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// The run folder, as found.
    pub folder: String,
    pub started_at: String,
    #[serde(skip)]
    pub time: DateTime<FixedOffset>,
    /// The run's label: its profile, `custom` or `web`.
    pub profile: String,
    /// The system under test (`built-in` for the reference backend).
    pub host: String,
    pub labels: Labels,
    pub git_commit: Option<String>,
    /// Runs with the same key can be compared: profile, load, scenario file and host.
    #[serde(skip)]
    pub comparable: String,
    pub passed: bool,
    pub metrics: BTreeMap<String, Percentiles>,
    /// Latency targets, by metric.
    pub targets: BTreeMap<String, Judged>,
    /// Every verdict's status, by name.
    pub verdicts: BTreeMap<String, Status>,
    pub error_rate_percent: f64,
    pub error_rate_limit_percent: Option<f64>,
    pub cache_hit_ratio: Option<f64>,
    pub rps: f64,
}

impl Point {
    /// The point of a run's summary; the rest comes from its run.json.
    pub fn of(summary: &Summary, run: scan::RunFacts) -> Self {
        let metrics = summary
            .metrics
            .iter()
            .map(|m| (m.name.clone(), m.percentiles()))
            .collect();
        let mut targets = BTreeMap::new();
        let mut error_rate_limit_percent = None;
        for v in &summary.verdicts {
            match &v.check {
                Check::Latency {
                    percentile,
                    limit_ms,
                    observed_ms,
                    interval,
                    ..
                } => {
                    let j = Judged {
                        percentile: *percentile,
                        limit_ms: *limit_ms,
                        observed_ms: *observed_ms,
                        interval: interval.clone(),
                        status: v.status,
                    };
                    targets.insert(v.name.clone(), j);
                }
                Check::ErrorRate { limit_percent, .. } => {
                    error_rate_limit_percent = Some(*limit_percent)
                }
                _ => {}
            }
        }
        Point {
            folder: run.folder,
            started_at: run.started_at,
            time: run.time,
            profile: run.profile,
            host: run.host,
            labels: summary.labels.clone(),
            git_commit: run.git_commit,
            comparable: run.comparable,
            passed: summary.passed,
            metrics,
            targets,
            verdicts: summary
                .verdicts
                .iter()
                .map(|v| (v.name.clone(), v.status))
                .collect(),
            error_rate_percent: summary.totals.error_rate_percent,
            error_rate_limit_percent,
            cache_hit_ratio: summary.totals.cache_hit_ratio,
            rps: summary.totals.rps,
        }
    }

    /// How a chart names the point: its labels, else its start time.
    pub fn caption(&self) -> String {
        if self.labels.is_empty() {
            self.started_at
                .get(..16)
                .unwrap_or(&self.started_at)
                .replace('T', " ")
        } else {
            self.labels.text()
        }
    }
}

/// Which runs to show and judge.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filters {
    pub profile: Option<String>,
    pub labels: Labels,
    pub since: Option<String>,
    #[serde(skip)]
    pub since_time: Option<DateTime<FixedOffset>>,
    pub last: Option<usize>,
}

impl Filters {
    /// The points that pass, oldest first, the newest `last` of them.
    pub fn apply(&self, mut points: Vec<Point>) -> Vec<Point> {
        points.retain(|p| {
            self.profile.as_ref().is_none_or(|want| &p.profile == want)
                && p.labels.contain(&self.labels)
                && self.since_time.is_none_or(|t| p.time >= t)
        });
        points.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.folder.cmp(&b.folder)));
        if let Some(n) = self.last {
            let drop = points.len().saturating_sub(n);
            points.drain(..drop);
        }
        points
    }
}

/// `--since`: a date (`2026-11-01`, midnight UTC) or an RFC 3339 time.
pub fn parse_since(text: &str) -> Result<DateTime<FixedOffset>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d);
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().fixed_offset())
        .ok_or_else(|| {
            format!("'{text}': expected a date such as 2026-11-01 or a time such as 2026-11-01T09:00:00Z")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_date_or_a_time() {
        assert_eq!(
            parse_since("2026-11-01").unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-01T09:30:00+01:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-01T09:30:00+01:00"
        );
        assert!(parse_since("last week")
            .unwrap_err()
            .contains("expected a date"));
    }
}
