//! A caller over WebRTC: one call of a call step whose transport is `webrtc`. It offers one
//! audio track to the bot through the step's signalling, connects (ICE, DTLS), then runs the
//! same conversation as a WebSocket call — the 20 ms schedule, turns, barge-in, voice-to-voice,
//! the caller's ear — with RTP packets for frames; it measures the bot's stream as it arrives
//! (RFC 3550 jitter, loss) and sends RTCP receiver reports; and hangs up.

mod ear;
mod events;
pub mod impair;
mod peer;
pub mod reception;
mod signal;

use super::conversation::{self, Conversation};
use super::pacer::Pacer;
use super::playback::Playback;
use super::{record, CallLog, Outcome, CALLS};
use crate::measure::session;
use crate::measure::step::StepContext;
use ear::Ear;
use goose::prelude::GooseUser;
use peer::{Heard, Peer};
use reception::Reception;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::protocol::CallIds;
use voiceswarm_model::scenario::webrtc::WebRtcPlan;
use voiceswarm_model::scenario::CallPlan;
use voiceswarm_model::vocab::{counter, metric, CallFailure};

/// How often the bot stream's jitter is sampled into `call:jitter`.
const JITTER_EVERY: Duration = Duration::from_secs(1);

type Fail = (CallFailure, String);

/// What one call holds while it converses.
struct Call {
    peer: Peer,
    conv: Conversation,
    playback: Playback,
    ear: Ear,
    reception: Reception,
    pacer: Pacer,
    heard: Vec<Heard>,
    /// The call's id in `calls.jsonl` (the bot's name for the session, where it gave one).
    call_id: String,
}

impl Call {
    /// The bot's packets and the connection's news, after any input.
    fn hear(&mut self, now: Instant) -> Result<(), Fail> {
        self.peer
            .pump(now, &mut self.heard)
            .map_err(|e| (CallFailure::Protocol, e))?;
        for h in std::mem::take(&mut self.heard) {
            match h {
                Heard::Rtp {
                    at,
                    seq,
                    time,
                    payload,
                } => {
                    self.reception.packet(at, seq, time);
                    self.audio(at, &payload)?;
                }
                Heard::Closed(why) => return Err((CallFailure::ClosedEarly, why)),
                Heard::Connected => {}
                Heard::EventsOpen => {
                    let update = events::session_update(&self.call_id);
                    self.peer
                        .send_event(&update)
                        .map_err(|e| (CallFailure::Protocol, e))?;
                }
                Heard::Event { at, text } => {
                    let event = events::parse(&text).map_err(|e| (CallFailure::Protocol, e))?;
                    if event == events::ServerEvent::SpeechStopped {
                        self.conv.bot_endpoint(at);
                    }
                }
            }
        }
        Ok(())
    }

    /// One packet of the bot's audio: speech plays (a WebRTC bot sends silence between its
    /// replies, which is nothing to play).
    fn audio(&mut self, at: Instant, payload: &[u8]) -> Result<(), Fail> {
        let (pcm, speech) = self.ear.hear(payload);
        if speech {
            let mid_reply = self
                .playback
                .last_speech
                .is_some_and(|t| at - t < conversation::REPLY_GAP);
            self.playback
                .push(at, pcm, true, mid_reply)
                .map_err(|queued| {
                    let why = format!("{queued:?} of audio queued: far faster than real time");
                    (CallFailure::Flood, why)
                })?;
        }
        self.conv.bot_audio(at, speech, &mut self.playback);
        Ok(())
    }

    /// Every frame due by `now`, as RTP, recording each one's lateness.
    fn send_due(&mut self, now: Instant, hint: usize, ctx: &StepContext) -> Result<(), Fail> {
        while let Some((k, lateness)) = self.pacer.take_due(now) {
            let speaking = self.conv.speaking();
            let frame = self.conv.frame(now);
            self.peer.send_audio(now, k, &frame.audio);
            // str0m's rule: drained after every input (what it says is heard next).
            self.peer
                .pump(now, &mut self.heard)
                .map_err(|e| (CallFailure::Protocol, e))?;
            // The turn's speech left with that packet: voice-to-voice counts from its send.
            if let Some(at) = self
                .peer
                .last_sent()
                .filter(|_| speaking && !self.conv.speaking())
            {
                self.conv.speech_left(at);
            }
            ctx.recorder
                .record(hint, metric::CALL_FRAME_LATENESS, lateness);
        }
        Ok(())
    }
}

