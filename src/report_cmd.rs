//! `voiceswarm report`: recompute a summary from saved run folders, merge several folders
//! losslessly (workers that loaded one backend together), or compare a run with a baseline.

use crate::report::{self, console, HISTOGRAMS_JSON, SUMMARY_JSON, TARGETS_JSON};
use crate::stats::baseline;
use crate::stats::recording::EncodedRecording;
use crate::stats::{summarize, Recording, RunInfo, Summary, Targets};
use anyhow::{anyhow, Context};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run folders to judge; several are merged into one result
    #[arg(value_name = "RUN_DIR", required = true)]
    pub runs: Vec<PathBuf>,
    /// Compare against this baseline run folder instead of judging targets
    #[arg(long, value_name = "RUN_DIR")]
    pub baseline: Option<PathBuf>,
    /// Allowed growth of a metric's judged percentile before it is a regression, in percent
    #[arg(long, default_value_t = 10.0, value_name = "PERCENT")]
    pub regression_threshold: f64,
    /// Targets to judge (default: the targets.json saved in the first run folder)
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Write the merged result's files into DIR
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Merge folders from different run ids or scenario files all the same
    #[arg(long)]
    pub allow_mixed: bool,
}

/// What identifies the run a folder belongs to: (run id, scenario file hash), from run.json.
fn identity(dir: &Path) -> (Option<String>, Option<String>) {
    let Ok(text) = std::fs::read_to_string(dir.join("run.json")) else {
        return (None, None);
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_string);
    (s("/plan/worker/run_id"), s("/plan/scenario_hash"))
}

/// Refuses to merge folders of different runs (different run ids or scenario files).
fn check_same_run(dirs: &[PathBuf]) -> anyhow::Result<()> {
    let first = identity(&dirs[0]);
    for d in &dirs[1..] {
        let other = identity(d);
        if other.0 != first.0 {
            return Err(anyhow!(
                "{}: run id {:?} differs from {}'s {:?}; these are different runs (--allow-mixed merges them anyway)",
                d.display(), other.0, dirs[0].display(), first.0
            ));
        }
        if other.1 != first.1 {
            return Err(anyhow!(
                "{}: ran a different scenario file than {} (--allow-mixed merges them anyway)",
                d.display(),
                dirs[0].display()
            ));
        }
    }
    Ok(())
}

/// A run folder's saved recording and summary.
pub struct SavedRun {
    pub recording: Recording,
    pub summary: Summary,
}

pub fn load_run(dir: &Path) -> anyhow::Result<SavedRun> {
    let read = |name: &str| -> anyhow::Result<String> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).with_context(|| {
            format!(
                "{}: cannot read (is {} a complete run folder?)",
                p.display(),
                dir.display()
            )
        })
    };
    let enc: EncodedRecording = serde_json::from_str(&read(HISTOGRAMS_JSON)?)
        .with_context(|| format!("{}", dir.join(HISTOGRAMS_JSON).display()))?;
    let recording = Recording::decode(&enc)
        .with_context(|| format!("{}", dir.join(HISTOGRAMS_JSON).display()))?;
    let summary: Summary = serde_json::from_str(&read(SUMMARY_JSON)?)
        .with_context(|| format!("{}", dir.join(SUMMARY_JSON).display()))?;
    Ok(SavedRun { recording, summary })
}

fn load_targets(args: &ReportArgs) -> anyhow::Result<(Targets, String)> {
    let path = args
        .targets
        .clone()
        .unwrap_or_else(|| args.runs[0].join(TARGETS_JSON));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let targets = Targets::parse(&text, &path.display().to_string())?;
    Ok((targets, text))
}

pub async fn run(args: ReportArgs) -> anyhow::Result<u8> {
    if !(args.regression_threshold.is_finite() && args.regression_threshold >= 0.0) {
        return Err(anyhow!(
            "--regression-threshold {}: expected a percentage >= 0",
            args.regression_threshold
        ));
    }
    if args.runs.len() > 1 && !args.allow_mixed {
        check_same_run(&args.runs)?;
    }
    let (targets, targets_text) = load_targets(&args)?;
    let runs: Vec<SavedRun> = args
        .runs
        .iter()
        .map(|d| load_run(d))
        .collect::<anyhow::Result<_>>()?;
    let mut merged = Recording::default();
    for r in &runs {
        merged.merge(&r.recording);
    }
    if let Some(base_dir) = &args.baseline {
        let base = load_run(base_dir)?;
        let deltas = baseline::compare(
            &base.recording,
            &merged,
            &targets,
            args.regression_threshold,
        );
        print!("{}", baseline::render(&deltas, args.regression_threshold));
        return Ok(if deltas.iter().any(|d| d.regression) {
            1
        } else {
            0
        });
    }
    // Workers run side by side: the merged run lasts as long as the longest.
    let duration_s = runs
        .iter()
        .map(|r| r.summary.totals.duration_s)
        .fold(0.0, f64::max);
    let first = &runs[0].summary;
    let info = RunInfo {
        kind: if runs.len() > 1 {
            "merged".into()
        } else {
            first.kind.clone()
        },
        label: if runs.len() > 1 {
            format!("{} runs merged", runs.len())
        } else {
            first.label.clone()
        },
        started_at: first.started_at.clone(),
        duration_s,
        completed: runs.iter().all(|r| r.summary.completed),
        interrupted: runs.iter().any(|r| r.summary.interrupted),
        coordinated_omission: first.coordinated_omission.clone(),
        skipped: first
            .verdicts
            .iter()
            .filter(|v| v.status == crate::stats::summary::Status::Skipped)
            .map(|v| (v.name.clone(), v.reason.clone().unwrap_or_default()))
            .collect(),
        notes: runs.iter().flat_map(|r| r.summary.notes.clone()).collect(),
    };
    let summary = summarize(&merged, &targets, &info);
    if let Some(out) = &args.out {
        let out = crate::swarm::folder::use_given(out)?;
        report::write_results(&out, &summary, &merged, &targets_text)?;
        println!("Merged results: {}", out.display());
    }
    print!("{}", console::render(&summary));
    Ok(summary.exit_code as u8)
}
