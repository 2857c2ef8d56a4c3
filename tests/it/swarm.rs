//! `voiceswarm run` end to end, as a user runs it: a complete run folder and exit 0 against the
//! built-in backend; exit 1 on injected errors; exit 2 with one line for an unreachable host;
//! SIGINT and SIGTERM still write every report; secrets appear in no file or output.

use crate::support::{
    assert_passed, backend, fixed, read_json, spawn, text, tmp, voiceswarm, voiceswarm_env,
    wait_with_deadline,
};
use std::process::Command;
use std::time::{Duration, Instant};
use voiceswarm_backend::BackendConfig;

const QUICK: &[&str] = &[
    "-u",
    "12",
    "-r",
    "12",
    "-t",
    "4s",
    "--fixed-latency-ms",
    "10",
];
/// Long enough that every journey reaches its last step (two think times of at most 3 s).
const WHOLE_JOURNEYS: &[&str] = &[
    "-u",
    "12",
    "-r",
    "12",
    "-t",
    "8s",
    "--fixed-latency-ms",
    "10",
];

fn args<'a>(out: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["run", "--out", out];
    v.extend_from_slice(more);
    v
}

#[test]
fn a_headless_run_writes_a_complete_run_folder_and_exits_0() {
    let dir = tmp();
    let out = dir.path().join("run");
    let html = dir.path().join("copy.html");
    let o = voiceswarm(
        &args(
            out.to_str().unwrap(),
            &[WHOLE_JOURNEYS, &["--html", html.to_str().unwrap()]].concat(),
        ),
        Duration::from_secs(120),
    );
    assert_passed_against_the_built_in_backend_with_every_target_met(&o);
    assert_every_report_file_written(&out, &html);
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["completed"], true);
    assert_eq!(run["plan"]["load"]["users"], 12);
    let s = read_json(&out.join("summary.json"));
    assert_every_journey_step_has_samples(&s);
    assert_streaming_first_bytes_come_before_the_whole(&s);
    assert_server_timing_stages_match_the_fixed_10_ms(&s);
    assert!(s["totals"]["cache_hit_ratio"].as_f64().is_some());
    // Goose's own report knows the same requests.
    let goose = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        goose.contains("pipeline:voice"),
        "Goose's report lacks the step names"
    );
}

/// The run passed, said it used the built-in backend, and printed a summary with every target met.
fn assert_passed_against_the_built_in_backend_with_every_target_met(o: &std::process::Output) {
    let all = text(o);
    assert_passed(o);
    assert!(
        all.contains(
            "No --host given: load goes to the built-in reference backend at http://127.0.0.1:"
        ),
        "{all}"
    );
    assert!(
        all.contains("PERFORMANCE SUMMARY") && all.contains("✓ All performance targets MET"),
        "{all}"
    );
}

