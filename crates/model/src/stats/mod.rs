//! Numbers: the recorder (HDR histograms), targets, percentiles and their confidence intervals,
//! verdicts, merging and the regression rule. Verdicts are made here and nowhere else.

pub mod histogram;
pub mod interval;
pub mod normal;
pub mod not_run;
pub mod ranks;
pub mod recorder;
pub mod recording;
pub mod regression;
#[cfg(test)]
pub mod simulate;
pub mod summary;
pub mod targets;
pub mod verdict;

pub use interval::{ConfidenceInterval, Decision, CONFIDENCE};
pub use not_run::JourneysNotRun;
pub use recorder::Recorder;
pub use recording::Recording;
pub use summary::{summarize, Percentiles, RunInfo, Summary, SummaryKind};
pub use targets::{Target, Targets};
pub use verdict::{Check, Status, Verdict};
