//! Test support: seeded log-normal latency runs (median 200 ms, σ = 0.5) with a known true P90,
//! for the Monte-Carlo checks of the intervals and the regression rule.

use super::histogram::new_histogram;
use hdrhistogram::Histogram;

/// Median latency of the simulated service, µs (200 ms).
pub const MEDIAN_US: f64 = 200_000.0;
/// Log-scale standard deviation of the simulated latencies.
pub const SIGMA: f64 = 0.5;
/// Standard-normal 0.9 quantile.
const Z90: f64 = 1.281_551_565_544_600_4;

/// A histogram holding `values` (µs).
pub fn histogram_of(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
    let mut h = new_histogram();
    for v in values {
        h.record(v).expect("test values are in range");
    }
    h
}

/// The latency at standard-normal draw `z`, times `scale`, µs.
pub fn lognormal_at(z: f64, scale: f64) -> f64 {
    scale * MEDIAN_US * (SIGMA * z).exp()
}

/// The true P90 of the simulated service slowed by `scale`, µs.
pub fn lognormal_p90(scale: f64) -> f64 {
    lognormal_at(Z90, scale)
}

/// Seeded runs of the simulated service: SplitMix64 and Box–Muller, stable across crate
/// versions, so every figure the tests check is reproducible bit for bit.
pub struct LogNormalRuns(u64);

impl LogNormalRuns {
    pub fn new(seed: u64) -> Self {
        LogNormalRuns(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1), never 0.
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard-normal draw.
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// One run: `n` latencies of the service slowed by `scale`.
    pub fn run(&mut self, n: usize, scale: f64) -> Histogram<u64> {
        let mut h = new_histogram();
        for _ in 0..n {
            let us = lognormal_at(self.normal(), scale);
            h.saturating_record((us.round() as u64).max(1));
        }
        h
    }
}
