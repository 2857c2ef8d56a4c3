//! Turns a recording into the run's summary: per-metric statistics, totals (error rate,
//! throughput, cache), every verdict (judged percentiles with their confidence intervals), and
//! the overall result and exit code.

use super::histogram::{ms, percentile_us};
use super::not_run::JourneysNotRun;
use super::recording::Recording;
use super::targets::Targets;
use super::verdict::{percent, Verdict};
use crate::labels::Labels;
use crate::vocab::counter::{self, CACHE_HIT, CACHE_MISS, ERRORS_PREFIX, FAILURES, REQUESTS};
use crate::vocab::metric;
use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of `summary.json`'s layout (schemas/summary.schema.json). 4: every judged percentile
/// carries its confidence interval; `inconclusive` lists the verdicts whose interval straddles
/// the limit; a latency target may be `inconclusive` (its `min_samples`).
pub const SCHEMA_VERSION: u32 = 4;

/// A generator whose call frames leave more than 20 ms late (P99) is not keeping real time:
/// one whole frame behind.
pub const PACING_LIMIT_US: f64 = 20_000.0;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricStats {
    #[schemars(regex(pattern = r"^[a-z0-9_]+:[a-z0-9_]+$"))]
    pub name: String,
    #[schemars(range(min = 1))]
    pub count: u64,
    pub mean_ms: f64,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

/// A metric's usual percentiles in milliseconds: the one type summary rows, the trend and
/// capacity steps show them with.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl MetricStats {
    /// The row's P50, P90, P95 and P99.
    pub fn percentiles(&self) -> Percentiles {
        Percentiles {
            p50_ms: self.median_ms,
            p90_ms: self.p90_ms,
            p95_ms: self.p95_ms,
            p99_ms: self.p99_ms,
        }
    }

    pub fn of(name: &str, h: &Histogram<u64>) -> Self {
        Self {
            name: name.to_string(),
            count: h.len(),
            mean_ms: ms(h.mean()),
            median_ms: ms(percentile_us(h, 50.0)),
            p90_ms: ms(percentile_us(h, 90.0)),
            p95_ms: ms(percentile_us(h, 95.0)),
            p99_ms: ms(percentile_us(h, 99.0)),
            min_ms: ms(h.min() as f64),
            max_ms: ms(h.max() as f64),
        }
    }
}

/// An arrival run's arrivals: how they were offered, what became of them, and how many were in
/// progress. Counts come from the recording (they add up across workers); concurrency from the
/// dispatcher.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    /// `poisson` or `constant`.
    pub model: String,
    /// The rate or plan, as written.
    pub rate: String,
    /// `drop` or `queue`.
    pub on_full: String,
    /// The users that carried arrivals.
    pub pool: usize,
    pub scheduled: u64,
    pub started: u64,
    pub dropped: u64,
    pub queued: u64,
    pub mean_concurrency: f64,
    pub max_concurrency: usize,
    /// Mean arrivals in progress, second by second.
    pub concurrency_over_time: Vec<f64>,
}

impl Arrivals {
    fn counted(mut self, rec: &Recording) -> Self {
        self.scheduled = rec.counter(counter::ARRIVALS_SCHEDULED);
        self.started = rec.counter(counter::ARRIVALS_STARTED);
        self.dropped = rec.counter(counter::ARRIVALS_DROPPED);
        self.queued = rec.counter(counter::ARRIVALS_QUEUED);
        self
    }

    /// Several workers' arrivals as one run's: their concurrency adds up.
    pub fn merged<'a>(all: impl IntoIterator<Item = &'a Arrivals>) -> Option<Arrivals> {
        let mut out: Option<Arrivals> = None;
        for a in all {
            let m = out.get_or_insert_with(|| Arrivals {
                model: a.model.clone(),
                rate: a.rate.clone(),
                on_full: a.on_full.clone(),
                ..Default::default()
            });
            m.pool += a.pool;
            m.mean_concurrency += a.mean_concurrency;
            m.max_concurrency += a.max_concurrency;
            if m.concurrency_over_time.len() < a.concurrency_over_time.len() {
                m.concurrency_over_time
                    .resize(a.concurrency_over_time.len(), 0.0);
            }
            for (i, c) in a.concurrency_over_time.iter().enumerate() {
                m.concurrency_over_time[i] += c;
            }
        }
        out
    }
}

