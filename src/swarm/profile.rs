//! The named load profiles, with the seed suite's values.

use clap::ValueEnum;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub users: usize,
    pub spawn_rate: &'static str,
    pub run_time: &'static str,
}

impl Profile {
    pub fn preset(self) -> Preset {
        let (users, spawn_rate, run_time) = match self {
            Profile::Light => (10, "2", "2m"),
            Profile::Medium => (50, "5", "5m"),
            Profile::Heavy => (100, "10", "10m"),
            Profile::Stress => (200, "20", "10m"),
        };
        Preset {
            users,
            spawn_rate,
            run_time,
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
