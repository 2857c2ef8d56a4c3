//! The named load profiles, with the seed suite's values: what each sets.

use clap::ValueEnum;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Development: 10 users, 2/s, 2 minutes
    Light,
    /// Staging: 50 users, 5/s, 5 minutes
    Medium,
    /// Production validation: 100 users, 10/s, 10 minutes
    Heavy,
    /// Stress: 200 users, 20/s, 10 minutes
    Stress,
}

/// What a profile sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub users: usize,
    pub spawn_rate: f64,
    pub run_time: Duration,
}

impl Profile {
    pub fn preset(self) -> Preset {
        let (users, spawn_rate, minutes) = match self {
            Profile::Light => (10, 2.0, 2),
            Profile::Medium => (50, 5.0, 5),
            Profile::Heavy => (100, 10.0, 10),
            Profile::Stress => (200, 20.0, 10),
        };
        Preset {
            users,
            spawn_rate,
            run_time: Duration::from_secs(minutes * 60),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Light => "light",
            Profile::Medium => "medium",
            Profile::Heavy => "heavy",
            Profile::Stress => "stress",
        }
    }
}
