//! The results of a load run, headless or from the web UI: each run the engine reports is
//! judged (Goose's threshold results become verdicts), saved through a `Session` into its
//! folder (the web UI's later runs into `<folder>-<n>`), exported and printed.

use crate::calls_file::CallsFile;
use crate::export::Exporter;
use crate::folder::{FolderKind, RunFolder};
use crate::session::Session;
use anyhow::Context;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use voiceswarm_model::files::REPORT_HTML;
use voiceswarm_model::plan::RunPlan;
use voiceswarm_model::run::{Ending, RunSink};
use voiceswarm_model::stats::not_run::JourneyMetrics;
use voiceswarm_model::stats::{
    summarize, JourneysNotRun, RunInfo, Summary, SummaryKind, Targets, Verdict,
};
use voiceswarm_model::turns::TurnLog;

/// What judging and saving a load run needs besides the run itself.
pub struct LoadRun {
    pub folder: RunFolder,
    pub host: String,
    pub plan: RunPlan,
    pub targets: Targets,
    pub targets_text: String,
    /// Said in the summary when Goose's coordinated-omission mitigation was on.
    pub coordinated_omission: String,
    /// Targets deliberately not judged, with the reason (journeys left out by --scenarios).
    pub skipped: BTreeMap<String, String>,
    /// What each journey the users are given to records, to tell which got no user.
    pub journeys: JourneyMetrics,
    /// Where the figures go besides the folder (Prometheus, CloudWatch).
    pub exporter: Exporter,
    /// The session of the run in progress.
    current: Mutex<Option<Session>>,
    /// The calls and turns of the run in progress (`calls.jsonl` in its folder).
    calls: Arc<CallsFile>,
    /// The worst exit code of the runs finished so far.
    worst: Mutex<u8>,
}

impl LoadRun {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        folder: RunFolder,
        host: &str,
        plan: RunPlan,
        targets: Targets,
        targets_text: String,
        coordinated_omission: String,
        skipped: BTreeMap<String, String>,
        exporter: Exporter,
    ) -> Self {
        LoadRun {
            folder,
            host: host.to_string(),
            plan,
            targets,
            targets_text,
            coordinated_omission,
            skipped,
            journeys: Vec::new(),
            exporter,
            current: Mutex::new(None),
            calls: Arc::default(),
            worst: Mutex::new(0),
        }
    }

    /// Judges with `journeys` (each with what it records) the journeys Goose gives users to:
    /// with fewer users, those that got none have their targets not run rather than failed.
    pub fn given_journeys(mut self, journeys: JourneyMetrics) -> Self {
        self.journeys = journeys;
        self
    }

    /// Where the engine writes each call and turn: the folder of the run in progress.
    pub fn turn_log(&self) -> Arc<dyn TurnLog> {
        self.calls.clone()
    }

    /// The folder of run `n`: the first in the folder itself, later web runs beside it.
    fn folder_of(&self, n: usize) -> RunFolder {
        match n {
            1 => self.folder.clone(),
            n => self.folder.nth(n),
        }
    }

    /// The judged summary of one ending.
    fn judge(&self, ending: &Ending) -> Summary {
        // Arrivals pick a journey per caller: users are not given journeys.
        let not_run = match ending.arrivals {
            Some(_) => None,
            None => JourneysNotRun::find(&self.journeys, ending.max_users, &ending.recording),
        };
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
            not_run,
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
        summarize(&ending.recording, &self.targets, &info)
    }

    /// The exporter, to close once the engine is done.
    pub fn into_exporter(self) -> Exporter {
        self.exporter
    }
}

impl RunSink for LoadRun {
    fn goose_dir(&self) -> &Path {
        &self.folder.dir
    }

    fn started(&self, n: usize) -> anyhow::Result<()> {
        let folder = self.folder_of(n);
        std::fs::create_dir_all(&folder.dir)
            .with_context(|| format!("{}: cannot create the run folder", folder.dir.display()))?;
        self.exporter.run_started();
        self.calls.follow(&folder.dir);
        let session = Session::open(folder, FolderKind::Run, &self.plan, &self.host)?;
        *self.current.lock() = Some(session);
        Ok(())
    }

    fn finished(&self, _n: usize, ending: Ending) -> anyhow::Result<u8> {
        let session = self
            .current
            .lock()
            .take()
            .context("a run ended that never started")?;
        let summary = self.judge(&ending);
        session.write_results(&summary, &ending.recording, &self.targets_text)?;
        if let Some(copy) = &self.plan.html {
            let page = session.folder().join(REPORT_HTML);
            std::fs::copy(&page, copy).with_context(|| {
                format!("--html {}: cannot copy {}", copy.display(), page.display())
            })?;
        }
        let code = summary.exit_code;
        session.end(
            ending.duration_s,
            ending.interrupted,
            code,
            Some(ending.max_users),
        )?;
        self.exporter
            .finished(&summary, ending.recording, ending.users_seen)?;
        let code = code.clamp(0, 255) as u8;
        let mut worst = self.worst.lock();
        *worst = (*worst).max(code);
        Ok(code)
    }

    fn failed(&self, _n: usize, error: &str) {
        if let Some(session) = self.current.lock().take() {
            session.fail(error);
        }
    }

    fn closed(&self, runs: usize) {
        if !self.plan.web {
            return;
        }
        match (runs, *self.worst.lock()) {
            (0, _) => {
                println!("No run was started from the web UI; nothing to report.");
                self.folder.remove_if_empty();
            }
            (n, 0) => println!("Web UI closed: {n} run(s), every target met."),
            (n, _) => println!(
                "Web UI closed: {n} run(s), at least one missed a target (see its run folder)."
            ),
        }
    }
}
