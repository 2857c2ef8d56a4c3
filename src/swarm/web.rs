//! Web mode: Goose's live dashboard (control on, waiting for Start) is the UI; a watcher follows
//! its phase and post-processes each run as it returns to idle, as headless mode does at its end.

use super::attack::goose_error_line;
use super::finish::{Ending, Finisher};
use crate::output::{FolderKind, RunFolder, RunRecord};
use anyhow::anyhow;
use goose::prelude::*;
use std::time::{Duration, Instant};

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
    record: RunRecord<serde_json::Value>,
    clock: Instant,
    max_users: usize,
}

/// Judges and saves the `n`th run of the session; its exit code.
fn finish_one(
    finisher: &Finisher,
    folder: &RunFolder,
    n: usize,
    mut run: Running,
    interrupted: bool,
) -> anyhow::Result<i32> {
    let folder = if n == 1 {
        folder.clone()
    } else {
        folder.nth(n)
    };
    std::fs::create_dir_all(&folder.dir)?;
    let ending = Ending {
        started_at: run.record.started_at.clone(),
        duration_s: run.clock.elapsed().as_secs_f64(),
        interrupted,
        thresholds: Vec::new(),
        top_errors: Vec::new(),
        arrivals: None,
    };
    let summary = finisher.finish(&folder, &ending)?;
    run.record.max_users = Some(run.max_users);
    run.record
        .ended(ending.duration_s, interrupted, summary.exit_code);
    run.record.write(&folder.dir)?;
    Ok(summary.exit_code)
}

/// Serves the dashboard until the user quits (or Ctrl-C). Each run started from the page is
/// judged and saved as it stops; quitting is not a failure, so this returns 0 unless voiceswarm
/// itself failed (the verdicts are in the run folders and said once more at the end).
pub async fn run(
    attack: GooseAttack,
    port: u16,
    folder: &RunFolder,
    finisher: &Finisher,
    host: &str,
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
    let plan = serde_json::to_value(&finisher.plan)?;
    let execute = attack.execute();
    tokio::pin!(execute);
    let (mut runs, mut worst) = (0usize, 0i32);
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
                    (None, true) => running = Some({
                        finisher.exporter.run_started();
                        Running {
                        record: RunRecord::started(FolderKind::Run, plan.clone(), host),
                        clock: Instant::now(),
                        max_users: s.max_users,
                    }}),
                    (Some(r), false) if s.phase == "idle" => {
                        runs += 1;
                        worst = worst.max(finish_one(finisher, folder, runs, r, false)?);
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
        worst = worst.max(finish_one(finisher, folder, runs, r, true)?);
    }
    match (runs, worst) {
        (0, _) => {
            println!("No run was started from the web UI; nothing to report.");
            folder.remove_if_empty();
        }
        (n, 0) => println!("Web UI closed: {n} run(s), every target met."),
        (n, _) => println!(
            "Web UI closed: {n} run(s), at least one missed a target (see its run folder)."
        ),
    }
    Ok(0)
}
