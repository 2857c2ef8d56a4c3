//! The run folder's `calls.jsonl`: every call and turn of a run as the engine reports them,
//! one JSON object per line, written as they happen (a line per turn and per call: a
//! write each, no buffer to lose if the run is killed).

use std::io::Write;
use std::path::Path;
use voiceswarm_model::turns::{CallLine, TurnLog};

pub struct CallsFile(parking_lot::Mutex<std::fs::File>);

impl CallsFile {
    /// Creates `calls.jsonl` at `path` (in the run folder).
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let f =
            std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Self(parking_lot::Mutex::new(f)))
    }
}

impl TurnLog for CallsFile {
    fn write(&self, line: &CallLine) {
        let Ok(mut text) = serde_json::to_string(line) else {
            return;
        };
        text.push('\n');
        // A full disk loses lines of this log, never the run.
        let _ = self.0.lock().write_all(text.as_bytes());
    }
}
