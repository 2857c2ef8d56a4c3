//! Results in the monitoring stack, against the real thing: a real Prometheus server scrapes a
//! run live from `--prometheus-listen` and its `histogram_quantile` P90 agrees with
//! summary.json's within one bucket; a real Pushgateway receives `--prometheus-push`; the
//! `--cloudwatch-emf` lines validate against the EMF specification; and every metric the
//! shipped Grafana and CloudWatch dashboards and alarms name is one voiceswarm writes.
//! `.ci/run` installs prometheus and prometheus-pushgateway (scripts/install-test-deps.sh).

use crate::support::{
    get_text as get, read_json, repo, spawn, text, tmp, wait_for_port, wait_with_deadline,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use voiceswarm_results::export::prometheus::BUCKETS_S;

/// A child process killed on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `text` percent-encoded for a URL query.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A Prometheus server scraping, every second, the targets written later into targets.json.
fn prometheus(dir: &Path) -> (Daemon, String) {
    let port = free_port();
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}\n\
         scrape_configs:\n  - job_name: voiceswarm\n    file_sd_configs:\n      - files: ['{}']\n        refresh_interval: 1s\n",
        dir.join("targets.json").display()
    );
    std::fs::write(dir.join("targets.json"), "[]").unwrap();
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is installed (apt-get install prometheus; .ci/run does it)");
    let daemon = Daemon(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&format!("{url}/-/ready")).is_none() {
        assert!(Instant::now() < deadline, "prometheus did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    (daemon, url)
}

/// One value of a PromQL instant query (None: no result).
fn query(prom: &str, promql: &str) -> Option<f64> {
    let r = crate::support::get_json(&format!("{prom}/api/v1/query?query={}", encoded(promql)))?;
    let v = r["data"]["result"].get(0)?["value"][1].as_str()?;
    v.parse().ok()
}

/// The bucket (index into the bounds, +Inf last) a value in seconds falls in.
fn bucket_of(seconds: f64) -> usize {
    BUCKETS_S.partition_point(|&b| b < seconds)
}

/// Sample names of an exposition (`voiceswarm_requests_total`, `…_bucket`).
fn sample_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(String::from)
        .collect()
}

/// Every `voiceswarm_…` name in the `expr` fields of a Grafana dashboard.
fn grafana_names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x.as_str()) {
                    ("expr" | "query" | "definition", Some(e)) => {
                        for (i, _) in e.match_indices("voiceswarm_") {
                            let name: String = e[i..]
                                .chars()
                                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                                .collect();
                            out.insert(name);
                        }
                    }
                    _ => grafana_names(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| grafana_names(x, out)),
        _ => {}
    }
}

/// The units CloudWatch accepts in a metric definition (the EMF specification's list).
const EMF_UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// The EMF specification's rules for one line (docs.aws.amazon.com, CloudWatch "Specification:
/// Embedded metric format"): a JSON object whose `_aws` holds a millisecond `Timestamp` and
/// `CloudWatchMetrics` directives; each directive a namespace, dimension sets of at most 30
/// keys and at most 100 metric definitions with a valid unit; every dimension a root string
/// member (1–1,024 ASCII characters), every metric a root number (or at most 100 numbers).
fn check_emf(line: &str) -> Result<(), String> {
    if line.len() > 256 * 1024 {
        return Err("over 256 KB".into());
    }
    let root: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let aws = root.get("_aws").ok_or("no _aws")?;
    let ts = aws["Timestamp"]
        .as_i64()
        .ok_or("Timestamp is not an integer")?;
    if ts < 1_000_000_000_000 {
        return Err("Timestamp is not in milliseconds".into());
    }
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .ok_or("no CloudWatchMetrics")?;
    if directives.is_empty() {
        return Err("CloudWatchMetrics is empty".into());
    }
    for d in directives {
        let ns = d["Namespace"].as_str().ok_or("no Namespace")?;
        if ns.trim().is_empty() || ns.len() > 255 {
            return Err("bad Namespace".into());
        }
        check_emf_dimension_sets(&root, d)?;
        check_emf_metric_definitions(&root, d)?;
    }
    Ok(())
}

