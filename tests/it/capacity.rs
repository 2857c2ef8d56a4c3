//! `voiceswarm capacity` against the reference backend with a known capacity: 4 company workers
//! of exactly 50 ms serve at most 80 requests/s, so users who each make one request every 0.5 s
//! saturate it at 40; the search must find about that, in a bounded number of steps.

use crate::support::{read_json, text, tmp, voiceswarm};
use std::time::Duration;
use voiceswarm_results::chart::nice_scale;

fn scenario(dir: &std::path::Path) -> String {
    let f = dir.join("s.json");
    std::fs::write(
        &f,
        r#"{"scenarios": [{"name": "lookup", "think": {"fixed": "450ms"},
            "steps": [{"name": "company:lookup", "path": "/api/v1/company/acme"}]}]}"#,
    )
    .unwrap();
    f.to_str().unwrap().to_string()
}

/// The knee and the SLO's dashed 100 ms limit sit where the chart's scales put them: the load on
/// 0..a nice top across the plot's 70..690 px, milliseconds on 0..a nice top up its 370..56 px
/// (one legend row).
fn knee_and_slo_land_on_the_scales(svg: &str, c: &serde_json::Value, users: u64) {
    let steps = c["steps"].as_array().unwrap();
    let loads = steps.iter().map(|s| s["users"].as_f64().unwrap());
    let (_, x_top) = nice_scale(loads.fold(0.0, f64::max), 5);
    let x = 70.0 + users as f64 / x_top * 620.0;
    assert!(
        svg.contains(&format!(
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="56.0" y2="370.0""#
        )),
        "knee at {x:.1}: {svg}"
    );
    let p90s = steps
        .iter()
        .flat_map(|s| s["metrics"].as_array().unwrap().iter());
    let p90s = p90s.map(|m| m["p90_ms"].as_f64().unwrap());
    let (_, y_top) = nice_scale(p90s.fold(100.0, f64::max), 5);
    let y = 370.0 - 100.0 / y_top * 314.0;
    assert!(
        svg.contains(&format!(r#"d="M70.0 {y:.1} L"#)) && svg.contains("company:lookup SLO 100 ms"),
        "the SLO at {y:.1}: {svg}"
    );
}

#[test]
fn finds_the_known_capacity_within_15_percent() {
    let dir = tmp();
    let s = scenario(dir.path());
    let out = dir.path().join("cap");
    let o = voiceswarm(
        &[
            "capacity",
            "--scenario-file",
            &s,
            "--slo",
            "company:lookup p90<100ms",
            "--start-users",
            "5",
            "--step-time",
            "2s",
            "--workers-per-component",
            "4",
            "--fixed-latency-ms",
            "50",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(180),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let c = read_json(&out.join("capacity.json"));
    let rps = c["max_sustainable_rps"].as_f64().unwrap();
    let users = c["max_sustainable_users"].as_u64().unwrap();
    assert!(
        (68.0..=92.0).contains(&rps),
        "capacity {rps} req/s, theory 80"
    );
    assert!(
        (34..=50).contains(&users),
        "capacity {users} users, theory 40 to 44"
    );
    let steps = c["steps_run"].as_u64().unwrap();
    assert!(steps <= 12, "{steps} steps");
    assert!(c["first_failing_users"].as_u64().unwrap() > users);
    assert!(all.contains("Maximum sustainable load:"), "{all}");
    let svg = std::fs::read_to_string(out.join("capacity.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains(&format!("capacity: {users} users")));
    knee_and_slo_land_on_the_scales(&svg, &c, users);
    assert!(std::fs::read_to_string(out.join("capacity.html"))
        .unwrap()
        .contains("<svg"));
    // The step at the capacity is judged in full, like any run.
    crate::support::assert_folder_matches_schemas(&out);
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["kind"], "capacity");
    assert!(s["label"]
        .as_str()
        .unwrap()
        .contains(&format!("{users} users")));
    let again = voiceswarm(&["report", out.to_str().unwrap()], Duration::from_secs(30));
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn a_start_load_that_breaks_the_slo_is_exit_1() {
    let dir = tmp();
    let s = scenario(dir.path());
    let out = dir.path().join("cap");
    let o = voiceswarm(
        &[
            "capacity",
            "--scenario-file",
            &s,
            "--slo",
            "company:lookup p90<100ms",
            "--start-users",
            "100",
            "--step-time",
            "2s",
            "--workers-per-component",
            "4",
            "--fixed-latency-ms",
            "50",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let c = read_json(&out.join("capacity.json"));
    assert_eq!(c["steps_run"], 1);
    assert!(c["max_sustainable_users"].is_null());
    assert!(c["stopped_because"]
        .as_str()
        .unwrap()
        .contains("start load"));
}

#[test]
fn bad_slos_are_exit_2() {
    let o = voiceswarm(
        &["capacity", "--slo", "voice turn under 500"],
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("--slo") && e.contains("'voice turn under 500'"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}

/// A metric the journeys never record, in the targets file or an --slo, is refused before any
/// step runs (it was a silent NO DATA): one line naming it, exit 2.
#[test]
fn an_unknown_metric_is_refused_before_any_step() {
    let dir = tmp();
    let targets = dir.path().join("targets.json");
    std::fs::write(
        &targets,
        r#"{"error_rate": "1%", "metrics": {"pipeline:voice_trun": {"percentile": "p90", "limit": "500ms"}}}"#,
    )
    .unwrap();
    let o = voiceswarm(
        &["capacity", "--targets", targets.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("pipeline:voice_trun") && e.contains("unknown metric"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    let o = voiceswarm(
        &["capacity", "--slo", "pipeline:voice_trun p90<500ms"],
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("--slo") && e.contains("pipeline:voice_trun"),
        "{e}"
    );
}

/// In arrival mode the search grows the rate: 4 workers of 50 ms serve 80 arrivals/s at most,
/// so the highest rate within a 100 ms P90 and without drops is below that.
#[test]
fn finds_the_arrival_rate_capacity() {
    let dir = tmp();
    let s = scenario(dir.path()).replace("s.json", "one.json");
    std::fs::write(
        &s,
        r#"{"scenarios": [{"name": "lookup", "steps": [{"name": "company:lookup", "path": "/api/v1/company/acme"}]}]}"#,
    )
    .unwrap();
    let out = dir.path().join("cap");
    let o = voiceswarm(
        &[
            "capacity",
            "--arrivals",
            "--scenario-file",
            &s,
            "--slo",
            "company:lookup p90<100ms",
            "--start-rate",
            "10/s",
            "--step-time",
            "2s",
            "--workers-per-component",
            "4",
            "--fixed-latency-ms",
            "50",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(240),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let c = read_json(&out.join("capacity.json"));
    let rate = c["max_sustainable_arrival_rate"].as_f64().unwrap();
    assert!(
        (50.0..=82.0).contains(&rate),
        "capacity {rate}/s, theory below 80/s"
    );
    assert!(
        c["steps"][0]["arrival_rate"].as_f64() == Some(10.0),
        "{}",
        c["steps"][0]
    );
    assert!(all.contains("arrivals/s"), "{all}");
    let svg = std::fs::read_to_string(out.join("capacity.svg")).unwrap();
    assert!(svg.contains("arrivals/s"));
}
