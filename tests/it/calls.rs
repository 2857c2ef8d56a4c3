//! Real-time phone calls over real loopback WebSockets: the default phone journey end to end,
//! voice-to-voice against a bot with known endpointing and delays (both protocols), barge-in,
//! hostile bots that fail calls of the right kind, refused upgrades, API keys on the upgrade.

use crate::support::{backend, read_json, text, tmp, voiceswarm};
use futures::{SinkExt, StreamExt};
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use voiceswarm_backend::BackendConfig;

/// A folder with a one-step call scenario (`call` is the call's JSON) and targets that judge
/// only the error and call-failure rates.
pub(crate) fn call_files(dir: &Path, call: &str) -> (String, String) {
    std::fs::create_dir_all(dir.join("audio")).unwrap();
    for f in &voiceswarm_model::fixtures::AUDIO[..3] {
        std::fs::write(dir.join(format!("audio/{}.wav", f.name)), f.wav).unwrap();
    }
    let scenario = dir.join("calls.json");
    std::fs::write(
        &scenario,
        format!(
            r#"{{"audio": {{"speech": ["audio/opening_hours.wav", "audio/order_status.wav", "audio/reset_password.wav"]}},
                "scenarios": [{{"name": "phone", "steps": [{{"name": "call:test", "call": {call}}}]}}]}}"#
        ),
    )
    .unwrap();
    let targets = dir.join("targets.json");
    std::fs::write(
        &targets,
        r#"{"error_rate": "0%", "calls_failed": "0%", "metrics": {}}"#,
    )
    .unwrap();
    (
        scenario.display().to_string(),
        targets.display().to_string(),
    )
}

fn ms(s: &serde_json::Value, metric: &str, field: &str) -> f64 {
    crate::support::metric(s, metric)[field].as_f64().unwrap()
}

