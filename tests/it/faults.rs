//! Reliability: runs against a misbehaving backend complete, count errors by kind and judge
//! them; a backend killed mid-run, a body that never ends, Redis stopped mid-probe, and a
//! hostile backend sending garbage are all survived and reported.

use crate::support::{read_json, spawn, text, tmp, voiceswarm, wait_with_deadline, RedisServer};
use std::io::BufRead;

use std::time::{Duration, Instant};

fn kinds(s: &serde_json::Value) -> serde_json::Value {
    s["totals"]["errors_by_kind"].clone()
}

fn only_errors_targets(dir: &std::path::Path) -> String {
    let t = dir.join("t.json");
    std::fs::write(&t, r#"{"error_rate": "1%", "metrics": {}}"#).unwrap();
    t.to_str().unwrap().to_string()
}

#[test]
fn injected_errors_spikes_and_drops_are_counted_by_kind() {
    let dir = tmp();
    let out = dir.path().join("run");
    let targets = only_errors_targets(dir.path());
    let started = Instant::now();
    let o = voiceswarm(
        &[
            "run",
            "--out",
            out.to_str().unwrap(),
            "--targets",
            &targets,
            "-u",
            "12",
            "-r",
            "12",
            "-t",
            "4s",
            "--fixed-latency-ms",
            "5",
            "--error-rate",
            "0.02",
            "--drop-rate",
            "0.05",
            "--slow-rate",
            "0.05",
            "--slow-ms",
            "300",
            "--think-scale",
            "0.1",
        ],
        Duration::from_secs(120),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "the run lasted its run time"
    );
    let s = read_json(&out.join("summary.json"));
    let k = kinds(&s);
    assert!(k["status_503"].as_u64().unwrap_or(0) > 0, "{k}");
    assert!(k["connection"].as_u64().unwrap_or(0) > 0, "{k}");
    let failures = s["totals"]["failures"].as_u64().unwrap();
    let by_kind: u64 = k
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(failures, by_kind, "every failure has a kind");
    assert_eq!(read_json(&out.join("run.json"))["completed"], true);
    assert!(all.contains("Errors by kind:"), "{all}");
    // Goose's own error table has them too.
    assert!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .contains("Error"),
        "Goose's report lists errors"
    );
}

#[test]
fn a_backend_killed_mid_run_is_counted_and_the_run_completes() {
    let (mut backend, host) = crate::support::serve(&["--fixed-latency-ms", "5"]);
    let deadline = Instant::now();
    let dir = tmp();
    let out = dir.path().join("run");
    let targets = only_errors_targets(dir.path());
    let child = spawn(
        &[
            "run",
            "--out",
            out.to_str().unwrap(),
            "--targets",
            &targets,
            "-H",
            &host,
            "-u",
            "6",
            "-r",
            "6",
            "-t",
            "5s",
            "--think-scale",
            "0.1",
        ],
        &[],
    );
    // Kill the backend once the run has made requests.
    let stats = format!("{host}/api/v1/stats");
    loop {
        let n = crate::support::get_json(&stats)
            .and_then(|v| v["requests"].as_u64())
            .unwrap_or(0);
        if n >= 10 {
            break;
        }
        assert!(
            Instant::now() < deadline + Duration::from_secs(20),
            "no requests reached the backend"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    backend.kill().unwrap();
    backend.wait().unwrap();
    let o = wait_with_deadline(child, Duration::from_secs(60));
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    let s = read_json(&out.join("summary.json"));
    assert!(
        kinds(&s)["connection"].as_u64().unwrap_or(0) > 0,
        "{}",
        kinds(&s)
    );
    assert_eq!(read_json(&out.join("run.json"))["completed"], true);
}

#[test]
fn a_body_that_never_finishes_is_a_timeout() {
    let dir = tmp();
    let scenario = dir.path().join("s.json");
    std::fs::write(
        &scenario,
        r#"{"scenarios": [{"name": "chat", "steps": [
            {"name": "llm:stream", "method": "POST", "path": "/api/v1/llm/stream",
             "body": {"json": {"message": "hello"}}, "first_byte": "llm:first_token"}]}]}"#,
    )
    .unwrap();
    let out = dir.path().join("run");
    let targets = only_errors_targets(dir.path());
    let o = voiceswarm(
        &[
            "run",
            "--out",
            out.to_str().unwrap(),
            "--targets",
            &targets,
            "--scenario-file",
            scenario.to_str().unwrap(),
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "3s",
            "--hang-rate",
            "1",
            "--timeout",
            "1",
            "--fixed-latency-ms",
            "1",
        ],
        Duration::from_secs(60),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    let s = read_json(&out.join("summary.json"));
    assert!(
        kinds(&s)["timeout"].as_u64().unwrap_or(0) >= 2,
        "{}",
        kinds(&s)
    );
}

