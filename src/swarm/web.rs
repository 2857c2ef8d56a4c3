//! Web mode: Goose's live dashboard (control on, waiting for Start) is the UI; a watcher follows
//! its phase and post-processes each run as it returns to idle, as headless mode does at its end.

use super::finish::{Ending, Finisher};
use super::folder::{self, RunRecord};
use anyhow::anyhow;
use goose::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The folder of the `n`th run (1-based): Goose saves run 1 into the output folder and each
/// later run into `<folder>-<n>`, as it never writes into a folder that holds files.
fn run_dir(out: &Path, n: usize) -> PathBuf {
    if n == 1 {
        out.to_path_buf()
    } else {
        let mut name = out.as_os_str().to_owned();
        name.push(format!("-{n}"));
        PathBuf::from(name)
    }
}

async fn phase(client: &reqwest::Client, url: &str) -> Option<String> {
    let resp = client.get(url).send().await.ok()?;
    let json: serde_json::Value = resp.json().await.ok()?;
    json.get("phase")?.as_str().map(str::to_string)
}

fn finish_one(
    finisher: &Finisher,
    out: &Path,
    n: usize,
    started_at: &str,
    clock: Instant,
    interrupted: bool,
) -> anyhow::Result<i32> {
    let dir = run_dir(out, n);
    std::fs::create_dir_all(&dir)?;
    let ending = Ending {
        started_at: started_at.to_string(),
        duration_s: clock.elapsed().as_secs_f64(),
        interrupted,
        thresholds_failed: false,
    };
    let summary = finisher.finish(&dir, &ending)?;
    let record = RunRecord {
        voiceswarm_version: env!("CARGO_PKG_VERSION"),
        plan: &finisher.plan,
        host: &finisher.host,
        started_at,
        completed: !interrupted,
        interrupted,
        ended_at: Some(chrono::Utc::now().to_rfc3339()),
        duration_s: Some(ending.duration_s),
        exit_code: Some(summary.exit_code),
        error: None,
    };
    folder::write_record(&dir, &record)?;
    Ok(summary.exit_code)
}

/// Serves the dashboard until the user quits (or Ctrl-C); returns the worst exit code of the
/// runs started from the page (0 when none ran).
pub async fn run(
    attack: GooseAttack,
    port: u16,
    out: &Path,
    finisher: &Finisher,
) -> anyhow::Result<u8> {
    println!("Web UI: open http://127.0.0.1:{port}/ to start the swarm (Start, users, Stop, Quit)");
    let snapshot_url = format!("http://127.0.0.1:{port}/api/v1/snapshot");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    // The watcher runs as its own task: Goose's main loop lives in the `execute` future, which
    // must keep being polled while a snapshot request waits for it.
    let (tx, mut phases) = tokio::sync::mpsc::unbounded_channel::<String>();
    let watcher = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            if let Some(p) = phase(&client, &snapshot_url).await {
                if tx.send(p).is_err() {
                    return;
                }
            }
        }
    });
    let execute = attack.execute();
    tokio::pin!(execute);
    let mut runs = 0usize;
    let mut worst = 0i32;
    let mut running: Option<(String, Instant)> = None;
    let result = loop {
        tokio::select! {
            r = &mut execute => break r,
            Some(p) = phases.recv() => {
                let active = matches!(p.as_str(), "increase" | "maintain" | "decrease");
                match (&running, active) {
                    (None, true) => running = Some((chrono::Utc::now().to_rfc3339(), Instant::now())),
                    (Some((started_at, clock)), false) if p == "idle" => {
                        runs += 1;
                        worst = worst.max(finish_one(finisher, out, runs, started_at, *clock, false)?);
                        running = None;
                    }
                    _ => {}
                }
            }
        }
    };
    watcher.abort();
    if let Err(e) = &result {
        if !matches!(e, GooseError::ThresholdsFailed { .. }) {
            return Err(anyhow!(super::goose_error_line(e)));
        }
    }
    if let Some((started_at, clock)) = running {
        // Goose exited mid-run (Ctrl-C or a shutdown): still write what was measured.
        runs += 1;
        worst = worst.max(finish_one(finisher, out, runs, &started_at, clock, true)?);
    }
    if runs == 0 {
        println!("No run was started from the web UI; nothing to report.");
        let _ = std::fs::remove_dir(out);
    }
    Ok(worst as u8)
}