/// What became of the calls of a run (real-time calls over WebSocket).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallTotals {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    /// Hung up because the run ended.
    pub cut_short: u64,
    /// Gaps of more than 100 ms in the bot's audio while it spoke.
    pub stutters: u64,
    /// Barge-ins the bot never answered.
    pub barge_ins_ignored: u64,
    /// Calls made again after a failed call (each after the call step's redial pause).
    #[serde(default)]
    pub redials: u64,
    /// WebRTC calls: the bot's RTP packets expected (first to highest sequence number of each
    /// call) and those that never arrived; their ratio is the calls' packet loss.
    #[serde(default)]
    pub rtp_packets_expected: u64,
    #[serde(default)]
    pub rtp_packets_lost: u64,
}

impl CallTotals {
    fn of(rec: &Recording) -> Option<Self> {
        let started = rec.counter(counter::CALLS_STARTED);
        (started > 0).then(|| CallTotals {
            started,
            completed: rec.counter(counter::CALLS_COMPLETED),
            failed: rec.counter(counter::CALLS_FAILED),
            cut_short: rec.counter(counter::CALLS_CUT_SHORT),
            stutters: rec.counter(counter::CALL_STUTTERS),
            barge_ins_ignored: rec.counter(counter::CALL_BARGE_IN_IGNORED),
            redials: rec.counter(counter::CALL_REDIALS),
            rtp_packets_expected: rec.counter(counter::CALL_RTP_EXPECTED),
            rtp_packets_lost: rec.counter(counter::CALL_RTP_LOST),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub requests: u64,
    pub failures: u64,
    #[schemars(range(min = 0.0, max = 100.0))]
    pub error_rate_percent: f64,
    pub rps: f64,
    pub duration_s: f64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_hit_ratio: Option<f64>,
    /// Present when the run made calls.
    pub calls: Option<CallTotals>,
}

impl Totals {
    fn of(rec: &Recording, duration_s: f64) -> Self {
        let requests = rec.counter(REQUESTS);
        let failures = rec.counter(FAILURES);
        let (hits, misses) = (rec.counter(CACHE_HIT), rec.counter(CACHE_MISS));
        Totals {
            requests,
            failures,
            error_rate_percent: percent(failures, requests),
            rps: if duration_s > 0.0 {
                requests as f64 / duration_s
            } else {
                0.0
            },
            duration_s,
            errors_by_kind: rec
                .counters
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(ERRORS_PREFIX)?.to_string(), *v)))
                .collect(),
            cache_hits: hits,
            cache_misses: misses,
            cache_hit_ratio: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
            calls: CallTotals::of(rec),
        }
    }
}

/// What made a summary.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummaryKind {
    /// A load test (`voiceswarm run`), one process or one worker.
    #[default]
    Run,
    /// The component latency probe.
    Probe,
    /// Several run folders merged by `voiceswarm report`.
    Merged,
    /// The step of a capacity search at its maximum sustainable load.
    Capacity,
}

impl SummaryKind {
    pub fn name(self) -> &'static str {
        match self {
            SummaryKind::Run => "run",
            SummaryKind::Probe => "probe",
            SummaryKind::Merged => "merged",
            SummaryKind::Capacity => "capacity",
        }
    }
}

/// The post-processed result of a run, a probe or merged runs (`summary.json`). Times are
/// milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "voiceswarm summary.json")]
pub struct Summary {
    #[schemars(range(min = 4, max = 4))]
    pub schema_version: u32,
    pub kind: SummaryKind,
    pub label: String,
    /// What the run tested (`--label`); empty in summaries from before labels.
    #[serde(default)]
    pub labels: Labels,
    pub started_at: String,
    pub completed: bool,
    pub interrupted: bool,
    /// Which numbers coordinated-omission mitigation corrected, when it was on.
    pub coordinated_omission: String,
    pub metrics: Vec<MetricStats>,
    pub totals: Totals,
    /// Present when callers arrived on a schedule (`--arrival-rate`, `--arrival-plan`).
    pub arrivals: Option<Arrivals>,
    pub verdicts: Vec<Verdict>,
    /// The journeys no user ran (fewer users than journeys): their targets are not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<JourneysNotRun>,
    pub passed: bool,
    /// The names of the verdicts that fail the run.
    pub missed: Vec<String>,
    /// The names of the verdicts whose confidence interval straddles the limit (judged on the
    /// point estimate, or `inconclusive` for too few samples).
    #[serde(default)]
    pub inconclusive: Vec<String>,
    pub exit_code: i32,
    /// Things worth showing beside the figures.
    pub notes: Vec<String>,
}