#[test]
fn the_phone_journey_measures_voice_to_voice_barge_in_and_pacing() {
    let dir = tmp();
    let out = dir.path().join("run");
    // At a raised priority: this test judges the generator's pacing, which other tests on the
    // same 2 cores would otherwise take a share of.
    let o = crate::support::voiceswarm_urgent(
        &[
            "run",
            "--scenarios",
            "phone_call",
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "20s",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    crate::support::assert_folder_matches_schemas(&out);
    let s = read_json(&out.join("summary.json"));
    let calls = &s["totals"]["calls"];
    let completed = calls["completed"].as_u64().unwrap();
    assert!(completed >= 4, "{calls}");
    assert_eq!(calls["failed"], 0, "{calls}");
    // Four turns per completed call at least (and the turns of calls cut short by the end).
    assert!(
        crate::support::count(&s, "call:voice_to_voice") >= 4 * completed,
        "{all}"
    );
    for v in [
        "call:voice_to_voice",
        "call:connect",
        "calls_failed",
        "generator:pacing",
    ] {
        assert_eq!(
            crate::support::verdict(&s, v)["status"],
            "met",
            "{v}: {all}"
        );
    }
    // Endpointing 300 ms + STT 60 + LLM 150 + TTS's first chunk 30: about 540 ms.
    let v2v = ms(&s, "call:voice_to_voice", "median_ms");
    assert!((490.0..630.0).contains(&v2v), "voice-to-voice median {v2v}");
    // The bot stops within a frame or two of being interrupted.
    assert!(ms(&s, "call:barge_in", "p90_ms") < 100.0, "{all}");
    assert!(ms(&s, "call:frame_lateness", "p99_ms") < 20.0);
    assert!(
        all.contains("Calls: ") && all.contains("completed"),
        "{all}"
    );
    // Goose's own report counts the calls and turns.
    let goose = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        goose.contains("call:voice_to_voice") && goose.contains("call:support"),
        "{goose}"
    );
}

/// Runs a call scenario against a backend with fixed latencies and endpointing. Its cache
/// keeps nothing (a TTL of 0): a repeated utterance would otherwise be answered from the cache
/// instead of the 20 ms LLM stage, and the turn would be 16 ms faster than the stages add up to.
async fn fidelity(protocol: &str) -> serde_json::Value {
    let b = backend(BackendConfig {
        fixed_latency_ms: Some(20.0),
        endpoint_ms: 200,
        cache_ttl: 0,
        ..Default::default()
    })
    .await;
    let dir = tmp();
    let path = if protocol == "raw" {
        "/ws/raw?sample_rate=16000"
    } else {
        "/ws/twilio"
    };
    let call = format!(
        r#"{{"path": "{path}", "protocol": "{protocol}", "turns": [{{"say": "speech"}}, {{"say": "speech"}}], "pause": ["100ms", "100ms"]}}"#
    );
    let (scenario, targets) = call_files(dir.path(), &call);
    let out = dir.path().join("run");
    let host = b.url();
    let o = tokio::task::spawn_blocking(move || {
        voiceswarm(
            &[
                "run",
                "-H",
                &host,
                "--scenario-file",
                &scenario,
                "--targets",
                &targets,
                "-u",
                "3",
                "-r",
                "3",
                "--iterations",
                "1",
                "--out",
                out.to_str().unwrap(),
            ],
            Duration::from_secs(90),
        )
    })
    .await
    .unwrap();
    crate::support::assert_passed(&o);
    read_json(&dir.path().join("run/summary.json"))
}

/// A bot with 200 ms endpointing and 20 ms stages answers 200 + 20 (STT) + 20 (LLM) + 10 (the
/// first half of TTS) = 250 ms after the last speech frame: what each caller measures.
#[tokio::test]
async fn voice_to_voice_is_endpointing_plus_stages_on_both_protocols() {
    for protocol in ["twilio", "raw"] {
        let s = fidelity(protocol).await;
        assert_eq!(
            s["totals"]["calls"]["completed"], 3,
            "{protocol}: {}",
            s["totals"]
        );
        assert_eq!(crate::support::count(&s, "call:voice_to_voice"), 6);
        let median = ms(&s, "call:voice_to_voice", "median_ms");
        // The bot counts silence in audio time, as a VAD does: frames the generator sent late
        // and then caught up on reach it faster than real time, so a loaded machine can make
        // a turn early by at most the latest frame's lateness (the run's pacing verdict keeps
        // that under a frame, 20 ms).
        let late = ms(&s, "call:frame_lateness", "max_ms").min(20.0);
        assert!(
            (245.0 - late..262.0).contains(&median),
            "{protocol}: voice-to-voice median {median} (frames up to {late} ms late)"
        );
        let reply = ms(&s, "call:reply_audio", "median_ms");
        assert!(reply > 500.0, "{protocol}: the replies play: {reply}");
    }
}

#[tokio::test]
async fn the_api_key_guards_the_upgrade_and_is_sent_on_it() {
    let secret = "sk-call-4242";
    let b = backend(BackendConfig {
        require_api_key: Some(secret.into()),
        fixed_latency_ms: Some(5.0),
        ..Default::default()
    })
    .await;
    let dir = tmp();
    let call = r#"{"path": "/ws/twilio", "turns": [{"say": "speech"}]}"#;
    let (scenario, targets) = call_files(dir.path(), call);
    let host = b.url();
    let run = |name: &str, header: Option<String>| {
        let (scenario, targets, host) = (scenario.clone(), targets.clone(), host.clone());
        let out = dir.path().join(name);
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "run".to_string(),
                "-H".into(),
                host,
                "--scenario-file".into(),
                scenario,
                "--targets".into(),
                targets,
                "-u".into(),
                "1".into(),
                "--iterations".into(),
                "1".into(),
                "--out".into(),
                out.display().to_string(),
            ];
            if let Some(h) = header {
                args.extend(["--header".to_string(), h]);
            }
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            voiceswarm(&refs, Duration::from_secs(60))
        })
    };
    let refused = run("refused", None).await.unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let s = read_json(&dir.path().join("refused/summary.json"));
    assert_eq!(
        s["totals"]["errors_by_kind"]["call_connect"], 1,
        "{}",
        s["totals"]
    );
    let allowed = run("allowed", Some(format!("Authorization: Bearer {secret}")))
        .await
        .unwrap();
    crate::support::assert_passed(&allowed);
    assert!(!text(&allowed).contains(secret));
}

/// How a hostile bot misbehaves.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    ClosesMidCall,
    InvalidJson,
    BinaryGarbage,
    NeverReplies,
    Floods,
    RefusesUpgrade,
}

