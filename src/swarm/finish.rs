//! The end of every load run, headless or from the web UI: judge the recording (with Goose's
//! threshold results as verdicts), write the run folder's files, print the PERFORMANCE SUMMARY.

use crate::export::Exporter;
use crate::output::RunFolder;
use crate::plan::RunPlan;
use crate::report::{self, console};
use crate::stats::summary::Arrivals;
use crate::stats::{summarize, Recorder, RunInfo, Summary, SummaryKind, Targets, Verdict};
use anyhow::Context;
use goose::metrics::GooseCoordinatedOmissionMitigation;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What judging a run needs besides how it ended.
pub struct Finisher {
    pub recorder: Arc<Recorder>,
    pub targets: Targets,
    pub targets_text: String,
    pub plan: RunPlan,
    /// Said in the summary when Goose's coordinated-omission mitigation was on.
    pub coordinated_omission: String,
    /// Targets deliberately not judged, with the reason (journeys left out by --scenarios).
    pub skipped: BTreeMap<String, String>,
    /// Where the figures go besides the folder (Prometheus, CloudWatch).
    pub exporter: Exporter,
    /// The most users started so far.
    pub users_seen: Arc<AtomicUsize>,
}

/// How a Goose run ended.
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
}

impl Ending {
    /// The threshold results of Goose's metrics.
    pub fn thresholds_of(metrics: &goose::metrics::GooseMetrics) -> Vec<(String, String, bool)> {
        metrics
            .thresholds
            .iter()
            .map(|t| (t.rule.clone(), t.observed.clone(), t.passed))
            .collect()
    }

    /// The five errors Goose saw most often, with their reasons (a failed check names its step).
    pub fn top_errors_of(metrics: &goose::metrics::GooseMetrics) -> Vec<(usize, String)> {
        let mut errors: Vec<(usize, String)> = metrics
            .errors
            .values()
            .map(|e| (e.occurrences, e.error.clone()))
            .collect();
        errors.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        errors.truncate(5);
        errors
    }
}

/// What the summary says about coordinated omission, given Goose's setting.
pub fn coordinated_omission_text(m: Option<&GooseCoordinatedOmissionMitigation>) -> String {
    match m {
        None | Some(GooseCoordinatedOmissionMitigation::Disabled) => String::new(),
        Some(m) => format!(
            "Goose's --co-mitigation {m:?} corrects the request tables of Goose's reports \
             (report.html/json/md); every figure in this summary is raw, as measured"
        ),
    }
}

impl Finisher {
    /// Judges what the recorder holds (then clears it for the next run of the web UI), writes
    /// the folder's result files and prints the summary.
    pub fn finish(&self, folder: &RunFolder, ending: &Ending) -> anyhow::Result<Summary> {
        let recording = self.recorder.snapshot();
        self.recorder.reset();
        let info = RunInfo {
            kind: SummaryKind::Run,
            label: self.plan.label.clone(),
            labels: self.plan.labels.clone(),
            started_at: ending.started_at.clone(),
            duration_s: ending.duration_s,
            completed: !ending.interrupted,
            interrupted: ending.interrupted,
            coordinated_omission: self.coordinated_omission.clone(),
            skipped: self.skipped.clone(),
            arrivals: ending.arrivals.clone(),
            facts: ending
                .thresholds
                .iter()
                .map(|(rule, observed, passed)| Verdict::goose_threshold(rule, observed, *passed))
                .collect(),
            notes: ending
                .top_errors
                .iter()
                .map(|(n, e)| format!("{n}× {e}"))
                .collect(),
        };
        let summary = summarize(&recording, &self.targets, &info);
        report::write_results(&folder.dir, &summary, &recording, &self.targets_text)
            .with_context(|| format!("{}: cannot write the results", folder.dir.display()))?;
        let page = folder.join("report.html");
        report::html::add_to_report(&page, &summary)
            .with_context(|| format!("{}: cannot add the verdict", page.display()))?;
        print!("{}", console::render(&summary));
        if let Some(copy) = &self.plan.html {
            let src = folder.join("report.html");
            std::fs::copy(&src, copy).with_context(|| {
                format!("--html {}: cannot copy {}", copy.display(), src.display())
            })?;
        }
        folder.link_latest();
        println!("Run folder: {}", folder.dir.display());
        let users = self.users_seen.load(Ordering::Relaxed);
        self.exporter.finished(&summary, recording, users)?;
        Ok(summary)
    }
}
