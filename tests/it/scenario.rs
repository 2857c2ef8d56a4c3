//! Scenario files: the documented errors (one per class), and journeys run by Goose against the
//! reference backend: request mix by weight, captures, listen think time.

use crate::support::{count, read_json, text, tmp, voiceswarm};
use std::time::Duration;
use voiceswarm_model::inputs::Input;
use voiceswarm_model::scenario::parse;

fn err(json: &str) -> String {
    parse(json, &Input::File("s.json".into()))
        .unwrap_err()
        .to_string()
}

const STEP: &str = r#"{"name": "health:check", "path": "/health"}"#;

fn with_steps(steps: &str) -> String {
    format!(r#"{{"scenarios": [{{"name": "a", "steps": [{steps}]}}]}}"#)
}

#[test]
fn the_default_file_loads() {
    let file = Input::File(crate::support::repo().join("scenarios/voice_assistant.json"));
    let j = voiceswarm_model::scenario::load(&file, "--scenario-file").unwrap();
    let built_in =
        voiceswarm_model::scenario::load(&Input::BuiltIn("voice_assistant.json".into()), "")
            .unwrap();
    assert_eq!(
        j.hash, built_in.hash,
        "the built-in journeys are the committed file"
    );
    assert_eq!(j.scenarios.len(), 6);
    let names = j.metric_names();
    for m in [
        "pipeline:voice_turn",
        "stt:transcribe",
        "llm:first_token",
        "tts:first_audio",
        "company:lookup",
    ] {
        assert!(names.contains(m), "{m}");
    }
}

#[test]
fn malformed_json_names_the_file_and_position() {
    let e = err("{\"scenarios\": [");
    assert!(e.starts_with("s.json: "), "{e}");
}

#[test]
fn unknown_fields_are_errors_with_their_path() {
    let e = err(&with_steps(
        r#"{"name": "health:check", "path": "/health", "wieght": 2}"#,
    ));
    assert!(
        e.contains("scenarios[0].steps[0]") && e.contains("unknown field `wieght`"),
        "{e}"
    );
}

#[test]
fn wrong_types_are_errors_with_their_path() {
    let e = err(r#"{"scenarios": [{"name": "a", "weight": "heavy", "steps": []}]}"#);
    assert!(e.contains("scenarios[0].weight"), "{e}");
}

#[test]
fn bad_metric_names_methods_and_paths_are_refused() {
    let e = err(&with_steps(r#"{"name": "Health", "path": "/health"}"#));
    assert!(
        e.contains("scenarios[0].steps[0].name") && e.contains("component:action"),
        "{e}"
    );
    let e = err(&with_steps(
        r#"{"name": "a:b", "method": "FETCH", "path": "/"}"#,
    ));
    assert!(e.contains(".method") && e.contains("GET, POST"), "{e}");
    let e = err(&with_steps(r#"{"name": "a:b", "path": "health"}"#));
    assert!(
        e.contains(".path") && e.contains("must start with /"),
        "{e}"
    );
}

#[test]
fn unknown_template_variables_are_refused() {
    let e = err(&with_steps(r#"{"name": "a:b", "path": "/x/{{who}}"}"#));
    assert!(e.contains("unknown variable '{{who}}'"), "{e}");
    let e = err(&with_steps(r#"{"name": "a:b", "path": "/x/{{who"}"#));
    assert!(e.contains("never closed"), "{e}");
}

#[test]
fn every_time_takes_one_grammar() {
    let ok = |think: &str| {
        parse(
            &format!(r#"{{"defaults": {{"run_time": "90s"}}, "scenarios": [{{"name": "a", "think": {think}, "steps": [{STEP}]}}]}}"#),
            &Input::File("s.json".into()),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    ok(r#"{"fixed": "0"}"#).unwrap();
    ok(r#"{"fixed": "2m"}"#).unwrap();
    ok(r#"{"uniform": ["250ms", "1.5s"]}"#).unwrap();
    ok(r#"{"listen": {"pause": ["0", "1m30s"]}}"#).unwrap();
    assert!(ok(r#"{"fixed": "100"}"#).unwrap_err().contains("no unit"));
}

#[test]
fn bad_think_times_and_weights_are_refused() {
    let e = err(&format!(
        r#"{{"scenarios": [{{"name": "a", "think": {{"fixed": "5mins"}}, "steps": [{STEP}]}}]}}"#
    ));
    assert!(e.contains("think.fixed") && e.contains("100ms"), "{e}");
    let e = err(&format!(
        r#"{{"scenarios": [{{"name": "a", "think": {{"uniform": ["3s", "1s"]}}, "steps": [{STEP}]}}]}}"#
    ));
    assert!(e.contains("think.uniform"), "{e}");
    let e = err(&format!(
        r#"{{"scenarios": [{{"name": "a", "weight": 0, "steps": [{STEP}]}}]}}"#
    ));
    assert!(e.contains("scenarios[0].weight"), "{e}");
    let e = err(r#"{"scenarios": []}"#);
    assert!(e.contains("at least one scenario"), "{e}");
}

#[test]
fn missing_or_bad_audio_is_refused() {
    let dir = tmp();
    std::fs::write(dir.path().join("noise.wav"), b"not audio").unwrap();
    let file = format!(
        r#"{{"audio": {{"speech": ["noise.wav"]}}, "scenarios": [{{"name": "a", "steps": [{STEP}]}}]}}"#
    );
    let e = parse(&file, &Input::File(dir.path().join("s.json")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("audio.speech[0]") && e.contains("not usable audio"),
        "{e}"
    );
    let e = err(&with_steps(
        r#"{"name": "a:b", "method": "POST", "path": "/", "body": {"audio": "speech"}}"#,
    ));
    assert!(
        e.contains("body.audio") && e.contains("no audio list 'speech'"),
        "{e}"
    );
}

/// Runs a scenario file written to a temp folder; returns (exit code, summary.json, output).
fn run_file(scenario: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let dir = tmp();
    let file = dir.path().join("s.json");
    std::fs::write(&file, scenario).unwrap();
    let targets = dir.path().join("t.json");
    std::fs::write(&targets, r#"{"error_rate": "1%", "metrics": {}}"#).unwrap();
    let out = dir.path().join("run");
    let mut args = vec![
        "run",
        "--scenario-file",
        file.to_str().unwrap(),
        "--targets",
        targets.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fixed-latency-ms",
        "0",
    ];
    args.extend_from_slice(extra);
    let o = voiceswarm(&args, Duration::from_secs(90));
    let summary = read_json(&out.join("summary.json"));
    (o.status.code().unwrap_or(-1), summary, text(&o))
}

#[test]
fn scenario_and_step_weights_set_the_request_mix() {
    let file = r#"{"scenarios": [
        {"name": "talker", "weight": 3, "steps": [
            {"name": "company:lookup", "path": "/api/v1/company/acme", "weight": 3},
            {"name": "search:query", "method": "POST", "path": "/api/v1/search", "body": {"json": {"query": "refunds"}}}
        ]},
        {"name": "monitor", "weight": 1, "steps": [{"name": "health:check", "path": "/health"}]}
    ]}"#;
    let (code, s, out) = run_file(file, &["-u", "8", "-r", "8", "--iterations", "10"]);
    assert_eq!(code, 0, "{out}");
    // 8 users split 3:1 → 6 talkers and 2 monitors, 10 iterations each.
    assert_eq!(count(&s, "company:lookup"), 6 * 10 * 3, "{out}");
    assert_eq!(count(&s, "search:query"), 6 * 10);
    assert_eq!(count(&s, "health:check"), 2 * 10);
    assert_eq!(s["totals"]["requests"], 260);
}

#[test]
fn captured_values_reach_later_requests() {
    let file = r#"{"scenarios": [{"name": "a", "steps": [
        {"name": "company:first", "sequence": 1, "path": "/api/v1/company/acme", "capture": {"cid": "/id"}},
        {"name": "company:again", "sequence": 2, "path": "/api/v1/company/{{cid}}",
         "checks": [{"pointer": "/id", "equals": "acme"}]}
    ]}]}"#;
    let (code, s, out) = run_file(file, &["-u", "2", "-r", "2", "--iterations", "5"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(count(&s, "company:again"), 10);
    assert_eq!(s["totals"]["failures"], 0, "{out}");
}

#[test]
fn a_failed_check_is_a_goose_failure_naming_the_step() {
    let file = r#"{"scenarios": [{"name": "a", "steps": [
        {"name": "company:lookup", "path": "/api/v1/company/acme", "checks": [{"pointer": "/id", "equals": "globex"}]}
    ]}]}"#;
    let dir_out;
    {
        let (code, s, out) = run_file(file, &["-u", "1", "-r", "1", "--iterations", "3"]);
        assert_eq!(code, 1, "{out}");
        assert_eq!(s["totals"]["errors_by_kind"]["check"], 3);
        dir_out = out;
    }
    assert!(
        dir_out.contains("company:lookup: /id is \"acme\", expected \"globex\""),
        "{dir_out}"
    );
}

#[test]
fn listen_waits_while_the_reply_plays() {
    // Ten characters of text → 650 ms of audio; three replies → at least 1.95 s of listening.
    let listen = r#"{"scenarios": [{"name": "a", "think": {"listen": {"pause": ["0s", "0s"]}}, "steps": [
        {"name": "tts:synthesize", "method": "POST", "path": "/api/v1/tts", "body": {"json": {"text": "0123456789"}}}
    ]}]}"#;
    let (code, s, out) = run_file(listen, &["-u", "1", "-r", "1", "--iterations", "3"]);
    assert_eq!(code, 0, "{out}");
    let d = s["totals"]["duration_s"].as_f64().unwrap();
    let quiet = listen.replace(r#""think": {"listen": {"pause": ["0s", "0s"]}}, "#, "");
    let (_, s2, _) = run_file(&quiet, &["-u", "1", "-r", "1", "--iterations", "3"]);
    let d2 = s2["totals"]["duration_s"].as_f64().unwrap();
    // One user, three replies of 650 ms each, listened to one after the other.
    assert!(d >= 1.95, "with listen the run took only {d:.2}s");
    assert!(d2 < 1.9, "without listen the run took {d2:.2}s");
    assert!(d > d2 + 1.0, "with listen {d:.2}s, without {d2:.2}s");
}

#[test]
fn bad_calls_are_refused_at_load_naming_the_json_path() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("refund.wav"),
        voiceswarm_model::fixtures::AUDIO[3].wav,
    )
    .unwrap();
    let call = |step: &str| {
        let file = format!(
            r#"{{"audio": {{"speech": ["refund.wav"]}}, "scenarios": [{{"name": "a", "steps": [{step}]}}]}}"#
        );
        parse(&file, &Input::File(dir.path().join("s.json")))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let at = "scenarios[0].steps[0]";
    for (step, path, says) in [
        (
            r#"{"name": "call:x", "call": {"path": "/ws", "protocol": "sip", "turns": [{"say": "speech"}]}}"#,
            "call.protocol",
            "twilio, raw",
        ),
        (
            r#"{"name": "call:x", "call": {"path": "/ws", "turns": [{"say": "shouting"}]}}"#,
            "call.turns[0].say",
            "no audio list 'shouting'",
        ),
        (
            r#"{"name": "call:x", "call": {"path": "/ws", "turns": []}}"#,
            "call.turns",
            "at least one turn",
        ),
        (
            r#"{"name": "call:x", "call": {"path": "/ws"}}"#,
            "call",
            "missing field `turns`",
        ),
        (
            r#"{"name": "call:x", "call": {"path": "/ws", "turns": [{"say": "speech", "barge_in_after": "1s"}]}}"#,
            "call.turns[0].barge_in_after",
            "last turn",
        ),
        (
            r#"{"name": "call:x", "path": "/x", "call": {"path": "/ws", "turns": [{"say": "speech"}]}}"#,
            "path",
            "a call step takes",
        ),
        (
            r#"{"name": "call:x", "call": {"path": "/ws", "protocol": "twilio", "sample_rate": 16000, "turns": [{"say": "speech"}]}}"#,
            "call.sample_rate",
            "takes no sample rate",
        ),
        (
            r#"{"name": "call:x", "call": {"path": "/ws", "turns": [{"say": "speech"}], "turn_timeout": "soon"}}"#,
            "call.turn_timeout",
            "not a time",
        ),
    ] {
        let e = call(step);
        assert!(
            e.contains(&format!("{at}.{path}")) && e.contains(says),
            "{path}: {e}"
        );
    }
}

#[test]
fn call_steps_name_the_protocol_rate_and_key_at_fault() {
    let call = |c: &str| {
        err(&with_steps(&format!(
            r#"{{"name": "call:x", "call": {c}}}"#
        )))
    };
    let e = call(r#"{"protocol": "carrier-pigeon", "turns": [{"dtmf": "1"}]}"#);
    assert!(
        e.contains("call.protocol") && e.contains("twilio, raw, telnyx, plivo, vonage, exotel"),
        "{e}"
    );
    let e = call(r#"{"protocol": "plivo", "sample_rate": 16000, "turns": [{"dtmf": "1"}]}"#);
    assert!(e.contains("call.sample_rate") && e.contains("8000"), "{e}");
    let e = call(r#"{"protocol": "vonage", "sample_rate": 22050, "turns": [{"dtmf": "1"}]}"#);
    assert!(
        e.contains("call.sample_rate") && e.contains("16000, 8000"),
        "{e}"
    );
    let e = call(r#"{"protocol": "exotel", "turns": [{"dtmf": "9x"}]}"#);
    assert!(
        e.contains("call.turns[0].dtmf") && e.contains("'9x'"),
        "{e}"
    );
    let e = call(r#"{"protocol": "telnyx", "turns": [{"dtmf": "1"}, {}]}"#);
    assert!(e.contains("call.turns[1]") && e.contains("dtmf"), "{e}");
    // Keys alone need no audio, and the path defaults to the reference bot's.
    let ok = with_steps(
        r#"{"name": "call:x", "call": {"protocol": "vonage", "turns": [{"dtmf": "1#"}]}}"#,
    );
    assert!(parse(&ok, &Input::File("s.json".into())).is_ok());
}
