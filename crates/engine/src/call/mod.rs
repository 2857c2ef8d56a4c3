//! A simulated phone caller: one call of a call step, as a Goose transaction. It connects to the
//! bot and hands the call to the frame engine (a WebRTC call runs in `webrtc`), which sends the
//! protocol's opening, then a 20 ms frame of audio on schedule for the whole call (speech or
//! silence, as a phone line does) while it hears the bot out, and hangs up. What the call
//! measured comes back here, into Goose's reports and the call log.

pub mod connect;
pub mod conversation;
pub mod frame_engine;
pub mod pacer;
pub mod playback;
pub mod webrtc;

use crate::measure::session;
use crate::measure::step::StepContext;
use conversation::Event;
use goose::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::protocol::{CallIds, Wire};
use voiceswarm_model::scenario::CallPlan;
use voiceswarm_model::turns::CallLine;
use voiceswarm_model::vocab::{counter, metric, CallFailure};

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed,
    /// Hung up because the run ended: neither completed nor failed.
    CutShort,
    Failed(CallFailure, String),
}

impl Outcome {
    /// How a conversation's events end the call, when they do.
    fn of(events: &[Event]) -> Option<Outcome> {
        events.iter().find_map(|e| match e {
            Event::Completed => Some(Outcome::Completed),
            Event::Failed(kind, why) => Some(Outcome::Failed(*kind, why.clone())),
            _ => None,
        })
    }
}

/// A number for each call of this process (call ids).
static CALLS: AtomicU64 = AtomicU64::new(0);

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
    let outcome = Outcome::of(&events);
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
            Event::Completed | Event::Failed(..) => {}
        }
    }
    outcome
}

/// Runs one call of `plan` as the step `name`: connect, converse, hang up, record.
pub async fn run(
    user: &mut GooseUser,
    name: &str,
    plan: &Arc<CallPlan>,
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

/// Connects, hands the call to the frame engine (which upgrades, converses and hangs up), and
/// records what it reports.
async fn call(user: &mut GooseUser, plan: &Arc<CallPlan>, ctx: &StepContext) -> Outcome {
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
    let (tcp, request, connector) =
        match connect::tcp(&url, &ctx.extra_headers, plan.turn_timeout).await {
            Ok(opened) => opened,
            Err(e) => return Outcome::Failed(CallFailure::Connect, e),
        };
    let wire = plan.wire.as_ref();
    let ids = wire.ids(CALLS.fetch_add(1, Ordering::Relaxed));
    let mut log = CallLog::new(wire, &ids);
    let hint = user.weighted_users_index;
    let mut reports = frame_engine::place(|reports| frame_engine::Job {
        url: url.to_string(),
        tcp: Some(tcp),
        request: Some(request),
        connector: Some(connector),
        plan: plan.clone(),
        ids,
        custom,
        connecting,
        recorder: ctx.recorder.clone(),
        hint,
        deadline: ctx.deadline.get().copied(),
        reports,
    });
    let outcome = loop {
        match reports.recv().await {
            Some(frame_engine::Report::Measured(events)) => {
                record(events, user, ctx, &mut log).await;
            }
            Some(frame_engine::Report::Ended(outcome)) => break outcome,
            None => {
                let why = "the frame engine dropped the call".to_string();
                break Outcome::Failed(CallFailure::ClosedEarly, why);
            }
        }
    };
    if let Some(l) = &ctx.turn_log {
        l.write(&log.end(&outcome));
    }
    outcome
}