/// Waits for ICE and DTLS, within `limit`; what the peer said with its connection, for the call.
async fn connect(peer: &mut Peer, limit: Duration) -> Result<Vec<Heard>, String> {
    let deadline = Instant::now() + limit;
    let mut buf = vec![0u8; 2048];
    let mut heard = Vec::new();
    loop {
        let now = Instant::now();
        peer.pump(now, &mut heard)?;
        if let Some(Heard::Closed(why)) = heard.iter().find(|h| matches!(h, Heard::Closed(_))) {
            return Err(why.clone());
        }
        if heard.iter().any(|h| matches!(h, Heard::Connected)) {
            return Ok(heard);
        }
        heard.clear();
        if now >= deadline {
            return Err(format!("ICE and DTLS not done within {limit:?}"));
        }
        tokio::select! {
            r = voiceswarm_net::recv_from_stamped(peer.socket(), &mut buf) => {
                let (n, from, arrived) = r.map_err(|e| format!("UDP: {e}"))?;
                peer.received(Instant::now(), arrived, from, &buf[..n]);
            }
            _ = tokio::time::sleep_until(peer.wake().min(deadline).into()) => {
                peer.tick(Instant::now(), &mut heard)?;
            }
        }
    }
}

/// One turn of the loop past a wake-up: release, send, move the conversation on, record.
async fn tick(
    c: &mut Call,
    user: &mut GooseUser,
    ctx: &StepContext,
    log: &mut CallLog,
    plan: &CallPlan,
    start: Instant,
) -> Result<Option<Outcome>, Fail> {
    let now = Instant::now();
    let hint = user.weighted_users_index;
    c.peer
        .tick(now, &mut c.heard)
        .map_err(|e| (CallFailure::Protocol, e))?;
    c.send_due(now, hint, ctx)?;
    c.hear(now)?;
    c.conv.tick(now, &mut c.playback);
    if let Some(outcome) = record(c.conv.take_events(), user, ctx, log).await {
        return Ok(Some(outcome));
    }
    if now - start > plan.max_duration {
        let why = format!("still going after {:?}", plan.max_duration);
        return Err((CallFailure::MaxDuration, why));
    }
    if ctx.deadline.get().is_some_and(|end| now >= *end) {
        return Ok(Some(Outcome::CutShort));
    }
    Ok(None)
}