/// Every report file is in `out`, the `--html` copy at `html`, and the folder matches its schemas.
fn assert_every_report_file_written(out: &std::path::Path, html: &std::path::Path) {
    for f in [
        "report.html",
        "report.json",
        "report.md",
        "summary.json",
        "summary.md",
        "junit.xml",
        "histograms.json",
        "run.json",
        "targets.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert!(html.is_file(), "--html copy missing");
    crate::support::assert_folder_matches_schemas(out);
}

/// Every journey ran: each step's metric has samples.
fn assert_every_journey_step_has_samples(s: &serde_json::Value) {
    for m in [
        "session:create",
        "pipeline:voice",
        "stt:transcribe",
        "llm:complete",
        "tts:synthesize",
        "company:lookup",
        "search:query",
        "health:check",
    ] {
        assert!(
            crate::support::entry(s, "metrics", m)
                .is_some_and(|x| x["count"].as_u64().unwrap() > 0),
            "{m} has no samples"
        );
    }
}

/// Streaming: each first byte's median comes before its whole body's.
fn assert_streaming_first_bytes_come_before_the_whole(s: &serde_json::Value) {
    let metric = |name: &str| crate::support::entry(s, "metrics", name);
    for (first, full) in [
        ("llm:first_token", "llm:complete"),
        ("tts:first_audio", "tts:synthesize"),
        ("pipeline:voice_turn", "pipeline:voice"),
    ] {
        let (a, b) = (metric(first).unwrap(), metric(full).unwrap());
        assert!(
            a["median_ms"].as_f64() < b["median_ms"].as_f64(),
            "{first} {a} vs {full} {b}"
        );
    }
}

/// Server-Timing stages are recorded, and match the backend's fixed 10 ms.
fn assert_server_timing_stages_match_the_fixed_10_ms(s: &serde_json::Value) {
    for stage in ["server:stt", "server:llm", "server:tts", "server:total"] {
        let m = crate::support::entry(s, "metrics", stage)
            .unwrap_or_else(|| panic!("{stage} not recorded"));
        if stage != "server:total" {
            let p50 = m["median_ms"].as_f64().unwrap();
            assert!((9.9..12.0).contains(&p50), "{stage} median {p50}");
        }
    }
}

#[test]
fn injected_errors_miss_the_error_rate_target_and_exit_1() {
    let dir = tmp();
    let out = dir.path().join("run");
    let o = voiceswarm(
        &args(
            out.to_str().unwrap(),
            &[QUICK, &["--error-rate", "0.5"]].concat(),
        ),
        Duration::from_secs(120),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("error_rate"), "{all}");
    let s = read_json(&out.join("summary.json"));
    let rate = s["totals"]["error_rate_percent"].as_f64().unwrap();
    assert!((35.0..65.0).contains(&rate), "error rate {rate}");
    assert!(
        s["totals"]["errors_by_kind"]["status_503"]
            .as_u64()
            .unwrap()
            > 0
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure message=\"error_rate"), "{junit}");
}

/// A failed Goose threshold is a verdict like any other: exit 1, a JUnit failure naming it, and
/// `voiceswarm report` judging the folder again still fails it.
#[test]
fn a_failed_goose_threshold_fails_the_run_everywhere() {
    let dir = tmp();
    let out = dir.path().join("run");
    let o = voiceswarm(
        &args(
            out.to_str().unwrap(),
            &[QUICK, &["--threshold", "p90<1ms"]].concat(),
        ),
        Duration::from_secs(120),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("goose_threshold: p90<1ms"), "{all}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure message=\"goose_threshold: p90&lt;1ms"),
        "{junit}"
    );
    let s = read_json(&out.join("summary.json"));
    assert!(!s["passed"].as_bool().unwrap());
    crate::support::assert_folder_matches_schemas(&out);
    let again = voiceswarm(&["report", out.to_str().unwrap()], Duration::from_secs(30));
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("goose_threshold: p90<1ms"));
}

#[test]
fn an_unreachable_host_is_one_line_and_exit_2() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let dir = tmp();
    let out = dir.path().join("run");
    let o = voiceswarm(
        &args(out.to_str().unwrap(), &["-H", &host, "-t", "2s"]),
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("voiceswarm: error: cannot reach http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(!out.exists(), "no run folder for a run that never started");
}

#[test]
fn bad_input_files_exit_2_naming_the_file() {
    let dir = tmp();
    let bad = dir.path().join("t.json");
    std::fs::write(
        &bad,
        r#"{"error_rate": "1%", "metrics": {"stt:transcribe": {"limit": "100 apples"}}}"#,
    )
    .unwrap();
    let o = voiceswarm(
        &["run", "--targets", bad.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("t.json: metrics.stt:transcribe: limit:"), "{e}");
    let o = voiceswarm(
        &["run", "--scenario-file", "/nonexistent/s.json"],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("--scenario-file /nonexistent/s.json: cannot read")
            && !e.contains("$:")
            && e.matches("/nonexistent/s.json").count() == 1
            && e.lines().count() == 1,
        "{e}"
    );
    let o = voiceswarm(&["run", "-t", "5mins"], Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("'5mins' for '--run-time") && e.lines().count() == 1,
        "{e}"
    );
}

/// Starts a run against `host`, waits until the backend has served some requests, sends
/// `signal`, and returns the output and the run folder.
async fn interrupted_run(
    signal: &str,
) -> (std::process::Output, std::path::PathBuf, tempfile::TempDir) {
    let b = backend(fixed(5.0)).await;
    let dir = tmp();
    let out = dir.path().join("run");
    let child = spawn(
        &[
            "run",
            "--out",
            out.to_str().unwrap(),
            "-H",
            &b.url(),
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "60s",
        ],
        &[],
    );
    let stats = format!("{}/api/v1/stats", b.url());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = reqwest::get(&stats)
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["requests"]
            .as_u64()
            .unwrap();
        if n >= 10 {
            break;
        }
        assert!(Instant::now() < deadline, "the run made no requests");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = tokio::task::spawn_blocking(move || wait_with_deadline(child, Duration::from_secs(30)))
        .await
        .unwrap();
    (o, out, dir)
}

#[tokio::test]
async fn sigint_stops_the_users_and_still_writes_every_report() {
    let (o, out, _dir) = interrupted_run("-INT").await;
    let all = text(&o);
    assert!(all.contains("Run INTERRUPTED after"), "{all}");
    for f in [
        "report.html",
        "report.json",
        "summary.json",
        "junit.xml",
        "histograms.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing\n{all}");
    }
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["interrupted"], true);
    assert_eq!(run["completed"], false);
    assert!(run["duration_s"].as_f64().unwrap() < 50.0);
    assert_eq!(read_json(&out.join("summary.json"))["interrupted"], true);
}

