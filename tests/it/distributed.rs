//! Distributed runs: three local workers against one fixed-latency backend merge into the same
//! result as one process running all the users; two workers' call runs merge exactly; mixed runs
//! are refused; the Kubernetes manifests are well-formed.

use crate::support::{
    assert_passed, backend, count, fixed, metric, read_json, repo, spawn, text, tmp, voiceswarm,
    wait_with_deadline,
};
use std::process::Command;
use std::time::Duration;

fn scenario(dir: &std::path::Path) -> String {
    let f = dir.join("s.json");
    std::fs::write(&f, r#"{"scenarios": [{"name": "lookup", "steps": [{"name": "company:lookup", "path": "/api/v1/company/acme"}]}]}"#).unwrap();
    f.to_str().unwrap().to_string()
}

fn targets(dir: &std::path::Path) -> String {
    let f = dir.join("t.json");
    std::fs::write(
        &f,
        r#"{"error_rate": "1%", "metrics": {"company:lookup": {"limit": "500ms"}}}"#,
    )
    .unwrap();
    f.to_str().unwrap().to_string()
}

#[tokio::test]
async fn three_workers_merge_into_the_single_process_result() {
    let b = backend(fixed(20.0)).await;
    let dir = tmp();
    let (s, t) = (scenario(dir.path()), targets(dir.path()));
    let start_at = unix_seconds_from_now(2);
    let children: Vec<_> = (0..3)
        .map(|i| {
            let out = dir.path().join(format!("w{i}"));
            spawn_lookup_worker(&b.url(), &s, &t, i, &start_at, &out)
        })
        .collect();
    let outs = tokio::task::spawn_blocking(move || wait_all(children, Duration::from_secs(90)))
        .await
        .unwrap();
    for o in &outs {
        assert_passed(o);
    }
    assert_each_worker_ran_a_third_of_the_users(dir.path());
    let (url, s2, t2, d) = (b.url(), s.clone(), t.clone(), dir.path().to_path_buf());
    let (one, rep) = tokio::task::spawn_blocking(move || {
        let one = run_lookups_in_one_process(&url, &s2, &t2, &d.join("single"));
        (one, merge_workers(&d, 3))
    })
    .await
    .unwrap();
    assert_eq!(one.status.code(), Some(0), "{}", text(&one));
    assert_eq!(rep.status.code(), Some(0), "{}", text(&rep));
    assert_merged_matches_single(
        &read_json(&dir.path().join("merged/summary.json")),
        &read_json(&dir.path().join("single/summary.json")),
    );
}

/// Unix time `secs` seconds from now, in whole seconds, as `--start-at` takes it.
fn unix_seconds_from_now(secs: u64) -> String {
    (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + secs)
        .to_string()
}

/// The arguments of a run of `users` users (all started at once), `iterations` each, of the
/// scenario file `s` against `url`, judged by the targets file `t`.
fn run_args<'a>(
    url: &'a str,
    s: &'a str,
    t: &'a str,
    users: &'a str,
    iterations: &'a str,
) -> Vec<&'a str> {
    vec![
        "run",
        "-H",
        url,
        "--scenario-file",
        s,
        "--targets",
        t,
        "-u",
        users,
        "-r",
        users,
        "--iterations",
        iterations,
    ]
}

/// The arguments that make a run worker `index` of `workers` in run `run_id`, writing to `out`.
fn worker_args<'a>(
    workers: &'a str,
    index: &'a str,
    run_id: &'a str,
    out: &'a str,
) -> [&'a str; 8] {
    [
        "--workers",
        workers,
        "--worker-index",
        index,
        "--run-id",
        run_id,
        "--out",
        out,
    ]
}

/// Starts worker `i` of three (run `it-run`, six users × 20 lookups in all) writing to `out`.
fn spawn_lookup_worker(
    url: &str,
    s: &str,
    t: &str,
    i: usize,
    start_at: &str,
    out: &std::path::Path,
) -> std::process::Child {
    let (index, out) = (i.to_string(), out.to_str().unwrap());
    let mut args = run_args(url, s, t, "6", "20");
    args.extend(worker_args("3", &index, "it-run", out));
    args.extend(["--start-at", start_at]);
    spawn(&args, &[])
}

/// Waits for every child, each killed after `limit`.
fn wait_all(children: Vec<std::process::Child>, limit: Duration) -> Vec<std::process::Output> {
    children
        .into_iter()
        .map(|c| wait_with_deadline(c, limit))
        .collect()
}

