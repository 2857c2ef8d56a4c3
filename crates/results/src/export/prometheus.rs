//! A run's figures in Prometheus's exposition formats, through `prometheus-client`: a latency
//! histogram per voiceswarm metric (seconds, fixed buckets counted from the HDR histograms),
//! request, failure, error, call and arrival counters, the users, the cache hit ratio, each
//! target's limit, and — once the run is judged — one gauge per verdict.

use hdrhistogram::Histogram;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use std::fmt;
use voiceswarm_model::stats::histogram::ms;
use voiceswarm_model::stats::{Recording, Status, Verdict};
use voiceswarm_model::vocab::counter::{
    self, CACHE_HIT, CACHE_MISS, ERRORS_PREFIX, FAILURES, REQUESTS,
};

/// Bucket upper bounds, seconds: fine where voice turns live (100 ms – 1 s), coarse beyond.
pub const BUCKETS_S: [f64; 25] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0,
    1.25, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0, 30.0,
];

/// Every metric family voiceswarm exposes (full sample names are these plus `_bucket`,
/// `_sum`, `_count` for the histogram and `_total` for counters).
pub const FAMILIES: [&str; 11] = [
    "voiceswarm_latency_seconds",
    "voiceswarm_requests",
    "voiceswarm_failures",
    "voiceswarm_errors",
    "voiceswarm_calls",
    "voiceswarm_arrivals",
    "voiceswarm_users",
    "voiceswarm_cache_hit_ratio",
    "voiceswarm_target_limit_seconds",
    "voiceswarm_target_met",
    "voiceswarm_run_passed",
];

/// A latency target's limit, for the threshold line of a dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub metric: String,
    pub percentile: f64,
    pub limit_ms: f64,
}

/// What one exposition shows.
pub struct Figures<'a> {
    pub recording: &'a Recording,
    pub users: usize,
    pub limits: &'a [Limit],
    /// The run's verdicts, once it is judged.
    pub verdicts: Option<&'a [Verdict]>,
}

/// `h` (microseconds) as per-bucket counts over [`BUCKETS_S`] (the last bucket, +Inf, holds the
/// rest) and the sum in seconds.
pub fn buckets(h: &Histogram<u64>) -> (Vec<(f64, u64)>, f64) {
    let mut counts = vec![0u64; BUCKETS_S.len() + 1];
    for v in h.iter_recorded() {
        // The value a bucket of the HDR histogram stands for (its equivalent range's middle).
        let us = h.median_equivalent(v.value_iterated_to()) as f64;
        let i = BUCKETS_S.partition_point(|&b| b * 1e6 < us);
        counts[i] += v.count_at_value();
    }
    let bounds = BUCKETS_S.iter().copied().chain([f64::INFINITY]);
    let sum_s = h.mean() * h.len() as f64 / 1e6;
    (bounds.zip(counts).collect(), sum_s)
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    enc.encode_descriptor(name, help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&value, None)
}

/// A counter family with one label, a sample per (label value, count).
fn counters_by(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    values: &[(&str, u64)],
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (value, n) in values {
        m.encode_family(&[(label, *value)])?
            .encode_counter::<NoLabelSet, _, u64>(n, None)?;
    }
    Ok(())
}