#[tokio::test]
async fn sigterm_stops_the_users_and_still_writes_every_report() {
    let (o, out, _dir) = interrupted_run("-TERM").await;
    let all = text(&o);
    assert!(all.contains("Run INTERRUPTED after"), "{all}");
    assert!(
        out.join("report.html").is_file() && out.join("summary.json").is_file(),
        "{all}"
    );
    assert_eq!(read_json(&out.join("run.json"))["interrupted"], true);
}

#[tokio::test]
async fn secrets_are_sent_but_never_written() {
    let secret = "sk-test-4242-do-not-leak";
    let b = backend(BackendConfig {
        require_api_key: Some(secret.into()),
        ..fixed(5.0)
    })
    .await;
    let dir = tmp();
    let out = dir.path().join("run");
    let header = format!("Authorization: Bearer {secret}");
    // Only the error rate is judged: every request must carry the key.
    let targets = dir.path().join("t.json");
    std::fs::write(&targets, r#"{"error_rate": "0%", "metrics": {}}"#).unwrap();
    let o = run_with_the_key_in_a_header(b.url(), &out, header, &targets).await;
    let all = text(&o);
    // Sent: the backend refuses requests without it, and no request failed.
    assert_passed(&o);
    assert!(!all.contains(secret), "the secret is in the console output");
    assert_the_log_masks_the_header_and_no_file_holds(&out, secret);
    // The environment variable works the same way, and stays out of files too.
    let out2 = dir.path().join("run2");
    let o = run_with_the_key_in_the_environment(b.url(), &out2, &targets, secret).await;
    assert_passed(&o);
    for entry in walk(&out2) {
        assert!(!std::fs::read_to_string(&entry)
            .unwrap_or_default()
            .contains(secret));
    }
}

/// Runs 12 users for 3 s against `host` sending `header`, with a request log, into `out`.
async fn run_with_the_key_in_a_header(
    host: String,
    out: &std::path::Path,
    header: String,
    targets: &std::path::Path,
) -> std::process::Output {
    let outs = out.to_str().unwrap().to_string();
    let t1 = targets.to_str().unwrap().to_string();
    let log = out.join("requests.log").to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        voiceswarm(
            &[
                "run",
                "--out",
                &outs,
                "-H",
                &host,
                "-u",
                "12",
                "-r",
                "12",
                "-t",
                "3s",
                "--header",
                &header,
                "--request-log",
                &log,
                "--targets",
                &t1,
            ],
            Duration::from_secs(90),
        )
    })
    .await
    .unwrap()
}

/// The request log shows the authorization header masked, and no file under `out` holds `secret`.
fn assert_the_log_masks_the_header_and_no_file_holds(out: &std::path::Path, secret: &str) {
    let log = std::fs::read_to_string(out.join("requests.log")).unwrap();
    assert!(
        log.contains("authorization") && log.contains("Sensitive"),
        "the request log shows the header, masked"
    );
    for entry in walk(out) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{} holds the secret",
            entry.display()
        );
    }
}