/// The conversation over a connected peer, until it completes, fails, outlasts `max_duration`
/// or the run ends.
async fn converse(
    c: &mut Call,
    plan: &CallPlan,
    user: &mut GooseUser,
    ctx: &StepContext,
    log: &mut CallLog,
) -> Outcome {
    let start = Instant::now();
    let hint = user.weighted_users_index;
    let mut buf = vec![0u8; 2048];
    let mut sample_at = start + JITTER_EVERY;
    let result = loop {
        let wake = c.peer.wake().min(c.pacer.next_due()).min(sample_at);
        tokio::select! {
            biased;
            r = voiceswarm_net::recv_from_stamped(c.peer.socket(), &mut buf) => {
                let now = Instant::now();
                match r {
                    Ok((n, from, arrived)) => c.peer.received(now, arrived, from, &buf[..n]),
                    Err(e) => break Err((CallFailure::ClosedEarly, format!("UDP: {e}"))),
                }
                if let Err(e) = c.hear(now) { break Err(e) }
            }
            _ = crate::clock::sleep_until(wake) => {
                match tick(c, user, ctx, log, plan, start).await {
                    Ok(Some(outcome)) => break Ok(outcome),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
                if Instant::now() >= sample_at && c.reception.received > 1 {
                    ctx.recorder.record(hint, metric::CALL_JITTER, c.reception.jitter());
                    sample_at += JITTER_EVERY;
                } else if Instant::now() >= sample_at {
                    sample_at += JITTER_EVERY;
                }
            }
        }
    };
    // Measurements made before a failure still count (a reply heard before the peer went).
    let _ = record(c.conv.take_events(), user, ctx, log).await;
    let r = &c.reception;
    ctx.recorder.with_shard(hint, |s| {
        s.count(counter::CALL_STUTTERS, c.playback.stutters);
        s.count(counter::CALL_RTP_EXPECTED, r.expected());
        s.count(counter::CALL_RTP_LOST, r.lost());
    });
    result.unwrap_or_else(|(kind, why)| Outcome::Failed(kind, why))
}

/// The bot's address, for choosing our own candidate.
async fn remote_ip(url: &reqwest::Url) -> Result<std::net::IpAddr, String> {
    let host = url.host_str().ok_or_else(|| format!("{url}: no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let mut addrs = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("{url}: cannot resolve {host}: {e}"))?;
    addrs
        .next()
        .map(|a| a.ip())
        .ok_or_else(|| format!("{url}: {host} has no address"))
}

/// Signalling and connecting, timed as `call:connect` (offer sent → ICE and DTLS done).
async fn open(
    user: &GooseUser,
    plan: &CallPlan,
    rtc: &WebRtcPlan,
    ctx: &StepContext,
) -> Result<(Peer, signal::Answer, Vec<Heard>), String> {
    let vars = session::vars(user);
    let path = plan.path.render(vars, &ctx.data);
    let url = user
        .base_url
        .join(&path)
        .map_err(|e| format!("{}{path}: {e}", user.base_url))?;
    let connecting = Instant::now();
    let (mut peer, offer) = Peer::offer(remote_ip(&url).await?, rtc).await?;
    let limit = plan.turn_timeout;
    let answer = signal::offer(rtc.signalling, &url, &ctx.extra_headers, &offer, limit).await?;
    peer.accept(&answer.sdp)?;
    let heard = match connect(&mut peer, limit).await {
        Ok(heard) => heard,
        Err(e) => {
            signal::hang_up(&answer, &ctx.extra_headers).await;
            return Err(e);
        }
    };
    let hint = user.weighted_users_index;
    ctx.recorder
        .record(hint, metric::CALL_CONNECT, connecting.elapsed());
    Ok((peer, answer, heard))
}

/// One call over WebRTC: signal, connect, converse, hang up, and the call's line in the log.
pub(super) async fn call(
    user: &mut GooseUser,
    plan: &Arc<CallPlan>,
    rtc: &WebRtcPlan,
    ctx: &StepContext,
) -> Outcome {
    // Signalling's future (an HTTP exchange) is kilobytes: on its own allocation, it is not held
    // for the rest of the call.
    let (peer, answer, heard) = match Box::pin(open(user, plan, rtc, ctx)).await {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(CallFailure::Connect, e),
    };
    let wire = plan.wire.as_ref();
    let mut ids: CallIds = wire.ids(CALLS.fetch_add(1, Ordering::Relaxed));
    if let Some(id) = &answer.call_id {
        // The bot's name for the session: what its log says.
        ids.call_id = id.clone();
    }
    let mut log = CallLog::new(wire, &ids);
    let ear = match Ear::new(rtc.codec) {
        Ok(e) => e,
        Err(e) => return Outcome::Failed(CallFailure::Protocol, e),
    };
    let start = Instant::now();
    let mut c = Call {
        peer,
        conv: Conversation::new(plan.clone()),
        playback: Playback::new(start, ear.format()),
        reception: Reception::new(rtc.codec.clock_rate()),
        pacer: Pacer::new(start),
        heard,
        call_id: ids.call_id.clone(),
        ear,
    };
    let outcome = converse(&mut c, plan, user, ctx, &mut log).await;
    c.peer.close();
    signal::hang_up(&answer, &ctx.extra_headers).await;
    if let Some(l) = &ctx.turn_log {
        l.write(&log.end(&outcome));
    }
    outcome
}
