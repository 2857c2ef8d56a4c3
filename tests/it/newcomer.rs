//! A newcomer's first ten minutes: the binary runs from an empty directory on its built-in
//! journeys, `init` writes an editable copy that behaves like them, the console stays short (one
//! table, at most 60 lines), fewer users than journeys are said in one line and fail nothing,
//! bad values leave nothing behind, the web UI quits with 0, and the HTML report carries the
//! verdict.

use crate::support::{assert_passed, bin, read_json, text, tmp, wait_with_deadline};
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
    run_the_built_in_journeys_into_default(dir.path());
    probe_with_the_built_in_targets(dir.path());
    init_writes_a_standalone_copy_and_never_overwrites_it(dir.path());
    run_the_copy_into_copied(dir.path());
    assert_the_copy_behaves_like_the_built_in_journeys(dir.path());
    // A run in a directory that holds scenarios/ uses it, and says so.
    let o = in_dir(dir.path(), &["init"], Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = in_dir(dir.path(), &["run", "--list"], Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = in_dir(dir.path(), &["run", "-u", "0"], Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(2));
}

/// A short run in `dir` (into `default`) passes on the built-in journeys and targets, and says so.
fn run_the_built_in_journeys_into_default(dir: &Path) {
    let o = in_dir(
        dir,
        &[&["run", "--out", "default"], SHORT].concat(),
        Duration::from_secs(90),
    );
    let all = text(&o);
    assert_passed(&o);
    assert!(
        all.contains("Journeys: built-in voice_assistant.json"),
        "{all}"
    );
    assert!(all.contains("targets: built-in targets.json"), "{all}");
}

/// `probe` in `dir` passes on the built-in targets, and says so.
fn probe_with_the_built_in_targets(dir: &Path) {
    let o = in_dir(
        dir,
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
    assert_passed(&o);
    assert!(text(&o).contains("Targets: built-in targets.json"));
}

/// `init copy` writes the journeys, targets, audio and a self-contained README; a second
/// `init copy` exits 2 and overwrites nothing.
fn init_writes_a_standalone_copy_and_never_overwrites_it(dir: &Path) {
    let o = in_dir(dir, &["init", "copy"], Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in [
        "voice_assistant.json",
        "targets.json",
        "README.md",
        "audio/refund.wav",
        "audio/refund.txt",
    ] {
        assert!(dir.join("copy").join(f).is_file(), "{f} not written");
    }
    // The README stands alone beside a binary: the format reference is in it, not pointed to.
    let readme = std::fs::read_to_string(dir.join("copy/README.md")).unwrap();
    assert!(readme.contains("## A call step") && !readme.contains("scenarios/README.md"));
    let again = in_dir(dir, &["init", "copy"], Duration::from_secs(10));
    assert_eq!(again.status.code(), Some(2), "init never overwrites");
    assert!(text(&again).contains("already exists"), "{}", text(&again));
}

/// A short run in `dir` (into `copied`) on the copy's journeys and targets passes, and says so.
fn run_the_copy_into_copied(dir: &Path) {
    let copy = [
        "run",
        "--out",
        "copied",
        "--scenario-file",
        "copy/voice_assistant.json",
        "--targets",
        "copy/targets.json",
    ];
    let o = in_dir(dir, &[&copy[..], SHORT].concat(), Duration::from_secs(90));
    let all = text(&o);
    assert_passed(&o);
    assert!(all.contains("Journeys: copy/voice_assistant.json"), "{all}");
}

/// The `default` and `copied` runs share a scenario hash and judge the same targets the same way.
fn assert_the_copy_behaves_like_the_built_in_journeys(dir: &Path) {
    let plan = |run: &str| read_json(&dir.join(run).join("run.json"))["plan"].clone();
    assert_eq!(
        plan("default")["scenario_hash"],
        plan("copied")["scenario_hash"]
    );
    let metrics = |run: &str| -> Vec<String> {
        read_json(&dir.join(run).join("summary.json"))["verdicts"]
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
    assert_passed(&o);
    let lines = all.lines().count();
    // One table, a row per metric: about 40 lines in all. Goose's tables would add hundreds.
    assert!(lines <= 60, "{lines} lines:\n{all}");
    // -t includes the ramp, as Locust's: 10s in all, not 10s after the 5s ramp.
    assert!(all.contains(" of 10s  users "), "a status line: {all}");
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

/// The light profile for 10 s, as a newcomer types it, fits a screen: at most 40 lines in all,
/// one table with a row per metric, one verdict line — and nothing is lost: summary.md keeps
/// the seed's block of every judged metric.
#[test]
fn the_light_profile_for_10s_fits_40_lines_with_the_build_and_exits_0() {
    let dir = tmp();
    let args = ["run", "--profile", "light", "-t", "10s", "--out", "run"];
    let o = in_dir(dir.path(), &args, Duration::from_secs(90));
    let all = text(&o);
    assert_passed(&o);
    // The reference backend's defaults are a healthy system: the first run meets its goals too.
    assert!(!all.contains("goal missed"), "{all}");
    let lines: Vec<&str> = all.lines().collect();
    // Piped, the text has the status line and a line joining stdout to stderr; on a terminal
    // the status line redraws in place and is cleared, and `make light` adds its build line:
    // 41 here is 40 there.
    assert!(lines.len() <= 41, "{} lines:\n{all}", lines.len());
    // Ten seconds leave most targets inconclusive: what would settle them is one line.
    let unsettled = lines
        .iter()
        .filter(|l| l.contains(" inconclusive: "))
        .count();
    assert!(unsettled <= 2, "{all}");
    let head = lines
        .iter()
        .filter(|l| l.starts_with("metric (ms) "))
        .count();
    assert_eq!(head, 1, "one table: {all}");
    assert!(!all.contains("  Count: "), "no per-metric blocks: {all}");
    let summary = read_json(&dir.path().join("run/summary.json"));
    let md = std::fs::read_to_string(dir.path().join("run/summary.md")).unwrap();
    for v in summary["verdicts"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let unrecordable = v["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("not recorded by"));
        if v["kind"] == "latency" && unrecordable {
            // The probe's cache targets: no journey records them, one line names them all.
            let line = lines.iter().find(|l| l.starts_with("Not judged: "));
            assert!(line.is_some_and(|l| l.contains(name)), "{name}: {all}");
        } else if v["kind"] == "latency" {
            let row = lines.iter().find(|l| l.starts_with(&format!("{name} ")));
            assert!(row.is_some(), "no row for {name}: {all}");
        }
        if v["kind"] == "latency" && v["observed_ms"].is_f64() {
            assert!(
                md.contains(&format!("\n{name}:\n  Count: ")),
                "{name}: {md}"
            );
        }
    }
    for line in [
        "  Mean: ",
        "  Median: ",
        "  P95: ",
        "  P99: ",
        "  Min: ",
        "  Max: ",
    ] {
        assert!(md.contains(line), "{line}: {md}");
    }
    assert!(md.contains("✓ (Target: "), "{md}");
    let verdicts = lines
        .iter()
        .filter(|l| l.starts_with("✓ All performance targets MET"));
    assert_eq!(verdicts.count(), 1, "{all}");
}

/// A run of calls only speaks of calls — calls/s, calls failed — folds the targets its journey
/// cannot record into one line, and when the end of the run hangs up calls, says so with how
/// long a call takes and a run time that completes them.
#[test]
fn a_run_of_calls_speaks_in_calls_and_says_when_the_end_cut_them_short() {
    let dir = tmp();
    let args = [
        "run",
        "--scenarios",
        "phone_call",
        "-u",
        "2",
        "-r",
        "2",
        "-t",
        "24s",
        "--out",
        "run",
    ];
    let o = in_dir(dir.path(), &args, Duration::from_secs(90));
    let all = text(&o);
    let summary = read_json(&dir.path().join("run/summary.json"));
    let calls = &summary["totals"]["calls"];
    assert!(calls["completed"].as_u64().unwrap() >= 1, "{all}");
    assert!(calls["cut_short"].as_u64().unwrap() >= 1, "{all}");
    let line = |start: &str| all.lines().filter(|l| l.starts_with(start)).count();
    assert_eq!(line("Calls failed: 0.00% (0 of "), 1, "{all}");
    let throughput: Vec<&str> = all
        .lines()
        .filter(|l| l.starts_with("Throughput: "))
        .collect();
    assert!(
        throughput.len() == 1 && throughput[0].contains(" calls/s over "),
        "{all}"
    );
    assert!(
        !all.contains("req/s") && line("Error rate: ") == 0,
        "calls, not requests: {all}"
    );
    // Eight targets the phone call cannot record, in one line rather than eight rows.
    assert_eq!(line("Not judged: "), 1, "{all}");
    assert!(!all.contains("skipped: not recorded"), "{all}");
    let note = all
        .lines()
        .find(|l| l.contains("cut short by the end of the run: a call here takes about"))
        .unwrap_or_else(|| panic!("no note on calls cut short: {all}"));
    assert!(note.contains("-t "), "{note}");
}

/// Two users for six journeys: Goose gives each user one journey, so four get none. One line
/// says which; their targets are "not run", which fails nothing. (No think times: with them a
/// 5 s run could end before the voice journey's TTS step, and "no data" fails the run.)
#[test]
fn fewer_users_than_journeys_says_which_got_none_and_does_not_fail() {
    let dir = tmp();
    let args = [
        "run",
        "-u",
        "2",
        "-t",
        "5s",
        "--think-scale",
        "0",
        "--fixed-latency-ms",
        "10",
        "--out",
        "run",
    ];
    let o = in_dir(dir.path(), &args, Duration::from_secs(90));
    let all = text(&o);
    assert_passed(&o);
    let said: Vec<&str> = all.lines().filter(|l| l.starts_with("Not run: ")).collect();
    assert_eq!(said.len(), 1, "{all}");
    assert!(
        said[0].contains("company_lookup") && said[0].contains("2 users for 6 journeys"),
        "{all}"
    );
    for m in ["company:lookup", "search:query"] {
        let row = all.lines().find(|l| l.starts_with(&format!("{m} ")));
        assert!(row.is_some_and(|r| r.ends_with("– not run")), "{m}: {all}");
    }
    assert!(
        !all.contains("NO DATA") && !all.contains("no data\n"),
        "{all}"
    );
    let verdict = all
        .lines()
        .find(|l| l.starts_with("✓ All performance targets MET"));
    assert!(verdict.is_some_and(|v| v.contains("not run: ")), "{all}");
    let summary = read_json(&dir.path().join("run/summary.json"));
    let v = summary["verdicts"].as_array().unwrap().iter();
    let lookup = v.clone().find(|v| v["name"] == "company:lookup").unwrap();
    assert_eq!(lookup["status"], "not_run", "{lookup}");
    assert!(summary["not_run"]["names"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("company_lookup")));
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
