//! Numbers: the recorder (HDR histograms), targets, percentiles, verdicts, merging and baselines.
//! Verdicts are made here and nowhere else.

pub mod histogram;
pub mod not_run;
pub mod recorder;
pub mod recording;
pub mod regression;
pub mod summary;
pub mod targets;
pub mod verdict;

pub use not_run::JourneysNotRun;
pub use recorder::Recorder;
pub use recording::Recording;
pub use summary::{summarize, RunInfo, Summary, SummaryKind};
pub use targets::{Target, Targets};
pub use verdict::{Check, Status, Verdict};
