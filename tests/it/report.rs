//! The run folder's files and `voiceswarm report`: summary.json against its JSON Schema,
//! well-formed JUnit XML, lossless merge of folders, and baseline comparison.

use crate::support::{read_json, repo, text, tmp, voiceswarm};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn probe(dir: &Path, name: &str, ms: &str) -> PathBuf {
    probe_samples(dir, name, ms, "30")
}

/// A probe of stt, company and search, `samples` calls each, every stage taking `ms`.
fn probe_samples(dir: &Path, name: &str, ms: &str, samples: &str) -> PathBuf {
    let out = dir.join(name);
    let o = voiceswarm(
        &[
            "probe",
            "--samples",
            samples,
            "--warmup",
            "1",
            "--fixed-latency-ms",
            ms,
            "--only",
            "stt,company,search",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    out
}

/// The committed schemas are generated from the types; VOICESWARM_WRITE_SCHEMAS=1 (`make
/// schemas`) writes them again after a change.
#[test]
fn schemas_are_generated_from_the_types() {
    for (name, schema) in voiceswarm_results::folder::schema::all() {
        let path = repo().join("schemas").join(name);
        let mut text = serde_json::to_string_pretty(&schema).unwrap();
        text.push('\n');
        if std::env::var_os("VOICESWARM_WRITE_SCHEMAS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} is not what the types generate: run `make schemas`",
            path.display()
        );
    }
}

#[test]
fn summary_json_matches_its_schema_and_junit_is_well_formed() {
    let dir = tmp();
    let run = probe(dir.path(), "a", "2");
    crate::support::assert_folder_matches_schemas(&run);
    let summary = read_json(&run.join("summary.json"));
    // The schema is strict enough to catch a broken summary.
    let schema = read_json(&repo().join("schemas/summary.schema.json"));
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    for (field, bad) in [
        ("schema_version", serde_json::json!("one")),
        ("kind", serde_json::json!("report")),
        ("surprise", serde_json::json!(1)),
    ] {
        let mut broken = summary.clone();
        broken[field] = bad;
        assert!(!validator.is_valid(&broken), "{field} accepted");
    }

    // run.json's plan is checked against the typed plan, not accepted whatever it holds.
    let record = read_json(&run.join("run.json"));
    let schema = read_json(&repo().join("schemas/run.schema.json"));
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    assert!(validator.is_valid(&record), "{record}");
    for bad in [
        serde_json::json!(42),
        serde_json::json!({"samples": "many", "warmup": 5, "components": [], "targets": {"built_in": "targets.json"}}),
        serde_json::json!({"label": "light"}),
    ] {
        let mut broken = record.clone();
        broken["plan"] = bad.clone();
        assert!(!validator.is_valid(&broken), "plan {bad} accepted");
    }

    let xml = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is well-formed XML");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, summary["verdicts"].as_array().unwrap().len());
}

#[test]
fn report_merges_folders_losslessly_and_judges_the_result() {
    let dir = tmp();
    let a = probe(dir.path(), "a", "2");
    let b = probe(dir.path(), "b", "2");
    let merged = dir.path().join("merged");
    let o = voiceswarm(
        &[
            "report",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    crate::support::assert_folder_matches_schemas(&merged);
    let s = read_json(&merged.join("summary.json"));
    assert_eq!(s["kind"], "merged");
    let count = crate::support::count;
    assert_eq!(count(&s, "stt:transcribe"), 60);
    let (sa, sb) = (
        read_json(&a.join("summary.json")),
        read_json(&b.join("summary.json")),
    );
    assert_eq!(
        s["totals"]["requests"].as_u64().unwrap(),
        sa["totals"]["requests"].as_u64().unwrap() + sb["totals"]["requests"].as_u64().unwrap()
    );
    // Merged histograms equal the union of the samples.
    use voiceswarm_model::stats::recording::{EncodedRecording, Recording};
    let load = |p: &Path| -> Recording {
        let e: EncodedRecording =
            serde_json::from_str(&std::fs::read_to_string(p.join("histograms.json")).unwrap())
                .unwrap();
        Recording::decode(&e).unwrap()
    };
    let mut whole = load(&a);
    whole.merge(&load(&b));
    assert_eq!(
        load(&merged).histograms["stt:transcribe"],
        whole.histograms["stt:transcribe"]
    );
    // Recomputing one folder gives its own summary again: the table's P90 column (name,
    // count, mean, P50, P90, …) shows the P90 summary.json saved.
    let o = voiceswarm(&["report", a.to_str().unwrap()], Duration::from_secs(30));
    let again = String::from_utf8_lossy(&o.stdout).to_string();
    let p90 = sa["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "stt:transcribe")
        .unwrap()["p90_ms"]
        .as_f64()
        .unwrap();
    let row = again.lines().find(|l| l.starts_with("stt:transcribe "));
    assert!(
        row.and_then(|r| r.split_whitespace().nth(4)) == Some(&format!("{p90:.2}")),
        "{again}"
    );
}

/// The baseline rule needs evidence: 40 samples give P90 a 95 % upper bound (36 is the least),
/// 30 do not, and then a slowdown is said to be untellable rather than called a regression.
#[test]
fn baseline_flags_a_planted_regression_and_not_noise() {
    let dir = tmp();
    let base = probe_samples(dir.path(), "base", "20", "40");
    let same = probe_samples(dir.path(), "same", "20", "40");
    let slow = probe_samples(dir.path(), "slow", "30", "40");
    let o = voiceswarm(
        &[
            "report",
            "--baseline",
            base.to_str().unwrap(),
            same.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("No regression"));
    let o = voiceswarm(
        &[
            "report",
            "--baseline",
            base.to_str().unwrap(),
            slow.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("stt:transcribe  ✗ REGRESSION"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("significant: the new run's 95% lower bound"));
    assert!(text(&o).contains("Rule: a metric with a target regresses"));
    // 30 samples: no upper bound for the baseline's P90, so the rule cannot tell.
    let small = probe(dir.path(), "small", "20");
    let o = voiceswarm(
        &[
            "report",
            "--baseline",
            small.to_str().unwrap(),
            slow.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("stt:transcribe  ? not a regression: P90 +"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("too few samples to tell: the baseline has no 95% upper bound"));
}

#[test]
fn a_missing_or_corrupt_folder_is_exit_2() {
    let dir = tmp();
    let o = voiceswarm(
        &["report", dir.path().to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    let run = probe(dir.path(), "a", "1");
    std::fs::write(
        run.join("histograms.json"),
        "{\"histograms\": {\"x:y\": \"!!\"}, \"counters\": {}}",
    )
    .unwrap();
    let o = voiceswarm(&["report", run.to_str().unwrap()], Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("x:y"),
        "{}",
        text(&o)
    );
}