/// What the summary needs besides the recording and the targets.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub kind: SummaryKind,
    pub label: String,
    pub labels: Labels,
    pub started_at: String,
    pub duration_s: f64,
    pub completed: bool,
    pub interrupted: bool,
    pub coordinated_omission: String,
    /// Metrics deliberately not measured, with the reason.
    pub skipped: BTreeMap<String, String>,
    /// The journeys no user ran: their targets without data are not run, not failed.
    pub not_run: Option<JourneysNotRun>,
    /// The arrivals of an arrival run (counts are filled in from the recording).
    pub arrivals: Option<Arrivals>,
    /// Verdicts that are facts of the run rather than of the recording (Goose's thresholds,
    /// a component's errors), made by [`Verdict`]'s constructors; included as they are.
    pub facts: Vec<Verdict>,
    pub notes: Vec<String>,
}

/// Every verdict of a recording: one per target, the error rate, throughput when a minimum is
/// set, then the run's facts.
fn judge(rec: &Recording, targets: &Targets, totals: &Totals, info: &RunInfo) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = targets
        .metrics
        .iter()
        .map(|t| {
            let skipped = info.skipped.get(&t.metric).map(String::as_str);
            let v = Verdict::latency(t, rec.histograms.get(&t.metric), skipped);
            match &info.not_run {
                Some(n) if n.metrics.contains(&t.metric) => v.not_run(&n.reason()),
                _ => v,
            }
        })
        .collect();
    verdicts.push(Verdict::error_rate(
        totals.requests,
        totals.failures,
        targets.error_rate_percent,
    ));
    if let Some(min_rps) = targets.min_rps {
        verdicts.push(Verdict::throughput(totals.rps, min_rps));
    }
    if let Some(limit) = targets.calls_failed_percent {
        let (failed, started) = (counter::CALLS_FAILED, counter::CALLS_STARTED);
        let counted = (failed, rec.counter(failed));
        verdicts.push(Verdict::rate(
            "calls_failed",
            counted,
            (started, rec.counter(started)),
            limit,
        ));
    }
    if let Some(limit) = targets.packet_loss_percent {
        let (lost, expected) = (counter::CALL_RTP_LOST, counter::CALL_RTP_EXPECTED);
        let counted = (lost, rec.counter(lost));
        let of = (expected, rec.counter(expected));
        verdicts.push(Verdict::rate("packet_loss", counted, of, limit));
    }
    if info.arrivals.is_some() || targets.dropped_arrivals_percent.is_some() {
        let limit = targets.dropped_arrivals_percent.unwrap_or(0.0);
        let dropped = (
            counter::ARRIVALS_DROPPED,
            rec.counter(counter::ARRIVALS_DROPPED),
        );
        let of = (
            counter::ARRIVALS_SCHEDULED,
            rec.counter(counter::ARRIVALS_SCHEDULED),
        );
        verdicts.push(Verdict::rate("dropped_arrivals", dropped, of, limit));
    }
    for name in [metric::CALL_FRAME_LATENESS, metric::CALL_READ_LAG] {
        if let Some(h) = rec.histograms.get(name).filter(|h| !h.is_empty()) {
            verdicts.push(Verdict::pacing(name, h, PACING_LIMIT_US));
        }
    }
    verdicts.extend(info.facts.iter().cloned());
    verdicts
}

