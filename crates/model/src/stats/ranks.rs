//! Which order statistics bound a quantile: the distribution-free ranks `l`, `u` with
//! `P(X(l) <= ξ_p <= X(u)) >= confidence`, from the binomial distribution of the number of
//! samples below the quantile (exact CDF, or a skew-corrected normal approximation for large
//! runs). The values at those ranks are [`super::interval`]'s business.

use super::normal::{normal_cdf, normal_pdf, normal_quantile};

/// Largest sample count for which ranks always come from the exact binomial CDF.
pub const EXACT_MAX_N: u64 = 1000;

/// Smallest binomial variance `n·p·(1-p)` for which the normal approximation is used above
/// [`EXACT_MAX_N`]; below it the (still cheap) exact CDF is used, because the binomial is then
/// too skewed for a one-term correction to reproduce the exact ranks.
pub const NORMAL_MIN_VARIANCE: f64 = 25.0;

/// Pmf values below this fraction of the mode's are treated as zero by the exact CDF; the mass
/// so dropped is far below any confidence level of interest.
const NEGLIGIBLE_PMF: f64 = 1e-30;

/// Slack for comparing a computed CDF against a tail probability, so that a tail that equals
/// `α/2` mathematically is not lost to rounding.
const CDF_TOLERANCE: f64 = 1e-12;

/// How the ranks of an interval were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankMethod {
    /// Exact binomial CDF.
    Exact,
    /// Normal approximation with continuity correction and a skewness term.
    Normal,
}

/// Order-statistic ranks (1-based) bounding a quantile with at least the stated coverage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankInterval {
    /// Rank `l` of the lower bound, `None` when even `X(1)` is not low enough.
    pub lo: Option<u64>,
    /// Rank `u` of the upper bound, `None` when even `X(n)` is not high enough.
    pub hi: Option<u64>,
    /// `P(l <= B <= u - 1)` for `B ~ Binomial(n, p)`, a missing bound counting as open.
    pub achieved_confidence: f64,
    /// How the ranks were found.
    pub method: RankMethod,
}

/// Ranks of the order statistics bounding the `percentile` of `n` samples at `confidence`,
/// equal-tailed as in Conover: `l` is the largest rank with `P(B <= l - 1) <= α/2` and `u` the
/// smallest with `P(B <= u - 1) >= 1 - α/2`, so each tail is separately at most `α/2`.
///
/// Exact binomial CDF when `n <= EXACT_MAX_N` or `n·p·(1-p) < NORMAL_MIN_VARIANCE`; otherwise
/// the continuity-corrected normal approximation with a Cornish–Fisher skewness term, which
/// reproduces the exact ranks to within one (see the tests). Returns `None` for `n == 0` or
/// arguments out of range (percentile strictly inside 0..100, confidence inside 0..1).
pub fn rank_interval(n: u64, percentile: f64, confidence: f64) -> Option<RankInterval> {
    let p = percentile / 100.0;
    if n == 0 || !is_open_unit(p) || !is_open_unit(confidence) {
        return None;
    }
    let tail = (1.0 - confidence) / 2.0;
    if n > EXACT_MAX_N && n as f64 * p * (1.0 - p) >= NORMAL_MIN_VARIANCE {
        Some(normal_ranks(n, p, tail))
    } else {
        Some(exact_ranks(n, p, tail))
    }
}

/// Strictly between 0 and 1 (false for NaN).
pub fn is_open_unit(x: f64) -> bool {
    x > 0.0 && x < 1.0
}

/// Nearest-rank definition `ceil(n·p)`, at least 1, robust to `n·p` landing a rounding error
/// above an integer (e.g. `300 × 0.9`).
pub fn nearest_rank(n: u64, p: f64) -> u64 {
    let x = n as f64 * p;
    let rounded = x.round();
    let rank = if (x - rounded).abs() <= 1e-9 * rounded.max(1.0) {
        rounded
    } else {
        x.ceil()
    };
    (rank as u64).clamp(1, n.max(1))
}

