//! `voiceswarm report`: judge saved run folders again, merge several losslessly (workers that
//! loaded one backend together), or compare a run with a baseline. A folder must be whole:
//! run.json, histograms.json and summary.json readable, or it is refused with the reason.

use anyhow::{anyhow, Context};
use clap::Args;
use std::path::{Path, PathBuf};
use voiceswarm_model::files::{HISTOGRAMS_JSON, SUMMARY_JSON, TARGETS_JSON};
use voiceswarm_model::inputs::Input;
use voiceswarm_model::stats::recording::EncodedRecording;
use voiceswarm_model::stats::regression::{self, Rule};
use voiceswarm_model::stats::summary::{note_from_recording, Arrivals};
use voiceswarm_model::stats::{
    summarize, JourneysNotRun, Recording, RunInfo, Status, Summary, SummaryKind, Targets, Verdict,
};
use voiceswarm_results::folder::{FolderKind, RunFolder, RunRecord};
use voiceswarm_results::render::{baseline, console};
use voiceswarm_results::session::Session;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run folders to judge; several are merged into one result
    #[arg(value_name = "RUN_DIR", required = true)]
    pub runs: Vec<PathBuf>,
    /// Compare against this baseline run folder instead of judging targets
    #[arg(long, value_name = "RUN_DIR")]
    pub baseline: Option<PathBuf>,
    /// Allowed growth of a judged percentile before it is a regression, in percent (a
    /// regression must also be significant at the 5% level)
    #[arg(long, default_value_t = 10.0, value_name = "PERCENT",
          value_parser = |s: &str| voiceswarm_model::units::parse_number_at_least(s, 0.0))]
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

/// A run folder's saved record, recording and summary.
pub struct SavedRun {
    pub dir: PathBuf,
    pub record: RunRecord,
    pub recording: Recording,
    pub summary: Summary,
}

/// Reads a whole run folder; anything missing or malformed is an error naming the file.
pub fn load_run(dir: &Path) -> anyhow::Result<SavedRun> {
    if !dir.is_dir() {
        return Err(anyhow!("{}: no such run folder", dir.display()));
    }
    let record = RunRecord::read(dir).map_err(anyhow::Error::msg)?;
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
    SavedRun::parse(dir, record, &read(HISTOGRAMS_JSON)?, &read(SUMMARY_JSON)?)
}

impl SavedRun {
    /// A run folder from its files' texts (its run.json already read).
    pub fn parse(
        dir: &Path,
        record: RunRecord,
        histograms_json: &str,
        summary_json: &str,
    ) -> anyhow::Result<Self> {
        let at = |name: &str| dir.join(name).display().to_string();
        let enc: EncodedRecording =
            serde_json::from_str(histograms_json).with_context(|| at(HISTOGRAMS_JSON))?;
        let recording = Recording::decode(&enc).with_context(|| at(HISTOGRAMS_JSON))?;
        let summary: Summary =
            serde_json::from_str(summary_json).with_context(|| at(SUMMARY_JSON))?;
        Ok(SavedRun {
            dir: dir.to_path_buf(),
            record,
            recording,
            summary,
        })
    }
}

/// Refuses to merge folders of different runs (different run ids or scenario files).
fn check_same_run(runs: &[SavedRun]) -> anyhow::Result<()> {
    let first = runs[0]
        .record
        .identity(&runs[0].dir)
        .map_err(anyhow::Error::msg)?;
    for r in &runs[1..] {
        let other = r.record.identity(&r.dir).map_err(anyhow::Error::msg)?;
        let id = |i: &voiceswarm_results::folder::record::RunIdentity| {
            i.worker.as_ref().map(|w| w.run_id.clone())
        };
        if id(&other) != id(&first) {
            return Err(anyhow!(
                "{}: run id {:?} differs from {}'s {:?}; these are different runs (--allow-mixed merges them anyway)",
                r.dir.display(), id(&other), runs[0].dir.display(), id(&first)
            ));
        }
        if other.scenario_hash != first.scenario_hash {
            return Err(anyhow!(
                "{}: ran a different scenario file than {} (--allow-mixed merges them anyway)",
                r.dir.display(),
                runs[0].dir.display()
            ));
        }
    }
    Ok(())
}

