//! Builds the W3C `Server-Timing` header a response carries: one entry per stage it ran.

use std::fmt::Write;
use std::time::{Duration, Instant};

/// The stages a request ran, in order, with their durations.
#[derive(Debug)]
pub struct ServerTiming {
    started: Instant,
    entries: String,
}

impl ServerTiming {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            entries: String::with_capacity(96),
        }
    }

    fn sep(&mut self) {
        if !self.entries.is_empty() {
            self.entries.push_str(", ");
        }
    }

    /// Records a stage's duration.
    pub fn stage(&mut self, name: &str, took: Duration) {
        self.sep();
        let _ = write!(
            self.entries,
            "{name};dur={:.1}",
            took.as_secs_f64() * 1000.0
        );
    }

    /// Records a stage's description without a duration (e.g. `cache;desc=hit`).
    pub fn describe(&mut self, name: &str, desc: &str) {
        self.sep();
        let _ = write!(self.entries, "{name};desc={desc}");
    }

    /// The header value, closed by `total`: the time so far plus `still_to_come` (a stream's
    /// planned remainder, since headers leave before the body).
    pub fn finish(mut self, still_to_come: Duration) -> String {
        let total = self.started.elapsed() + still_to_come;
        self.stage(voiceswarm_model::vocab::stage::TOTAL, total);
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_w3c_entries() {
        let mut t = ServerTiming::start();
        t.stage("stt", Duration::from_micros(81_200));
        t.describe("cache", "miss");
        let h = t.finish(Duration::from_millis(100));
        assert!(
            h.starts_with("stt;dur=81.2, cache;desc=miss, total;dur=10"),
            "{h}"
        );
    }
}