/// Conover's equal-tailed ranks from the exact binomial CDF.
fn exact_ranks(n: u64, p: f64, tail: f64) -> RankInterval {
    let cdf = BinomialCdf::new(n, p);
    // Largest k <= n-1 with F(k) <= tail gives l = k + 1.
    let lo = cdf
        .last_at_most(tail + CDF_TOLERANCE)
        .filter(|&k| k < n)
        .map(|k| k + 1);
    // Smallest k <= n-1 with F(k) >= 1 - tail gives u = k + 1.
    let hi = Some(cdf.first_at_least(1.0 - tail - CDF_TOLERANCE))
        .filter(|&k| k < n)
        .map(|k| k + 1);
    let covered_below = hi.map_or(1.0, |u| cdf.at(u - 1));
    let missed_below = lo.map_or(0.0, |l| cdf.at(l - 1));
    RankInterval {
        lo,
        hi,
        achieved_confidence: covered_below - missed_below,
        method: RankMethod::Exact,
    }
}

/// The same rule with `F` replaced by a continuity-corrected normal CDF with a one-term
/// Edgeworth skewness correction, inverted by the matching Cornish–Fisher expansion.
fn normal_ranks(n: u64, p: f64, tail: f64) -> RankInterval {
    let approx = ApproxBinomial::new(n, p);
    let z = normal_quantile(1.0 - tail);
    // F(k) <= tail  <=>  k + 0.5 <= lower quantile, so l = k + 1 = floor(lower + 0.5).
    let l = (approx.quantile(-z) + 0.5).floor();
    // F(k) >= 1 - tail  <=>  k + 0.5 >= upper quantile, so u = ceil(upper - 0.5) + 1.
    let u = (approx.quantile(z) - 0.5).ceil() + 1.0;
    let n_f = n as f64;
    let lo = (l >= 1.0).then(|| l.min(n_f) as u64);
    let hi = (u <= n_f).then(|| (u.max(l + 1.0).max(2.0)) as u64);
    let covered_below = hi.map_or(1.0, |u| approx.cdf(u as f64 - 1.0));
    let missed_below = lo.map_or(0.0, |l| approx.cdf(l as f64 - 1.0));
    RankInterval {
        lo,
        hi,
        achieved_confidence: covered_below - missed_below,
        method: RankMethod::Normal,
    }
}

/// Exact Binomial(n, p) CDF over the window of `k` whose pmf is not negligible.
///
/// The pmf is built by the ratio recurrence outward from the mode (set to 1) and then
/// normalised by its sum: every step is a product of moderate factors, so nothing overflows or
/// cancels, and the cost is proportional to `sqrt(n·p·(1-p))`.
struct BinomialCdf {
    /// Smallest `k` in the window.
    start: u64,
    /// `cdf[i] = P(B <= start + i)`.
    cdf: Vec<f64>,
}

impl BinomialCdf {
    fn new(n: u64, p: f64) -> Self {
        let odds = p / (1.0 - p);
        let mode = ((n + 1) as f64 * p).floor().min(n as f64) as u64;
        let mut below = Vec::new();
        let (mut term, mut k) = (1.0, mode);
        while k > 0 {
            // pmf(k-1) / pmf(k) = k / (n-k+1) · (1-p)/p
            term *= k as f64 / (n - k + 1) as f64 / odds;
            if term < NEGLIGIBLE_PMF {
                break;
            }
            below.push(term);
            k -= 1;
        }
        let start = mode - below.len() as u64;
        let mut pmf: Vec<f64> = below.into_iter().rev().collect();
        pmf.push(1.0);
        let (mut term, mut k) = (1.0, mode);
        while k < n {
            // pmf(k+1) / pmf(k) = (n-k) / (k+1) · p/(1-p)
            term *= (n - k) as f64 / (k + 1) as f64 * odds;
            if term < NEGLIGIBLE_PMF {
                break;
            }
            pmf.push(term);
            k += 1;
        }
        let total: f64 = pmf.iter().sum();
        let mut running = 0.0;
        let cdf = pmf
            .iter()
            .map(|x| {
                running += x / total;
                running
            })
            .collect();
        BinomialCdf { start, cdf }
    }

