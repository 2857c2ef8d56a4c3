//! A simulated phone caller: one call of a call step, as a Goose transaction. It connects to the
//! bot's WebSocket, sends the protocol's opening, then a 20 ms frame of audio on schedule for the
//! whole call (speech or silence, as a phone line does) while it hears the bot out, and hangs
//! up. Every measurement goes to the recorder, and each call and turn into Goose's reports.

pub mod connect;
pub mod conversation;
pub mod pacer;
pub mod playback;
pub mod webrtc;

use crate::measure::session;
use crate::measure::step::StepContext;
use conversation::{Conversation, Event};
use futures::{SinkExt, StreamExt};
use goose::prelude::*;
use pacer::Pacer;
use playback::Playback;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use voiceswarm_model::protocol::{BotEvent, CallIds, Wire, WireMessage};
use voiceswarm_model::scenario::CallPlan;
use voiceswarm_model::turns::CallLine;
use voiceswarm_model::vocab::{counter, metric, CallFailure};
use voiceswarm_net::Stamps;

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed,
    /// Hung up because the run ended: neither completed nor failed.
    CutShort,
    Failed(CallFailure, String),
}

/// A number for each call of this process (call ids).
static CALLS: AtomicU64 = AtomicU64::new(0);

fn to_tungstenite(m: WireMessage) -> Message {
    match m {
        WireMessage::Text(t) => Message::text(t),
        WireMessage::Binary(b) => Message::binary(b),
    }
}

/// What the call loop sends in answer to the bot: mark echoes, and the acknowledgement of a
/// clear where the protocol has one.
#[derive(Debug, Default)]
struct Answer {
    marks: Vec<String>,
    cleared: bool,
}

/// What the call loop does with one message from the bot.
fn hear(
    wire: &dyn Wire,
    msg: Message,
    now: Instant,
    conv: &mut Conversation<'_>,
    playback: &mut Playback,
) -> Result<Answer, (CallFailure, String)> {
    let wire_msg = match msg {
        Message::Text(t) => WireMessage::Text(t.to_string()),
        Message::Binary(b) => WireMessage::Binary(b),
        Message::Close(_) => {
            return Err((CallFailure::ClosedEarly, "the bot closed the call".into()))
        }
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Ok(Answer::default()),
    };
    match wire
        .parse_bot(&wire_msg)
        .map_err(|e| (CallFailure::Protocol, e))?
    {
        BotEvent::Media(audio) => {
            let speech = wire.format().is_speech(&audio);
            let mid_reply = playback
                .last_speech
                .is_some_and(|t| now - t < conversation::REPLY_GAP);
            playback
                .push(now, &audio, speech, mid_reply)
                .map_err(|queued| {
                    (
                        CallFailure::Flood,
                        format!("{queued:?} of audio queued: far faster than real time"),
                    )
                })?;
            conv.bot_audio(now, speech, playback);
            Ok(Answer::default())
        }
        BotEvent::Mark(name) => {
            playback.mark(now, name);
            conv.bot_mark();
            Ok(Answer::default())
        }
        BotEvent::SpeechStopped => {
            conv.bot_endpoint(now);
            Ok(Answer::default())
        }
        BotEvent::Other => Ok(Answer::default()),
        BotEvent::Clear => {
            conv.bot_clear(now);
            Ok(Answer {
                marks: playback.clear(now),
                cleared: true,
            })
        }
    }
}

/// A read that failed: a message over the 1 MiB limit, or the connection itself.
fn broke(e: tokio_tungstenite::tungstenite::Error) -> (CallFailure, String) {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Capacity(c) => (CallFailure::Oversized, format!("a message over 1 MiB: {c}")),
        e => (
            CallFailure::ClosedEarly,
            format!("the connection broke: {e}"),
        ),
    }
}

/// The call's sending side: media frames on schedule and mark echoes, numbered as the
/// protocol counts them.
struct Sender<'a> {
    wire: &'a dyn Wire,
    ids: CallIds,
    seq: u64,
    chunk: u64,
    /// The socket's kernel-edge stamps: when the last write left, when the last read arrived.
    stamps: Arc<Stamps>,
}