/// Each of the three workers' `run.json` records its index, the shared run id and two users.
fn assert_each_worker_ran_a_third_of_the_users(dir: &std::path::Path) {
    for i in 0..3 {
        let run = read_json(&dir.join(format!("w{i}/run.json")));
        assert_eq!(
            run["plan"]["load"]["users"], 2,
            "each worker runs a third of the users"
        );
        assert_eq!(run["plan"]["worker"]["index"], i);
        assert_eq!(run["plan"]["worker"]["run_id"], "it-run");
    }
}

/// Runs the same six users × 20 lookups in one process, writing to `out`.
fn run_lookups_in_one_process(
    url: &str,
    s: &str,
    t: &str,
    out: &std::path::Path,
) -> std::process::Output {
    let mut args = run_args(url, s, t, "6", "20");
    args.extend(["--out", out.to_str().unwrap()]);
    voiceswarm(&args, Duration::from_secs(90))
}

/// `voiceswarm report` of the folders `w0`..`w{n-1}` under `dir` into `dir/merged`.
fn merge_workers(dir: &std::path::Path, n: usize) -> std::process::Output {
    let folders: Vec<String> = (0..n)
        .map(|i| dir.join(format!("w{i}")).to_str().unwrap().to_string())
        .collect();
    let merged = dir.join("merged");
    let mut args = vec!["report"];
    args.extend(folders.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    voiceswarm(&args, Duration::from_secs(30))
}

/// The merged totals equal the single process's exactly; its percentiles agree within noise.
fn assert_merged_matches_single(m: &serde_json::Value, s1: &serde_json::Value) {
    // Totals add up exactly: 6 users × 20 iterations either way.
    assert_eq!(m["totals"]["requests"], 120);
    assert_eq!(s1["totals"]["requests"], 120);
    assert_eq!(metric(m, "company:lookup")["count"], 120);
    // Percentiles agree within the histogram's precision plus run-to-run noise.
    for p in ["median_ms", "p90_ms"] {
        let (a, c) = (
            metric(m, "company:lookup")[p].as_f64().unwrap(),
            metric(s1, "company:lookup")[p].as_f64().unwrap(),
        );
        assert!(
            (a - c).abs() <= 3.0 + 0.1 * c,
            "{p}: merged {a} vs single {c}"
        );
    }
}

#[tokio::test]
async fn folders_of_different_runs_are_not_merged() {
    let b = backend(fixed(1.0)).await;
    let dir = tmp();
    let (s, t) = (scenario(dir.path()), targets(dir.path()));
    let d = dir.path().to_path_buf();
    let url = b.url();
    let (refused, forced) = tokio::task::spawn_blocking(move || {
        for (i, id) in ["run-a", "run-b"].iter().enumerate() {
            let o = voiceswarm(
                &[
                    "run",
                    "-H",
                    &url,
                    "--scenario-file",
                    &s,
                    "--targets",
                    &t,
                    "-u",
                    "2",
                    "-r",
                    "2",
                    "--iterations",
                    "2",
                    "--workers",
                    "2",
                    "--worker-index",
                    &i.to_string(),
                    "--run-id",
                    id,
                    "--out",
                    d.join(id).to_str().unwrap(),
                ],
                Duration::from_secs(60),
            );
            assert_passed(&o);
        }
        let (a, bb) = (d.join("run-a"), d.join("run-b"));
        let refused = voiceswarm(
            &["report", a.to_str().unwrap(), bb.to_str().unwrap()],
            Duration::from_secs(30),
        );
        let forced = voiceswarm(
            &[
                "report",
                "--allow-mixed",
                a.to_str().unwrap(),
                bb.to_str().unwrap(),
            ],
            Duration::from_secs(30),
        );
        (refused, forced)
    })
    .await
    .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("different runs"),
        "{}",
        text(&refused)
    );
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
}

