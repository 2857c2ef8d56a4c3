//! The run folder's `calls.jsonl`: every call and turn of a run as the engine reports them,
//! one JSON object per line, written as they happen (a line per turn and per call: a
//! write each, no buffer to lose if the run is killed).

use std::io::Write;
use std::path::{Path, PathBuf};
use voiceswarm_model::turns::{CallLine, TurnLog};

/// Opened at the first call, not before: the web UI's runs need an empty folder for Goose to
/// save its reports into, and a run without calls leaves no empty file.
pub struct CallsFile {
    path: PathBuf,
    file: parking_lot::Mutex<Option<std::fs::File>>,
}

impl CallsFile {
    /// `calls.jsonl` at `path` (in the run folder), created when the first line comes.
    pub fn at(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            file: parking_lot::Mutex::new(None),
        }
    }
}

impl TurnLog for CallsFile {
    fn write(&self, line: &CallLine) {
        let Ok(mut text) = serde_json::to_string(line) else {
            return;
        };
        text.push('\n');
        let mut file = self.file.lock();
        if file.is_none() {
            let opened = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path);
            match opened {
                Ok(f) => *file = Some(f),
                Err(e) => {
                    eprintln!("{}: cannot write calls: {e}", self.path.display());
                    return;
                }
            }
        }
        // A full disk loses lines of this log, never the run.
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(text.as_bytes());
        }
    }
}
