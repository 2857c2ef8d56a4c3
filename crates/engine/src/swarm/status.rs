//! The live status line of a headless run: elapsed / planned, users, requests per second,
//! errors, and the worst judged percentile against its target so far, marked by the same
//! verdict the final summary makes ([`Verdict::latency`]). Redrawn in place each second on a
//! terminal; printed every 10 s when the output is a log (CI).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::stats::histogram::{ms, percentile_us};
use voiceswarm_model::stats::{Recorder, Recording, Status as Judged, Targets, Verdict};
use voiceswarm_model::units::format_duration;
use voiceswarm_model::vocab::counter::{CALLS_STARTED, FAILURES, REQUESTS};

/// What the line reads from.
pub struct Status {
    pub recorder: Arc<Recorder>,
    pub targets: Targets,
    /// The run time, when one is planned.
    pub planned: Option<Duration>,
    /// How many users have made a request (the highest user index seen, plus one).
    pub users_seen: Arc<AtomicUsize>,
}

/// The worst latency target so far, as the final summary would judge it now: (metric,
/// percentile, observed ms, limit ms, mark).
fn worst(rec: &Recording, targets: &Targets) -> Option<(String, f64, f64, f64, &'static str)> {
    let (t, observed, _) = targets
        .metrics
        .iter()
        .filter_map(|t| {
            let h = rec.histograms.get(&t.metric).filter(|h| !h.is_empty())?;
            let observed = percentile_us(h, t.percentile);
            Some((t, observed, observed / t.limit_us))
        })
        .max_by(|a, b| a.2.total_cmp(&b.2))?;
    let verdict = Verdict::latency(t, rec.histograms.get(&t.metric), None);
    let mark = match verdict.status {
        Judged::Met => "✓",
        _ if verdict.fails() => "✗",
        _ => "–",
    };
    let limit = ms(t.limit_us);
    Some((t.metric.clone(), t.percentile, ms(observed), limit, mark))
}

impl Status {
    /// One line: `42s of 2m  users 10  18.3 req/s  errors 0 (0.00%)  worst P90 … ✓`; a run
    /// that makes only calls counts calls: `0.4 calls/s  calls failed 0 (0.00%)`.
    pub fn line(&self, elapsed: Duration, rps: f64, rec: &Recording) -> String {
        let (requests, failures) = (rec.counter(REQUESTS), rec.counter(FAILURES));
        let only_calls = requests > 0 && rec.counter(CALLS_STARTED) == requests;
        let (per_second, failed) = match only_calls {
            true => ("calls/s", "calls failed"),
            false => ("req/s", "errors"),
        };
        let whole = |d: Duration| format_duration(Duration::from_secs(d.as_secs()));
        let time = match self.planned {
            Some(p) => format!("{} of {}", whole(elapsed), whole(p)),
            None => whole(elapsed),
        };
        let rate = if requests == 0 {
            0.0
        } else {
            failures as f64 * 100.0 / requests as f64
        };
        let mut line = format!(
            "{time}  users {}  {rps:.1} {per_second}  {failed} {failures} ({rate:.2}%)",
            self.users_seen.load(Ordering::Relaxed)
        );
        if let Some((metric, p, observed, limit, mark)) = worst(rec, &self.targets) {
            line.push_str(&format!(
                "  worst P{p} {metric} {observed:.0}ms / {limit}ms {mark}"
            ));
        }
        line
    }

    /// Prints the line until dropped: each second in place on a terminal, else every 10 s.
    pub fn spawn(self) -> StatusTask {
        let terminal = std::io::stdout().is_terminal();
        let every = Duration::from_secs(if terminal { 1 } else { 10 });
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut last = (started, 0u64);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                let rec = self.recorder.snapshot();
                let now = Instant::now();
                let requests = rec.counter(REQUESTS);
                let secs = now.duration_since(last.0).as_secs_f64().max(1e-9);
                let rps = requests.saturating_sub(last.1) as f64 / secs;
                last = (now, requests);
                let line = self.line(now.duration_since(started), rps, &rec);
                let mut out = std::io::stdout().lock();
                let _ = if terminal {
                    write!(out, "\r\x1b[2K{line}")
                } else {
                    writeln!(out, "{line}")
                };
                let _ = out.flush();
            }
        });
        StatusTask { task, terminal }
    }
}

