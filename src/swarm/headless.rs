//! Headless mode: run the attack to its end (or to Ctrl-C / SIGTERM), then post-process it,
//! recording in run.json that it started, how it ended, and any error.

use super::attack::goose_error_line;
use super::finish::{Ending, Finisher};
use crate::output::{FolderKind, RunFolder, RunRecord};
use anyhow::{anyhow, Context};
use goose::prelude::*;
use std::time::Instant;

/// Runs `attack` into `folder`; returns the exit code (0 met, 1 missed).
pub async fn run(
    attack: GooseAttack,
    finisher: &Finisher,
    folder: &RunFolder,
    host: &str,
    status: super::status::Status,
    arrivals: Option<super::arrivals::Dispatch>,
) -> anyhow::Result<u8> {
    let mut record = RunRecord::started(FolderKind::Run, &finisher.plan, host);
    record
        .write(&folder.dir)
        .with_context(|| format!("{}: cannot write run.json", folder.dir.display()))?;
    let clock = Instant::now();
    let status = status.spawn();
    let result = attack.execute().await;
    status.stop();
    let (arrivals, schedule_ended_run) = match arrivals {
        Some(d) => {
            let (a, ended) = d.finish().await;
            (Some(a), ended)
        }
        None => (None, false),
    };
    let duration_s = clock.elapsed().as_secs_f64();
    let metrics = match &result {
        Ok(metrics) => metrics,
        Err(GooseError::ThresholdsFailed { metrics, .. }) => &**metrics,
        Err(e) => {
            let line = goose_error_line(e);
            record.error = Some(line.clone());
            let _ = record.write(&folder.dir);
            return Err(anyhow!(line));
        }
    };
    let thresholds = Ending::thresholds_of(metrics);
    let thresholds_failed = thresholds.iter().any(|(_, _, passed)| !passed);
    let ending = Ending {
        started_at: record.started_at.clone(),
        duration_s,
        // A failed threshold, or the end of an arrival schedule, stops the run through the
        // killswitch: that is not an interruption.
        interrupted: goose::is_killswitch_triggered() && !thresholds_failed && !schedule_ended_run,
        thresholds,
        top_errors: Ending::top_errors_of(metrics),
        arrivals,
    };
    let summary = finisher.finish(folder, &ending)?;
    record.max_users = Some(metrics.maximum_users);
    record.ended(duration_s, ending.interrupted, summary.exit_code);
    record
        .write(&folder.dir)
        .with_context(|| format!("{}: cannot write run.json", folder.dir.display()))?;
    Ok(summary.exit_code as u8)
}
