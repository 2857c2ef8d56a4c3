//! The reference bot over WebRTC: WHIP (`POST /whip` with an SDP offer → 201, the answer and a
//! `Location`; `DELETE /whip/<id>` hangs up) and Pipecat SmallWebRTC's JSON offer
//! (`POST /api/offer` `{"sdp", "type"}` → `{"sdp", "type", "pc_id"}`). Each call is a str0m peer
//! (RTP mode, Opus or PCMU as the offer has them) on its own UDP socket, with the same ear
//! (VAD, endpointing), stages and worker pools, replies and barge-in as the WebSocket bot.

mod session;

use super::super::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use parking_lot::Mutex;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use tokio::sync::oneshot;

/// The calls in progress, by id, with the way to hang each up.
fn calls() -> &'static Mutex<HashMap<String, oneshot::Sender<()>>> {
    static CALLS: OnceLock<Mutex<HashMap<String, oneshot::Sender<()>>>> = OnceLock::new();
    CALLS.get_or_init(Default::default)
}

/// The address the caller reached us on (the `Host` header), where our UDP socket goes:
/// loopback for a caller on this machine.
async fn our_ip(headers: &HeaderMap) -> IpAddr {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let with_port = if host.contains(':') && !host.ends_with(']') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    match tokio::net::lookup_host(with_port).await {
        Ok(mut a) => a.next().map(|a| a.ip()),
        Err(_) => None,
    }
    .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
}

/// A session answered: its id and SDP answer, its loop spawned.
async fn answer(
    s: Arc<AppState>,
    headers: &HeaderMap,
    offer: &str,
) -> Result<(String, String), Response> {
    let ip = our_ip(headers).await;
    let (peer, sdp) = session::Peer::answer(ip, offer)
        .await
        .map_err(|e| super::super::handlers::error(StatusCode::BAD_REQUEST, e))?;
    let id = format!("rtc-{:016x}", rand::random::<u64>());
    let (hang_up, hung_up) = oneshot::channel();
    calls().lock().insert(id.clone(), hang_up);
    s.count(&s.counters.calls);
    let key = id.clone();
    tokio::spawn(async move {
        session::run(peer, s, hung_up).await;
        calls().lock().remove(&key);
    });
    Ok((id, sdp))
}

/// `POST /whip`: an SDP offer (`application/sdp`) → 201, the answer, `Location: /whip/<id>`.
pub async fn whip(State(s): State<Arc<AppState>>, headers: HeaderMap, body: String) -> Response {
    let sdp_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/sdp"));
    if !sdp_type {
        let message = "WHIP takes an SDP offer with Content-Type: application/sdp";
        return super::super::handlers::error(StatusCode::UNSUPPORTED_MEDIA_TYPE, message);
    }
    match answer(s, &headers, &body).await {
        Ok((id, sdp)) => (
            StatusCode::CREATED,
            [
                (header::CONTENT_TYPE, "application/sdp".to_string()),
                (header::LOCATION, format!("/whip/{id}")),
            ],
            sdp,
        )
            .into_response(),
        Err(r) => r,
    }
}

/// `DELETE /whip/<id>`: hangs the call up.
pub async fn whip_delete(Path(id): Path<String>) -> Response {
    match calls().lock().remove(&id) {
        Some(hang_up) => {
            let _ = hang_up.send(());
            StatusCode::OK.into_response()
        }
        None => super::super::handlers::error(StatusCode::NOT_FOUND, format!("no call {id}")),
    }
}

#[derive(Deserialize)]
pub struct Offer {
    sdp: String,
    #[serde(rename = "type")]
    kind: String,
}

/// `POST /api/offer`: Pipecat SmallWebRTC's `{"sdp", "type": "offer"}` → `{"sdp", "type",
/// "pc_id"}`.
pub async fn pipecat_offer(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(offer): Json<Offer>,
) -> Response {
    if offer.kind != "offer" {
        let message = format!("type '{}': expected an offer", offer.kind);
        return super::super::handlers::error(StatusCode::BAD_REQUEST, message);
    }
    match answer(s, &headers, &offer.sdp).await {
        Ok((id, sdp)) => {
            Json(serde_json::json!({"sdp": sdp, "type": "answer", "pc_id": id})).into_response()
        }
        Err(r) => r,
    }
}
