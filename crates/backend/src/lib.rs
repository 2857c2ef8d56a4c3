//! The reference voice-assistant backend (axum): the system under test that voiceswarm starts
//! when no `--host` is given, that `voiceswarm serve` runs, and that the tests load.

mod bot;
pub mod cache;
pub mod config;
pub mod corpus;
mod edge;
mod handlers;
pub mod latency;
mod pipeline;
mod state;
mod stream;
mod stt;
pub mod timing;
pub mod truth;

pub use config::BackendConfig;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use state::AppState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BackendError {
    #[error("backend configuration: {0}")]
    Config(String),
    #[error("backend cache: cannot connect to Redis at {url}: {source}")]
    Redis {
        url: String,
        source: redis::RedisError,
    },
    #[error("backend: cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Builds the application state from a configuration (validating it).
async fn build_state(config: &BackendConfig) -> Result<Arc<AppState>, BackendError> {
    let model = config.resolve_model().map_err(BackendError::Config)?;
    let ttl = Duration::from_secs(config.cache_ttl);
    let cache = match &config.backend_redis_url {
        Some(url) => {
            cache::ReplyCache::redis(url, ttl)
                .await
                .map_err(|source| BackendError::Redis {
                    url: url.clone(),
                    source,
                })?
        }
        None => cache::ReplyCache::memory(ttl),
    };
    bot::recognise::warm();
    let mut state = AppState::new(config.clone(), model, cache);
    state.truth = match &config.bot_log {
        Some(path) => Some(truth::TruthLog::open(path).map_err(BackendError::Config)?),
        None => None,
    };
    Ok(Arc::new(state))
}

fn router_with(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/sessions", post(handlers::create_session))
        .route("/stt", post(handlers::stt))
        .route("/llm", post(handlers::llm))
        .route("/llm/stream", post(handlers::llm_stream))
        .route("/tts", post(handlers::tts))
        .route("/voice", post(handlers::voice))
        .route("/company/{id}", get(handlers::company))
        .route("/search", post(handlers::search))
        .layer(middleware::from_fn_with_state(state.clone(), inject_faults));
    let calls = Router::new()
        .route("/{protocol}", get(bot::call))
        .layer(middleware::from_fn_with_state(state.clone(), require_key));
    // WebRTC calls: WHIP and Pipecat SmallWebRTC's JSON offer (bot/webrtc/).
    let rtc = Router::new()
        .route("/whip", post(bot::webrtc::whip))
        .route(
            "/whip/{id}",
            axum::routing::delete(bot::webrtc::whip_delete),
        )
        .route("/api/offer", post(bot::webrtc::pipecat_offer))
        .layer(middleware::from_fn_with_state(state.clone(), require_key));
    Router::new()
        .merge(rtc)
        .route("/health", get(handlers::health))
        .route("/api/v1/stats", get(handlers::stats))
        .nest("/api/v1", api)
        .nest("/ws", calls)
        .fallback(handlers::not_found)
        .layer(middleware::from_fn(json_errors))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state)
}

/// Whether a request carries the API key `--require-api-key` asks for (always, without one).
fn authorised(s: &AppState, req: &Request) -> bool {
    let Some(key) = &s.config.require_api_key else {
        return true;
    };
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| given == key)
}

/// Calls need the API key too: a 401 on the WebSocket upgrade.
async fn require_key(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if !authorised(&s, &req) {
        return handlers::error(StatusCode::UNAUTHORIZED, "missing or wrong API key");
    }
    next.run(req).await
}

/// Faults on demand (off by default): injected 503s, latency spikes and dropped connections.
async fn inject_faults(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    s.count(&s.counters.requests);
    if !authorised(&s, &req) {
        return handlers::error(StatusCode::UNAUTHORIZED, "missing or wrong API key");
    }
    if s.sampler.chance(s.config.error_rate) {
        s.count(&s.counters.injected_errors);
        return handlers::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "injected fault (--error-rate)",
        );
    }
    if s.sampler.chance(s.config.slow_rate) {
        s.count(&s.counters.injected_slow);
        tokio::time::sleep(Duration::from_millis(s.config.slow_ms)).await;
    }
    if s.sampler.chance(s.config.drop_rate) {
        s.count(&s.counters.injected_drops);
        let mut resp = next.run(req).await;
        *resp.body_mut() = stream::dropped();
        return resp;
    }
    next.run(req).await
}

/// Every client error answers JSON, including those axum produces itself (body too large,
/// wrong method, unreadable body).
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.is_client_error() && !is_json {
        let (parts, body) = resp.into_parts();
        let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
        let msg = String::from_utf8_lossy(&text).trim().to_string();
        let msg = if msg.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("client error")
                .to_string()
        } else {
            msg
        };
        let mut out = handlers::error(parts.status, msg);
        for (k, v) in parts.headers.iter() {
            if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                out.headers_mut().insert(k.clone(), v.clone());
            }
        }
        return out;
    }
    resp
}

/// A backend running in this process.
pub struct BackendHandle {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl BackendHandle {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets open requests finish (up to a second), and waits.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
    }
}

impl Drop for BackendHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the backend on `addr` (use `127.0.0.1:0` for a free port) in this process.
pub async fn spawn(config: &BackendConfig, addr: &str) -> Result<BackendHandle, BackendError> {
    let state = build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| BackendError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| BackendError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router_with(state.clone());
    // No Nagle: streamed chunks must leave when written, not wait for the client's delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(edge::StampedListener(listener), move |tcp| {
        let _ = tcp.get_ref().set_nodelay(true);
        state
            .counters
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<edge::Edge>();
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(BackendHandle {
        addr: local,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Runs the backend in the foreground until `shutdown` resolves (`voiceswarm serve`: Ctrl-C or
/// SIGTERM).
pub async fn serve(
    config: &BackendConfig,
    addr: &str,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), BackendError> {
    let handle = spawn(config, addr).await?;
    println!(
        "voiceswarm reference backend listening on {} (latency scale {}, {} workers per component, {} cache)",
        handle.url(),
        config.latency_scale,
        config.workers,
        if config.backend_redis_url.is_some() { "redis" } else { "in-process" },
    );
    shutdown.await;
    println!("shutting down");
    handle.stop().await;
    Ok(())
}
