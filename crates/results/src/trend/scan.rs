//! Finding the runs: every folder under the folders given (or a run folder given itself) read
//! into a point; folders of other kinds and broken ones are listed as skipped with the reason,
//! never fatal. Folders are read on every core: a year of nightly runs reads in well under a
//! second.

use super::Point;
use crate::folder::record::FolderKind;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use voiceswarm_model::files::{RUN_JSON, SUMMARY_JSON};
use voiceswarm_model::stats::summary::Summary;

/// What a run's run.json says about it, besides its summary.
pub struct RunFacts {
    pub folder: String,
    pub started_at: String,
    pub time: DateTime<FixedOffset>,
    pub profile: String,
    pub host: String,
    pub git_commit: Option<String>,
    pub comparable: String,
}

/// A folder that is not a point, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Skipped {
    pub folder: String,
    pub reason: String,
}

/// The parts of run.json the trend reads.
#[derive(Deserialize)]
struct Record {
    kind: FolderKind,
    plan: serde_json::Value,
    started_at: String,
    interrupted: bool,
    #[serde(default)]
    git_commit: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The parts of a load run's plan that say what it ran.
#[derive(Deserialize)]
struct PlanFacts {
    label: String,
    host: Option<String>,
    scenario_hash: String,
    load: serde_json::Value,
    worker: Option<serde_json::Value>,
}

/// Every run folder in `dirs` (each a folder of run folders, or a run folder): the points, and
/// the folders skipped. A `dir` that does not exist is an error.
pub fn scan(dirs: &[PathBuf]) -> Result<(Vec<Point>, Vec<Skipped>), String> {
    let mut folders = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(format!("{}: no such folder", dir.display()));
        }
        if dir.join(RUN_JSON).exists() {
            folders.push(dir.clone());
            continue;
        }
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read ({e})", dir.display()))?;
        // Links (reports/latest) point at folders read anyway; files are not runs.
        folders.extend(
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path()),
        );
    }
    folders.sort();
    folders.dedup();
    let mut points = Vec::new();
    let mut skipped = Vec::new();
    for (folder, outcome) in folders.iter().zip(read_all(&folders)) {
        match outcome {
            Ok(p) => points.push(p),
            Err(reason) => skipped.push(Skipped {
                folder: folder.display().to_string(),
                reason,
            }),
        }
    }
    Ok((points, skipped))
}

/// Reads the folders on every core, in order.
fn read_all(folders: &[PathBuf]) -> Vec<Result<Point, String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = folders.len().div_ceil(threads).max(16);
    std::thread::scope(|s| {
        let handles: Vec<_> = folders
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|f| read_run(f)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// One folder as a point, or why it is not one.
fn read_run(dir: &Path) -> Result<Point, String> {
    let text = std::fs::read_to_string(dir.join(RUN_JSON))
        .map_err(|_| "no run.json: not a voiceswarm run folder".to_string())?;
    let record: Record =
        serde_json::from_str(&text).map_err(|e| format!("{RUN_JSON} is malformed: {e}"))?;
    if record.kind != FolderKind::Run {
        return Err(format!(
            "a {} folder: the trend compares load runs",
            serde_json::to_value(record.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ));
    }
    let plan: PlanFacts = serde_json::from_value(record.plan)
        .map_err(|e| format!("{RUN_JSON}: plan is malformed: {e}"))?;
    if plan.worker.is_some() {
        return Err("one worker's share of a distributed run".into());
    }
    let summary_text =
        std::fs::read_to_string(dir.join(SUMMARY_JSON)).map_err(|_| match record.error {
            Some(e) => format!("no {SUMMARY_JSON}: the run failed ({e})"),
            None => format!("no {SUMMARY_JSON}: the run did not finish"),
        })?;
    if record.interrupted {
        return Err("interrupted: its figures cover part of a run".into());
    }
    let summary: Summary = serde_json::from_str(&summary_text)
        .map_err(|e| format!("{SUMMARY_JSON} is malformed: {e}"))?;
    let time = DateTime::parse_from_rfc3339(&record.started_at)
        .map_err(|e| format!("{RUN_JSON}: started_at is not an RFC 3339 time ({e})"))?;
    let host = plan.host.unwrap_or_else(|| "built-in".into());
    let comparable = format!(
        "{}\n{}\n{}\n{}",
        plan.label, plan.load, plan.scenario_hash, host
    );
    let facts = RunFacts {
        folder: dir.display().to_string(),
        started_at: record.started_at,
        time,
        profile: plan.label,
        host,
        git_commit: record.git_commit,
        comparable,
    };
    Ok(Point::of(&summary, facts))
}
