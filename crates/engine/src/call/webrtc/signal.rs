//! WebRTC signalling over HTTP: the caller's SDP offer to the bot and its answer, in the three
//! dialects a call step names — WHIP (RFC 9725: `application/sdp`, 201, `Location` to DELETE at
//! hang-up), Pipecat SmallWebRTC's JSON offer (`{"sdp", "type"}` → `{"sdp", "type", "pc_id"}`)
//! and OpenAI Realtime's calls endpoint (`application/sdp` with the run's bearer key, 201 with
//! the answer and the call's `Location`; hang-up is a POST to its `…/hangup`).

use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION};
use serde::Deserialize;
use std::sync::OnceLock;
use std::time::Duration;
use voiceswarm_model::scenario::webrtc::Signalling;

/// The bot's answer.
#[derive(Debug)]
pub struct Answer {
    pub sdp: String,
    /// What the bot calls the session (the WHIP resource, Pipecat's `pc_id`), when it says.
    pub call_id: Option<String>,
    /// How to hang up: WHIP DELETEs its `Location`; OpenAI POSTs to its call's `…/hangup`.
    pub hang_up: Option<(reqwest::Method, reqwest::Url)>,
}

/// One HTTP client for every call's signalling (a connection pool, the system's roots).
fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| format!("cannot build the signalling client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[derive(Deserialize)]
struct PipecatAnswer {
    sdp: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    pc_id: Option<String>,
}

/// The last segment of a resource URL: the session's name.
fn last_segment(url: &reqwest::Url) -> Option<String> {
    url.path_segments()?
        .rfind(|s| !s.is_empty())
        .map(str::to_string)
}

/// Sends `offer` to `url` as `signalling` says, within `limit`; errors name the URL and what
/// came back.
pub async fn offer(
    signalling: Signalling,
    url: &reqwest::Url,
    headers: &HeaderMap,
    offer: &str,
    limit: Duration,
) -> Result<Answer, String> {
    let client = client()?;
    let request = client.post(url.clone()).headers(headers.clone());
    let request = match signalling {
        Signalling::Whip | Signalling::OpenAi => request
            .header(CONTENT_TYPE, "application/sdp")
            .body(offer.to_string()),
        Signalling::Pipecat => request.json(&serde_json::json!({"sdp": offer, "type": "offer"})),
    };
    let response = tokio::time::timeout(limit, request.send())
        .await
        .map_err(|_| format!("{url}: no answer within {limit:?}"))?
        .map_err(|e| format!("cannot send the offer to {url}: {e}"))?;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url.join(l).ok());
    let body = tokio::time::timeout(limit, response.text())
        .await
        .map_err(|_| format!("{url}: the answer did not arrive within {limit:?}"))?
        .map_err(|e| format!("{url}: cannot read the answer: {e}"))?;
    if !status.is_success() {
        let body: String = body.chars().take(200).collect();
        let hint = match status {
            reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => {
                " (the key goes in --header \"Authorization: Bearer …\")"
            }
            _ => "",
        };
        return Err(format!(
            "{url}: the offer was refused: {status} {body}{hint}"
        ));
    }
    match signalling {
        Signalling::Whip | Signalling::OpenAi => {
            if signalling == Signalling::Whip && status != reqwest::StatusCode::CREATED {
                return Err(format!("{url}: WHIP answers 201 Created, not {status}"));
            }
            let call_id = location.as_ref().and_then(last_segment);
            let hang_up = match (signalling, location) {
                (Signalling::Whip, Some(l)) => Some((reqwest::Method::DELETE, l)),
                (_, Some(l)) => l
                    .join(&format!("{}/hangup", l.path().trim_end_matches('/')))
                    .ok()
                    .map(|u| (reqwest::Method::POST, u)),
                (_, None) => None,
            };
            Ok(Answer {
                sdp: body,
                call_id,
                hang_up,
            })
        }
        Signalling::Pipecat => {
            let a: PipecatAnswer = serde_json::from_str(&body).map_err(|e| {
                format!("{url}: not a Pipecat answer ({{\"sdp\", \"type\", \"pc_id\"}}): {e}")
            })?;
            if a.kind != "answer" {
                return Err(format!("{url}: an answer of type '{}'", a.kind));
            }
            Ok(Answer {
                sdp: a.sdp,
                call_id: a.pc_id,
                hang_up: None,
            })
        }
    }
}

/// Ends the session where the signalling has a way to (WHIP: DELETE its resource; OpenAI: POST
/// its call's `hangup`); a bot that does not answer within a second is left to notice the
/// silence.
pub async fn hang_up(answer: &Answer, headers: &HeaderMap) {
    let (Some((method, url)), Ok(client)) = (&answer.hang_up, client()) else {
        return;
    };
    let request = client.request(method.clone(), url.clone());
    let sent = request.headers(headers.clone()).send();
    let _ = tokio::time::timeout(Duration::from_secs(1), sent).await;
}