#[test]
fn the_kubernetes_manifests_are_an_indexed_job_of_voiceswarm_workers() {
    let dir = repo().join("deploy/kubernetes");
    let job: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join("job.yaml")).unwrap()).unwrap();
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["parallelism"], spec["completions"]);
    let container = &spec["template"]["spec"]["containers"][0];
    let args: Vec<String> = container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let workers = args
        .iter()
        .position(|a| a == "--workers")
        .map(|i| args[i + 1].clone())
        .unwrap();
    assert_eq!(
        workers,
        spec["completions"].as_u64().unwrap().to_string(),
        "--workers matches the Job's completions"
    );
    assert!(
        args.iter().any(|a| a.contains("$(JOB_COMPLETION_INDEX)")),
        "each worker writes its own folder"
    );
    // The arguments parse as a voiceswarm command line (JOB_COMPLETION_INDEX gives the index).
    let mut argv = vec!["voiceswarm".to_string()];
    argv.extend(args.iter().map(|a| {
        a.replace("$(TARGET_HOST)", "https://x.example")
            .replace("$(VOICESWARM_RUN_ID)", "r")
            .replace("$(JOB_COMPLETION_INDEX)", "0")
    }));
    argv.extend([
        "--worker-index".into(),
        "0".into(),
        "--run-id".into(),
        "r".into(),
    ]);
    voiceswarm::cli::try_parse_from(argv)
        .expect("the Job's args are a valid voiceswarm command line");
    for f in ["results-pvc.yaml", "collector.yaml"] {
        let v: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap();
        assert!(v["kind"].as_str().is_some(), "{f}");
    }
    // kubectl's client-side dry run needs an API server for discovery: a developer with a
    // cluster asks for it with VOICESWARM_TEST_KUBECTL=1 (CI's machine has none).
    if std::env::var_os("VOICESWARM_TEST_KUBECTL").is_some() {
        let o = Command::new("kubectl")
            .args(["apply", "--dry-run=client", "-f", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// Two workers share a call run's callers (two each, one call apiece) against the reference bot;
/// `report` merges their folders exactly: every call, turn and frame counted once, none lost.
#[tokio::test]
async fn two_workers_call_runs_merge_exactly() {
    let b = backend(voiceswarm_backend::BackendConfig {
        fixed_latency_ms: Some(20.0),
        endpoint_ms: 200,
        cache_ttl: 0,
        ..Default::default()
    })
    .await;
    let dir = tmp();
    let call = r#"{"path": "/ws/twilio", "turns": [{"say": "speech"}, {"say": "speech"}], "pause": ["100ms", "100ms"]}"#;
    let (s, t) = crate::calls::call_files(dir.path(), call);
    let (url, d) = (b.url(), dir.path().to_path_buf());
    let outs = tokio::task::spawn_blocking(move || {
        let children: Vec<_> = (0..2)
            .map(|i| spawn_call_worker(&url, &s, &t, i, &d.join(format!("w{i}"))))
            .collect();
        let mut outs = wait_all(children, Duration::from_secs(90));
        outs.push(merge_workers(&d, 2));
        outs
    })
    .await
    .unwrap();
    for o in &outs {
        assert_passed(o);
    }
    let workers: Vec<_> = (0..2)
        .map(|i| read_json(&dir.path().join(format!("w{i}/summary.json"))))
        .collect();
    let m = read_json(&dir.path().join("merged/summary.json"));
    assert_every_call_turn_and_frame_counted_once(&workers, &m);
    assert_merged_median_lies_between_the_workers(&workers, &m);
}

/// Starts worker `i` of two (run `call-run`, four callers × one call in all) writing to `out`.
fn spawn_call_worker(
    url: &str,
    s: &str,
    t: &str,
    i: usize,
    out: &std::path::Path,
) -> std::process::Child {
    let (index, out) = (i.to_string(), out.to_str().unwrap());
    let mut args = run_args(url, s, t, "4", "1");
    args.extend(worker_args("2", &index, "call-run", out));
    spawn(&args, &[])
}

/// Each worker completed two calls, the merge four with none failed, and every call metric's
/// merged count is the sum of the workers' (eight voice-to-voice turns).
fn assert_every_call_turn_and_frame_counted_once(
    workers: &[serde_json::Value],
    m: &serde_json::Value,
) {
    for w in workers {
        assert_eq!(w["totals"]["calls"]["completed"], 2, "{}", w["totals"]);
    }
    assert_eq!(m["totals"]["calls"]["completed"], 4, "{}", m["totals"]);
    assert_eq!(m["totals"]["calls"]["failed"], 0, "{}", m["totals"]);
    for name in ["call:voice_to_voice", "call:frame_lateness", "call:connect"] {
        let sum: u64 = workers.iter().map(|w| count(w, name)).sum();
        assert_eq!(
            count(m, name),
            sum,
            "{name}: the merge counts every sample once"
        );
    }
    assert_eq!(
        count(m, "call:voice_to_voice"),
        8,
        "two turns of four calls"
    );
}

/// The merged median lies between the workers' (one histogram, not an average of medians).
fn assert_merged_median_lies_between_the_workers(
    workers: &[serde_json::Value],
    m: &serde_json::Value,
) {
    let median = |s: &serde_json::Value| {
        metric(s, "call:voice_to_voice")["median_ms"]
            .as_f64()
            .unwrap()
    };
    let (lo, hi) = (
        median(&workers[0]).min(median(&workers[1])),
        median(&workers[0]).max(median(&workers[1])),
    );
    assert!(
        (lo - 1.0..=hi + 1.0).contains(&median(m)),
        "{} not within {lo}..{hi}",
        median(m)
    );
}
