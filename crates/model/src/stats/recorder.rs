//! The run's recorder: one HDR histogram (µs, 3 significant figures) per metric name and a few
//! counters, sharded so concurrent users rarely touch the same lock; merged into a [`Recording`].

use super::histogram::{new_histogram, MAX_US};
use super::recording::Recording;
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use std::time::Duration;

// FNV: metric names are short and chosen by voiceswarm, so a fast non-keyed hash is safe here
// and cheaper than SipHash on every request.
type FastMap<V> = fnv::FnvHashMap<Box<str>, V>;

#[derive(Default)]
pub struct Shard {
    histograms: FastMap<Histogram<u64>>,
    counters: FastMap<u64>,
}

impl Shard {
    /// Records one sample of `metric` (µs; values under 1 µs count as 1 µs).
    pub fn record_us(&mut self, metric: &str, micros: u64) {
        let value = micros.clamp(1, MAX_US);
        match self.histograms.get_mut(metric) {
            Some(h) => h.saturating_record(value),
            None => {
                let mut h = new_histogram();
                h.saturating_record(value);
                self.histograms.insert(metric.into(), h);
            }
        }
    }

    pub fn record(&mut self, metric: &str, took: Duration) {
        self.record_us(metric, took.as_micros().min(u64::MAX as u128) as u64);
    }

    /// Adds `n` to a counter (e.g. `cache:hit`).
    pub fn count(&mut self, counter: &str, n: u64) {
        match self.counters.get_mut(counter) {
            Some(c) => *c += n,
            None => {
                self.counters.insert(counter.into(), n);
            }
        }
    }
}

/// Thread-safe, sharded recorder. Each user records into the shard its index picks, so two
/// users contend only when they share a shard *and* record at the same instant.
pub struct Recorder {
    shards: Box<[Mutex<Shard>]>,
}

impl Recorder {
    /// A recorder with `shards` shards (at least 1); a few per core is plenty.
    pub fn new(shards: usize) -> Self {
        Self {
            shards: (0..shards.max(1)).map(|_| Mutex::default()).collect(),
        }
    }

    /// A recorder sized for this machine.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores * 2)
    }

    fn shard(&self, hint: usize) -> &Mutex<Shard> {
        &self.shards[hint % self.shards.len()]
    }

    /// Runs `f` with the shard `hint` picks locked: several records for one lock (the hot path
    /// records everything a response yields at once).
    pub fn with_shard<R>(&self, hint: usize, f: impl FnOnce(&mut Shard) -> R) -> R {
        f(&mut self.shard(hint).lock())
    }

    /// Records one sample of `metric`. Values under 1 µs count as 1 µs.
    pub fn record_us(&self, hint: usize, metric: &str, micros: u64) {
        self.with_shard(hint, |s| s.record_us(metric, micros));
    }

    pub fn record(&self, hint: usize, metric: &str, took: Duration) {
        self.with_shard(hint, |s| s.record(metric, took));
    }

    /// Adds `n` to a counter (e.g. `cache:hit`).
    pub fn count(&self, hint: usize, counter: &str, n: u64) {
        self.with_shard(hint, |s| s.count(counter, n));
    }

    /// Everything recorded so far, merged across shards.
    pub fn snapshot(&self) -> Recording {
        let mut out = Recording::default();
        for shard in self.shards.iter() {
            let shard = shard.lock();
            for (name, h) in &shard.histograms {
                out.add_histogram(name, h);
            }
            for (name, n) in &shard.counters {
                *out.counters.entry(name.to_string()).or_default() += n;
            }
        }
        out
    }

    /// Forgets everything (Goose resets its metrics when the ramp-up ends; so do we).
    pub fn reset(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.histograms.clear();
            shard.counters.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_merge_into_one_histogram() {
        let r = Recorder::new(4);
        for i in 0..1000u64 {
            r.record_us(i as usize, "stt:transcribe", 1000 + i);
        }
        r.count(0, "cache:hit", 2);
        r.count(3, "cache:hit", 3);
        let rec = r.snapshot();
        let h = &rec.histograms["stt:transcribe"];
        assert_eq!(h.len(), 1000);
        assert_eq!(h.min(), 1000);
        assert_eq!(rec.counters["cache:hit"], 5);
        r.reset();
        assert!(r.snapshot().histograms.is_empty());
    }

    #[test]
    fn huge_and_zero_values_are_clamped_not_lost() {
        let r = Recorder::new(1);
        r.record_us(0, "x:y", 0);
        r.record_us(0, "x:y", u64::MAX);
        let rec = r.snapshot();
        let h = &rec.histograms["x:y"];
        assert_eq!(h.len(), 2);
        assert!(h.max() >= MAX_US);
    }
}
