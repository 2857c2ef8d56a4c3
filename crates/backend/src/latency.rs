//! The backend's latency model: per component a log-normal service time from a median and a P90,
//! drawn from a seeded, lock-free generator so runs are reproducible.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// z-score of the 90th percentile of a standard normal distribution.
const Z90: f64 = 1.281_551_565_545;

/// One component's service time: log-normal with the given median and P90 (milliseconds).
/// `p90_ms == median_ms` makes it fixed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dist {
    pub median_ms: f64,
    pub p90_ms: f64,
}

impl Dist {
    pub const fn new(median_ms: f64, p90_ms: f64) -> Self {
        Self { median_ms, p90_ms }
    }

    /// The sample for a standard-normal draw `z`.
    pub fn at(&self, z: f64) -> f64 {
        if self.median_ms <= 0.0 {
            return 0.0;
        }
        let sigma = (self.p90_ms / self.median_ms).ln().max(0.0) / Z90;
        self.median_ms * (sigma * z).exp()
    }

    /// Checks the two figures make a distribution.
    pub fn validate(&self, name: &str) -> Result<(), String> {
        if !(self.median_ms.is_finite() && self.median_ms >= 0.0) {
            return Err(format!("{name}: median_ms must be a number >= 0"));
        }
        if !(self.p90_ms.is_finite() && self.p90_ms >= self.median_ms) {
            return Err(format!("{name}: p90_ms must be a number >= median_ms"));
        }
        Ok(())
    }
}

/// Service times of every component. The defaults are a healthy system: every component well
/// inside the default targets and a voice turn (STT + LLM + first TTS audio) ≈ 240 ms median,
/// under its 335 ms goal with room; `--latency-scale 1.5` makes it miss the goal, 2 the LLM's
/// limit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyModel {
    pub stt: Dist,
    pub llm: Dist,
    pub tts: Dist,
    pub company: Dist,
    pub search: Dist,
    /// A cache hit's cost (in-process or Redis round trip is added on top of this).
    pub cache: Dist,
    /// Fraction of the TTS time after which the first audio chunk is sent (streaming TTS).
    pub tts_first_chunk_fraction: f64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        Self {
            stt: Dist::new(60.0, 68.0),
            llm: Dist::new(150.0, 172.0),
            tts: Dist::new(60.0, 70.0),
            company: Dist::new(25.0, 34.0),
            search: Dist::new(45.0, 64.0),
            cache: Dist::new(1.0, 1.5),
            tts_first_chunk_fraction: 0.5,
        }
    }
}

impl LatencyModel {
    /// A model where every component takes exactly `ms` (for tests with known ground truth).
    pub fn fixed(ms: f64) -> Self {
        let d = Dist::new(ms, ms);
        Self {
            stt: d,
            llm: d,
            tts: d,
            company: d,
            search: d,
            cache: Dist::new(0.0, 0.0),
            tts_first_chunk_fraction: 0.5,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, d) in [
            ("stt", &self.stt),
            ("llm", &self.llm),
            ("tts", &self.tts),
            ("company", &self.company),
            ("search", &self.search),
            ("cache", &self.cache),
        ] {
            d.validate(name)?;
        }
        if !(0.0..=1.0).contains(&self.tts_first_chunk_fraction) {
            return Err("tts_first_chunk_fraction must be between 0 and 1".into());
        }
        Ok(())
    }
}

/// A seeded stream of standard-normal draws, safe to share between tasks without a lock:
/// draw `n` is a pure function of (seed, n), so a run's draws are reproducible in aggregate.
#[derive(Debug)]
pub struct Sampler {
    seed: u64,
    counter: AtomicU64,
    scale: f64,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Sampler {
    /// `scale` multiplies every sampled time (0 turns all sleeps off).
    pub fn new(seed: u64, scale: f64) -> Self {
        Self {
            seed,
            counter: AtomicU64::new(0),
            scale,
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// A uniform draw in (0, 1).
    pub fn uniform(&self) -> f64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let bits = splitmix64(self.seed ^ splitmix64(n)) >> 11;
        (bits as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard-normal draw (Box–Muller).
    pub fn normal(&self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A service time drawn from `dist`, scaled.
    pub fn sample(&self, dist: &Dist) -> Duration {
        if self.scale == 0.0 || dist.median_ms == 0.0 {
            return Duration::ZERO;
        }
        let z = if dist.p90_ms > dist.median_ms {
            self.normal()
        } else {
            0.0
        };
        Duration::from_secs_f64(dist.at(z) * self.scale / 1000.0)
    }

    /// True with probability `p`.
    pub fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_median_and_p90_match_the_model() {
        let s = Sampler::new(7, 1.0);
        let d = Dist::new(100.0, 150.0);
        let mut v: Vec<f64> = (0..20_000)
            .map(|_| s.sample(&d).as_secs_f64() * 1000.0)
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = v[v.len() / 2];
        let p90 = v[v.len() * 9 / 10];
        assert!((median - 100.0).abs() < 3.0, "median {median}");
        assert!((p90 - 150.0).abs() < 5.0, "p90 {p90}");
    }

    #[test]
    fn same_seed_same_draws() {
        let a = Sampler::new(42, 1.0);
        let b = Sampler::new(42, 1.0);
        let d = Dist::new(50.0, 80.0);
        for _ in 0..100 {
            assert_eq!(a.sample(&d), b.sample(&d));
        }
    }

    #[test]
    fn scale_zero_never_sleeps() {
        let s = Sampler::new(1, 0.0);
        assert_eq!(s.sample(&Dist::new(100.0, 300.0)), Duration::ZERO);
    }

    #[test]
    fn validation_names_the_component() {
        let mut m = LatencyModel::default();
        m.llm.p90_ms = 1.0;
        assert!(m.validate().unwrap_err().starts_with("llm"));
    }
}