/// The running status line; stopping it clears the line on a terminal.
pub struct StatusTask {
    task: tokio::task::JoinHandle<()>,
    terminal: bool,
}

impl StatusTask {
    pub fn stop(self) {
        self.task.abort();
        if self.terminal {
            print!("\r\x1b[2K");
            let _ = std::io::stdout().flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_worst_target() {
        let r = Arc::new(Recorder::new(1));
        for _ in 0..10 {
            r.record_us(0, "stt:transcribe", 50_000);
            r.record_us(0, "llm:complete", 600_000);
        }
        r.count(0, REQUESTS, 20);
        r.count(0, FAILURES, 1);
        let targets = Targets::parse(
            r#"{"error_rate":"1%","metrics":{"stt:transcribe":{"limit":"100ms"},"llm:complete":{"limit":"300ms"}}}"#,
            "t",
        )
        .unwrap();
        let s = Status {
            recorder: r.clone(),
            targets,
            planned: Some(Duration::from_secs(120)),
            users_seen: Arc::new(AtomicUsize::new(10)),
        };
        let line = s.line(Duration::from_secs(42), 18.25, &r.snapshot());
        assert_eq!(
            line,
            "42s of 2m  users 10  18.2 req/s  errors 1 (5.00%)  worst P90 llm:complete 600ms / 300ms ✗"
        );
    }

    #[test]
    fn a_run_of_calls_counts_calls() {
        let r = Arc::new(Recorder::new(1));
        r.count(0, REQUESTS, 8);
        r.count(0, CALLS_STARTED, 8);
        r.count(0, FAILURES, 1);
        let s = Status {
            recorder: r.clone(),
            targets: Targets::parse(r#"{"error_rate":"1%","metrics":{}}"#, "t").unwrap(),
            planned: Some(Duration::from_secs(20)),
            users_seen: Arc::new(AtomicUsize::new(3)),
        };
        let line = s.line(Duration::from_secs(10), 0.4, &r.snapshot());
        assert_eq!(
            line,
            "10s of 20s  users 3  0.4 calls/s  calls failed 1 (12.50%)"
        );
    }

    /// The line used to compare rounded milliseconds itself: every sample exactly at a 100 ms
    /// limit reads 100.03 ms (the top of its histogram bucket), so the line said ✗ while the
    /// final verdict — a value in the limit's bucket is at the limit — says met. It now asks
    /// the verdict.
    #[test]
    fn the_mark_is_the_final_verdicts() {
        let r = Arc::new(Recorder::new(1));
        for _ in 0..50 {
            r.record_us(0, "stt:transcribe", 100_000);
        }
        let targets = Targets::parse(
            r#"{"error_rate":"1%","metrics":{"stt:transcribe":{"limit":"100ms"}}}"#,
            "t",
        )
        .unwrap();
        let rec = r.snapshot();
        let h = rec.histograms.get("stt:transcribe");
        assert!(ms(percentile_us(h.unwrap(), 90.0)) > 100.0);
        let final_verdict = Verdict::latency(&targets.metrics[0], h, None);
        assert_eq!(final_verdict.status, Judged::Met);
        let s = Status {
            recorder: r.clone(),
            targets,
            planned: None,
            users_seen: Arc::new(AtomicUsize::new(1)),
        };
        let line = s.line(Duration::from_secs(1), 1.0, &rec);
        assert!(line.ends_with("100ms / 100ms ✓"), "{line}");
    }
}
