//! The caller's side of the conversation, as a state machine driven by the clock and the bot's
//! audio: speak a turn, wait for the reply, hear it out, pause, speak again — or barge in
//! mid-reply — and say what was measured. No I/O: the call loop feeds it and sends its frames.

use super::playback::Playback;
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::protocol::PreparedFrame;
use voiceswarm_model::scenario::call_step::{CallPlan, Utterance};
use voiceswarm_model::vocab::CallFailure;

/// With no mark from the bot, its reply is over once it has played and it has said nothing
/// for this long.
pub const REPLY_GAP: Duration = Duration::from_millis(700);
/// After a barge-in, the bot's audio counts as stopped after this long without speech.
pub const STOPPED: Duration = Duration::from_millis(200);

/// What a conversation measured or decided, for the call loop to record.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The bot said where it heard the caller's speech end (Realtime's `speech_stopped`).
    Endpointing(Duration),
    /// Turn `turn` (0 for the first): its last speech frame left at `since`, the bot's first
    /// reply frame arrived at `at`.
    VoiceToVoice {
        turn: usize,
        since: Instant,
        at: Instant,
        /// The turn pressed keys (DTMF) instead of speaking.
        keys: bool,
    },
    ReplyAudio(Duration),
    BargeIn(Duration),
    BargeInIgnored,
    Failed(CallFailure, String),
    Completed,
}

#[derive(Debug)]
enum Phase {
    Speaking {
        frames: Utterance,
        next: usize,
    },
    /// Keys to press at the next frame (a DTMF turn).
    Pressing {
        keys: String,
    },
    /// The last speech frame (or key) left at `since`.
    Awaiting {
        since: Instant,
        deadline: Instant,
        keys: bool,
    },
    Hearing {
        barge_at: Option<Instant>,
        marked: bool,
    },
    Pausing {
        until: Instant,
    },
    Done,
}

/// An interruption of the bot in progress.
#[derive(Debug)]
struct Barge {
    started: Instant,
    last_bot_speech: Option<Instant>,
}

#[derive(Debug)]
pub struct Conversation {
    plan: Arc<CallPlan>,
    turn: usize,
    phase: Phase,
    barge: Option<Barge>,
    events: Vec<Event>,
}

/// How turn `turn` begins: an utterance picked at random, or its keys.
fn begin(plan: &CallPlan, turn: usize) -> Phase {
    let t = &plan.turns[turn];
    match (&t.dtmf, t.utterances.len()) {
        (Some(keys), _) => Phase::Pressing { keys: keys.clone() },
        (None, 0) => Phase::Done,
        (None, n) => Phase::Speaking {
            frames: t.utterances[rand::random_range(0..n)].clone(),
            next: 0,
        },
    }
}

impl Conversation {
    /// A conversation whose first turn starts now.
    pub fn new(plan: Arc<CallPlan>) -> Self {
        Self {
            phase: begin(&plan, 0),
            plan,
            turn: 0,
            barge: None,
            events: Vec::new(),
        }
    }

