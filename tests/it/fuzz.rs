//! Property tests: every parser of user input and of what a backend sends survives arbitrary
//! input without a panic, answering with an error instead. 2,000 cases per property.

use clap::Parser;
use proptest::prelude::*;
use std::path::Path;
use voiceswarm::cli::{Cli, Command};
use voiceswarm::scenario::model::RunDefaults;

/// JSON-shaped text: more likely than random bytes to get past the first brace.
fn jsonish() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
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
                        Just("percentile")
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn wav_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..128), riff in any::<bool>()) {
        let mut b = bytes;
        if riff && b.len() >= 12 {
            b[0..4].copy_from_slice(b"RIFF");
            b[8..12].copy_from_slice(b"WAVE");
        }
        if let Ok(info) = voiceswarm::audio::parse(&b) {
            prop_assert!(info.data_offset + info.data_len <= b.len());
        }
    }

    #[test]
    fn targets_parsing_never_panics(text in prop_oneof![jsonish(), "\\PC{0,64}"]) {
        let _ = voiceswarm::stats::Targets::parse(&text, "t.json");
    }

    #[test]
    fn scenario_parsing_never_panics(text in prop_oneof![jsonish(), "\\PC{0,64}"]) {
        if let Err(e) = voiceswarm::scenario::load::parse(&text, "s.json", Path::new("/nonexistent")) {
            prop_assert!(e.to_string().starts_with("s.json: "));
        }
    }

    #[test]
    fn json_pointers_never_panic(ptr in "(/[a-z0-9~]{0,3}){0,4}", doc in jsonish()) {
        if let (Ok(p), Ok(v)) = (voiceswarm::scenario::pointer::Pointer::parse(&ptr), serde_json::from_str::<serde_json::Value>(&doc)) {
            prop_assert_eq!(p.resolve(&v), v.pointer(&ptr));
        }
    }

    #[test]
    fn cli_values_are_refused_not_panicked_on(users in "\\PC{0,8}", rate in "\\PC{0,8}", time in "\\PC{0,8}") {
        let argv = ["voiceswarm", "run", "-u", &users, "--spawn-rate", &rate, "-t", &time];
        if let Ok(cli) = Cli::try_parse_from(argv) {
            if let Command::Run(args) = cli.command {
                let _ = voiceswarm::swarm::plan::resolve(&args, &RunDefaults::default(), |_| None);
            }
        }
    }
}