    /// `P(B <= k)`.
    fn at(&self, k: u64) -> f64 {
        match k.checked_sub(self.start) {
            None => 0.0,
            Some(i) => self.cdf.get(i as usize).copied().unwrap_or(1.0),
        }
    }

    /// Largest `k` with `P(B <= k) <= x`, if any.
    fn last_at_most(&self, x: f64) -> Option<u64> {
        let inside = self.cdf.partition_point(|&c| c <= x) as u64;
        (self.start + inside).checked_sub(1)
    }

    /// Smallest `k` with `P(B <= k) >= x` (`x <= 1`).
    fn first_at_least(&self, x: f64) -> u64 {
        self.start + self.cdf.partition_point(|&c| c < x) as u64
    }
}

/// Normal approximation to Binomial(n, p) with a skewness correction.
struct ApproxBinomial {
    n: f64,
    mean: f64,
    sd: f64,
    skew: f64,
}

impl ApproxBinomial {
    fn new(n: u64, p: f64) -> Self {
        let n = n as f64;
        let sd = (n * p * (1.0 - p)).sqrt();
        ApproxBinomial {
            n,
            mean: n * p,
            sd,
            skew: (1.0 - 2.0 * p) / sd,
        }
    }

    /// Cornish–Fisher quantile for standard-normal quantile `z` (continuous scale).
    fn quantile(&self, z: f64) -> f64 {
        self.mean + self.sd * (z + self.skew * (z * z - 1.0) / 6.0)
    }