    pub fn done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// What was measured since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn fail(&mut self, kind: CallFailure, why: String) {
        self.events.push(Event::Failed(kind, why));
        self.phase = Phase::Done;
    }

    /// The frame to send at `now`: the next of the utterance being spoken, else silence.
    /// (A clone shares the frame's bytes.)
    pub fn frame(&mut self, now: Instant) -> PreparedFrame {
        let Phase::Speaking { frames, next } = &mut self.phase else {
            return self.plan.silence.clone();
        };
        let frame = frames[*next].clone();
        *next += 1;
        if *next == frames.len() {
            self.phase = Phase::Awaiting {
                since: now,
                deadline: now + self.plan.turn_timeout,
                keys: false,
            };
        }
        frame
    }

    /// Whether a turn's utterance is being spoken (its frames are still to send).
    pub fn speaking(&self) -> bool {
        matches!(self.phase, Phase::Speaking { .. })
    }

    /// The turn's last speech frame (or key) left the caller at `at` — the write's own stamp, a
    /// moment after the tick that made the frame: voice-to-voice counts from there.
    pub fn speech_left(&mut self, at: Instant) {
        if let Phase::Awaiting {
            since, deadline, ..
        } = &mut self.phase
        {
            *deadline += at.saturating_duration_since(*since);
            *since = at;
        }
    }

    /// The keys to press at `now`, when this turn presses keys; the turn then awaits its reply.
    pub fn keys(&mut self, now: Instant) -> Option<String> {
        let Phase::Pressing { keys } = &mut self.phase else {
            return None;
        };
        let keys = std::mem::take(keys);
        self.phase = Phase::Awaiting {
            since: now,
            deadline: now + self.plan.turn_timeout,
            keys: true,
        };
        Some(keys)
    }

    /// The bot's audio arrived at `now`.
    pub fn bot_audio(&mut self, now: Instant, speech: bool, playback: &mut Playback) {
        if !speech {
            return;
        }
        if let Some(b) = &mut self.barge {
            // The interrupted reply is still sounding.
            b.last_bot_speech = Some(now);
            return;
        }
        if let Phase::Awaiting { since, keys, .. } = self.phase {
            self.events.push(Event::VoiceToVoice {
                turn: self.turn,
                since,
                at: now,
                keys,
            });
            playback.start_reply();
            let barge_at = self.plan.turns[self.turn].barge_in_after.map(|d| now + d);
            self.phase = Phase::Hearing {
                barge_at,
                marked: false,
            };
        }
    }

    /// The bot said the caller's speech has ended (its endpoint), at `now`.
    pub fn bot_endpoint(&mut self, now: Instant) {
        if let Phase::Awaiting {
            since, keys: false, ..
        } = self.phase
        {
            self.events.push(Event::Endpointing(now - since));
        }
    }

    /// The bot sent a mark (its reply is queued to its end).
    pub fn bot_mark(&mut self) {
        if let Phase::Hearing { marked, .. } = &mut self.phase {
            *marked = true;
        }
    }

    /// The bot cleared its audio: an interruption answered.
    pub fn bot_clear(&mut self, now: Instant) {
        if let Some(b) = self.barge.take() {
            self.events.push(Event::BargeIn(now - b.started));
        }
    }

    /// Moves on with time: timeouts, the end of a reply, the end of a pause, a barge-in.
    pub fn tick(&mut self, now: Instant, playback: &mut Playback) {
        self.resolve_barge(now);
        match self.phase {
            Phase::Awaiting { deadline, .. } if now >= deadline => {
                let t = self.plan.turn_timeout;
                self.fail(
                    CallFailure::NoReply,
                    format!("turn {}: no reply audio within {t:?}", self.turn + 1),
                );
            }
            Phase::Hearing {
                barge_at: Some(at), ..
            } if now >= at => self.barge_in(now, playback),
            Phase::Hearing { marked, .. } => {
                let quiet = playback.last_speech.is_none_or(|t| now - t >= REPLY_GAP);
                if !playback.playing(now) && (marked || quiet) {
                    self.events.push(Event::ReplyAudio(playback.reply_audio));
                    let (lo, hi) = self.plan.pause;
                    self.next_turn_after(now + voiceswarm_model::scenario::between(lo, hi));
                }
            }
            Phase::Pausing { until } if now >= until => self.speak_next(),
            _ => {}
        }
    }

    fn next_turn_after(&mut self, until: Instant) {
        self.phase = if self.turn + 1 == self.plan.turns.len() {
            self.events.push(Event::Completed);
            Phase::Done
        } else {
            Phase::Pausing { until }
        };
    }

    fn speak_next(&mut self) {
        self.turn += 1;
        self.phase = begin(&self.plan, self.turn);
    }

    /// Starts the next turn over the bot's reply.
    fn barge_in(&mut self, now: Instant, playback: &Playback) {
        self.events.push(Event::ReplyAudio(playback.reply_audio));
        self.barge = Some(Barge {
            started: now,
            last_bot_speech: None,
        });
        self.speak_next();
    }

    /// Ends an interruption when the bot's audio has stopped, or gives up on it.
    fn resolve_barge(&mut self, now: Instant) {
        let Some(b) = &self.barge else { return };
        let last = b.last_bot_speech.unwrap_or(b.started);
        if now - last >= STOPPED {
            let took = last.saturating_duration_since(b.started);
            self.events
                .push(Event::BargeIn(took.max(Duration::from_micros(1))));
            self.barge = None;
        } else if now - b.started > self.plan.turn_timeout {
            self.events.push(Event::BargeInIgnored);
            self.barge = None;
        }
    }
}
