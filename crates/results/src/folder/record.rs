//! `run.json`: what a folder holds (a run, a probe, a capacity search, a merge), the resolved plan
//! it ran (secrets redacted), and how it ended. Written first and again at the end; read back,
//! it must be whole: a missing or malformed record is refused, never guessed.

use super::atomic::write_json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;
pub use voiceswarm_model::files::RUN_JSON;

/// What made a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FolderKind {
    Run,
    Probe,
    Capacity,
    Merged,
}

/// The record. `P` is the command's resolved plan; read back it is kept as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "voiceswarm run.json")]
pub struct RunRecord<P = serde_json::Value> {
    pub voiceswarm_version: String,
    /// The git commit voiceswarm was built from, when built from a checkout.
    #[serde(default)]
    pub git_commit: Option<String>,
    pub kind: FolderKind,
    pub plan: P,
    pub host: String,
    pub started_at: String,
    pub completed: bool,
    pub interrupted: bool,
    pub ended_at: Option<String>,
    pub duration_s: Option<f64>,
    /// The most users that ran at once (the web UI may change them while a run goes).
    pub max_users: Option<usize>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

impl<P: Serialize> RunRecord<P> {
    /// A record of a command that has just started.
    pub fn started(kind: FolderKind, plan: P, host: &str) -> Self {
        Self {
            voiceswarm_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: option_env!("VOICESWARM_GIT_COMMIT").map(String::from),
            kind,
            plan,
            host: host.into(),
            started_at: chrono::Utc::now().to_rfc3339(),
            completed: false,
            interrupted: false,
            ended_at: None,
            duration_s: None,
            max_users: None,
            exit_code: None,
            error: None,
        }
    }

    /// Marks the end: how long it took, whether it was interrupted, its exit code.
    pub fn ended(&mut self, duration_s: f64, interrupted: bool, exit_code: i32) {
        self.completed = !interrupted;
        self.interrupted = interrupted;
        self.ended_at = Some(chrono::Utc::now().to_rfc3339());
        self.duration_s = Some(duration_s);
        self.exit_code = Some(exit_code);
    }

    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        write_json(&dir.join(RUN_JSON), self)
    }
}

/// The fields of a plan that say which run a folder belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RunIdentity {
    #[serde(default)]
    pub worker: Option<WorkerIdentity>,
    #[serde(default)]
    pub scenario_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkerIdentity {
    pub run_id: String,
}

impl RunRecord {
    /// Reads `dir/run.json`; missing or malformed is an error naming the file and what is wrong.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let path = dir.join(RUN_JSON);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: cannot read ({e}): not a voiceswarm run folder, or one from before run.json",
                path.display()
            )
        })?;
        Self::parse(&text, &path)
    }

    /// Parses the text of `path` (a run.json).
    pub fn parse(text: &str, path: &Path) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("{}: malformed: {e}", path.display()))
    }

    /// The run id and scenario hash the plan records (a probe's plan has neither).
    pub fn identity(&self, dir: &Path) -> Result<RunIdentity, String> {
        if self.kind == FolderKind::Probe {
            return Ok(RunIdentity::default());
        }
        RunIdentity::deserialize(&self.plan)
            .map_err(|e| format!("{}: plan: {e}", dir.join(RUN_JSON).display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_was_written_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let e = RunRecord::read(dir.path()).unwrap_err();
        assert!(e.contains("run.json: cannot read"), "{e}");
        let plan = serde_json::json!({"worker": {"run_id": "r1"}, "scenario_hash": "ab"});
        let mut r = RunRecord::started(FolderKind::Run, plan, "http://h");
        r.ended(1.5, false, 0);
        r.write(dir.path()).unwrap();
        let back = RunRecord::read(dir.path()).unwrap();
        assert_eq!(back.exit_code, Some(0));
        let id = back.identity(dir.path()).unwrap();
        assert_eq!(id.worker.unwrap().run_id, "r1");
        std::fs::write(dir.path().join(RUN_JSON), r#"{"kind": "run"}"#).unwrap();
        let e = RunRecord::read(dir.path()).unwrap_err();
        assert!(
            e.contains("malformed") && e.contains("missing field"),
            "{e}"
        );
    }
}