    /// `P(B <= k)` by the continuity-corrected Edgeworth expansion.
    fn cdf(&self, k: f64) -> f64 {
        if k < 0.0 {
            return 0.0;
        }
        if k >= self.n {
            return 1.0;
        }
        let y = (k + 0.5 - self.mean) / self.sd;
        let corrected = normal_cdf(y) - normal_pdf(y) * self.skew * (y * y - 1.0) / 6.0;
        corrected.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn median_of_20_at_95_percent_uses_ranks_6_and_15() {
        // Conover Table A3 / Hahn & Meeker: n = 20, median, 95 % -> X(6), X(15), 95.9 %.
        let r = rank_interval(20, 50.0, 0.95).expect("valid");
        assert_eq!((r.lo, r.hi), (Some(6), Some(15)));
        assert_eq!(r.method, RankMethod::Exact);
        // 1 - 2 * P(B <= 5), B ~ Bin(20, 1/2): 1 - 2 * 21700/2^20.
        let expected = 1.0 - 2.0 * 21_700.0 / 1_048_576.0;
        assert!(close(r.achieved_confidence, expected, 1e-12));
    }

    #[test]
    fn median_of_10_at_95_percent_uses_ranks_2_and_9() {
        // 1 - 2 * P(B <= 1) = 1 - 2 * 11/1024 = 0.978515625.
        let r = rank_interval(10, 50.0, 0.95).expect("valid");
        assert_eq!((r.lo, r.hi), (Some(2), Some(9)));
        assert!(close(r.achieved_confidence, 0.978_515_625, 1e-12));
    }

    #[test]
    fn p99_of_20_has_no_upper_bound_and_p90_needs_36_samples_for_one() {
        // P(B = 20) = 0.99^20 = 0.818 > 0.025, so not even X(20) is an upper bound.
        // P(B <= 18) = 0.0169 <= 0.025 < P(B <= 19), so X(19) is the lower bound.
        let r = rank_interval(20, 99.0, 0.95).expect("valid");
        assert_eq!((r.lo, r.hi), (Some(19), None));
        // 0.9^35 = 0.025034 > 0.025 >= 0.9^36 = 0.022528.
        assert_eq!(rank_interval(35, 90.0, 0.95).and_then(|r| r.hi), None);
        assert_eq!(rank_interval(36, 90.0, 0.95).and_then(|r| r.hi), Some(36));
    }

    #[test]
    fn invalid_arguments_give_none() {
        assert!(rank_interval(0, 50.0, 0.95).is_none());
        assert!(rank_interval(10, 100.0, 0.95).is_none());
        assert!(rank_interval(10, f64::NAN, 0.95).is_none());
        assert!(rank_interval(10, 50.0, 1.0).is_none());
    }

    /// Checks one (n, p, confidence) of the normal path against the exact CDF; true when both
    /// pairs of ranks are identical.
    fn normal_matches_exact(n: u64, percentile: f64, confidence: f64) -> bool {
        let (p, tail) = (percentile / 100.0, (1.0 - confidence) / 2.0);
        let (exact, normal) = (exact_ranks(n, p, tail), normal_ranks(n, p, tail));
        let ctx = format!("n={n} P{percentile} c={confidence}: {exact:?} vs {normal:?}");
        let (Some(el), Some(eh), Some(nl), Some(nh)) = (exact.lo, exact.hi, normal.lo, normal.hi)
        else {
            panic!("missing bound: {ctx}");
        };
        assert!(el.abs_diff(nl) <= 1 && eh.abs_diff(nh) <= 1, "{ctx}");
        // Coverage the approximate ranks really give, by the exact CDF; and each tail on its
        // own (the regression test relies on that).
        let cdf = BinomialCdf::new(n, p);
        let true_coverage = cdf.at(nh - 1) - cdf.at(nl - 1);
        assert!(true_coverage >= confidence - 1e-3, "{ctx}: {true_coverage}");
        assert!(cdf.at(nl - 1) <= tail + 1e-3, "{ctx}: lower tail");
        assert!(1.0 - cdf.at(nh - 1) <= tail + 1e-3, "{ctx}: upper tail");
        assert!(
            (true_coverage - normal.achieved_confidence).abs() < 2e-3,
            "{ctx}"
        );
        el == nl && eh == nh
    }

    #[test]
    fn exact_and_normal_ranks_agree_around_n_1000() {
        let method = |n| rank_interval(n, 90.0, 0.95).map(|r| r.method);
        assert_eq!(method(1000), Some(RankMethod::Exact));
        assert_eq!(method(1001), Some(RankMethod::Normal));
        let (mut compared, mut identical) = (0, 0);
        for n in (900..=1100).step_by(3) {
            for percentile in [50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9] {
                let p = percentile / 100.0;
                if (n as f64) * p * (1.0 - p) < NORMAL_MIN_VARIANCE {
                    continue;
                }
                for confidence in [0.8, 0.9, 0.95, 0.99] {
                    compared += 1;
                    identical += usize::from(normal_matches_exact(n, percentile, confidence));
                }
            }
        }
        assert!(compared > 1000, "{compared}");
        assert!(
            identical * 100 >= compared * 95,
            "only {identical} of {compared} identical"
        );
    }

    #[test]
    fn exact_path_handles_extreme_percentiles_of_large_runs() {
        // P99.99 of 100k samples: n·p·q ≈ 10, so the exact windowed CDF is used.
        let r = rank_interval(100_000, 99.99, 0.95).expect("valid");
        assert_eq!(r.method, RankMethod::Exact);
        let (lo, hi) = (r.lo.expect("bounded"), r.hi.expect("bounded"));
        assert!(lo < 99_990 && hi > 99_990 && hi <= 100_000, "{r:?}");
        assert!(r.achieved_confidence >= 0.95);
    }

    #[test]
    fn nearest_rank_survives_rounding() {
        // 300 × 0.9 is 270.00000000000006 in floating point.
        assert_eq!(nearest_rank(300, 0.9), 270);
        assert_eq!(nearest_rank(10, 0.91), 10);
        assert_eq!(nearest_rank(1, 0.5), 1);
    }
}