/// Runs 12 users for 2 s against `host` with the key in `VOICESWARM_API_KEY`, into `out`.
async fn run_with_the_key_in_the_environment(
    host: String,
    out: &std::path::Path,
    targets: &std::path::Path,
    secret: &'static str,
) -> std::process::Output {
    let outs2 = out.to_str().unwrap().to_string();
    let t2 = targets.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        voiceswarm_env(
            &[
                "run",
                "--out",
                &outs2,
                "-H",
                &host,
                "-u",
                "12",
                "-r",
                "12",
                "-t",
                "2s",
                "--targets",
                &t2,
            ],
            &[("VOICESWARM_API_KEY", secret)],
            Duration::from_secs(90),
        )
    })
    .await
    .unwrap()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Runs `scenario` (a scenario file's text; only errors judged) against `host` with `flags`,
/// in a blocking task; the output and the run's summary.json (null when none was written).
async fn run_scenario(
    host: &str,
    scenario: &str,
    flags: &[&str],
) -> (std::process::Output, serde_json::Value) {
    let dir = tmp();
    let s = dir.path().join("s.json");
    std::fs::write(&s, scenario).unwrap();
    let t = dir.path().join("t.json");
    std::fs::write(&t, r#"{"error_rate": "0%", "metrics": {}}"#).unwrap();
    let out = dir.path().join("run");
    let files = [
        "-H",
        host,
        "--scenario-file",
        s.to_str().unwrap(),
        "--targets",
        t.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let args: Vec<String> = std::iter::once("run")
        .chain(files)
        .chain(flags.iter().copied())
        .map(str::to_string)
        .collect();
    let o = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        voiceswarm(&refs, Duration::from_secs(60))
    })
    .await
    .unwrap();
    let summary = std::fs::read_to_string(out.join("summary.json"))
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap_or_default();
    (o, summary)
}

/// Per-user clients are separate devices: each caller opens its own connection and keeps it for
/// its requests; a shared client pools them. Counted by the backend's accepted connections.
#[tokio::test]
async fn per_user_clients_open_a_connection_each_and_a_shared_one_pools() {
    let lookup = r#"{"scenarios": [{"name": "lookup", "think": {"fixed": "200ms"}, "steps": [{"name": "company:lookup", "path": "/api/v1/company/acme"}]}]}"#;
    let mut opened = Vec::new();
    for mode in ["per-user", "shared"] {
        let b = backend(fixed(5.0)).await;
        let host = b.url();
        let before = stats_connections(&host).await;
        let flags = ["-u", "6", "-r", "3", "--iterations", "4", "--client", mode];
        let (o, summary) = run_scenario(&host, lookup, &flags).await;
        assert_eq!(o.status.code(), Some(0), "{mode}: {}", text(&o));
        assert_eq!(summary["totals"]["requests"], 24, "{mode}");
        // Less the connection of the stats request itself.
        opened.push(stats_connections(&host).await - before - 1);
    }
    // The reachability check opens one more connection before the run.
    assert_eq!(opened[0], 6 + 1, "per-user: one connection per caller");
    assert!(opened[1] <= 3, "shared: pooled, {} connections", opened[1]);
}

async fn stats_connections(host: &str) -> u64 {
    let stats: serde_json::Value = reqwest::get(format!("{host}/api/v1/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["connections"].as_u64().unwrap()
}

/// At the run's planned end listening stops for every caller at once; none of them may then
/// start a request (it would be one of a burst, sent while Goose stops the users). Five callers
/// started 200 ms apart (a 1 s ramp), each step followed by 1.5 s of listening, in a 3 s run
/// (the ramp included, as Locust's -t): every caller's third step would fall at or after the
/// end, so each makes two.
#[tokio::test]
async fn no_request_starts_after_the_planned_end() {
    let b = backend(fixed(1.0)).await;
    let poll = r#"{"scenarios": [{"name": "poll", "think": {"listen": {"pause": ["1500ms", "1500ms"]}}, "steps": [{"name": "health:check", "path": "/health"}]}]}"#;
    let (o, summary) = run_scenario(&b.url(), poll, &["-u", "5", "-r", "5", "-t", "3s"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(summary["totals"]["requests"], 10, "{}", summary["totals"]);
}