fn load_targets(args: &ReportArgs) -> anyhow::Result<(Targets, String)> {
    let path = args
        .targets
        .clone()
        .unwrap_or_else(|| args.runs[0].join(TARGETS_JSON));
    Ok(Targets::read(&Input::File(path), "--targets")?)
}

/// The facts of the runs (Goose's thresholds, component errors), carried over as they are: a
/// recording cannot judge them again. Merged, the worst verdict of each name is kept.
fn carried_facts(runs: &[SavedRun]) -> Vec<Verdict> {
    let mut facts: Vec<Verdict> = Vec::new();
    for v in runs.iter().flat_map(|r| &r.summary.verdicts) {
        if v.from_recording() {
            continue;
        }
        match facts.iter_mut().find(|f| f.name == v.name) {
            Some(f) if v.fails() && !f.fails() => *f = v.clone(),
            Some(_) => {}
            None => facts.push(v.clone()),
        }
    }
    facts
}

/// The summary of the runs, merged, judged again by `targets`.
fn judge(runs: &[SavedRun], merged: &Recording, targets: &Targets) -> Summary {
    let first = &runs[0].summary;
    let one = runs.len() == 1;
    let info = RunInfo {
        kind: if one { first.kind } else { SummaryKind::Merged },
        label: if one {
            first.label.clone()
        } else {
            format!("{} runs merged", runs.len())
        },
        labels: first.labels.clone(),
        started_at: first.started_at.clone(),
        // Workers run side by side: the merged run lasts as long as the longest.
        duration_s: runs
            .iter()
            .map(|r| r.summary.totals.duration_s)
            .fold(0.0, f64::max),
        completed: runs.iter().all(|r| r.summary.completed),
        interrupted: runs.iter().any(|r| r.summary.interrupted),
        coordinated_omission: first.coordinated_omission.clone(),
        skipped: first
            .verdicts
            .iter()
            .filter(|v| v.status == Status::Skipped)
            .map(|v| (v.name.clone(), v.reason.clone().unwrap_or_default()))
            .collect(),
        not_run: JourneysNotRun::in_all(runs.iter().map(|r| r.summary.not_run.as_ref())),
        facts: carried_facts(runs),
        arrivals: Arrivals::merged(runs.iter().filter_map(|r| r.summary.arrivals.as_ref())),
        notes: runs
            .iter()
            .flat_map(|r| r.summary.notes.iter())
            .filter(|n| !note_from_recording(n))
            .cloned()
            .collect(),
    };
    summarize(merged, targets, &info)
}

pub async fn run(args: ReportArgs) -> anyhow::Result<u8> {
    let runs: Vec<SavedRun> = args
        .runs
        .iter()
        .map(|d| load_run(d))
        .collect::<anyhow::Result<_>>()?;
    if runs.len() > 1 && !args.allow_mixed {
        check_same_run(&runs)?;
    }
    let (targets, targets_text) = load_targets(&args)?;
    let mut merged = Recording::default();
    for r in &runs {
        merged.merge(&r.recording);
    }
    let summary = judge(&runs, &merged, &targets);
    if let Some(base_dir) = &args.baseline {
        let base = load_run(base_dir)?;
        let base_summary = judge(std::slice::from_ref(&base), &base.recording, &targets);
        let rule = Rule {
            threshold_percent: args.regression_threshold,
        };
        let deltas =
            regression::compare((&base.recording, &base_summary), (&merged, &summary), rule);
        print!("{}", baseline::render(&deltas, rule));
        return Ok(u8::from(deltas.iter().any(|d| d.regressed())));
    }
    match &args.out {
        Some(out) => {
            let folder =
                RunFolder::open(Some(out), Path::new("."), "merged").map_err(anyhow::Error::msg)?;
            let host = &runs[0].record.host;
            let session = Session::open(folder, FolderKind::Merged, &args.runs, host)?;
            session.write_results(&summary, &merged, &targets_text)?;
            let duration_s = summary.totals.duration_s;
            session.end(duration_s, summary.interrupted, summary.exit_code, None)?;
        }
        None => print!("{}", console::render(&summary)),
    }
    Ok(summary.exit_code as u8)
}
