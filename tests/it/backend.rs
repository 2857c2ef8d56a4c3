//! The reference backend on real sockets: every endpoint, streaming, Server-Timing against the
//! latency model, queueing, fault fractions, bad input and the Redis cache.

use crate::support::{backend, fixed, RedisServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use voiceswarm_backend::BackendConfig;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn wav() -> Vec<u8> {
    voiceswarm_model::fixtures::AUDIO[0].wav.to_vec()
}

/// The `name;dur=` value of a Server-Timing header, in ms.
fn stage(resp: &reqwest::Response, name: &str) -> Option<f64> {
    let h = resp.headers().get("server-timing")?.to_str().ok()?;
    voiceswarm_engine::measure::server_timing::parse(h)
        .find(|e| e.name == name)
        .and_then(|e| e.dur_ms)
}

#[tokio::test]
async fn every_endpoint_answers() {
    let b = backend(fixed(0.0)).await;
    let c = client();
    let base = b.url();
    check_health(&c, &base).await;
    let sid = open_session(&c, &base).await;
    check_stt_transcribes_the_fixture(&c, &base).await;
    check_llm_replies_then_caches_the_same_question(&c, &base, &sid).await;
    check_llm_stream_sends_tokens_then_done(&c, &base).await;
    check_tts_speaks_65_ms_per_character(&c, &base).await;
    check_voice_turn_times_every_stage(&c, &base, &sid).await;
    check_company_lookup_and_its_404(&c, &base).await;
    check_search_ranks_and_limits(&c, &base).await;
    check_stats_count_the_cache_hit_and_session(&c, &base).await;
}

/// GETs `base` + `path` and parses the JSON answer.
async fn get_value(c: &reqwest::Client, base: &str, path: &str) -> Value {
    c.get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `/health` answers `{"status": "ok"}`.
async fn check_health(c: &reqwest::Client, base: &str) {
    let r = get_value(c, base, "/health").await;
    assert_eq!(r, json!({"status": "ok"}));
}

/// Opens a session (201) and returns its id.
async fn open_session(c: &reqwest::Client, base: &str) -> String {
    let r = c
        .post(format!("{base}/api/v1/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    session["session_id"].as_str().unwrap().to_string()
}

/// `/stt` transcribes the fixture WAV, with `stt` and `total` Server-Timing stages.
async fn check_stt_transcribes_the_fixture(c: &reqwest::Client, base: &str) {
    let r = c
        .post(format!("{base}/api/v1/stt"))
        .body(wav())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(stage(&r, "stt").is_some() && stage(&r, "total").is_some());
    let r: Value = r.json().await.unwrap();
    assert_eq!(
        r["transcript"],
        voiceswarm_model::fixtures::AUDIO[0].transcript
    );
    assert!(r["audio_ms"].as_f64().unwrap() > 500.0);
}

/// `/llm` answers a question uncached, then the same question again from the cache.
async fn check_llm_replies_then_caches_the_same_question(
    c: &reqwest::Client,
    base: &str,
    sid: &str,
) {
    let ask = json!({"session_id": sid, "message": "How do I reset my password?"});
    let r: Value = c
        .post(format!("{base}/api/v1/llm"))
        .json(&ask)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["cached"], false);
    assert!(r["reply"].as_str().unwrap().contains("password"));
    let r = c
        .post(format!("{base}/api/v1/llm"))
        .json(&ask)
        .send()
        .await
        .unwrap();
    assert!(r.headers()["server-timing"]
        .to_str()
        .unwrap()
        .contains("cache;desc=hit"));
    assert_eq!(r.json::<Value>().await.unwrap()["cached"], true);
}

/// `/llm/stream` is an event stream of tokens ending in a `done` event.
async fn check_llm_stream_sends_tokens_then_done(c: &reqwest::Client, base: &str) {
    let r = c
        .post(format!("{base}/api/v1/llm/stream"))
        .json(&json!({"message": "opening hours"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let body = r.text().await.unwrap();
    assert!(body.starts_with("data: {\"token\""), "{body}");
    assert!(body.contains("event: done"), "{body}");
}

/// `/tts` returns a WAV lasting 65 ms per character of the text (within 5 ms).
async fn check_tts_speaks_65_ms_per_character(c: &reqwest::Client, base: &str) {
    let r = c
        .post(format!("{base}/api/v1/tts"))
        .json(&json!({"text": "Hello there, caller."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let audio = r.bytes().await.unwrap();
    let info = voiceswarm_model::audio::parse(&audio).unwrap();
    assert!(
        (info.duration_ms() - 20.0 * 65.0).abs() < 5.0,
        "{}",
        info.duration_ms()
    );
}

/// A `/voice` turn times every stage, names its transcript and answers with a WAV.
async fn check_voice_turn_times_every_stage(c: &reqwest::Client, base: &str, sid: &str) {
    let r = c
        .post(format!(
            "{base}/api/v1/voice?session_id={sid}&company=acme&search=true"
        ))
        .body(wav())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for s in ["stt", "company", "search", "llm", "tts", "total"] {
        assert!(stage(&r, s).is_some(), "voice turn has no {s} stage");
    }
    assert!(r.headers()["x-transcript"]
        .to_str()
        .unwrap()
        .contains("opening hours"));
    assert!(voiceswarm_model::audio::parse(&r.bytes().await.unwrap()).is_ok());
}

/// `/company/globex` is found; an unknown company is a 404 naming it.
async fn check_company_lookup_and_its_404(c: &reqwest::Client, base: &str) {
    let r = get_value(c, base, "/api/v1/company/globex").await;
    assert_eq!(r["name"], "Globex");
    let r = c
        .get(format!("{base}/api/v1/company/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("nope"));
}

/// `/search` ranks the password-reset article first and returns at most `top_k` results.
async fn check_search_ranks_and_limits(c: &reqwest::Client, base: &str) {
    let r: Value = c
        .post(format!("{base}/api/v1/search"))
        .json(&json!({"query": "reset password", "top_k": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["results"][0]["id"], "password-reset");
    assert!(r["results"].as_array().unwrap().len() <= 2);
}

/// `/stats` counts the one cache hit and the one session opened above.
async fn check_stats_count_the_cache_hit_and_session(c: &reqwest::Client, base: &str) {
    let r = get_value(c, base, "/api/v1/stats").await;
    assert_eq!(r["cache"]["hits"], 1);
    assert_eq!(r["sessions"], 1);
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx_never_a_5xx() {
    let b = backend(BackendConfig {
        max_body_bytes: 64 * 1024,
        ..fixed(0.0)
    })
    .await;
    let c = client();
    let u = |p: &str| format!("{}{p}", b.url());
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (c.post(u("/api/v1/stt")), 400),
        (c.post(u("/api/v1/stt")).body("not a wav at all"), 400),
        (
            c.post(u("/api/v1/stt"))
                .body(voiceswarm_model::audio::wav_header(0).to_vec()),
            400,
        ),
        (c.post(u("/api/v1/voice")).body(vec![0u8; 10]), 400),
        (c.post(u("/api/v1/llm")).body("{not json"), 400),
        (c.post(u("/api/v1/llm")).json(&json!({"message": ""})), 400),
        (c.post(u("/api/v1/llm")).json(&json!({"msg": "x"})), 400),
        (c.post(u("/api/v1/tts")).json(&json!({"text": "  "})), 400),
        (
            c.post(u("/api/v1/search"))
                .json(&json!({"query": "x", "top_k": 0})),
            400,
        ),
        (c.post(u("/api/v1/stt")).body(vec![0u8; 100 * 1024]), 413),
        (c.get(u("/api/v1/nowhere")), 404),
        (c.get(u("/api/v1/stt")), 405),
    ];
    for (i, (req, want)) in cases.into_iter().enumerate() {
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "case {i}");
        let body: Value = r
            .json()
            .await
            .unwrap_or_else(|e| panic!("case {i}: not JSON: {e}"));
        assert!(
            body["error"].as_str().is_some_and(|s| !s.is_empty()),
            "case {i}: {body}"
        );
    }
}

#[tokio::test]
async fn server_timing_follows_the_latency_model() {
    let b = backend(fixed(40.0)).await;
    let c = client();
    for _ in 0..5 {
        let started = Instant::now();
        let r = c
            .post(format!("{}/api/v1/stt", b.url()))
            .body(wav())
            .send()
            .await
            .unwrap();
        let stt = stage(&r, "stt").unwrap();
        assert!((40.0..50.0).contains(&stt), "stt;dur={stt}");
        assert!(started.elapsed() >= Duration::from_millis(40));
    }
    // The default model: STT median about 60 ms (crates/backend/src/latency.rs).
    let b = backend(BackendConfig::default()).await;
    let mut v = Vec::new();
    for _ in 0..40 {
        let r = c
            .post(format!("{}/api/v1/stt", b.url()))
            .body(wav())
            .send()
            .await
            .unwrap();
        v.push(stage(&r, "stt").unwrap());
    }
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    assert!((54.0..72.0).contains(&median), "median {median}");
}

#[tokio::test]
async fn streaming_sends_the_first_chunk_before_the_last() {
    let b = backend(fixed(300.0)).await;
    let started = Instant::now();
    let mut r = client()
        .post(format!("{}/api/v1/tts", b.url()))
        .json(&json!({"text": "A reply long enough to come in several chunks of audio."}))
        .send()
        .await
        .unwrap();
    let mut first = None;
    let mut chunks = 0;
    while let Some(_c) = r.chunk().await.unwrap() {
        first.get_or_insert(started.elapsed());
        chunks += 1;
    }
    let last = started.elapsed();
    let first = first.unwrap();
    assert!(chunks > 3, "{chunks} chunks");
    // First audio at half the TTS time, the rest spread until its end.
    assert!(
        first >= Duration::from_millis(140) && first < Duration::from_millis(250),
        "{first:?}"
    );
    assert!(
        last >= Duration::from_millis(290) && last - first >= Duration::from_millis(100),
        "{last:?}"
    );
}

#[tokio::test]
async fn requests_queue_when_workers_are_busy() {
    let b = backend(BackendConfig {
        workers: 2,
        ..fixed(100.0)
    })
    .await;
    let c = client();
    let url = format!("{}/api/v1/company/acme", b.url());
    let calls = (0..6).map(|_| {
        let (c, url) = (c.clone(), url.clone());
        tokio::spawn(async move { stage(&c.get(url).send().await.unwrap(), "company").unwrap() })
    });
    let mut durs: Vec<f64> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    durs.sort_by(f64::total_cmp);
    // Two workers, six requests of 100 ms: they finish in three waves.
    assert!(durs[1] < 150.0, "{durs:?}");
    assert!(durs[5] >= 290.0, "{durs:?}");
}

#[tokio::test]
async fn fault_fractions_are_within_tolerance() {
    let b = backend(BackendConfig {
        error_rate: 0.3,
        ..fixed(0.0)
    })
    .await;
    let c = client();
    let url = format!("{}/api/v1/company/acme", b.url());
    let mut errors = 0;
    let n = 1000;
    for _ in 0..n {
        let r = c.get(&url).send().await.unwrap();
        if r.status() == 503 {
            errors += 1;
            assert!(r.json::<Value>().await.unwrap()["error"]
                .as_str()
                .unwrap()
                .contains("injected"));
        } else {
            assert_eq!(r.status(), 200);
        }
    }
    // Binomial(1000, 0.3): standard deviation 14.5, so ±60 is over 4 sigma.
    assert!(
        (240..=360).contains(&errors),
        "{errors} injected errors of {n}"
    );

    let b = backend(BackendConfig {
        drop_rate: 0.5,
        ..fixed(0.0)
    })
    .await;
    let url = format!("{}/api/v1/company/acme", b.url());
    let mut dropped = 0;
    for _ in 0..200 {
        let ok = match c.get(&url).send().await {
            Ok(r) => r.bytes().await.is_ok(),
            Err(_) => false,
        };
        dropped += usize::from(!ok);
    }
    assert!((60..=140).contains(&dropped), "{dropped} dropped of 200");
}

#[tokio::test]
async fn a_failing_component_fails_its_requests_only() {
    let b = backend(BackendConfig {
        fail_component: Some("stt".into()),
        ..fixed(0.0)
    })
    .await;
    let c = client();
    let r = c
        .post(format!("{}/api/v1/stt", b.url()))
        .body(wav())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("stt"));
    let r = c
        .get(format!("{}/api/v1/company/acme", b.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn invalid_configuration_is_refused_with_the_flag_named() {
    let bad = BackendConfig {
        error_rate: 1.5,
        ..Default::default()
    };
    let e = voiceswarm_backend::spawn(&bad, "127.0.0.1:0")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("--error-rate"), "{e}");
    let bad = BackendConfig {
        fail_component: Some("gpu".into()),
        ..Default::default()
    };
    let e = voiceswarm_backend::spawn(&bad, "127.0.0.1:0")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("--fail-component gpu") && e.contains("stt"),
        "{e}"
    );
}

#[tokio::test]
async fn the_llm_cache_can_be_a_real_redis() {
    let redis = RedisServer::start();
    let config = BackendConfig {
        backend_redis_url: Some(redis.url.clone()),
        ..fixed(20.0)
    };
    let b = backend(config).await;
    let c = client();
    let ask = json!({"message": "What are your opening hours?"});
    let url = format!("{}/api/v1/llm", b.url());
    let first = c.post(&url).json(&ask).send().await.unwrap();
    assert!(stage(&first, "llm").unwrap() >= 20.0);
    assert_eq!(first.json::<Value>().await.unwrap()["cached"], false);
    let second = c.post(&url).json(&ask).send().await.unwrap();
    assert!(stage(&second, "llm").is_none(), "a hit skips the LLM");
    assert_eq!(second.json::<Value>().await.unwrap()["cached"], true);
    let stats: Value = c
        .get(format!("{}/api/v1/stats", b.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["cache"]["kind"], "redis");
    assert_eq!(stats["cache"]["hits"], 1);
    // The reply really is in Redis, with a TTL.
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("vs:llm:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 300, "ttl {ttl}");
}
