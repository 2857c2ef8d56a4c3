//! Open arrivals as values: their rates and plans (`rate.rs`), when each one is due
//! (`schedule.rs`), and what happens to one that finds every caller busy.

pub mod rate;
pub mod schedule;

use serde::Serialize;

/// What happens to an arrival when every user of the pool is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// It is counted as dropped: the generator could not offer it (the default)
    Drop,
    /// It waits for a user; its wait counts in its latency
    Queue,
}