/// Computes every statistic and judges every target.
pub fn summarize(rec: &Recording, targets: &Targets, info: &RunInfo) -> Summary {
    let metrics: Vec<MetricStats> = rec
        .histograms
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(name, h)| MetricStats::of(name, h))
        .collect();
    let totals = Totals::of(rec, info.duration_s);
    let verdicts = judge(rec, targets, &totals, info);
    let missed: Vec<String> = verdicts
        .iter()
        .filter(|v| v.fails())
        .map(|v| v.name.clone())
        .collect();
    let passed = missed.is_empty();
    let inconclusive = verdicts
        .iter()
        .filter(|v| v.inconclusive())
        .map(|v| v.name.clone())
        .collect();
    Summary {
        schema_version: SCHEMA_VERSION,
        kind: info.kind,
        label: info.label.clone(),
        labels: info.labels.clone(),
        started_at: info.started_at.clone(),
        completed: info.completed,
        interrupted: info.interrupted,
        coordinated_omission: info.coordinated_omission.clone(),
        metrics,
        totals,
        arrivals: info.arrivals.clone().map(|a| a.counted(rec)),
        verdicts,
        not_run: info.not_run.clone(),
        passed,
        missed,
        inconclusive,
        exit_code: if passed { 0 } else { 1 },
        notes: info
            .notes
            .iter()
            .cloned()
            .chain(cut_short_note(rec))
            .collect(),
    }
}

/// Whether a summary's note is made from its recording (the calls cut short), so a merge of
/// runs makes it again from the merged recording rather than carry each run's.
pub fn note_from_recording(note: &str) -> bool {
    note.contains(CUT_SHORT)
}

const CUT_SHORT: &str = "calls were cut short by the end of the run";

/// When the end of the run hung up calls, how long a call takes here and the run time that
/// gives each caller three whole calls: a run shorter than a call measures almost nothing.
fn cut_short_note(rec: &Recording) -> Option<String> {
    let cut = rec.counter(counter::CALLS_CUT_SHORT);
    let started = rec.counter(counter::CALLS_STARTED);
    let completed = rec.counter(counter::CALLS_COMPLETED);
    if cut == 0 {
        return None;
    }
    let why = format!("{cut} of {started} {CUT_SHORT}");
    if completed == 0 {
        return Some(format!(
            "{why} and none completed: a call takes longer than the run; give it more time (-t)"
        ));
    }
    let call_s = rec.counter(counter::CALLS_COMPLETED_MS) as f64 / completed as f64 / 1000.0;
    // Callers start calls until the end, so the last call of each is cut short whatever the
    // time; three whole calls a caller keep that to a quarter or less.
    let suggested = ((3.0 * call_s) / 10.0).ceil() * 10.0;
    Some(format!(
        "{why}: a call here takes about {call_s:.0}s, and each caller's last call is hung up \
         at the end; -t {} gives each caller about three whole calls",
        crate::units::format_duration(std::time::Duration::from_secs(suggested as u64))
    ))
}

