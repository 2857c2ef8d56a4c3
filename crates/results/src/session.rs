//! The run-folder session: the one way every command (run headless or from the web UI, probe,
//! capacity, report) writes its results. It owns the folder, its `run.json` from start to end,
//! the judged summary and every file rendered from it, the console summary and `latest`.

use crate::folder::{FolderKind, RunFolder, RunRecord};
use crate::render::{self, Judged};
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use voiceswarm_model::stats::{Recording, Summary};

/// One folder's results, from its first record to its last.
pub struct Session {
    folder: RunFolder,
    record: RunRecord<serde_json::Value>,
}

impl Session {
    /// Starts the record of `kind` running `plan` against `host` in `folder` (run.json written).
    pub fn open(
        folder: RunFolder,
        kind: FolderKind,
        plan: &impl Serialize,
        host: &str,
    ) -> anyhow::Result<Self> {
        let plan = serde_json::to_value(plan).context("cannot record the plan")?;
        let session = Session {
            record: RunRecord::started(kind, plan, host),
            folder,
        };
        session.write_record()?;
        Ok(session)
    }

    pub fn folder(&self) -> &RunFolder {
        &self.folder
    }

    pub fn dir(&self) -> &Path {
        &self.folder.dir
    }

    /// When the record began (RFC 3339), the summary's start time.
    pub fn started_at(&self) -> &str {
        &self.record.started_at
    }

    fn write_record(&self) -> anyhow::Result<()> {
        self.record
            .write(&self.folder.dir)
            .with_context(|| format!("{}: cannot write run.json", self.folder.dir.display()))
    }

    /// Writes every output of a judged summary through the run outputs' one list (summary.json
    /// the last file; the verdict added to Goose's report.html when the folder has one), then
    /// prints the console summary.
    pub fn write_results(
        &self,
        summary: &Summary,
        recording: &Recording,
        targets_text: &str,
    ) -> anyhow::Result<()> {
        self.write_outputs(summary, recording, &render::run_outputs(targets_text, true))
    }

    /// The same files, without the console summary (capacity prints its own report).
    pub fn save(
        &self,
        summary: &Summary,
        recording: &Recording,
        targets_text: &str,
    ) -> anyhow::Result<()> {
        self.write_outputs(
            summary,
            recording,
            &render::run_outputs(targets_text, false),
        )
    }

    fn write_outputs(
        &self,
        summary: &Summary,
        recording: &Recording,
        outputs: &[Box<render::RunOutput>],
    ) -> anyhow::Result<()> {
        let dir = &self.folder.dir;
        let run = Judged { summary, recording };
        render::write_results(dir, run, outputs)
            .with_context(|| format!("{}: cannot write the results", dir.display()))
    }

    /// Ends the record (how long, interrupted or not, the exit code, the most users), links
    /// `latest` to the folder and says where it is.
    pub fn end(
        mut self,
        duration_s: f64,
        interrupted: bool,
        exit_code: i32,
        max_users: Option<usize>,
    ) -> anyhow::Result<()> {
        self.record.max_users = max_users;
        self.record.ended(duration_s, interrupted, exit_code);
        self.write_record()?;
        self.folder.link_latest();
        println!("Run folder: {}", self.folder.dir.display());
        Ok(())
    }

    /// Records that the work failed with `error` (best effort: the error itself is what the
    /// caller reports).
    pub fn fail(mut self, error: &str) {
        self.record.error = Some(error.to_string());
        let _ = self.write_record();
    }
}