/// A bot on 127.0.0.1:0 that misbehaves as `mode` says, for every connection.
async fn hostile_bot(mode: Hostile) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Hostile::RefusesUpgrade = mode {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = [0u8; 2048];
                    let _ = tcp.read(&mut buf).await;
                    let _ = tcp
                        .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let mut media = 0;
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.to_text().is_ok_and(|t| t.contains("\"media\"")) {
                        media += 1;
                    }
                    if media != 10 {
                        continue;
                    }
                    let out = match mode {
                        Hostile::ClosesMidCall => return,
                        Hostile::InvalidJson => {
                            vec![Message::text("{\"event\": \"media\", \"media\": ")]
                        }
                        Hostile::BinaryGarbage => {
                            vec![Message::binary(vec![0xde, 0xad, 0xbe, 0xef])]
                        }
                        Hostile::NeverReplies | Hostile::RefusesUpgrade => vec![],
                        Hostile::Floods => {
                            let payload = voiceswarm_model::protocol::twilio::Twilio;
                            let ids = voiceswarm_model::protocol::CallIds::twilio(0);
                            use voiceswarm_model::protocol::Wire;
                            let tone =
                                voiceswarm_model::audio::speech::tone_frames(payload.format());
                            (0..2000)
                                .map(|i| match payload.bot_media(&ids, &tone[i % tone.len()]) {
                                    voiceswarm_model::protocol::WireMessage::Text(t) => {
                                        Message::text(t)
                                    }
                                    voiceswarm_model::protocol::WireMessage::Binary(b) => {
                                        Message::binary(b)
                                    }
                                })
                                .collect()
                        }
                    };
                    for m in out {
                        if ws.send(m).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn hostile_bots_fail_calls_of_the_right_kind_and_the_run_completes() {
    for (mode, kind) in [
        (Hostile::ClosesMidCall, "call_closed_early"),
        (Hostile::InvalidJson, "call_protocol"),
        (Hostile::BinaryGarbage, "call_protocol"),
        (Hostile::NeverReplies, "call_no_reply"),
        (Hostile::Floods, "call_flood"),
        (Hostile::RefusesUpgrade, "call_connect"),
    ] {
        let host = hostile_bot(mode).await;
        let dir = tmp();
        let call = r#"{"path": "/bot", "turns": [{"say": "speech"}], "turn_timeout": "1s"}"#;
        let (scenario, targets) = call_files(dir.path(), call);
        let out = dir.path().join("run");
        let o = tokio::task::spawn_blocking(move || {
            voiceswarm(
                &[
                    "run",
                    "-H",
                    &host,
                    "--scenario-file",
                    &scenario,
                    "--targets",
                    &targets,
                    "-u",
                    "2",
                    "-r",
                    "2",
                    "--iterations",
                    "1",
                    "--out",
                    out.to_str().unwrap(),
                ],
                Duration::from_secs(60),
            )
        })
        .await
        .unwrap();
        let all = text(&o);
        assert_eq!(o.status.code(), Some(1), "{mode:?}: {all}");
        assert!(!all.contains("panicked"), "{mode:?}: {all}");
        let s = read_json(&dir.path().join("run/summary.json"));
        assert_eq!(
            s["totals"]["errors_by_kind"][kind], 2,
            "{mode:?}: {}",
            s["totals"]
        );
        assert_eq!(s["totals"]["calls"]["failed"], 2, "{mode:?}");
        assert_eq!(
            crate::support::verdict(&s, "calls_failed")["status"],
            "missed"
        );
    }
}

/// A bot that closes every call: each caller waits its redial pause before calling again (it
/// used to redial at once: three callers made 30,925 calls in 15 s), and the summary counts the
/// redials.
#[tokio::test]
async fn a_failed_call_is_redialled_after_the_pause() {
    let host = hostile_bot(Hostile::ClosesMidCall).await;
    let dir = tmp();
    let call = r#"{"path": "/bot", "turns": [{"say": "speech"}], "redial_pause": "1s"}"#;
    let (scenario, targets) = call_files(dir.path(), call);
    let out = dir.path().join("run");
    let o = tokio::task::spawn_blocking(move || {
        voiceswarm(
            &[
                "run",
                "-H",
                &host,
                "--scenario-file",
                &scenario,
                "--targets",
                &targets,
                "-u",
                "3",
                "-r",
                "3",
                "-t",
                "5s",
                "--out",
                out.to_str().unwrap(),
            ],
            Duration::from_secs(60),
        )
    })
    .await
    .unwrap();
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    let s = read_json(&dir.path().join("run/summary.json"));
    let calls = &s["totals"]["calls"];
    // Each call fails after 10 frames (200 ms), then 1 s of pause: 3 callers × 5 s / 1.2 s.
    let started = calls["started"].as_u64().unwrap();
    assert!((6..=18).contains(&started), "{calls}");
    // Every call failed, but the one the run's end cut short.
    let failed = calls["failed"].as_u64().unwrap();
    assert_eq!(
        failed + calls["cut_short"].as_u64().unwrap(),
        started,
        "{calls}"
    );
    let redials = calls["redials"].as_u64().unwrap();
    assert!(redials + 3 >= started && redials < started, "{calls}");
    // The console says so too.
    assert!(all.contains(&format!("{redials} redials: ")), "{all}");
    // Every call is in calls.jsonl with its failure kind.
    let lines = std::fs::read_to_string(dir.path().join("run/calls.jsonl")).unwrap();
    let closed = lines
        .lines()
        .filter(|l| l.contains(r#""failure":"call_closed_early""#))
        .count() as u64;
    assert_eq!(closed, failed, "{lines}");
}
