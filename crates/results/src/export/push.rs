//! `--prometheus-push`: a judged run's final figures PUT to a Pushgateway — Prometheus's
//! documented pattern for batch jobs — in the text format 0.0.4. The group is job `voiceswarm`,
//! the profile and the host, so the next run of the same profile against the same host replaces
//! it; every series carries the run's labels (a version's figures stay apart in Prometheus).

use super::prometheus::{self, Figures, Limit};
use super::{Final, Identity};
use base64::Engine;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// A finished run's figures as a `prometheus-client` collector.
#[derive(Debug)]
struct FinalCollector {
    fin: Arc<Final>,
    limits: Vec<Limit>,
}

impl Collector for FinalCollector {
    fn encode(&self, enc: DescriptorEncoder) -> std::fmt::Result {
        let f = Figures {
            recording: &self.fin.recording,
            users: self.fin.users,
            limits: &self.limits,
            verdicts: Some(&self.fin.verdicts),
        };
        prometheus::encode(enc, &f)
    }
}

/// The group's path under the Pushgateway: values base64url-encoded, as its API takes values
/// with `/` (a host URL) or any other character.
pub fn group_path(id: &Identity) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "/metrics/job/voiceswarm/profile@base64/{}/host@base64/{}",
        b64(&id.profile),
        b64(&id.host)
    )
}

/// The exposition pushed: the final figures, each series with the run's labels.
pub fn body(id: &Identity, fin: Arc<Final>, limits: Vec<Limit>) -> Result<String, String> {
    let labels = id
        .labels
        .iter()
        .map(|(k, v)| (Cow::Owned(k.clone()), Cow::Owned(v.clone())));
    let mut registry = Registry::with_labels(labels.collect::<Vec<_>>().into_iter());
    registry.register_collector(Box::new(FinalCollector { fin, limits }));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        .map_err(|_| "cannot encode the metrics".to_string())?;
    Ok(text)
}

pub use voiceswarm_model::plan::exports::shown;

/// PUTs the figures to the Pushgateway at `url`; the error says what the gateway answered.
pub async fn push(
    url: String,
    id: Identity,
    fin: Arc<Final>,
    limits: Vec<Limit>,
) -> Result<(), String> {
    let text = body(&id, fin, limits)?;
    let target = format!("{}{}", url.trim_end_matches('/'), group_path(&id));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .put(&target)
        .header(
            reqwest::header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )
        .body(text)
        .send()
        .await
        .map_err(|e| format!("{}: {e}", shown(&url)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let answer = response.text().await.unwrap_or_default();
    Err(format!(
        "{} answered {status}: {}",
        shown(&url),
        answer.lines().next().unwrap_or("")
    ))
}
