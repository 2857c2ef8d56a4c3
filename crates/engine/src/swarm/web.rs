//! Web mode: Goose's live dashboard (control on, waiting for Start) is the UI; a watcher follows
//! its phase and post-processes each run as it returns to idle, as headless mode does at its end.

use super::attack::goose_error_line;
use anyhow::anyhow;
use goose::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::run::{Ending, RunSink};
use voiceswarm_model::stats::Recorder;

/// What the watcher reads from each dashboard snapshot.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    phase: String,
    max_users: usize,
}

async fn snapshot(client: &reqwest::Client, url: &str) -> Option<Snapshot> {
    let json: serde_json::Value = client.get(url).send().await.ok()?.json().await.ok()?;
    Some(Snapshot {
        phase: json.get("phase")?.as_str()?.to_string(),
        max_users: json.get("maximum_users")?.as_u64()? as usize,
    })
}

/// A run started from the page, while it goes.
struct Running {
    started_at: String,
    clock: Instant,
    max_users: usize,
}

/// The ending of the `n`th run of the session, handed to the sink (the recorder is cleared
/// for the next run); its exit code.
fn finish_one(
    ctx: &Watched,
    sink: &dyn RunSink,
    n: usize,
    run: Running,
    interrupted: bool,
) -> anyhow::Result<u8> {
    let recording = ctx.recorder.snapshot();
    ctx.recorder.reset();
    let ending = Ending {
        started_at: run.started_at,
        duration_s: run.clock.elapsed().as_secs_f64(),
        interrupted,
        thresholds: Vec::new(),
        top_errors: Vec::new(),
        arrivals: None,
        max_users: run.max_users,
        users_seen: ctx.users_seen.load(Ordering::Relaxed),
        recording,
    };
    sink.finished(n, ending)
}

/// What the watcher reads besides the dashboard: the run's recorder and users.
pub struct Watched {
    pub recorder: Arc<Recorder>,
    pub users_seen: Arc<AtomicUsize>,
}

/// Serves the dashboard until the user quits (or Ctrl-C). Each run started from the page is
/// judged and saved as it stops; quitting is not a failure, so this returns 0 unless voiceswarm
/// itself failed (the verdicts are in the run folders and said once more at the end).
pub async fn run(
    attack: GooseAttack,
    port: u16,
    sink: &dyn RunSink,
    watched: Watched,
) -> anyhow::Result<u8> {
    println!("Web UI: open http://127.0.0.1:{port}/ to start the swarm (Start, users, Stop, Quit)");
    let snapshot_url = format!("http://127.0.0.1:{port}/api/v1/snapshot");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    // The watcher runs as its own task: Goose's main loop lives in the `execute` future, which
    // must keep being polled while a snapshot request waits for it.
    let (tx, mut snapshots) = tokio::sync::mpsc::unbounded_channel::<Snapshot>();
    let watcher = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            if let Some(s) = snapshot(&client, &snapshot_url).await {
                if tx.send(s).is_err() {
                    return;
                }
            }
        }
    });
    let execute = attack.execute();
    tokio::pin!(execute);
    let mut runs = 0usize;
    let mut running: Option<Running> = None;
    let result = loop {
        tokio::select! {
            r = &mut execute => break r,
            Some(s) = snapshots.recv() => {
                let active = matches!(s.phase.as_str(), "increase" | "maintain" | "decrease");
                if let (Some(r), true) = (running.as_mut(), active) {
                    r.max_users = r.max_users.max(s.max_users);
                }
                match (running.take(), active) {
                    (None, true) => {
                        sink.started(runs + 1)?;
                        running = Some(Running {
                            started_at: chrono::Utc::now().to_rfc3339(),
                            clock: Instant::now(),
                            max_users: s.max_users,
                        });
                    }
                    (Some(r), false) if s.phase == "idle" => {
                        runs += 1;
                        finish_one(&watched, sink, runs, r, false)?;
                    }
                    (r, _) => running = r,
                }
            }
        }
    };
    watcher.abort();
    if let Err(e) = &result {
        if !matches!(e, GooseError::ThresholdsFailed { .. }) {
            return Err(anyhow!(goose_error_line(e)));
        }
    }
    if let Some(r) = running {
        // Goose exited mid-run (Ctrl-C or a shutdown): still write what was measured.
        runs += 1;
        finish_one(&watched, sink, runs, r, true)?;
    }
    sink.closed(runs);
    Ok(0)
}
