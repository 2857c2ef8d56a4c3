//! Headless mode: run the attack to its end (or to Ctrl-C / SIGTERM) and hand how it ended to
//! the run's sink, which judges and saves it; a Goose error is recorded there too.

use super::attack::goose_error_line;
use super::dispatch::Dispatch;
use super::ending::{thresholds_of, top_errors_of};
use super::status::Status;
use anyhow::anyhow;
use goose::prelude::*;
use std::sync::atomic::Ordering;
use std::time::Instant;
use voiceswarm_model::run::{Ending, RunSink};

/// Runs `attack` to its end; returns the exit code (0 met, 1 missed).
pub async fn run(
    attack: GooseAttack,
    sink: &dyn RunSink,
    status: Status,
    arrivals: Option<Dispatch>,
) -> anyhow::Result<u8> {
    sink.started(1)?;
    let started_at = chrono::Utc::now().to_rfc3339();
    let clock = Instant::now();
    let (recorder, users_seen) = (status.recorder.clone(), status.users_seen.clone());
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
            sink.failed(1, &line);
            return Err(anyhow!(line));
        }
    };
    let thresholds = thresholds_of(metrics);
    let thresholds_failed = thresholds.iter().any(|(_, _, passed)| !passed);
    let ending = Ending {
        started_at,
        duration_s,
        // A failed threshold, or the end of an arrival schedule, stops the run through the
        // killswitch: that is not an interruption.
        interrupted: goose::is_killswitch_triggered() && !thresholds_failed && !schedule_ended_run,
        thresholds,
        top_errors: top_errors_of(metrics),
        arrivals,
        max_users: metrics.maximum_users,
        users_seen: users_seen.load(Ordering::Relaxed),
        recording: recorder.snapshot(),
    };
    let code = sink.finished(1, ending)?;
    sink.closed(1);
    Ok(code)
}
