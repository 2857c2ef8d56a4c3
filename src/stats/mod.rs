//! Numbers: the recorder (HDR histograms), targets, percentiles, verdicts, merging and baselines.

pub mod baseline;
pub mod recorder;
pub mod recording;
pub mod summary;
pub mod targets;
pub mod units;

pub use recorder::Recorder;
pub use recording::Recording;
pub use summary::{summarize, RunInfo, Summary};
pub use targets::Targets;
