//! `--prometheus-listen`: `/metrics` served while a run goes, in the OpenMetrics text format,
//! from the recorder's live snapshot at each scrape; once the run is judged, from its final
//! figures and verdicts.

use super::prometheus::{self, Figures, Limit};
use super::{Final, Identity};
use anyhow::Context;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use voiceswarm_model::stats::Recorder;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What a scrape reads: the run as it goes, or its final figures.
pub struct Live {
    recorder: Arc<Recorder>,
    users: Arc<AtomicUsize>,
    limits: Vec<Limit>,
    ended: parking_lot::Mutex<Option<Arc<Final>>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl Live {
    pub fn new(recorder: Arc<Recorder>, users: Arc<AtomicUsize>, limits: Vec<Limit>) -> Arc<Self> {
        Arc::new(Live {
            recorder,
            users,
            limits,
            ended: Default::default(),
        })
    }

    pub fn set_final(&self, f: Arc<Final>) {
        *self.ended.lock() = Some(f);
    }

    pub fn clear_final(&self) {
        *self.ended.lock() = None;
    }
}

/// The live figures as a `prometheus-client` collector.
#[derive(Debug)]
struct LiveCollector(Arc<Live>);

impl Collector for LiveCollector {
    fn encode(&self, enc: DescriptorEncoder) -> std::fmt::Result {
        let live = &self.0;
        let ended = live.ended.lock().clone();
        match ended {
            Some(f) => prometheus::encode(
                enc,
                &Figures {
                    recording: &f.recording,
                    users: f.users,
                    limits: &live.limits,
                    verdicts: Some(&f.verdicts),
                },
            ),
            None => {
                let recording = live.recorder.snapshot();
                let figures = Figures {
                    recording: &recording,
                    users: live.users.load(Ordering::Relaxed),
                    limits: &live.limits,
                    verdicts: None,
                };
                prometheus::encode(enc, &figures)
            }
        }
    }
}

/// A registry whose every series carries the run's profile, host and labels.
pub fn registry(id: &Identity) -> Registry {
    let mut labels: Vec<(Cow<'static, str>, Cow<'static, str>)> = vec![
        ("profile".into(), id.profile.clone().into()),
        ("host".into(), id.host.clone().into()),
    ];
    labels.extend(
        id.labels
            .iter()
            .map(|(k, v)| (k.clone().into(), v.clone().into())),
    );
    Registry::with_labels(labels.into_iter())
}

async fn metrics(State(registry): State<Arc<Registry>>) -> impl IntoResponse {
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &registry) {
        Ok(()) => ([(CONTENT_TYPE, OPENMETRICS)], body).into_response(),
        Err(_) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics",
        )
            .into_response(),
    }
}

/// `/metrics` being served.
pub struct Listening {
    pub addr: SocketAddr,
    pub live: Arc<Live>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Listening {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves `/metrics` from `live`.
pub async fn serve(addr: SocketAddr, live: Arc<Live>, id: &Identity) -> anyhow::Result<Listening> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--prometheus-listen {addr}: cannot listen"))?;
    let addr = listener.local_addr()?;
    let mut registry = registry(id);
    registry.register_collector(Box::new(LiveCollector(live.clone())));
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(Arc::new(registry));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Listening {
        addr,
        live,
        stop,
        task,
    })
}
