//! What every request handler shares: the latency sampler, per-component worker pools, the cache,
//! the data, the fault settings and the counters `/api/v1/stats` shows.

use super::cache::ReplyCache;
use super::config::BackendConfig;
use super::corpus::SearchIndex;
use super::latency::{Dist, LatencyModel, Sampler};
use super::stt::Recogniser;
use super::timing::ServerTiming;
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use voiceswarm_model::vocab::Component;

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub sessions: AtomicU64,
    pub injected_errors: AtomicU64,
    pub injected_slow: AtomicU64,
    pub injected_drops: AtomicU64,
    pub injected_hangs: AtomicU64,
    /// Calls answered on /ws/*.
    pub calls: AtomicU64,
    /// TCP connections accepted: how many a load generator opened.
    pub connections: AtomicU64,
}

pub struct AppState {
    pub model: LatencyModel,
    pub sampler: Sampler,
    pools: [Arc<Semaphore>; 5],
    pub cache: ReplyCache,
    pub search: SearchIndex,
    pub recogniser: Recogniser,
    pub config: BackendConfig,
    pub counters: Counters,
    /// One second of 16 kHz speech-like tone, sliced into every audio response (no per-request
    /// synthesis cost).
    pub tone: Bytes,
    /// The phone bot's per-turn ground truth (`--bot-log`), when asked for.
    pub truth: Option<Arc<crate::truth::TruthLog>>,
}

/// A request's failure: status and message, rendered as a JSON error body.
pub type Reject = (axum::http::StatusCode, String);

impl AppState {
    pub fn new(config: BackendConfig, model: LatencyModel, cache: ReplyCache) -> Self {
        let pool = || Arc::new(Semaphore::new(config.workers));
        Self {
            sampler: Sampler::new(config.seed, config.latency_scale),
            pools: [pool(), pool(), pool(), pool(), pool()],
            model,
            cache,
            search: SearchIndex::new(),
            recogniser: Recogniser::new(),
            counters: Counters::default(),
            tone: Bytes::from(voiceswarm_model::audio::tone_pcm(1000)),
            truth: None,
            config,
        }
    }

    /// A service's latency distribution (the backend's services only).
    pub fn dist(&self, c: Component) -> &Dist {
        match c {
            Component::Stt => &self.model.stt,
            Component::Llm => &self.model.llm,
            Component::Tts => &self.model.tts,
            Component::Company => &self.model.company,
            Component::Search => &self.model.search,
            Component::Pipeline | Component::Cache => &self.model.cache,
        }
    }

    /// A service's worker pool (`Component::SERVICES` index the pools).
    fn pool(&self, c: Component) -> &Arc<Semaphore> {
        let i = Component::SERVICES
            .iter()
            .position(|s| *s == c)
            .unwrap_or(0);
        &self.pools[i]
    }

    /// Fails when `--fail-component` names this component.
    pub fn check_failing(&self, c: Component) -> Result<(), Reject> {
        if self.config.fail_component.as_deref() == Some(c.name()) {
            return Err((
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("{} is failing (--fail-component)", c.name()),
            ));
        }
        Ok(())
    }

    /// Runs a component stage: waits for a worker (queueing when all are busy), then for the
    /// sampled service time, and records the whole wait in `timing`.
    pub async fn run_stage(&self, c: Component, timing: &mut ServerTiming) -> Result<(), Reject> {
        self.check_failing(c)?;
        let began = Instant::now();
        let _permit = self.acquire(c).await;
        let service = self.sampler.sample(self.dist(c));
        if !service.is_zero() {
            tokio::time::sleep(service).await;
        }
        timing.stage(c.name(), began.elapsed());
        Ok(())
    }

    /// Takes a worker of `c`'s pool, waiting in its queue as long as all are busy.
    pub async fn acquire(&self, c: Component) -> OwnedSemaphorePermit {
        // The pools are never closed, so acquiring cannot fail.
        self.pool(c)
            .clone()
            .acquire_owned()
            .await
            .expect("worker pools are never closed")
    }

    pub fn count(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The PCM bytes of `duration` of audio, as chunks of about 100 ms.
    pub fn audio_chunks(&self, duration: Duration) -> Vec<Bytes> {
        let total = (duration.as_millis() as usize * 32).max(2) & !1; // 32 bytes per ms
        let chunk = 3200;
        let mut out = Vec::with_capacity(total / chunk + 1);
        let mut left = total;
        while left > 0 {
            let n = left.min(chunk).min(self.tone.len());
            out.push(self.tone.slice(0..n));
            left -= n;
        }
        out
    }
}
