//! The reference backend's phone bot: `GET /ws/<protocol>` for every protocol the model
//! registers (Twilio, Telnyx, Plivo, Vonage, Exotel, raw PCM). It listens with voice activity
//! detection and an endpointing silence (media put back in order where a protocol numbers it), thinks through
//! the same stages and worker pools as the HTTP API, speaks its reply as frames paced in real
//! time, then a mark; caller speech during a reply is a barge-in: it stops and sends `clear`.
//! Faults apply to calls too: dropped sockets, stalled replies, malformed frames. The same bot
//! answers WebRTC (`webrtc/`: WHIP and Pipecat's SmallWebRTC offer).

mod ear;
pub mod recognise;
mod reorder;
mod voice;
pub mod webrtc;

use super::edge::Edge;
use super::state::AppState;
use super::truth;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::Response;
use bytes::Bytes;
use ear::{Ear, Heard};
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use voice::Reply;
use voiceswarm_model::audio::speech::{tone_frames, Format, FRAME};
use voiceswarm_model::protocol::{self, CallIds, CallerEvent, Wire, WireMessage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    sample_rate: Option<u32>,
}

/// `GET /ws/<protocol>`: a call in any registered protocol (`?sample_rate=` for those whose
/// rate the caller chooses, 16000 by default).
pub async fn call(
    ws: WebSocketUpgrade,
    ConnectInfo(edge): ConnectInfo<Edge>,
    State(s): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(q): Query<CallQuery>,
) -> Response {
    let Some(p) = protocol::protocol(&name) else {
        let known = protocol::names();
        let message = format!("/ws/{name}: not a protocol; the bot speaks {known}");
        return super::handlers::error(axum::http::StatusCode::NOT_FOUND, &message);
    };
    // A protocol with a fixed rate ignores the query; the others take theirs by default.
    let rate = match p.rates {
        protocol::Rates::Fixed(r) => r,
        other => q.sample_rate.unwrap_or(other.default_rate()),
    };
    let wire = match p.wire(rate) {
        Ok(w) => w,
        Err(e) => {
            let message = format!("sample_rate: {e}");
            return super::handlers::error(axum::http::StatusCode::BAD_REQUEST, &message);
        }
    };
    // Frames are a few hundred bytes: 4 KiB read buffers instead of 128 KiB (thousands of calls
    // share the bot), each message written as it is sent.
    ws.read_buffer_size(4096)
        .write_buffer_size(0)
        .on_upgrade(move |socket| session(socket, s, wire, edge))
}

/// A reply being spoken.
struct Speaking {
    start: Instant,
    next: usize,
    frames: usize,
}

/// One call's state at the bot.
struct Bot {
    s: Arc<AppState>,
    wire: Arc<dyn Wire>,
    ids: CallIds,
    ear: Ear,
    voice: Vec<Bytes>,
    thinking: Option<BoxFuture<'static, Result<Reply, (axum::http::StatusCode, String)>>>,
    speaking: Option<Speaking>,
    replies: u64,
    /// The caller hung up and the protocol's answer to it is on its way: the call ends once sent.
    hung_up: bool,
    /// Media in sequence order, for protocols that number it and do not promise its order.
    reorder: reorder::Reorder,
    truth: truth::Truth,
}

fn to_axum(m: WireMessage) -> Message {
    match m {
        WireMessage::Text(t) => Message::Text(t.into()),
        WireMessage::Binary(b) => Message::Binary(b),
    }
}

/// Waits for `at`, or forever when there is nothing to wait for.
async fn until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => futures::future::pending().await,
    }
}

impl Bot {
    /// What the bot sends in answer to one message of the caller (None: the call is over).
    /// The protocol's own answer (AudioHook's `opened`, `closed`) comes first.
    fn heard(&mut self, event: CallerEvent) -> Option<Vec<WireMessage>> {
        if let CallerEvent::Start {
            call_id, stream_id, ..
        } = &event
        {
            self.ids.call_id = call_id.clone();
            self.ids.stream_id = stream_id.clone();
        }
        let mut out: Vec<WireMessage> = self
            .wire
            .bot_answer(&self.ids, &event)
            .into_iter()
            .collect();
        match event {
            CallerEvent::Media { audio, seq: None } => out.extend(self.listen(&audio)),
            CallerEvent::Media {
                audio,
                seq: Some(n),
            } => {
                for a in self.reorder.push(n, audio) {
                    out.extend(self.listen(&a));
                }
            }
            CallerEvent::Stop if out.is_empty() => return None,
            CallerEvent::Stop => self.hung_up = true,
            CallerEvent::Dtmf(key) => out.extend(self.press(key)),
            CallerEvent::Start { .. }
            | CallerEvent::Connected
            | CallerEvent::Mark(_)
            | CallerEvent::Cleared => {}
        }
        Some(out)
    }

