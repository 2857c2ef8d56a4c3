//! The end of every run, headless or from the web UI: judge the recording, write every file of
//! the run folder, print the PERFORMANCE SUMMARY and choose the exit code.

use super::folder::{self, RunRecord};
use super::plan::RunPlan;
use crate::report::{self, console};
use crate::stats::{summarize, Recorder, RunInfo, Summary, Targets};
use anyhow::{anyhow, Context};
use goose::metrics::GooseCoordinatedOmissionMitigation;
use goose::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub struct Finisher {
    pub recorder: Arc<Recorder>,
    pub targets: Targets,
    pub targets_text: String,
    pub plan: RunPlan,
    pub host: String,
    pub co_mitigation: Option<GooseCoordinatedOmissionMitigation>,
    pub html_copy: Option<PathBuf>,
    /// Where `latest` is linked (None with `--out`).
    pub reports_root: Option<PathBuf>,
}

/// How a Goose run ended.
pub struct Ending {
    pub started_at: String,
    pub duration_s: f64,
    pub interrupted: bool,
    pub thresholds_failed: bool,
}

impl Finisher {
    fn co_text(&self) -> String {
        match &self.co_mitigation {
            None | Some(GooseCoordinatedOmissionMitigation::Disabled) => String::new(),
            Some(m) => format!(
                "Goose's --co-mitigation {m:?} corrects the request tables of Goose's reports (report.html/json/md); \
                 every figure in this summary is raw, as measured"
            ),
        }
    }

    /// Runs a headless attack to its end and post-processes it.
    pub async fn headless(&self, attack: GooseAttack, out: &Path) -> anyhow::Result<u8> {
        let started_at = chrono::Utc::now().to_rfc3339();
        let record = RunRecord {
            voiceswarm_version: env!("CARGO_PKG_VERSION"),
            plan: &self.plan,
            host: &self.host,
            started_at: &started_at,
            completed: false,
            interrupted: false,
            ended_at: None,
            duration_s: None,
            exit_code: None,
            error: None,
        };
        folder::write_record(out, &record)
            .with_context(|| format!("{}: cannot write run.json", out.display()))?;
        let clock = Instant::now();
        let result = attack.execute().await;
        let duration_s = clock.elapsed().as_secs_f64();
        let thresholds_failed = match &result {
            Ok(_) => false,
            Err(GooseError::ThresholdsFailed { .. }) => true,
            Err(e) => {
                let line = super::goose_error_line(e);
                let failed = RunRecord {
                    error: Some(line.clone()),
                    ..record.clone()
                };
                let _ = folder::write_record(out, &failed);
                return Err(anyhow!(line));
            }
        };
        let ending = Ending {
            started_at: started_at.clone(),
            duration_s,
            interrupted: goose::is_killswitch_triggered() && !thresholds_failed,
            thresholds_failed,
        };
        let summary = self.finish(out, &ending)?;
        let done = RunRecord {
            completed: !ending.interrupted,
            interrupted: ending.interrupted,
            ended_at: Some(chrono::Utc::now().to_rfc3339()),
            duration_s: Some(duration_s),
            exit_code: Some(summary.exit_code),
            ..record.clone()
        };
        folder::write_record(out, &done)
            .with_context(|| format!("{}: cannot write run.json", out.display()))?;
        Ok(summary.exit_code as u8)
    }

    /// Judges what the recorder holds (then clears it), writes the run folder's files and
    /// prints the summary.
    pub fn finish(&self, out: &Path, ending: &Ending) -> anyhow::Result<Summary> {
        let recording = self.recorder.snapshot();
        self.recorder.reset();
        let mut notes = Vec::new();
        if ending.thresholds_failed {
            notes.push("a Goose --threshold rule failed: see Goose's Thresholds table".to_string());
        }
        let info = RunInfo {
            kind: "run".into(),
            label: self.plan.label.clone(),
            started_at: ending.started_at.clone(),
            duration_s: ending.duration_s,
            completed: !ending.interrupted,
            interrupted: ending.interrupted,
            coordinated_omission: self.co_text(),
            skipped: Default::default(),
            notes,
        };
        let mut summary = summarize(&recording, &self.targets, &info);
        if ending.thresholds_failed {
            summary.passed = false;
            summary.exit_code = 1;
            summary.missed.push("goose_threshold".into());
        }
        report::write_results(out, &summary, &recording, &self.targets_text)
            .with_context(|| format!("{}: cannot write the results", out.display()))?;
        print!("{}", console::render(&summary));
        if let Some(copy) = &self.html_copy {
            let src = out.join("report.html");
            std::fs::copy(&src, copy).with_context(|| {
                format!("--html {}: cannot copy {}", copy.display(), src.display())
            })?;
        }
        if let Some(root) = &self.reports_root {
            folder::link_latest(root, out);
        }
        println!("Run folder: {}", out.display());
        Ok(summary)
    }
}
