//! The per-call record of a run, one JSON object per line in the run folder's `calls.jsonl`:
//! each turn's end of speech and first reply on the wall clock (so a bot's own log can be
//! matched turn by turn), and each call's outcome. The engine fills it through [`TurnLog`]; the
//! results crate writes it (`calls_file.rs`).

use serde::Serialize;

/// One line of `calls.jsonl`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CallLine {
    /// A turn the bot answered: voice-to-voice is `first_reply_received_ns` −
    /// `last_speech_sent_ns` (wall clock, ns since the Unix epoch; the difference is taken on
    /// the monotonic clock, so `voice_to_voice_ms` is exact even if the wall clock steps).
    Turn {
        protocol: String,
        call_id: String,
        stream_id: String,
        /// 1 for the call's first turn.
        turn: usize,
        /// When the caller's last speech frame of the turn left (its end of speech).
        last_speech_sent_ns: u64,
        /// When the bot's first speech frame of its reply arrived.
        first_reply_received_ns: u64,
        voice_to_voice_ms: f64,
        /// The end of speech → the bot's own end of it (Realtime's `speech_stopped`), where
        /// the bot says.
        #[serde(skip_serializing_if = "Option::is_none")]
        endpointing_ms: Option<f64>,
        /// The turn pressed keys (DTMF): the time is from the last key to the reply.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        dtmf: bool,
    },
    /// A call's end: `completed`, `cut_short` or `failed` (with its kind and why).
    Call {
        protocol: String,
        call_id: String,
        stream_id: String,
        outcome: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        failure: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        why: Option<String>,
        turns: usize,
        duration_ms: f64,
    },
}

/// Where a run's call lines go (the run folder's `calls.jsonl`).
pub trait TurnLog: Send + Sync {
    fn write(&self, line: &CallLine);
}
