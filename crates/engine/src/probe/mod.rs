//! The component latency probe's measurements: one timed call of a component of the reference
//! API (with its Server-Timing stages recorded), and Redis cache read/write (`cache.rs`).
//! The order of a probe run is `commands::probe`.

pub mod cache;

use crate::measure::{body, server_timing};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use voiceswarm_model::stats::Recorder;
use voiceswarm_model::vocab::{metric, Component};

/// What one HTTP call measured.
struct Timed {
    first_byte: Duration,
    full: Duration,
}

/// One measured sample: (metric, time) pairs.
pub type Sample = Vec<(&'static str, Duration)>;

pub struct Prober {
    pub client: reqwest::Client,
    pub host: String,
    pub recorder: Recorder,
    /// Per component: how many calls failed, and the first failure's message.
    pub errors: BTreeMap<Component, (u64, String)>,
}

impl Prober {
    pub fn new(host: &str, call_timeout: Duration) -> reqwest::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder().timeout(call_timeout).build()?,
            host: host.trim_end_matches('/').to_string(),
            recorder: Recorder::new(1),
            errors: BTreeMap::new(),
        })
    }

    /// Counts a failed call of `component`, keeping the first message.
    pub fn note_error(&mut self, component: Component, e: String) {
        self.recorder
            .count(0, voiceswarm_model::vocab::counter::FAILURES, 1);
        self.errors.entry(component).or_insert((0, e)).0 += 1;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.host)
    }

    /// Sends a request, reads the body to its end, records Server-Timing stages.
    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Timed, String> {
        let start = Instant::now();
        let mut resp = req
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if let Some(st) = resp
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
        {
            self.recorder
                .with_shard(0, |s| server_timing::record(s, st));
        }
        let status = resp.status();
        let read = body::read(&mut resp, start, 512)
            .await
            .map_err(|e| format!("response body: {e}"))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&read.kept);
            return Err(format!("HTTP {}: {}", status.as_u16(), text.trim()));
        }
        Ok(Timed {
            first_byte: read.first_byte.unwrap_or(read.full),
            full: read.full,
        })
    }

    fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).json(&body)
    }

    fn post_wav(&self, path: &str, wav: &'static [u8]) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("content-type", "audio/wav")
            .body(wav)
    }

    /// One call of an HTTP component; `i` varies the input. The cache is probed through Redis.
    pub async fn sample(&self, c: Component, i: u64) -> Result<Sample, String> {
        let fixture =
            voiceswarm_model::fixtures::AUDIO[i as usize % voiceswarm_model::fixtures::AUDIO.len()];
        let (wav, transcript) = (fixture.wav, fixture.transcript);
        Ok(match c {
            Component::Stt => {
                let t = self.call(self.post_wav("/api/v1/stt", wav)).await?;
                vec![(metric::STT_TRANSCRIBE, t.full)]
            }
            Component::Llm => self.llm(transcript, i).await?,
            Component::Tts => {
                let t = self
                    .call(self.post_json("/api/v1/tts", serde_json::json!({ "text": transcript })))
                    .await?;
                vec![
                    (metric::TTS_FIRST_AUDIO, t.first_byte),
                    (metric::TTS_SYNTHESIZE, t.full),
                ]
            }
            Component::Company => {
                let ids = ["acme", "globex", "initech", "hooli"];
                let path = format!("/api/v1/company/{}", ids[i as usize % ids.len()]);
                let t = self.call(self.client.get(self.url(&path))).await?;
                vec![(metric::COMPANY_LOOKUP, t.full)]
            }
            Component::Search => {
                let body = serde_json::json!({ "query": transcript, "top_k": 3 });
                let t = self.call(self.post_json("/api/v1/search", body)).await?;
                vec![(metric::SEARCH_QUERY, t.full)]
            }
            Component::Pipeline => {
                // A new conversation per turn, so the LLM cache does not shortcut it.
                let path = format!("/api/v1/voice?session_id=probe-{}-{i}", std::process::id());
                let t = self.call(self.post_wav(&path, wav)).await?;
                vec![
                    (metric::PIPELINE_VOICE_TURN, t.first_byte),
                    (metric::PIPELINE_VOICE, t.full),
                ]
            }
            Component::Cache => return Err("the cache is probed through Redis".into()),
        })
    }

    /// The LLM plain and streamed, each with a fresh message: the probe measures the model,
    /// not the cache.
    async fn llm(&self, transcript: &str, i: u64) -> Result<Sample, String> {
        let message = format!("{transcript} (probe {i} {})", std::process::id());
        let plain = self
            .call(self.post_json("/api/v1/llm", serde_json::json!({ "message": message })))
            .await?;
        let streamed_body = serde_json::json!({ "message": format!("{message} streamed") });
        let streamed = self
            .call(self.post_json("/api/v1/llm/stream", streamed_body))
            .await?;
        Ok(vec![
            (metric::LLM_COMPLETE, plain.full),
            (metric::LLM_FIRST_TOKEN, streamed.first_byte),
            (metric::LLM_STREAM, streamed.full),
        ])
    }
}
