//! The edges of one load run as the engine sees them: how it ended (`Ending`) and whom it tells
//! (`RunSink`). The engine runs the load and calls the sink; the layer above decides where the
//! results go (a run folder), so the engine knows nothing of files or formats.

use crate::stats::summary::Arrivals;
use crate::stats::Recording;
use std::path::Path;

/// How a run ended: what the engine measured and saw, not yet judged.
#[derive(Debug, Clone)]
pub struct Ending {
    pub started_at: String,
    pub duration_s: f64,
    pub interrupted: bool,
    /// Goose's `--threshold` results: (rule, what was observed, passed).
    pub thresholds: Vec<(String, String, bool)>,
    /// Goose's most frequent errors: (occurrences, `name: error`), most frequent first.
    pub top_errors: Vec<(usize, String)>,
    /// An arrival run's arrivals, as the dispatcher saw them.
    pub arrivals: Option<Arrivals>,
    /// The most users that ran at once (Goose's count).
    pub max_users: usize,
    /// How many users made a request (the highest user index seen, plus one).
    pub users_seen: usize,
    /// Everything recorded during the run.
    pub recording: Recording,
}

/// Who hears about each run: headless mode has one, the web UI one per Start. Runs are
/// numbered from 1.
pub trait RunSink: Sync {
    /// Where Goose writes its own reports of the first run (later web runs: see `started`).
    fn goose_dir(&self) -> &Path;
    /// Run `n` started now.
    fn started(&self, n: usize) -> anyhow::Result<()>;
    /// Run `n` ended: judge it, save it, say it; its exit code (0 every target met, 1 missed).
    fn finished(&self, n: usize, ending: Ending) -> anyhow::Result<u8>;
    /// Run `n` could not be run to its end: record why (the caller reports the error).
    fn failed(&self, n: usize, error: &str);
    /// The engine is done with every run; `runs` were finished.
    fn closed(&self, runs: usize);
}