impl Sender<'_> {
    async fn send(
        &mut self,
        ws: &mut connect::Socket,
        m: WireMessage,
    ) -> Result<(), (CallFailure, String)> {
        ws.send(to_tungstenite(m))
            .await
            .map_err(|e| (CallFailure::ClosedEarly, format!("cannot send: {e}")))
    }

    /// The turn's speech ended with the write just made: it left when that write entered the
    /// kernel, a moment after the tick that made it (or, without a stamp, at the tick).
    fn speech_left(&self, conv: &mut Conversation<'_>) {
        if let Some(at) = self.stamps.last_write() {
            conv.speech_left(at);
        }
    }

    async fn marks(
        &mut self,
        ws: &mut connect::Socket,
        names: Vec<String>,
    ) -> Result<(), (CallFailure, String)> {
        for name in names {
            self.seq += 1;
            if let Some(m) = self.wire.mark(&self.ids, &name, self.seq) {
                self.send(ws, m).await?;
            }
        }
        Ok(())
    }

    /// Echoes marks and acknowledges a clear.
    async fn answer(
        &mut self,
        ws: &mut connect::Socket,
        a: Answer,
    ) -> Result<(), (CallFailure, String)> {
        self.marks(ws, a.marks).await?;
        if a.cleared {
            self.seq += 1;
            if let Some(m) = self.wire.cleared(&self.ids, self.seq) {
                self.send(ws, m).await?;
            }
        }
        Ok(())
    }
}

/// The call's record in the run's `calls.jsonl`: its ids, and the clocks that turn its
/// instants into wall-clock times.
struct CallLog {
    protocol: &'static str,
    call_id: String,
    stream_id: String,
    /// The same moment on both clocks.
    anchor: (Instant, std::time::SystemTime),
    turns: usize,
    /// The bot's endpoint of the turn under way, when it said where it heard the speech end.
    endpointing: Option<Duration>,
}

impl CallLog {
    fn new(wire: &dyn Wire, ids: &CallIds) -> Self {
        Self {
            protocol: wire.name(),
            call_id: ids.call_id.clone(),
            stream_id: ids.stream_id.clone(),
            anchor: (Instant::now(), std::time::SystemTime::now()),
            turns: 0,
            endpointing: None,
        }
    }

    /// `at` on the wall clock, in ns since the Unix epoch.
    fn wall_ns(&self, at: Instant) -> u64 {
        let (i, w) = self.anchor;
        let wall = if at >= i { w + (at - i) } else { w - (i - at) };
        wall.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    }

    fn turn(&mut self, turn: usize, since: Instant, at: Instant, dtmf: bool) -> CallLine {
        self.turns += 1;
        CallLine::Turn {
            protocol: self.protocol.into(),
            call_id: self.call_id.clone(),
            stream_id: self.stream_id.clone(),
            turn: turn + 1,
            last_speech_sent_ns: self.wall_ns(since),
            first_reply_received_ns: self.wall_ns(at),
            voice_to_voice_ms: (at - since).as_secs_f64() * 1000.0,
            endpointing_ms: self.endpointing.take().map(|d| d.as_secs_f64() * 1000.0),
            dtmf,
        }
    }

