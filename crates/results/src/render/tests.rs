//! The run outputs' one list: every file it names comes from `files`, summary.json is written
//! last, the verdict goes into Goose's page only when there is one, and JSON that cannot be
//! written leaves no file.

use super::*;
use voiceswarm_model::files::{
    HISTOGRAMS_JSON, JUNIT_XML, REPORT_HTML, SUMMARY_JSON, SUMMARY_MD, TARGETS_JSON,
};
use voiceswarm_model::stats::{summarize, Recorder, RunInfo, Targets};

const TARGETS: &str = r#"{"error_rate":"1%","metrics":{"stt:transcribe":{"limit":"100ms"}}}"#;

fn judged() -> (Summary, Recording) {
    let r = Recorder::new(1);
    r.record_us(0, "stt:transcribe", 42_000);
    r.count(0, voiceswarm_model::vocab::counter::REQUESTS, 1);
    let rec = r.snapshot();
    let targets = Targets::parse(TARGETS, "t").expect("targets");
    let info = RunInfo {
        duration_s: 1.0,
        ..Default::default()
    };
    (summarize(&rec, &targets, &info), rec)
}

#[test]
fn the_run_outputs_write_every_file_summary_json_last() {
    let outputs = run_outputs(TARGETS, true);
    let names: Vec<Option<&str>> = outputs.iter().map(|o| o.file_name()).collect();
    assert_eq!(
        names,
        [
            Some(HISTOGRAMS_JSON),
            Some(TARGETS_JSON),
            Some(SUMMARY_MD),
            Some(JUNIT_XML),
            Some(REPORT_HTML),
            Some(SUMMARY_JSON),
            None
        ]
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (summary, recording) = judged();
    let run = Judged {
        summary: &summary,
        recording: &recording,
    };
    write_results(dir.path(), run, &run_outputs(TARGETS, false)).expect("written");
    for f in [
        HISTOGRAMS_JSON,
        TARGETS_JSON,
        SUMMARY_MD,
        JUNIT_XML,
        SUMMARY_JSON,
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    assert!(
        !dir.path().join(REPORT_HTML).exists(),
        "no Goose page, none made"
    );
    let back: Summary =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(SUMMARY_JSON)).unwrap())
            .expect("summary.json reads back");
    assert_eq!(back, summary);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(TARGETS_JSON)).unwrap(),
        TARGETS
    );
}

#[test]
fn the_verdict_goes_to_the_top_of_goose_s_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join(REPORT_HTML);
    std::fs::write(
        &page,
        "<html><body><h1>Goose Attack Report</h1><p>tables</p></body></html>",
    )
    .unwrap();
    let (summary, recording) = judged();
    let run = Judged {
        summary: &summary,
        recording: &recording,
    };
    html::VerdictSection.write(&run, dir.path()).expect("added");
    let text = std::fs::read_to_string(&page).unwrap();
    let (verdict, tables) = (text.find("voiceswarm verdict"), text.find("tables"));
    assert!(
        text.find("Goose Attack Report") < verdict && verdict < tables,
        "{text}"
    );
    assert!(text.contains("<td>stt:transcribe</td>"), "{text}");
}

#[test]
fn json_that_cannot_be_written_is_an_error_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = std::collections::HashMap::from([((1, 2), 3)]);
    assert!(data::Json("x.json").write(&bad, dir.path()).is_err());
    assert!(!dir.path().join("x.json").exists());
    data::Json("x.json")
        .write(&[1, 2], dir.path())
        .expect("written");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("x.json")).unwrap(),
        "[\n  1,\n  2\n]\n"
    );
}

/// Two journeys, one user: `voice` got none, so stt:transcribe is not run.
fn one_user_two_journeys() -> Summary {
    let r = Recorder::new(1);
    for us in [40_000, 42_000, 44_000] {
        r.record_us(0, "llm:complete", us);
    }
    r.record_us(0, "session:create", 700);
    r.count(0, voiceswarm_model::vocab::counter::REQUESTS, 4);
    let rec = r.snapshot();
    let targets = Targets::parse(
        r#"{"error_rate":"1%","metrics":{"stt:transcribe":{"limit":"100ms"},
            "llm:complete":{"limit":"300ms","percentile":"p75"}}}"#,
        "t",
    )
    .expect("targets");
    let set = |m: &[&str]| m.iter().map(|s| s.to_string()).collect();
    let journeys = vec![
        ("chat".to_string(), set(&["llm:complete", "session:create"])),
        ("voice".to_string(), set(&["stt:transcribe"])),
    ];
    let info = RunInfo {
        duration_s: 1.0,
        not_run: voiceswarm_model::stats::JourneysNotRun::find(&journeys, 1, &rec),
        ..Default::default()
    };
    summarize(&rec, &targets, &info)
}

#[test]
fn the_console_is_one_table_a_row_per_metric_then_one_verdict_line() {
    let text = console::render(&one_user_two_journeys());
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("metric (ms)"))
        .expect("a table");
    for col in [
        "count", "mean", "P50", "P90", "P95", "P99", "max", "target", "result",
    ] {
        assert!(lines[head].contains(col), "{col}: {text}");
    }
    // Targets first (a P75 target shows its value), then the metric without one.
    assert!(lines[head + 1].starts_with("llm:complete"), "{text}");
    assert!(lines[head + 1].contains("P75 < 300ms (P75 "), "{text}");
    // Met on three samples: its P75's interval (40.00 ms to no upper bound) straddles the limit.
    assert!(
        lines[head + 1].ends_with("✓ met (inconclusive) (40.00–?)"),
        "{text}"
    );
    assert!(lines[head + 2].starts_with("stt:transcribe"), "{text}");
    assert!(lines[head + 2].ends_with("– not run"), "{text}");
    assert!(lines[head + 3].starts_with("session:create"), "{text}");
    assert!(
        lines[head + 3].trim_end().ends_with("0.70"),
        "no target, no mark: {text}"
    );
    assert!(!text.contains("Count:"), "no per-metric blocks: {text}");
    let not_run: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("Not run: "))
        .collect();
    assert_eq!(not_run.len(), 1, "{text}");
    assert!(
        not_run[0].contains("voice got no user (1 user for 2 journeys"),
        "{text}"
    );
    assert_eq!(
        lines.last(),
        Some(&"✓ All performance targets MET (1 not run: stt:transcribe)")
    );
}

#[test]
fn summary_md_keeps_the_seed_s_block_of_every_judged_metric() {
    let md = markdown::render(&one_user_two_journeys());
    let block = md.split("```text\n").nth(1).expect("the blocks");
    for line in [
        "llm:complete:",
        "  Count: 3",
        "  Mean: ",
        "  Median: ",
        "  P90: ",
    ] {
        assert!(block.contains(line), "{line}: {md}");
    }
    assert!(
        block.contains("  P75: ") && block.contains("✓ (Target: 300ms)"),
        "{md}"
    );
    for line in ["  P95: ", "  P99: ", "  Min: 40.", "  Max: 44."] {
        assert!(block.contains(line), "{line}: {md}");
    }
    assert!(
        md.contains("| `stt:transcribe` | not run: no user ran its journey"),
        "{md}"
    );
}
