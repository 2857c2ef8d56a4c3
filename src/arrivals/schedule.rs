//! When each arrival is due: a Poisson process (exponential gaps, as independent callers arrive)
//! or evenly spaced arrivals, following the rate shape. Each arrival is the moment the expected
//! count Λ(t) reaches the next target: k − ½ for even spacing, a running sum of Exp(1) draws for
//! Poisson — one method for constant rates and ramps alike (time-rescaling).

use super::rate::Shape;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::time::Duration;

/// How arrivals are spread in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
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
    /// The expected count the next arrival is due at.
    target: f64,
    k: u64,
}

impl Schedule {
    pub fn new(shape: Shape, process: Process, seed: u64) -> Self {
        Self {
            shape,
            process,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            target: 0.0,
            k: 0,
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.k += 1;
        self.target = match self.process {
            Process::Constant => self.k as f64 - 0.5,
            Process::Poisson => self.target - (1.0 - self.rng.random::<f64>()).ln(),
        };
        self.shape.time_of(self.target)
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
        let g = gaps(Process::Constant, 1);
        assert_eq!(g.len(), 3_999, "exactly rate × duration arrivals");
        assert!(cv(&g) < 0.001);
        assert!((g[0] - 0.05).abs() < 1e-9);
    }
}