#[test]
fn redis_stopped_half_way_through_the_probe_is_reported() {
    let mut redis = RedisServer::start();
    let dir = tmp();
    let out = dir.path().join("probe");
    let mut child = spawn(
        &[
            "probe",
            "--only",
            "company,cache",
            "--samples",
            "400",
            "--warmup",
            "0",
            "--fixed-latency-ms",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("REDIS_URL", &redis.url)],
    );
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    // Progress is printed every quarter: stop Redis at the first cache progress line.
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("probe: cache") {
            redis.stop();
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let o = wait_with_deadline(child, Duration::from_secs(120));
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("✗ cache:errors: ") && all.contains("error(s) (first:"),
        "{all}"
    );
    let s = read_json(&out.join("summary.json"));
    let count = |name: &str| crate::support::count(&s, name);
    assert_eq!(
        count("company:lookup"),
        400,
        "the other component ran whole"
    );
    let reads = count("cache:read");
    assert!(
        (100..400).contains(&reads),
        "{reads} cache reads before Redis stopped"
    );
}

/// A hostile backend: broken Server-Timing, invalid JSON where checks expect JSON, a WAV header
/// that lies, garbage audio, and an endless header list. voiceswarm counts failures with
/// reasons and never panics.
#[tokio::test]
async fn a_hostile_backend_gets_failures_with_reasons_not_panics() {
    let host = start_hostile_backend().await;
    let dir = tmp();
    let scenario = write_hostile_scenario(dir.path());
    let out = dir.path().join("run");
    let targets = only_errors_targets(dir.path());
    let o = run_hostile_scenario(&scenario, &out, targets, host).await;
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    let s = read_json(&out.join("summary.json"));
    assert_eq!(kinds(&s)["check"], 10, "{}", kinds(&s));
    assert!(all.contains("bad:json: response is not JSON"), "{all}");
    assert_only_plausible_stages_recorded_beside_the_steps(&s);
}

/// Serves the hostile routes (broken Server-Timing, truncated JSON, a lying WAV header, garbage
/// audio) on 127.0.0.1:0 and returns its URL.
async fn start_hostile_backend() -> String {
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route("/timing", get(|| async {
            ([("server-timing", "stt;dur=NaN, ;;;, llm;dur=-5, tts;dur=1e400, evil name;dur=3, total;desc=\"x\"")], "{}").into_response()
        }))
        .route("/json", get(|| async { ([("content-type", "application/json")], "{\"reply\": ").into_response() }))
        .route("/wav", post(|| async {
            let mut wav = voiceswarm_model::audio::wav_header(u32::MAX).to_vec();
            wav.truncate(30);
            ([("content-type", "audio/wav")], wav).into_response()
        }))
        .route("/garbage", post(|| async { ([("content-type", "audio/wav")], vec![0xffu8; 4096]).into_response() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    host
}

/// Writes a journey with one step per hostile route (and a JSON check on `/json`) to `s.json`.
fn write_hostile_scenario(dir: &std::path::Path) -> std::path::PathBuf {
    let scenario = dir.join("s.json");
    std::fs::write(&scenario, r#"{"scenarios": [{"name": "hostile", "think": {"listen": {"pause": ["0s", "0s"]}}, "steps": [
        {"name": "weird:timing", "path": "/timing"},
        {"name": "bad:json", "path": "/json", "checks": [{"pointer": "/reply"}]},
        {"name": "lying:wav", "method": "POST", "path": "/wav"},
        {"name": "garbage:audio", "method": "POST", "path": "/garbage"}
    ]}]}"#).unwrap();
    scenario
}

/// Runs the hostile journey five times with two users against `host`, into `out`.
async fn run_hostile_scenario(
    scenario: &std::path::Path,
    out: &std::path::Path,
    targets: String,
    h: String,
) -> std::process::Output {
    let (s1, o1) = (
        scenario.to_str().unwrap().to_string(),
        out.to_str().unwrap().to_string(),
    );
    tokio::task::spawn_blocking(move || {
        voiceswarm(
            &[
                "run",
                "--out",
                &o1,
                "--targets",
                &targets,
                "--scenario-file",
                &s1,
                "-H",
                &h,
                "-u",
                "2",
                "-r",
                "2",
                "--iterations",
                "5",
            ],
            Duration::from_secs(60),
        )
    })
    .await
    .unwrap()
}

/// Every step has its metric, and only well-formed stage names with a plausible duration were
/// recorded (no `evil name`, no NaN, negative or infinite stt/llm/tts).
fn assert_only_plausible_stages_recorded_beside_the_steps(s: &serde_json::Value) {
    let names: Vec<&str> = s["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"weird:timing")
            && names.contains(&"lying:wav")
            && names.contains(&"garbage:audio"),
        "{names:?}"
    );
    // Only well-formed stage names with a plausible duration were recorded.
    assert!(!names.iter().any(|n| n.contains("evil")), "{names:?}");
    assert!(
        !names.contains(&"server:stt")
            && !names.contains(&"server:llm")
            && !names.contains(&"server:tts"),
        "{names:?}"
    );
}