/// One directive's dimension sets: at most 30 keys each, every key a root string member of
/// 1–1,024 ASCII characters.
fn check_emf_dimension_sets(root: &Value, d: &Value) -> Result<(), String> {
    for set in d["Dimensions"].as_array().ok_or("no Dimensions")? {
        let keys = set.as_array().ok_or("a dimension set is not an array")?;
        if keys.len() > 30 {
            return Err(format!("{} dimension keys", keys.len()));
        }
        for k in keys {
            let v = root[k.as_str().ok_or("a dimension key is not a string")?].as_str();
            let v = v.ok_or(format!("dimension {k} has no string member"))?;
            if v.trim().is_empty() || v.len() > 1024 || !v.is_ascii() {
                return Err(format!("dimension {k}: bad value"));
            }
        }
    }
    Ok(())
}

/// One directive's metric definitions: 1–100 of them, each unit a CloudWatch unit, each metric a
/// root number or an array of at most 100 numbers.
fn check_emf_metric_definitions(root: &Value, d: &Value) -> Result<(), String> {
    let metrics = d["Metrics"].as_array().ok_or("no Metrics")?;
    if metrics.is_empty() || metrics.len() > 100 {
        return Err(format!("{} metric definitions", metrics.len()));
    }
    for m in metrics {
        let name = m["Name"].as_str().ok_or("a metric without Name")?;
        if let Some(u) = m.get("Unit") {
            if !EMF_UNITS.contains(&u.as_str().unwrap_or("")) {
                return Err(format!("{name}: unit {u} is not a CloudWatch unit"));
            }
        }
        match &root[name] {
            Value::Number(_) => {}
            Value::Array(a) if a.len() <= 100 && a.iter().all(Value::is_number) => {}
            other => return Err(format!("{name}: {other} is not a number")),
        }
    }
    Ok(())
}

#[test]
fn the_emf_checker_refuses_what_the_specification_forbids() {
    let good = r#"{"metric":"run","ErrorRate":0.5,"_aws":{"Timestamp":1795738585004,"CloudWatchMetrics":[{"Namespace":"voiceswarm","Dimensions":[["metric"]],"Metrics":[{"Name":"ErrorRate","Unit":"Percent"}]}]}}"#;
    assert_eq!(check_emf(good), Ok(()));
    let many: Vec<String> = (0..31).map(|i| format!("\"d{i}\"")).collect();
    for (from, to) in [
        ("\"Timestamp\":1795738585004,", ""),
        ("\"Percent\"", "\"Percents\""),
        ("\"ErrorRate\":0.5", "\"ErrorRate\":\"0.5\""),
        ("\"metric\":\"run\",", ""),
        ("[[\"metric\"]]", &format!("[[{}]]", many.join(","))),
    ] {
        let bad = good.replacen(from, to, 1);
        assert!(check_emf(&bad).is_err(), "accepted: {bad}");
    }
}

/// A load run on the built-in backend, every journey with a user, `extra` flags added; its
/// folder and what it printed. `on_line` sees each line of its output as it comes.
fn export_run(dir: &Path, extra: &[&str], mut on_line: impl FnMut(&str)) -> (Option<i32>, String) {
    let out = dir.join("run");
    let mut args = vec![
        "run",
        "-u",
        "13",
        "-r",
        "13",
        "-t",
        "8s",
        "--think-scale",
        "0.2",
        "--out",
    ];
    let out_text = out.display().to_string();
    args.push(&out_text);
    args.extend_from_slice(extra);
    let mut child = spawn(&args, &[]);
    let stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        on_line(&line);
        printed.push_str(&line);
        printed.push('\n');
    }
    let o = wait_with_deadline(child, Duration::from_secs(120));
    (o.status.code(), format!("{printed}{}", text(&o)))
}