impl Summary {
    /// The verdict named `name`.
    pub fn verdict(&self, name: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calls-cut-short note says how long a call takes and a run time, and a merge knows to
    /// make it again from the merged recording.
    #[test]
    fn calls_cut_short_are_noted_with_a_run_time() {
        let r = crate::stats::Recorder::new(1);
        r.count(0, counter::CALLS_STARTED, 4);
        r.count(0, counter::CALLS_COMPLETED, 2);
        r.count(0, counter::CALLS_CUT_SHORT, 2);
        r.count(0, counter::CALLS_COMPLETED_MS, 32_000);
        let note = cut_short_note(&r.snapshot()).unwrap();
        assert!(note.starts_with("2 of 4 calls were cut short"), "{note}");
        assert!(
            note.contains("about 16s") && note.contains("-t 50s"),
            "{note}"
        );
        assert!(note_from_recording(&note));
        let none = crate::stats::Recorder::new(1);
        assert_eq!(cut_short_note(&none.snapshot()), None);
    }
    use crate::stats::histogram::new_histogram;
    use crate::stats::recorder::Recorder;
    use crate::stats::verdict::{Check, Status};

    fn targets() -> Targets {
        Targets::parse(
            r#"{"error_rate":"1%","metrics":{
                "stt:transcribe":{"limit":"100ms"},
                "cache:read":{"limit":"5ms","optional":true},
                "llm:complete":{"limit":"300ms"}}}"#,
            "t",
        )
        .unwrap()
    }

    fn info() -> RunInfo {
        RunInfo {
            kind: SummaryKind::Run,
            duration_s: 10.0,
            completed: true,
            ..Default::default()
        }
    }

    #[test]
    fn exactly_at_the_limit_is_met_and_above_is_missed() {
        let r = Recorder::new(1);
        for _ in 0..100 {
            r.record_us(0, "stt:transcribe", 100_000);
            r.record_us(0, "llm:complete", 301_000);
        }
        r.count(0, REQUESTS, 200);
        let s = summarize(&r.snapshot(), &targets(), &info());
        let v = |n: &str| s.verdicts.iter().find(|v| v.name == n).unwrap().clone();
        assert_eq!(v("stt:transcribe").status, Status::Met);
        assert_eq!(v("llm:complete").status, Status::Missed);
        assert_eq!(v("cache:read").status, Status::NoData);
        assert!(!v("cache:read").fails(), "optional no-data does not fail");
        assert_eq!(s.missed, vec!["llm:complete".to_string()]);
        assert_eq!(s.exit_code, 1);
        assert_eq!(s.totals.rps, 20.0);
    }

    /// Percentiles agree with an exact sort within the histogram's precision (0.1 %), on
    /// uniform and heavy-tailed (log-normal, Pareto) data.
    #[test]
    fn percentiles_match_an_exact_sort_within_precision() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let sets: Vec<Vec<u64>> = vec![
            (0..100_000)
                .map(|_| rng.random_range(1..2_000_000))
                .collect(),
            (0..100_000)
                .map(|_| {
                    let z: f64 = (-2.0 * rng.random::<f64>().ln()).sqrt()
                        * (std::f64::consts::TAU * rng.random::<f64>()).cos();
                    (80_000.0 * (0.6 * z).exp()) as u64 + 1
                })
                .collect(),
            (0..100_000)
                .map(|_| (10_000.0 / rng.random::<f64>().powf(1.0 / 1.2)).min(3e9) as u64)
                .collect(),
        ];
        for samples in sets {
            let mut h = new_histogram();
            for v in &samples {
                h.record(*v).unwrap();
            }
            let mut sorted = samples.clone();
            sorted.sort_unstable();
            for p in [50.0, 90.0, 95.0, 99.0, 99.9] {
                let exact =
                    sorted[((p / 100.0 * sorted.len() as f64).ceil() as usize).max(1) - 1] as f64;
                let got = percentile_us(&h, p);
                assert!(
                    (got - exact).abs() <= exact * 0.001 + 1.0,
                    "p{p}: {got} vs exact {exact}"
                );
            }
        }
    }

    #[test]
    fn merging_split_data_equals_the_whole() {
        let (a, b, whole) = (Recorder::new(1), Recorder::new(3), Recorder::new(2));
        for i in 0..10_000u64 {
            let v = 1 + (i * 7919) % 500_000;
            if i % 3 == 0 {
                a.record_us(0, "x:y", v)
            } else {
                b.record_us(i as usize, "x:y", v)
            }
            whole.record_us(i as usize, "x:y", v);
        }
        let mut merged = a.snapshot();
        merged.merge(&b.snapshot());
        assert_eq!(merged.histograms["x:y"], whole.snapshot().histograms["x:y"]);
    }

    #[test]
    fn one_sample_and_empty() {
        let r = Recorder::new(1);
        r.record_us(0, "stt:transcribe", 42_000);
        let s = summarize(&r.snapshot(), &targets(), &info());
        let m = &s.metrics[0];
        assert_eq!(
            (
                m.count,
                m.min_ms.round(),
                m.max_ms.round(),
                m.p99_ms.round()
            ),
            (1, 42.0, 42.0, 42.0)
        );
        let s = summarize(&Recorder::new(1).snapshot(), &targets(), &info());
        assert!(s.metrics.is_empty());
        assert!(
            s.missed.contains(&"error_rate".to_string()),
            "no requests at all is no data"
        );
    }

    #[test]
    fn no_data_fails_a_required_target() {
        let r = Recorder::new(1);
        r.record_us(0, "llm:complete", 1_000);
        r.count(0, REQUESTS, 1);
        let s = summarize(&r.snapshot(), &targets(), &info());
        assert!(s.missed.contains(&"stt:transcribe".to_string()));
        assert!(!s.passed);
    }

    #[test]
    fn error_rate_is_judged_and_counted_by_kind() {
        let r = Recorder::new(1);
        r.record_us(0, "stt:transcribe", 1_000);
        r.record_us(0, "llm:complete", 1_000);
        r.count(0, REQUESTS, 100);
        r.count(0, FAILURES, 2);
        r.count(0, "errors:status_503", 2);
        let s = summarize(&r.snapshot(), &targets(), &info());
        assert_eq!(s.totals.error_rate_percent, 2.0);
        assert_eq!(s.totals.errors_by_kind["status_503"], 2);
        assert_eq!(s.missed, vec!["error_rate".to_string()]);
    }

    #[test]
    fn packet_loss_is_judged_on_webrtc_calls_and_skipped_without_them() {
        let with_loss = |lost: u64, expected: u64| {
            let r = Recorder::new(1);
            r.record_us(0, "stt:transcribe", 1_000);
            r.record_us(0, "llm:complete", 1_000);
            r.count(0, REQUESTS, 2);
            r.count(0, counter::CALL_RTP_LOST, lost);
            r.count(0, counter::CALL_RTP_EXPECTED, expected);
            let mut t = targets();
            t.packet_loss_percent = Some(1.0);
            let s = summarize(&r.snapshot(), &t, &info());
            let v = s.verdicts.iter().find(|v| v.name == "packet_loss").cloned();
            (s, v.expect("a packet_loss verdict"))
        };
        let (s, v) = with_loss(30, 1_000);
        assert_eq!(
            (v.status, s.missed.clone()),
            (Status::Missed, vec!["packet_loss".to_string()])
        );
        let (s, v) = with_loss(5, 1_000);
        assert!(v.status == Status::Met && s.passed, "{v:?}");
        let (s, v) = with_loss(0, 0);
        assert!(v.status == Status::Skipped && s.passed, "{v:?}");
        let t = Targets::parse(
            r#"{"error_rate":"1%","packet_loss":"2%","metrics":{}}"#,
            "t",
        );
        assert_eq!(t.unwrap().packet_loss_percent, Some(2.0));
        let bad = Targets::parse(
            r#"{"error_rate":"1%","packet_loss":"lots","metrics":{}}"#,
            "t",
        );
        assert!(bad.unwrap_err().to_string().contains("packet_loss"));
    }

    #[test]
    fn facts_of_the_run_are_verdicts_like_any_other() {
        let r = Recorder::new(1);
        r.record_us(0, "stt:transcribe", 1_000);
        r.record_us(0, "llm:complete", 1_000);
        r.count(0, REQUESTS, 2);
        let mut i = info();
        i.facts
            .push(Verdict::goose_threshold("p90<1ms", "3ms", false));
        let s = summarize(&r.snapshot(), &targets(), &i);
        assert_eq!(s.missed, vec!["goose_threshold: p90<1ms".to_string()]);
        assert_eq!(s.exit_code, 1);
    }

    /// A run with `n` samples of `stt:transcribe` spread evenly over 60..120 ms (P90 about
    /// 114 ms), and 100 of `llm:complete` far within its limit.
    fn near_the_limit(n: u64, stt_target: &str) -> Summary {
        let r = Recorder::new(1);
        for i in 0..n {
            r.record_us(0, "stt:transcribe", 60_000 + i * 60_000 / n);
        }
        for _ in 0..100 {
            r.record_us(0, "llm:complete", 100_000);
        }
        r.count(0, REQUESTS, n + 100);
        let targets = Targets::parse(
            &format!(
                r#"{{"error_rate":"1%","metrics":{{"stt:transcribe":{stt_target},
                "llm:complete":{{"limit":"300ms"}}}}}}"#
            ),
            "t",
        )
        .unwrap();
        summarize(&r.snapshot(), &targets, &info())
    }

    #[test]
    fn every_judged_percentile_carries_its_interval() {
        let s = near_the_limit(1_000, r#"{"limit":"100ms"}"#);
        let Check::Latency {
            observed_ms: Some(observed),
            interval: Some(i),
            inconclusive,
            ..
        } = &s.verdict("stt:transcribe").unwrap().check
        else {
            panic!("no interval: {s:?}")
        };
        let (lo, hi) = (i.lower_ms.unwrap(), i.upper_ms.unwrap());
        assert!(
            lo < *observed && *observed < hi && hi - lo < 3.0,
            "{lo} {observed} {hi}"
        );
        assert_eq!((i.confidence, i.samples), (0.95, 1_000));
        // 114 ms against 100 ms with 1,000 samples: clearly missed.
        assert!(!inconclusive && s.inconclusive.is_empty());
        assert_eq!(s.missed, vec!["stt:transcribe".to_string()]);
    }

    #[test]
    fn a_straddling_interval_is_marked_and_judged_on_the_estimate() {
        // 20 samples, P90 at 111 ms against a 115 ms limit: met by the estimate, but P90 of 20
        // samples has no 95 % upper bound, so chance could have decided it.
        let s = near_the_limit(20, r#"{"limit":"115ms"}"#);
        let v = s.verdict("stt:transcribe").unwrap();
        assert_eq!(v.status, Status::Met);
        assert!(v.inconclusive() && !v.fails());
        assert_eq!(s.inconclusive, vec!["stt:transcribe".to_string()]);
        assert_eq!(s.exit_code, 0, "the point estimate decides the exit code");
        let Check::Latency {
            interval: Some(i),
            samples_to_settle: Some(m),
            ..
        } = &v.check
        else {
            panic!("{v:?}")
        };
        assert_eq!(i.upper_ms, None);
        assert!(*m >= 36, "{m}");
        // The same run against a target that asks for 200 samples: inconclusive, and failed.
        let s = near_the_limit(20, r#"{"limit":"115ms","min_samples":200}"#);
        let v = s.verdict("stt:transcribe").unwrap();
        assert_eq!(v.status, Status::Inconclusive);
        assert!(v.fails() && v.judged());
        assert!(v
            .reason
            .as_deref()
            .unwrap()
            .contains("fewer than the target's min_samples (200)"));
        assert_eq!(s.exit_code, 1);
        // Optional, it fails nothing; and enough samples settle it the usual way.
        let s = near_the_limit(20, r#"{"limit":"115ms","min_samples":200,"optional":true}"#);
        assert!(s.passed && !s.verdict("stt:transcribe").unwrap().judged());
        let s = near_the_limit(300, r#"{"limit":"115ms","min_samples":200}"#);
        assert_eq!(s.verdict("stt:transcribe").unwrap().status, Status::Met);
    }

    #[test]
    fn skipped_is_neither_met_nor_missed() {
        let r = Recorder::new(1);
        r.record_us(0, "stt:transcribe", 1_000);
        r.record_us(0, "llm:complete", 1_000);
        r.count(0, REQUESTS, 2);
        let mut i = info();
        i.skipped.insert("cache:read".into(), "no Redis".into());
        let s = summarize(&r.snapshot(), &targets(), &i);
        let v = s.verdicts.iter().find(|v| v.name == "cache:read").unwrap();
        assert_eq!(v.status, Status::Skipped);
        assert!(s.passed);
    }

    #[test]
    fn targets_of_journeys_no_user_ran_are_not_run_and_do_not_fail() {
        let r = Recorder::new(1);
        r.record_us(0, "llm:complete", 1_000);
        r.count(0, REQUESTS, 1);
        let rec = r.snapshot();
        let set = |m: &[&str]| m.iter().map(|s| s.to_string()).collect();
        let journeys = vec![
            ("chat".to_string(), set(&["llm:complete"])),
            ("voice".to_string(), set(&["stt:transcribe"])),
        ];
        let mut i = info();
        i.not_run = JourneysNotRun::find(&journeys, 1, &rec);
        let s = summarize(&rec, &targets(), &i);
        let v = s.verdict("stt:transcribe").unwrap();
        assert_eq!(v.status, Status::NotRun);
        assert!(v
            .reason
            .as_deref()
            .unwrap()
            .contains("1 user for 2 journeys"));
        assert!(s.passed, "{:?}", s.missed);
        assert_eq!(s.not_run.unwrap().names, ["voice"]);
    }
}
