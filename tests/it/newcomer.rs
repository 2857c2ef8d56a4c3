//! A newcomer's first ten minutes: the binary runs from an empty directory on its built-in
//! journeys, `init` writes an editable copy that behaves like them, the console stays short, bad
//! values leave nothing behind, the web UI quits with 0, and the HTML report carries the verdict.

use crate::support::{bin, read_json, text, tmp, wait_with_deadline};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `voiceswarm args…` in `dir` (a directory without scenarios/), output piped.
fn in_dir(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("REDIS_URL")
        .env_remove("VOICESWARM_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_with_deadline(child, limit)
}

/// Every journey reaches every step within a short run.
const SHORT: &[&str] = &[
    "-u",
    "12",
    "-r",
    "12",
    "-t",
    "5s",
    "--think-scale",
    "0.2",
    "--fixed-latency-ms",
    "10",
];

#[test]
fn the_binary_runs_from_an_empty_directory_and_init_writes_a_copy_that_behaves_the_same() {
    let dir = tmp();
    let o = in_dir(
        dir.path(),
        &[&["run", "--out", "default"], SHORT].concat(),
        Duration::from_secs(90),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("Journeys: built-in voice_assistant.json"),
        "{all}"
    );
    assert!(all.contains("targets: built-in targets.json"), "{all}");
    let o = in_dir(
        dir.path(),
        &[
            "probe",
            "--samples",
            "5",
            "--warmup",
            "1",
            "--fixed-latency-ms",
            "10",
            "--out",
            "probe",
        ],
        Duration::from_secs(90),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Targets: built-in targets.json"));

    let o = in_dir(dir.path(), &["init", "copy"], Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in [
        "voice_assistant.json",
        "targets.json",
        "README.md",
        "audio/refund.wav",
        "audio/refund.txt",
    ] {
        assert!(dir.path().join("copy").join(f).is_file(), "{f} not written");
    }
    let again = in_dir(dir.path(), &["init", "copy"], Duration::from_secs(10));
    assert_eq!(again.status.code(), Some(2), "init never overwrites");
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    let copy = [
        "run",
        "--out",
        "copied",
        "--scenario-file",
        "copy/voice_assistant.json",
        "--targets",
        "copy/targets.json",
    ];
    let o = in_dir(
        dir.path(),
        &[&copy[..], SHORT].concat(),
        Duration::from_secs(90),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(all.contains("Journeys: copy/voice_assistant.json"), "{all}");
    let plan = |run: &str| read_json(&dir.path().join(run).join("run.json"))["plan"].clone();
    assert_eq!(
        plan("default")["scenario_hash"],
        plan("copied")["scenario_hash"]
    );
    let metrics = |run: &str| -> Vec<String> {
        read_json(&dir.path().join(run).join("summary.json"))["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{} {}", v["name"], v["status"]))
            .collect()
    };
    assert_eq!(
        metrics("default"),
        metrics("copied"),
        "the copy judges the same targets the same way"
    );
    // A run in a directory that holds scenarios/ uses it, and says so.
    let o = in_dir(dir.path(), &["init"], Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = in_dir(dir.path(), &["run", "--list"], Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = in_dir(dir.path(), &["run", "-u", "0"], Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_short_run_prints_a_screenful_not_goose_tables() {
    let dir = tmp();
    let o = in_dir(
        dir.path(),
        &[
            "run",
            "--profile",
            "light",
            "-t",
            "10s",
            "--fixed-latency-ms",
            "10",
            "--out",
            "run",
        ],
        Duration::from_secs(90),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let lines = all.lines().count();
    // The seed's block format takes ten lines per judged metric, and the built-in journeys judge
    // ten (calls included): about 115 lines in all. Goose's tables would add hundreds.
    assert!(lines < 125, "{lines} lines:\n{all}");
    assert!(all.contains(" of 15s  users "), "a status line: {all}");
    assert!(
        !all.contains("=== PER REQUEST METRICS ==="),
        "Goose's tables: {all}"
    );
    assert!(!all.contains(" INFO "), "Goose's INFO lines: {all}");
    assert!(all.contains("PERFORMANCE SUMMARY") && all.contains("Run folder: run"));
    // The HTML report a user opens names every judged target with its P90 and mark.
    let page = std::fs::read_to_string(dir.path().join("run/report.html")).unwrap();
    assert!(page.contains("voiceswarm verdict") && page.contains("Goose Attack Report"));
    let summary = read_json(&dir.path().join("run/summary.json"));
    for v in summary["verdicts"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let row = page
            .split("<tr>")
            .find(|r| r.contains(&format!("<td>{name}</td>")))
            .unwrap_or_else(|| panic!("{name} is not in report.html"));
        if let Some(p90) = v["observed_ms"].as_f64() {
            assert!(row.contains(&format!("{p90:.2}ms")), "{row}");
        }
        assert!(
            row.contains('✓') || row.contains('✗') || row.contains('–'),
            "{row}"
        );
    }
    // -v gives Goose its console back.
    let o = in_dir(
        dir.path(),
        &[
            "run",
            "-v",
            "-u",
            "2",
            "-t",
            "2s",
            "--fixed-latency-ms",
            "10",
            "--out",
            "verbose",
        ],
        Duration::from_secs(90),
    );
    assert!(
        text(&o).contains("=== PER REQUEST METRICS ==="),
        "{}",
        text(&o)
    );
}

#[test]
fn zero_users_is_one_line_exit_2_and_no_folder() {
    let dir = tmp();
    let o = in_dir(dir.path(), &["run", "-u", "0"], Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--users") && stderr.contains("at least 1"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).is_empty());
    assert!(
        !dir.path().join("reports").exists(),
        "no folder for a run that never started"
    );
    let o = in_dir(
        dir.path(),
        &["report", "reports/does-not-exist"],
        Duration::from_secs(10),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("reports/does-not-exist: no such run folder"),
        "{}",
        text(&o)
    );
}

/// POSTs to the dashboard's control API (JSON, as its page does).
fn control(base: &str, action: &str) {
    let body = "{}";
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "POST /api/v1/control/{action} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{action}: {answer}"
    );
}

/// The web UI's runs are judged and saved; quitting it is not a failure, even when the run it
/// started missed a target (make web exits with this code).
#[test]
fn quitting_the_web_ui_exits_0_after_a_run_that_missed() {
    use std::io::BufRead;
    let dir = tmp();
    let mut child = Command::new(bin())
        .args([
            "run",
            "--web",
            "--dashboard-port",
            "0",
            "--out",
            "web",
            "-u",
            "2",
            "-r",
            "10",
            "--error-rate",
            "0.5",
            "--fixed-latency-ms",
            "5",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the web UI URL is printed").unwrap();
        if let Some(rest) = line.strip_prefix("Web UI: open ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    crate::support::wait_for_port(port);
    control(&url, "start");
    let summary = dir.path().join("web/summary.json");
    let stats = |base: &str| crate::support::get_json(&format!("{base}api/v1/snapshot"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while stats(&url)
        .and_then(|s| s["aggregate"]["total_requests"].as_u64())
        .unwrap_or(0)
        < 10
    {
        assert!(Instant::now() < deadline, "the run made no requests");
        std::thread::sleep(Duration::from_millis(100));
    }
    control(&url, "stop");
    while !summary.is_file() {
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "no run folder after Stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        read_json(&summary)["passed"],
        false,
        "the run missed its error rate"
    );
    let run = read_json(&dir.path().join("web/run.json"));
    assert_eq!(
        run["max_users"], 2,
        "run.json says how many users the page ran"
    );
    control(&url, "quit");
    let o = wait_with_deadline(child, Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(0), "quitting is not a failure");
}
