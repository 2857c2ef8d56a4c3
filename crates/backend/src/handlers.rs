//! The backend's endpoints: health, sessions, STT, LLM (plain and streamed), TTS (streamed), the
//! whole voice turn, company records, search and stats.

// A handler step fails with the response to send, which is what axum returns anyway.
#![allow(clippy::result_large_err)]

use super::pipeline::reply_through_cache;
use super::state::{AppState, Reject};
use super::stream;
use super::timing::ServerTiming;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use voiceswarm_model::audio;
use voiceswarm_model::vocab::Component;

pub type Shared = State<Arc<AppState>>;

/// Milliseconds of speech per character of text (about 15 characters a second).
const SPEECH_MS_PER_CHAR: u64 = 65;

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn reject(r: Reject) -> Response {
    error(r.0, r.1)
}

fn with_timing(mut resp: Response, timing: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&timing) {
        resp.headers_mut().insert("server-timing", v);
    }
    resp
}

/// Parses a JSON body, answering 400 with what is wrong.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

pub async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn create_session(State(s): Shared) -> Response {
    let n = s
        .counters
        .sessions
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("s-{:08x}-{:06x}", s.config.seed as u32, n);
    (StatusCode::CREATED, Json(json!({ "session_id": id }))).into_response()
}

pub async fn stats(State(s): Shared) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let c = &s.counters;
    Json(json!({
        "requests": c.requests.load(Relaxed),
        "sessions": c.sessions.load(Relaxed),
        "calls": c.calls.load(Relaxed),
        "connections": c.connections.load(Relaxed),
        "cache": s.cache.stats(),
        "faults": {
            "errors": c.injected_errors.load(Relaxed),
            "slow": c.injected_slow.load(Relaxed),
            "drops": c.injected_drops.load(Relaxed),
            "hangs": c.injected_hangs.load(Relaxed),
        },
        "workers_per_component": s.config.workers,
        "latency_scale": s.sampler.scale(),
    }))
    .into_response()
}

/// Runs STT over a WAV body: the transcript and the audio's duration.
async fn recognise(
    s: &AppState,
    body: &[u8],
    timing: &mut ServerTiming,
) -> Result<(String, f64, f64), Response> {
    let info =
        audio::parse(body).map_err(|e| error(StatusCode::BAD_REQUEST, format!("audio: {e}")))?;
    if info.data_len == 0 {
        return Err(error(StatusCode::BAD_REQUEST, "audio: no samples"));
    }
    s.run_stage(Component::Stt, timing).await.map_err(reject)?;
    let pcm = &body[info.data_offset..info.data_offset + info.data_len];
    let (transcript, confidence) = s.recogniser.transcribe(pcm, info.duration_ms());
    Ok((transcript, confidence, info.duration_ms()))
}