    fn listen(&mut self, audio: &[u8]) -> Vec<WireMessage> {
        match self.ear.hear(audio) {
            Heard::Nothing => Vec::new(),
            Heard::SpeechStarted => {
                // A new utterance supersedes a reply being thought of or spoken.
                self.thinking = None;
                match self.speaking.take() {
                    Some(_) => vec![self.wire.bot_clear(&self.ids)],
                    None => Vec::new(),
                }
            }
            Heard::Utterance(utterance) => self.answer(utterance),
        }
    }

    /// Starts thinking of a reply — or, on demand, stalls or sends a malformed frame.
    fn answer(&mut self, utterance: Vec<u8>) -> Vec<WireMessage> {
        let s = &self.s;
        if s.sampler.chance(s.config.hang_rate) {
            s.count(&s.counters.injected_hangs);
            return Vec::new();
        }
        if s.sampler.chance(s.config.error_rate) {
            s.count(&s.counters.injected_errors);
            return vec![WireMessage::Text(
                "{\"event\": \"media\", \"media\": {\"payload\": ".into(),
            )];
        }
        let format = self.wire.format();
        let call = self.ids.call_id.clone();
        self.thinking = Some(Box::pin(voice::think(s.clone(), format, call, utterance)));
        Vec::new()
    }

    /// A key pressed: answered like an utterance (an IVR menu); it interrupts a reply.
    fn press(&mut self, key: String) -> Vec<WireMessage> {
        let call = self.ids.call_id.clone();
        self.thinking = Some(Box::pin(voice::press(self.s.clone(), call, key)));
        match self.speaking.take() {
            Some(_) => vec![self.wire.bot_clear(&self.ids)],
            None => Vec::new(),
        }
    }

    /// The reply's next frame, and its mark after the last one.
    fn speak(&mut self) -> Vec<WireMessage> {
        let Some(sp) = &mut self.speaking else {
            return Vec::new();
        };
        if sp.next == 0 {
            self.truth.reply_begins();
        }
        let frame = &self.voice[sp.next % self.voice.len()];
        let mut out = vec![self.wire.bot_media(&self.ids, frame)];
        sp.next += 1;
        if sp.next >= sp.frames {
            self.replies += 1;
            let name = format!("reply-{}", self.replies);
            out.extend(self.wire.bot_mark(&self.ids, &name));
            self.speaking = None;
        }
        out
    }
}

/// A call from its upgrade to its end.
async fn session(socket: WebSocket, s: Arc<AppState>, wire: Arc<dyn Wire>, edge: Edge) {
    s.count(&s.counters.calls);
    let format: Format = wire.format();
    let endpoint = Duration::from_millis(s.config.endpoint_ms);
    // On demand, the socket drops 1 to 4 s into the call.
    let drop_at = s
        .sampler
        .chance(s.config.drop_rate)
        .then(|| Instant::now() + Duration::from_secs_f64(1.0 + 3.0 * s.sampler.uniform()));
    let mut bot = Bot {
        truth: truth::Truth::new(s.truth.clone(), wire.name(), format),
        ids: CallIds::default(),
        reorder: Default::default(),
        ear: Ear::new(format, endpoint),
        voice: tone_frames(format),
        thinking: None,
        speaking: None,
        replies: 0,
        hung_up: false,
        s,
        wire,
    };
    let (mut tx, mut rx) = socket.split();
    loop {
        let next_frame = bot
            .speaking
            .as_ref()
            .map(|sp| sp.start + FRAME * sp.next as u32);
        let out = tokio::select! {
            msg = rx.next() => {
                // When the kernel received it, however late this task reads it.
                let arrived = edge.arrived();
                let wire_msg = match msg {
                    Some(Ok(Message::Text(t))) => WireMessage::Text(t.to_string()),
                    Some(Ok(Message::Binary(b))) => WireMessage::Binary(b),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                };
                // A message that is not the protocol's is ignored: a bot keeps the line open.
                match bot.wire.parse_caller(&wire_msg) {
                    Ok(event) => {
                        bot.truth.heard(&event, arrived);
                        match bot.heard(event) {
                            Some(out) => out,
                            None => break,
                        }
                    }
                    Err(_) => continue,
                }
            }
            reply = async { match &mut bot.thinking { Some(f) => f.await, None => futures::future::pending().await } } => {
                bot.thinking = None;
                match reply {
                    Ok(r) => {
                        bot.speaking = Some(Speaking { start: r.first_at, next: 0, frames: r.frames.max(1) });
                        continue;
                    }
                    // A failing stage (--fail-component) ends the call, as a crashed bot would.
                    Err(_) => break,
                }
            }
            _ = until(next_frame) => bot.speak(),
            _ = until(drop_at) => {
                bot.s.count(&bot.s.counters.injected_drops);
                return;
            }
        };
        for m in out {
            if tx.send(to_axum(m)).await.is_err() {
                return;
            }
            bot.truth.sent(&bot.ids, edge.left());
        }
        if bot.hung_up {
            break;
        }
    }
    let _ = tx.send(Message::Close(None)).await;
}
