//! When each arrival is due: spread as a Poisson process (exponential gaps, as independent
//! callers arrive) or evenly, following the rate shape. Either way the run offers exactly the
//! count the rate asks for, N = Λ(T) rounded: evenly, arrival k comes when the expected count
//! Λ(t) reaches k − ½; as Poisson, at the k-th of N uniform points in [0, N) of Λ — a Poisson
//! process given its count has exactly these arrival times, so gaps stay exponential (CV 1)
//! while the count does not wander ±√N from what was asked. One method for constant rates and
//! ramps alike (time-rescaling through Λ).

use super::rate::Shape;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::time::Duration;

/// How arrivals are spread in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Process {
    /// Exponential gaps: independent callers, as real ones arrive (the default)
    Poisson,
    /// Evenly spaced arrivals at the rate
    Constant,
}

/// The due times of every arrival, from the start of the schedule.
pub struct Schedule {
    shape: Shape,
    process: Process,
    rng: rand::rngs::StdRng,
    /// How many arrivals the run offers.
    count: u64,
    k: u64,
    /// Poisson: the last of the sorted uniform points, as a fraction of the count.
    point: f64,
}

impl Schedule {
    pub fn new(shape: Shape, process: Process, seed: u64) -> Self {
        Self {
            count: shape.total().round() as u64,
            shape,
            process,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            k: 0,
            point: 0.0,
        }
    }

    /// How many arrivals it will offer.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.k >= self.count {
            return None;
        }
        let remaining = (self.count - self.k) as f64;
        self.k += 1;
        let target = match self.process {
            Process::Constant => self.k as f64 - 0.5,
            Process::Poisson => {
                // The next of `count` sorted uniform points, drawn in order: the smallest of the
                // `remaining` points above the last one.
                let v: f64 = 1.0 - self.rng.random::<f64>();
                self.point = 1.0 - (1.0 - self.point) * v.powf(1.0 / remaining);
                self.point * self.count as f64
            }
        };
        self.shape.time_of(target.min(self.shape.total()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(process: Process, seed: u64) -> Vec<f64> {
        let shape = Shape::constant("20/s", 20.0, Duration::from_secs(200));
        let times: Vec<f64> = Schedule::new(shape, process, seed)
            .map(|d| d.as_secs_f64())
            .collect();
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }

    fn cv(x: &[f64]) -> f64 {
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
        var.sqrt() / mean
    }

    #[test]
    fn poisson_gaps_vary_as_exponential_ones_and_constant_ones_do_not() {
        for seed in 1..6 {
            let g = gaps(Process::Poisson, seed);
            assert!(g.len() > 3_600, "{}", g.len());
            assert!((cv(&g) - 1.0).abs() < 0.1, "seed {seed}: cv {}", cv(&g));
        }
        let shape = Shape::constant("20/s", 20.0, Duration::from_secs(200));
        assert_eq!(
            Schedule::new(shape.clone(), Process::Poisson, 9).count(),
            4_000,
            "exactly rate × duration"
        );
        let times: Vec<Duration> = Schedule::new(shape, Process::Poisson, 9).collect();
        assert_eq!(times.len(), 4_000);
        assert!(times.windows(2).all(|w| w[0] <= w[1]) && times[3_999] <= Duration::from_secs(200));
        let g = gaps(Process::Constant, 1);
        assert_eq!(g.len(), 3_999, "exactly rate × duration arrivals");
        assert!(cv(&g) < 0.001);
        assert!((g[0] - 0.05).abs() < 1e-9);
    }
}