pub async fn stt(State(s): Shared, body: Bytes) -> Response {
    let mut timing = ServerTiming::start();
    match recognise(&s, &body, &mut timing).await {
        Ok((transcript, confidence, audio_ms)) => with_timing(
            Json(json!({
                "transcript": transcript,
                "confidence": confidence,
                "audio_ms": (audio_ms * 10.0).round() / 10.0,
            }))
            .into_response(),
            timing.finish(Duration::ZERO),
        ),
        Err(resp) => with_timing(resp, timing.finish(Duration::ZERO)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmRequest {
    #[serde(default)]
    session_id: Option<String>,
    message: String,
}

impl LlmRequest {
    /// The request body, or the 400 to answer.
    fn parse(body: &[u8]) -> Result<Self, Response> {
        let req: LlmRequest = parse_json(body)?;
        if req.message.trim().is_empty() {
            return Err(error(StatusCode::BAD_REQUEST, "message: must not be empty"));
        }
        Ok(req)
    }
}

pub async fn llm(State(s): Shared, body: Bytes) -> Response {
    let mut timing = ServerTiming::start();
    let req = match LlmRequest::parse(&body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    match reply_through_cache(
        &s,
        req.session_id.as_deref(),
        &req.message,
        &mut timing,
        false,
    )
    .await
    {
        Ok((reply, cached, _)) => with_timing(
            Json(json!({"reply": reply, "cached": cached})).into_response(),
            timing.finish(Duration::ZERO),
        ),
        Err(r) => with_timing(reject(r), timing.finish(Duration::ZERO)),
    }
}

pub async fn llm_stream(State(s): Shared, body: Bytes) -> Response {
    let mut timing = ServerTiming::start();
    let req = match LlmRequest::parse(&body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (reply, cached, planned) = match reply_through_cache(
        &s,
        req.session_id.as_deref(),
        &req.message,
        &mut timing,
        true,
    )
    .await
    {
        Ok(r) => r,
        Err(r) => return with_timing(reject(r), timing.finish(Duration::ZERO)),
    };
    // A miss streams over the LLM's service time, holding one of its workers.
    let permit = if cached {
        None
    } else {
        let wait = tokio::time::Instant::now();
        let p = s.acquire(Component::Llm).await;
        timing.stage(Component::Llm.name(), wait.elapsed() + planned);
        Some(p)
    };
    let mut events: Vec<Bytes> = reply
        .split_inclusive(' ')
        .map(|tok| Bytes::from(format!("data: {}\n\n", json!({ "token": tok }))))
        .collect();
    events.push(Bytes::from(format!(
        "event: done\ndata: {}\n\n",
        json!({ "cached": cached })
    )));
    let first_at = planned.mul_f64(0.4);
    let timing = timing.finish(planned);
    let body = if s.sampler.chance(s.config.hang_rate) {
        s.count(&s.counters.injected_hangs);
        stream::hanging(events[0].clone())
    } else {
        stream::paced(events, first_at, planned, permit)
    };
    let resp = Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(body)
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "response build"));
    with_timing(resp, timing)
}

/// Streams synthesised speech for `text`: the WAV header and first chunk early, the rest over
/// the TTS time. The TTS worker is held while it streams.
async fn synthesise(
    s: &AppState,
    text: &str,
    timing: &mut ServerTiming,
) -> Result<(Body, Duration, Duration), Reject> {
    s.check_failing(Component::Tts)?;
    let wait = tokio::time::Instant::now();
    let permit = s.acquire(Component::Tts).await;
    let queued = wait.elapsed();
    let service = s.sampler.sample(&s.model.tts);
    timing.stage(Component::Tts.name(), queued + service);
    let speech_ms = (text.chars().count() as u64 * SPEECH_MS_PER_CHAR).clamp(300, 30_000);
    let mut chunks = s.audio_chunks(Duration::from_millis(speech_ms));
    let data_len: usize = chunks.iter().map(|c| c.len()).sum();
    // The header travels with the first chunk, so the first byte is also the first audio.
    let mut first = bytes::BytesMut::with_capacity(audio::HEADER_LEN + chunks[0].len());
    first.extend_from_slice(&audio::wav_header(data_len as u32));
    first.extend_from_slice(&chunks[0]);
    chunks[0] = first.freeze();
    let first_at = service.mul_f64(s.model.tts_first_chunk_fraction);
    let body = if s.sampler.chance(s.config.hang_rate) {
        s.count(&s.counters.injected_hangs);
        stream::hanging(chunks[0].clone())
    } else {
        stream::paced(chunks, first_at, service, Some(permit))
    };
    Ok((body, service, Duration::from_millis(speech_ms)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtsRequest {
    text: String,
}

fn audio_response(body: Body, speech: Duration, timing: String) -> Response {
    let resp = Response::builder()
        .header(header::CONTENT_TYPE, "audio/wav")
        .header("x-audio-ms", speech.as_millis().to_string())
        .body(body)
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "response build"));
    with_timing(resp, timing)
}

pub async fn tts(State(s): Shared, body: Bytes) -> Response {
    let mut timing = ServerTiming::start();
    let req: TtsRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if req.text.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "text: must not be empty");
    }
    match synthesise(&s, &req.text, &mut timing).await {
        Ok((body, service, speech)) => audio_response(body, speech, timing.finish(service)),
        Err(r) => with_timing(reject(r), timing.finish(Duration::ZERO)),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VoiceQuery {
    session_id: Option<String>,
    /// Look this company up during the turn.
    company: Option<String>,
    /// Search the documents with the transcript during the turn.
    #[serde(default)]
    search: bool,
}

/// Percent-encodes a header value so any transcript fits in a header.
fn header_text(text: &str) -> HeaderValue {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub async fn voice(State(s): Shared, Query(q): Query<VoiceQuery>, body: Bytes) -> Response {
    let mut timing = ServerTiming::start();
    let result = async {
        let (transcript, _, _) = recognise(&s, &body, &mut timing).await?;
        if let Some(id) = &q.company {
            s.run_stage(Component::Company, &mut timing)
                .await
                .map_err(reject)?;
            if super::corpus::company(id).is_none() {
                return Err(error(
                    StatusCode::NOT_FOUND,
                    format!("unknown company '{id}'"),
                ));
            }
        }
        if q.search {
            s.run_stage(Component::Search, &mut timing)
                .await
                .map_err(reject)?;
        }
        let (reply, _, _) =
            reply_through_cache(&s, q.session_id.as_deref(), &transcript, &mut timing, false)
                .await
                .map_err(reject)?;
        let (body, service, speech) = synthesise(&s, &reply, &mut timing).await.map_err(reject)?;
        let mut resp = audio_response(body, speech, String::new());
        resp.headers_mut()
            .insert("x-transcript", header_text(&transcript));
        resp.headers_mut().insert("x-reply", header_text(&reply));
        Ok((resp, service))
    }
    .await;
    match result {
        Ok((resp, service)) => with_timing(resp, timing.finish(service)),
        Err(resp) => with_timing(resp, timing.finish(Duration::ZERO)),
    }
}

pub async fn company(State(s): Shared, Path(id): Path<String>) -> Response {
    let mut timing = ServerTiming::start();
    let resp = match s.run_stage(Component::Company, &mut timing).await {
        Err(r) => reject(r),
        Ok(()) => match super::corpus::company(&id) {
            Some(c) => Json(json!(c)).into_response(),
            None => error(StatusCode::NOT_FOUND, format!("unknown company '{id}'")),
        },
    };
    with_timing(resp, timing.finish(Duration::ZERO))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    query: String,
    #[serde(default = "default_top_k")]
    top_k: usize,
}

fn default_top_k() -> usize {
    3
}

pub async fn search(State(s): Shared, body: Bytes) -> Response {
    let mut timing = ServerTiming::start();
    let req: SearchRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if req.query.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "query: must not be empty");
    }
    if !(1..=50).contains(&req.top_k) {
        return error(StatusCode::BAD_REQUEST, "top_k: expected 1 to 50");
    }
    let resp = match s.run_stage(Component::Search, &mut timing).await {
        Err(r) => reject(r),
        Ok(()) => {
            Json(json!({ "results": s.search.search(&req.query, req.top_k) })).into_response()
        }
    };
    with_timing(resp, timing.finish(Duration::ZERO))
}

pub async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route; see docs/api.md")
}