    fn end(&self, outcome: &Outcome) -> CallLine {
        let (name, failure, why) = match outcome {
            Outcome::Completed => ("completed", None, None),
            Outcome::CutShort => ("cut_short", None, None),
            Outcome::Failed(kind, why) => {
                ("failed", Some(kind.name().to_string()), Some(why.clone()))
            }
        };
        CallLine::Call {
            protocol: self.protocol.into(),
            call_id: self.call_id.clone(),
            stream_id: self.stream_id.clone(),
            outcome: name.into(),
            failure,
            why,
            turns: self.turns,
            duration_ms: self.anchor.0.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

/// Records what the conversation measured; the call's outcome when it ended.
async fn record(
    events: Vec<Event>,
    user: &mut GooseUser,
    ctx: &StepContext,
    log: &mut CallLog,
) -> Option<Outcome> {
    let hint = user.weighted_users_index;
    let mut outcome = None;
    for e in events {
        match e {
            Event::VoiceToVoice {
                turn,
                since,
                at,
                keys,
            } => {
                let d = at - since;
                let line = log.turn(turn, since, at, keys);
                if let Some(l) = &ctx.turn_log {
                    l.write(&line);
                }
                let name = match keys {
                    true => metric::CALL_DTMF_TO_VOICE,
                    false => metric::CALL_VOICE_TO_VOICE,
                };
                ctx.recorder.record(hint, name, d);
                let _ = user
                    .record_custom_request_duration("TURN", name, d, true, None, None)
                    .await;
            }
            Event::Endpointing(d) => {
                log.endpointing = Some(d);
                ctx.recorder.record(hint, metric::CALL_ENDPOINTING, d)
            }
            Event::ReplyAudio(d) => ctx.recorder.record(hint, metric::CALL_REPLY_AUDIO, d),
            Event::BargeIn(d) => ctx.recorder.record(hint, metric::CALL_BARGE_IN, d),
            Event::BargeInIgnored => ctx.recorder.count(hint, counter::CALL_BARGE_IN_IGNORED, 1),
            Event::Completed => outcome = Some(Outcome::Completed),
            Event::Failed(kind, why) => outcome = Some(Outcome::Failed(kind, why)),
        }
    }
    outcome
}

/// Sends every frame due by `now` (catching up after a late wake), recording its lateness; the
/// turn's speech counts as ended when the write of its last frame (or key) left.
async fn send_due(
    ws: &mut connect::Socket,
    sender: &mut Sender<'_>,
    pacer: &mut Pacer,
    conv: &mut Conversation<'_>,
    now: Instant,
    hint: usize,
    ctx: &StepContext,
) -> Result<(), (CallFailure, String)> {
    if let Some(keys) = conv.keys(now) {
        let mut pressed = false;
        for key in keys.chars() {
            sender.seq += 1;
            if let Some(m) = sender.wire.dtmf(&sender.ids, &key.to_string(), sender.seq) {
                sender.send(ws, m).await?;
                pressed = true;
            }
        }
        if pressed {
            sender.speech_left(conv);
        }
    }
    while let Some((k, lateness)) = pacer.take_due(now) {
        let speaking = conv.speaking();
        let frame = conv.frame(now);
        sender.seq += 1;
        sender.chunk += 1;
        let m = sender.wire.media(
            &sender.ids,
            &frame,
            sender.seq,
            sender.chunk,
            Pacer::timestamp_ms(k),
        );
        ctx.recorder
            .record(hint, metric::CALL_FRAME_LATENESS, lateness);
        sender.send(ws, m).await?;
        if speaking && !conv.speaking() {
            sender.speech_left(conv);
        }
    }
    Ok(())
}

/// The conversation over an open socket, frame by frame, until it completes, fails, outlasts
/// `max_duration` or the run ends.
async fn converse(
    ws: &mut connect::Socket,
    sender: &mut Sender<'_>,
    plan: &CallPlan,
    user: &mut GooseUser,
    ctx: &StepContext,
    log: &mut CallLog,
) -> Outcome {
    let start = Instant::now();
    let mut pacer = Pacer::new(start);
    let mut conv = Conversation::new(plan);
    let mut playback = Playback::new(start, plan.wire.format());
    let hint = user.weighted_users_index;
    let fail = |(kind, why): (CallFailure, String)| Outcome::Failed(kind, why);
    let outcome = loop {
        tokio::select! {
            biased;
            msg = ws.next() => {
                // When the kernel received the message, however late this task reads it.
                let now = sender.stamps.last_read().unwrap_or_else(Instant::now);
                let result = match msg {
                    Some(Ok(m)) => hear(plan.wire.as_ref(), m, now, &mut conv, &mut playback),
                    Some(Err(e)) => Err(broke(e)),
                    None => Err((CallFailure::ClosedEarly, "the bot closed the call".into())),
                };
                match result {
                    Ok(answer) => if let Err(e) = sender.answer(ws, answer).await { break fail(e) },
                    Err(e) => break fail(e),
                }
            }
            _ = crate::clock::sleep_until(pacer.next_due()) => {
                let now = Instant::now();
                if let Err(e) = send_due(ws, sender, &mut pacer, &mut conv, now, hint, ctx).await {
                    break fail(e);
                }
                let due = playback.due_marks(now);
                if let Err(e) = sender.marks(ws, due).await { break fail(e) }
                conv.tick(now, &mut playback);
                if let Some(outcome) = record(conv.take_events(), user, ctx, log).await {
                    break outcome;
                }
                if now - start > plan.max_duration {
                    break Outcome::Failed(CallFailure::MaxDuration, format!("still going after {:?}", plan.max_duration));
                }
                if ctx.deadline.get().is_some_and(|end| now >= *end) {
                    break Outcome::CutShort;
                }
            }
        }
    };
    // Measurements made before a failure still count (a reply heard before the socket broke).
    let _ = record(conv.take_events(), user, ctx, log).await;
    ctx.recorder
        .count(hint, counter::CALL_STUTTERS, playback.stutters);
    outcome
}

/// Runs one call of `plan` as the step `name`: connect, converse, hang up, record.
pub async fn run(
    user: &mut GooseUser,
    name: &str,
    plan: &CallPlan,
    ctx: &StepContext,
) -> TransactionResult {
    if ctx.deadline.get().is_some_and(|end| Instant::now() >= *end) {
        // The run is over: no new call. Wait for Goose to stop this user rather than spin.
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Ok(());
    }
    if let Some(at) = session::state(user).redial_at.take() {
        // The last call failed: wait as a person redialling does, at most until the run ends.
        let until = ctx.deadline.get().map_or(at, |end| at.min(*end));
        tokio::time::sleep_until(until.into()).await;
        if ctx.past_deadline() {
            return Ok(());
        }
        ctx.recorder
            .count(user.weighted_users_index, counter::CALL_REDIALS, 1);
    }
    let hint = user.weighted_users_index;
    ctx.users_seen.fetch_max(hint + 1, Ordering::Relaxed);
    ctx.recorder.with_shard(hint, |s| {
        s.count(counter::REQUESTS, 1);
        s.count(counter::CALLS_STARTED, 1);
    });
    let started = Instant::now();
    // Each kind of call's future on its own allocation: a WebSocket call does not carry the room
    // of a WebRTC one (str0m's state is kilobytes), nor the other way round.
    let outcome = match &plan.webrtc {
        Some(rtc) => Box::pin(webrtc::call(user, plan, rtc, ctx)).await,
        None => Box::pin(call(user, plan, ctx)).await,
    };
    let took = started.elapsed();
    ctx.recorder.with_shard(hint, |s| match &outcome {
        Outcome::Completed => {
            s.count(counter::CALLS_COMPLETED, 1);
            s.count(counter::CALLS_COMPLETED_MS, took.as_millis() as u64);
            s.record(name, took);
        }
        Outcome::CutShort => s.count(counter::CALLS_CUT_SHORT, 1),
        Outcome::Failed(kind, _) => {
            s.count(counter::CALLS_FAILED, 1);
            s.count(counter::FAILURES, 1);
            s.count(&kind.counter(), 1);
        }
    });
    let error = match &outcome {
        Outcome::Failed(kind, why) => Some(format!("{name}: {}: {why}", kind.name())),
        _ => None,
    };
    if error.is_some() {
        session::state(user).redial_at = Some(Instant::now() + plan.redial_pause);
    }
    user.record_custom_request_duration("CALL", name, took, error.is_none(), None, error.as_deref())
        .await
}

/// Connects (timing the handshake), converses, and hangs up.
async fn call(user: &mut GooseUser, plan: &CallPlan, ctx: &StepContext) -> Outcome {
    let vars = session::vars(user);
    let path = plan.path.render(vars, &ctx.data);
    let custom = plan
        .custom_parameters
        .iter()
        .map(|(k, t)| (k.clone(), t.render(vars, &ctx.data).into_owned()))
        .collect();
    let url = match connect::ws_url(&user.base_url, &path) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(CallFailure::Connect, e),
    };
    let connecting = Instant::now();
    // The handshake's future is ~10 KiB (TCP connect, HTTP upgrade) and over in milliseconds:
    // on its own allocation, it is not held for the rest of the call.
    let opening = Box::pin(connect::open(&url, &ctx.extra_headers, plan.turn_timeout));
    let (mut ws, stamps) = match opening.await {
        Ok(opened) => opened,
        Err(e) => return Outcome::Failed(CallFailure::Connect, e),
    };
    ctx.recorder.record(
        user.weighted_users_index,
        metric::CALL_CONNECT,
        connecting.elapsed(),
    );
    let wire = plan.wire.as_ref();
    let mut sender = Sender {
        wire,
        ids: wire.ids(CALLS.fetch_add(1, Ordering::Relaxed)),
        seq: 1,
        chunk: 0,
        stamps,
    };
    let mut log = CallLog::new(wire, &sender.ids);
    let mut outcome = Outcome::Completed;
    for m in wire.opening(&sender.ids, &custom) {
        if let Err((kind, why)) = sender.send(&mut ws, m).await {
            outcome = Outcome::Failed(kind, why);
            break;
        }
    }
    if outcome == Outcome::Completed {
        outcome = converse(&mut ws, &mut sender, plan, user, ctx, &mut log).await;
    }
    if !matches!(outcome, Outcome::Failed(CallFailure::ClosedEarly, _)) {
        sender.seq += 1;
        if let Some(stop) = wire.stop(&sender.ids, sender.seq) {
            let _ = ws.send(to_tungstenite(stop)).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    }
    if let Some(l) = &ctx.turn_log {
        l.write(&log.end(&outcome));
    }
    outcome
}
