//! `voiceswarm probe` against the reference backend with a fixed latency model, with the cache
//! rows against a real redis-server, the skipped path, and an erroring component.

use crate::support::{metric, read_json, text, tmp, verdict, voiceswarm_env, RedisServer};
use std::time::Duration;

#[test]
fn measured_p90s_match_the_latency_model_and_the_cache_uses_redis() {
    let redis = RedisServer::start();
    let dir = tmp();
    let out = dir.path().join("probe");
    let o = voiceswarm_env(
        &[
            "probe",
            "--samples",
            "20",
            "--warmup",
            "2",
            "--fixed-latency-ms",
            "30",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("REDIS_URL", &redis.url)],
        Duration::from_secs(120),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("probe: stt      20/20"),
        "progress is shown: {all}"
    );
    let s = read_json(&out.join("summary.json"));
    // Each component takes exactly 30 ms on the server: the client sees a little more.
    for m in [
        "stt:transcribe",
        "llm:complete",
        "company:lookup",
        "search:query",
        "tts:synthesize",
    ] {
        let p90 = metric(&s, m)["p90_ms"].as_f64().unwrap();
        assert!((30.0..40.0).contains(&p90), "{m} p90 {p90}");
        assert_eq!(metric(&s, m)["count"], 20);
    }
    // TTS streams: first audio at half its time. The voice turn: STT + LLM + first audio.
    let first = metric(&s, "tts:first_audio")["p90_ms"].as_f64().unwrap();
    assert!((15.0..25.0).contains(&first), "tts first audio {first}");
    let turn = metric(&s, "pipeline:voice_turn")["median_ms"]
        .as_f64()
        .unwrap();
    assert!((75.0..90.0).contains(&turn), "turn {turn}");
    // Server-Timing stages were recorded alongside.
    let stt_server = metric(&s, "server:stt")["p90_ms"].as_f64().unwrap();
    assert!(
        (29.9..33.0).contains(&stt_server),
        "server stt {stt_server}"
    );
    for m in ["cache:read", "cache:write"] {
        assert_eq!(metric(&s, m)["count"], 20);
        assert_eq!(verdict(&s, m)["status"], "met", "{m} against a local Redis");
    }
}

#[test]
fn without_redis_the_cache_rows_are_skipped_not_met() {
    let empty_path = tmp();
    let dir = tmp();
    let out = dir.path().join("probe");
    let o = voiceswarm_env(
        &[
            "probe",
            "--samples",
            "3",
            "--warmup",
            "0",
            "--fixed-latency-ms",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("PATH", empty_path.path().to_str().unwrap())],
        Duration::from_secs(60),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let s = read_json(&out.join("summary.json"));
    for m in ["cache:read", "cache:write"] {
        let v = verdict(&s, m);
        assert_eq!(v["status"], "skipped");
        assert!(
            v["reason"].as_str().unwrap().contains("redis-server"),
            "{v}"
        );
    }
    let row = all.lines().find(|l| l.starts_with("cache:read "));
    assert!(
        row.is_some_and(|r| r.contains("– skipped: ") && r.contains("redis-server")),
        "{all}"
    );
    assert!(
        all.contains("not measured: cache:read, cache:write"),
        "the verdict does not claim them met: {all}"
    );
}

#[test]
fn an_erroring_component_is_reported_and_the_rest_still_runs() {
    let dir = tmp();
    let out = dir.path().join("probe");
    let o = voiceswarm_env(
        &[
            "probe",
            "--samples",
            "5",
            "--warmup",
            "0",
            "--fixed-latency-ms",
            "1",
            "--fail-component",
            "tts",
            "--only",
            "stt,tts,company",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
        Duration::from_secs(60),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("✗ tts:errors: 5 error(s) (first: HTTP 500"),
        "{all}"
    );
    let s = read_json(&out.join("summary.json"));
    assert_eq!(metric(&s, "stt:transcribe")["count"], 5);
    assert_eq!(metric(&s, "company:lookup")["count"], 5);
    assert_eq!(
        verdict(&s, "search:query")["status"],
        "skipped",
        "not selected"
    );
}
