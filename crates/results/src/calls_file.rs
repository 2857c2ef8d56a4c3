//! The run folder's `calls.jsonl`: every call and turn of a run as the engine reports them,
//! one JSON object per line, written as they happen (a line per turn and per call: a write
//! each, no buffer to lose if the run is killed). It follows the run in progress: each run of
//! the web UI writes into its own folder.

use parking_lot::Mutex;
use std::io::Write;
use std::path::{Path, PathBuf};
use voiceswarm_model::files::CALLS_JSONL;
use voiceswarm_model::turns::{CallLine, TurnLog};

/// Where the lines of the run in progress go: the file is opened at the first call, not
/// before, because the web UI's runs need an empty folder for Goose to save its reports into,
/// and a run without calls leaves no empty file.
#[derive(Default)]
pub struct CallsFile {
    current: Mutex<Option<Open>>,
}

/// The path of the run in progress and, once a line came, its open file.
struct Open {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl CallsFile {
    /// From now on, lines go to `calls.jsonl` in the run folder `dir`.
    pub fn follow(&self, dir: &Path) {
        *self.current.lock() = Some(Open {
            path: dir.join(CALLS_JSONL),
            file: None,
        });
    }
}

impl TurnLog for CallsFile {
    fn write(&self, line: &CallLine) {
        let Ok(mut text) = serde_json::to_string(line) else {
            return;
        };
        text.push('\n');
        let mut current = self.current.lock();
        let Some(open) = current.as_mut() else {
            return;
        };
        if open.file.is_none() {
            let opened = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&open.path);
            match opened {
                Ok(f) => open.file = Some(f),
                Err(e) => {
                    eprintln!("{}: cannot write calls: {e}", open.path.display());
                    return;
                }
            }
        }
        // A full disk loses lines of this log, never the run.
        if let Some(f) = open.file.as_mut() {
            let _ = f.write_all(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voiceswarm_model::turns::CallLine;

    fn line(call: &str) -> CallLine {
        CallLine::Call {
            protocol: "twilio".into(),
            call_id: call.into(),
            stream_id: "s".into(),
            outcome: "completed".into(),
            failure: None,
            why: None,
            turns: 0,
            duration_ms: 1.0,
        }
    }

    /// A web UI's second run writes its calls into its own folder, and no folder gets a file
    /// before its first call.
    #[test]
    fn each_run_writes_into_its_own_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("a-2"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::create_dir_all(&second).unwrap();
        let calls = CallsFile::default();
        calls.write(&line("before any run"));
        calls.follow(&first);
        assert!(!first.join(CALLS_JSONL).exists());
        calls.write(&line("one"));
        calls.follow(&second);
        calls.write(&line("two"));
        let read = |d: &Path| std::fs::read_to_string(d.join(CALLS_JSONL)).unwrap();
        assert!(read(&first).contains("\"one\"") && !read(&first).contains("\"two\""));
        assert!(read(&second).contains("\"two\"") && !read(&second).contains("\"one\""));
    }
}
