//! The HDR histogram every metric is kept in (microseconds, 3 significant figures, 1 µs to 1 h)
//! and the two questions asked of one: a percentile, and whether it is within a limit.

use hdrhistogram::Histogram;

/// Largest value a histogram holds: one hour, in microseconds (larger values are clamped).
pub const MAX_US: u64 = 3_600_000_000;
/// Significant figures every histogram keeps (values within 0.1 %).
pub const SIGFIGS: u8 = 3;

/// A new, empty histogram with the recorder's bounds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, SIGFIGS).expect("static histogram bounds are valid")
}

/// The value at `percentile` (0..=100) of a histogram, in µs.
pub fn percentile_us(h: &Histogram<u64>, percentile: f64) -> f64 {
    h.value_at_quantile(percentile / 100.0) as f64
}

/// Whether a histogram's value `observed_us` is within `limit_us`: a value in the same
/// histogram bucket as the limit (within the 0.1 % precision) counts as at the limit.
pub fn within_limit(h: &Histogram<u64>, observed_us: f64, limit_us: f64) -> bool {
    h.lowest_equivalent(observed_us as u64) as f64 <= limit_us
}

/// Microseconds as milliseconds rounded to 0.01 ms, as every summary shows them.
pub fn ms(us: f64) -> f64 {
    (us / 10.0).round() / 100.0
}