#[test]
fn prometheus_scrapes_a_run_live_and_agrees_with_the_summary() {
    let dir = tmp();
    let (_prometheus, prom) = prometheus(dir.path());
    let emf = dir.path().join("emf.jsonl");
    let emf_text = emf.display().to_string();
    let targets = dir.path().join("targets.json");
    let mut metrics_url = None;
    let mut live = String::new();
    let mut final_names = BTreeSet::new();
    let flags = [
        "--prometheus-listen",
        "127.0.0.1:0",
        "--prometheus-linger",
        "4s",
        "--label",
        "version=9.9.9",
        "--cloudwatch-emf",
        &emf_text,
    ];
    let (code, all) = export_run(dir.path(), &flags, |line| {
        if let Some(url) = line.strip_prefix("Prometheus metrics: ") {
            let addr = url
                .trim_start_matches("http://")
                .trim_end_matches("/metrics");
            std::fs::write(&targets, format!(r#"[{{"targets": ["{addr}"]}}]"#)).unwrap();
            metrics_url = Some(url.to_string());
        } else if line.starts_with("All 13 users launched") {
            // While the run goes: voiceswarm's own histograms, with the run's labels.
            std::thread::sleep(Duration::from_secs(3));
            live = get(metrics_url.as_deref().unwrap()).unwrap_or_default();
        } else if line.starts_with("Serving the final figures") {
            let after = get(metrics_url.as_deref().unwrap()).unwrap_or_default();
            final_names = sample_names(&after);
        }
    });
    assert!(code == Some(0) || code == Some(1), "{all}");
    assert!(
        live.contains("voiceswarm_latency_seconds_bucket{")
            && live.contains(r#"metric="pipeline:voice_turn""#)
            && live.contains(r#"version="9.9.9""#),
        "live /metrics: {live}"
    );
    assert!(
        final_names.contains("voiceswarm_target_met"),
        "{final_names:?}"
    );

    // Prometheus's P90 from the scraped buckets lies within one bucket of summary.json's.
    let summary = read_json(&dir.path().join("run/summary.json"));
    let turn = crate::support::metric(&summary, "pipeline:voice_turn");
    let p90_s = turn["p90_ms"].as_f64().unwrap() / 1000.0;
    let promql = r#"histogram_quantile(0.9, sum by (le) (last_over_time(voiceswarm_latency_seconds_bucket{metric="pipeline:voice_turn", version="9.9.9"}[5m])))"#;
    let prom_p90 = query(&prom, promql).unwrap_or_else(|| panic!("no P90 from Prometheus; {all}"));
    let (a, b) = (bucket_of(p90_s), bucket_of(prom_p90));
    assert!(
        a.abs_diff(b) <= 1,
        "Prometheus P90 {prom_p90}s (bucket {b}) vs summary {p90_s}s (bucket {a})"
    );
    let count = query(
        &prom,
        r#"last_over_time(voiceswarm_latency_seconds_count{metric="pipeline:voice_turn"}[5m])"#,
    );
    assert_eq!(count, turn["count"].as_f64(), "the final count was scraped");

    // The EMF lines validate, one per metric plus the run's.
    let lines: Vec<String> = std::fs::read_to_string(&emf)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        lines.len(),
        summary["metrics"].as_array().unwrap().len() + 1
    );
    for l in &lines {
        check_emf(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    dashboards_name_only_what_voiceswarm_writes(&final_names, &lines);
}

/// The shipped Grafana dashboard's metrics are among `names` (a real scrape's); the CloudWatch
/// dashboard's and alarms' (namespace, metric, dimensions) among the EMF `lines`.
fn dashboards_name_only_what_voiceswarm_writes(names: &BTreeSet<String>, lines: &[String]) {
    let grafana = read_json(&repo().join("deploy/grafana/voiceswarm.json"));
    let mut used = BTreeSet::new();
    grafana_names(&grafana, &mut used);
    assert!(used.len() >= 6, "{used:?}");
    for n in &used {
        assert!(
            names.contains(n),
            "the Grafana dashboard names {n}, not written: {names:?}"
        );
    }
    // (metric dimension, metric name, dimension keys) of every EMF metric.
    let mut written = BTreeSet::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        let d = &v["_aws"]["CloudWatchMetrics"][0];
        for set in d["Dimensions"].as_array().unwrap() {
            let keys: Vec<String> = serde_json::from_value(set.clone()).unwrap();
            for m in d["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap().to_string();
                written.insert((
                    v["metric"].as_str().unwrap().to_string(),
                    name,
                    keys.join(","),
                ));
            }
        }
    }
    let check = |metric: &str, name: &str, keys: Vec<&str>, file: &str| {
        let key = (metric.to_string(), name.to_string(), keys.join(","));
        assert!(written.contains(&key), "{file} names {key:?}, not written");
    };
    let board = read_json(&repo().join("deploy/cloudwatch/dashboard.json"));
    let mut seen = 0;
    for w in board["widgets"].as_array().unwrap() {
        for m in w["properties"]["metrics"].as_array().unwrap() {
            let parts: Vec<&str> = m
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(parts[0], "voiceswarm");
            let keys: Vec<&str> = parts[2..].iter().step_by(2).copied().collect();
            check(parts[3], parts[1], keys, "dashboard.json");
            seen += 1;
        }
    }
    assert!(seen >= 8);
    for file in ["alarm-p90.json", "alarm-error-rate.json"] {
        let a = read_json(&repo().join("deploy/cloudwatch").join(file));
        assert_eq!(a["Namespace"], "voiceswarm");
        let dims = a["Dimensions"].as_array().unwrap();
        let keys: Vec<&str> = dims.iter().map(|d| d["Name"].as_str().unwrap()).collect();
        let metric = dims.iter().find(|d| d["Name"] == "metric").unwrap()["Value"]
            .as_str()
            .unwrap();
        check(metric, a["MetricName"].as_str().unwrap(), keys, file);
    }
}

#[test]
fn the_pushgateway_receives_the_final_figures_with_the_labels() {
    let dir = tmp();
    let port = free_port();
    let gateway = Command::new("prometheus-pushgateway")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-pushgateway is installed (.ci/run installs it)");
    let gateway = Daemon(gateway);
    wait_for_port(port);
    let url = format!("http://127.0.0.1:{port}");
    let (code, all) = export_run(
        dir.path(),
        &["--prometheus-push", &url, "--label", "deploy=abc123"],
        |_| {},
    );
    assert!(code == Some(0) || code == Some(1), "{all}");
    assert!(all.contains("Pushed the final figures"), "{all}");
    let summary = read_json(&dir.path().join("run/summary.json"));
    let pushed = get(&format!("{url}/metrics")).unwrap();
    let sample = |prefix: &str| -> f64 {
        let line = pushed
            .lines()
            .find(|l| {
                l.starts_with(prefix)
                    && l.contains(r#"deploy="abc123""#)
                    && l.contains(r#"job="voiceswarm""#)
            })
            .unwrap_or_else(|| panic!("no {prefix} in {pushed}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(
        sample("voiceswarm_requests_total{"),
        summary["totals"]["requests"].as_f64().unwrap()
    );
    let turn = crate::support::metric(&summary, "pipeline:voice_turn");
    let count = pushed
        .lines()
        .find(|l| {
            l.starts_with("voiceswarm_latency_seconds_count{")
                && l.contains(r#"metric="pipeline:voice_turn""#)
        })
        .unwrap();
    assert!(count.ends_with(&format!(" {}", turn["count"])), "{count}");
    assert!(pushed.contains(r#"profile="custom""#) && pushed.contains(r#"host="built-in""#));

    // A gateway that is gone: the run folder is complete, the failed push is exit 2, one line.
    drop(gateway);
    let d2 = tmp();
    let (code, all) = export_run(d2.path(), &["--prometheus-push", &url], |_| {});
    assert_eq!(code, Some(2), "{all}");
    assert!(
        all.contains("voiceswarm: error: --prometheus-push: http://127.0.0.1"),
        "{all}"
    );
    assert!(d2.path().join("run/summary.json").exists());
}

#[test]
fn bad_export_flags_are_one_line_exit_2() {
    let dir = tmp();
    let missing = dir.path().join("no/such/folder/emf.jsonl");
    for (flags, needle) in [
        (vec!["--prometheus-listen", "9464"], "--prometheus-listen"),
        (
            vec!["--prometheus-push", "pushgateway:9091"],
            "--prometheus-push",
        ),
        (vec!["--prometheus-linger", "5"], "--prometheus-linger"),
        (
            vec!["--cloudwatch-emf", missing.to_str().unwrap()],
            "--cloudwatch-emf",
        ),
        (vec!["--label", "host=x"], "reserved"),
    ] {
        let mut args = vec!["run", "-t", "1s"];
        args.extend_from_slice(&flags);
        let o = crate::support::voiceswarm(&args, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", text(&o));
        assert!(err.contains(needle), "{flags:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{flags:?}: {err}");
    }
}