fn histograms(enc: &mut DescriptorEncoder, rec: &Recording) -> fmt::Result {
    let mut m = enc.encode_descriptor(
        "voiceswarm_latency",
        "Time of each voiceswarm metric (stt:transcribe, pipeline:voice_turn, ...), as summary.json times it",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    for (name, h) in rec.histograms.iter().filter(|(_, h)| !h.is_empty()) {
        let (b, sum) = buckets(h);
        m.encode_family(&[("metric", name.as_str())])?
            .encode_histogram::<NoLabelSet>(sum, h.len(), &b, None)?;
    }
    Ok(())
}

fn totals(enc: &mut DescriptorEncoder, f: &Figures) -> fmt::Result {
    let rec = f.recording;
    counter(
        enc,
        "voiceswarm_requests",
        "Requests made",
        rec.counter(REQUESTS),
    )?;
    counter(
        enc,
        "voiceswarm_failures",
        "Requests that failed",
        rec.counter(FAILURES),
    )?;
    let errors: Vec<(&str, u64)> = rec
        .counters
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(ERRORS_PREFIX)?, *v)))
        .collect();
    counters_by(
        enc,
        "voiceswarm_errors",
        "Failed requests by kind",
        "kind",
        &errors,
    )?;
    let calls = [
        ("started", rec.counter(counter::CALLS_STARTED)),
        ("completed", rec.counter(counter::CALLS_COMPLETED)),
        ("failed", rec.counter(counter::CALLS_FAILED)),
        ("cut_short", rec.counter(counter::CALLS_CUT_SHORT)),
    ];
    if calls[0].1 > 0 {
        counters_by(
            enc,
            "voiceswarm_calls",
            "Phone calls by outcome",
            "outcome",
            &calls,
        )?;
    }
    let arrivals = [
        ("scheduled", rec.counter(counter::ARRIVALS_SCHEDULED)),
        ("started", rec.counter(counter::ARRIVALS_STARTED)),
        ("dropped", rec.counter(counter::ARRIVALS_DROPPED)),
        ("queued", rec.counter(counter::ARRIVALS_QUEUED)),
    ];
    if arrivals[0].1 > 0 {
        let help = "Open arrivals by outcome";
        counters_by(enc, "voiceswarm_arrivals", help, "outcome", &arrivals)?;
    }
    enc.encode_descriptor("voiceswarm_users", "Users started", None, MetricType::Gauge)?
        .encode_gauge(&(f.users as u64))?;
    let (hits, misses) = (rec.counter(CACHE_HIT), rec.counter(CACHE_MISS));
    if hits + misses > 0 {
        let help = "Share of LLM answers served from the cache (0 to 1)";
        enc.encode_descriptor("voiceswarm_cache_hit_ratio", help, None, MetricType::Gauge)?
            .encode_gauge(&(hits as f64 / (hits + misses) as f64))?;
    }
    Ok(())
}

fn targets(enc: &mut DescriptorEncoder, f: &Figures) -> fmt::Result {
    let mut m = enc.encode_descriptor(
        "voiceswarm_target_limit",
        "A latency target's limit on its percentile",
        Some(&Unit::Seconds),
        MetricType::Gauge,
    )?;
    for l in f.limits {
        let p = format!("{}", l.percentile);
        m.encode_family(&[("metric", l.metric.as_str()), ("percentile", p.as_str())])?
            .encode_gauge(&(l.limit_ms / 1000.0))?;
    }
    let Some(verdicts) = f.verdicts else {
        return Ok(());
    };
    let help = "1 when the run met the target, 0 when it missed it (judged targets only)";
    let mut m = enc.encode_descriptor("voiceswarm_target_met", help, None, MetricType::Gauge)?;
    for v in verdicts.iter().filter(|v| v.judged()) {
        let met = u64::from(v.status == Status::Met && !v.fails());
        m.encode_family(&[("target", v.name.as_str())])?
            .encode_gauge(&met)?;
    }
    let passed = u64::from(verdicts.iter().all(|v| !v.fails()));
    enc.encode_descriptor(
        "voiceswarm_run_passed",
        "1 when every target was met",
        None,
        MetricType::Gauge,
    )?
    .encode_gauge(&passed)
}

/// Writes every family of `f` to `enc`.
pub fn encode(mut enc: DescriptorEncoder, f: &Figures) -> fmt::Result {
    histograms(&mut enc, f.recording)?;
    totals(&mut enc, f)?;
    targets(&mut enc, f)
}

/// The limits of `targets`' latency targets.
pub fn limits(targets: &voiceswarm_model::stats::Targets) -> Vec<Limit> {
    targets
        .metrics
        .iter()
        .map(|t| Limit {
            metric: t.metric.clone(),
            percentile: t.percentile,
            limit_ms: ms(t.limit_us),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdr_counts_land_in_the_buckets_that_hold_them() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        h.record_n(4_000, 10).unwrap(); // 4 ms → le 0.005
        h.record_n(320_000, 5).unwrap(); // 320 ms → le 0.35
        h.record(60_000_000).unwrap(); // 60 s → +Inf
        let (b, sum) = buckets(&h);
        assert_eq!(b.len(), BUCKETS_S.len() + 1);
        assert_eq!(b[0], (0.005, 10));
        let le_035 = b.iter().find(|(le, _)| *le == 0.35).unwrap();
        assert_eq!(le_035.1, 5);
        assert_eq!(b.last().unwrap(), &(f64::INFINITY, 1));
        assert_eq!(b.iter().map(|(_, n)| n).sum::<u64>(), 16);
        assert!((sum - (0.04 + 1.6 + 60.0)).abs() < 0.1, "{sum}");
    }
}
