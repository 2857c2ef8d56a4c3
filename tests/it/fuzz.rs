//! Property tests of every parser of user input and of what a backend sends or a folder holds:
//! scenario files, targets, times, CLI values, JSON pointers, Server-Timing, WAV and run folders.
//! Each survives arbitrary input without a panic, answering with an error instead. CI runs
//! 2,000 cases per property; `make fuzz` sets VOICESWARM_FUZZ_CASES for a million in all.

use proptest::prelude::*;
use std::path::Path;
use voiceswarm::cli::{self, Command};
use voiceswarm_model::inputs::Input;

/// Cases per property: VOICESWARM_FUZZ_CASES, else 2,000.
fn config() -> ProptestConfig {
    let cases = std::env::var("VOICESWARM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// JSON-shaped text: more likely than random bytes to get past the first brace.
fn jsonish() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\"[a-z_:/{} %0-9.]{0,12}\"",
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("scenarios"),
                        Just("steps"),
                        Just("name"),
                        Just("path"),
                        Just("metrics"),
                        Just("limit"),
                        Just("error_rate"),
                        Just("think"),
                        Just("body"),
                        Just("json"),
                        Just("weight"),
                        Just("percentile"),
                        Just("kind"),
                        Just("plan"),
                        Just("histograms"),
                        Just("counters"),
                        Just("verdicts"),
                        Just("status"),
                        Just("defaults"),
                        Just("run_time")
                    ],
                    inner
                ),
                0..4
            )
            .prop_map(|kv| format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        ]
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![jsonish(), "\\PC{0,64}"]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wav_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..128), riff in any::<bool>()) {
        let mut b = bytes;
        if riff && b.len() >= 12 {
            b[0..4].copy_from_slice(b"RIFF");
            b[8..12].copy_from_slice(b"WAVE");
        }
        if let Ok(info) = voiceswarm_model::audio::parse(&b) {
            prop_assert!(info.data_offset + info.data_len <= b.len());
        }
    }

    #[test]
    fn targets_parsing_never_panics(text in text()) {
        let _ = voiceswarm_model::stats::Targets::parse(&text, "t.json");
    }

    #[test]
    fn scenario_parsing_never_panics(text in text()) {
        let input = Input::File("/nonexistent/s.json".into());
        if let Err(e) = voiceswarm_model::scenario::parse(&text, &input) {
            prop_assert!(e.to_string().starts_with("/nonexistent/s.json: "));
        }
    }

    #[test]
    fn times_never_panic_and_round_trip(s in "\\PC{0,16}", ms in 0u64..100_000_000) {
        use voiceswarm_model::units::*;
        let _ = parse_duration(&s);
        let _ = parse_percentile(&s);
        let _ = parse_percent(&s);
        let d = std::time::Duration::from_millis(ms);
        prop_assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
    }

    #[test]
    fn server_timing_never_panics(s in "\\PC{0,64}") {
        for e in voiceswarm_engine::measure::server_timing::parse(&s) {
            prop_assert!(e.dur_ms.is_none_or(|d| d >= 0.0));
        }
    }

    #[test]
    fn json_pointers_never_panic(ptr in "(/[a-z0-9~]{0,3}){0,4}", doc in jsonish()) {
        if let (Ok(p), Ok(v)) = (voiceswarm_model::scenario::pointer::Pointer::parse(&ptr), serde_json::from_str::<serde_json::Value>(&doc)) {
            prop_assert_eq!(p.resolve(&v), v.pointer(&ptr));
        }
    }

    #[test]
    fn cli_values_are_refused_not_panicked_on(users in "\\PC{0,8}", rate in "\\PC{0,8}", time in "\\PC{0,8}") {
        let argv = ["voiceswarm", "run", "-u", &users, "--spawn-rate", &rate, "-t", &time];
        match cli::try_parse_from(argv) {
            Ok(c) => prop_assert!(matches!(c.command, Command::Run(_))),
            Err(e) => prop_assert!(!cli::error_line(&e).contains('\n')),
        }
    }

    #[test]
    fn run_folders_never_panic(run in text(), histograms in text(), summary in text()) {
        use voiceswarm_results::folder::RunRecord;
        let dir = Path::new("/nonexistent/run");
        if let Ok(record) = RunRecord::parse(&run, &dir.join("run.json")) {
            let _ = record.identity(dir);
            let _ = voiceswarm::commands::report::SavedRun::parse(dir, record, &histograms, &summary);
        }
    }
}
