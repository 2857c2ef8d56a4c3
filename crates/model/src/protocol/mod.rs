//! The wire protocols of a real-time phone call over WebSocket, both directions: what the
//! telephony side (voiceswarm's callers) sends and what the bot sends back. One file per
//! protocol behind the [`Wire`] trait — Twilio Media Streams (`twilio.rs`) and a raw PCM
//! protocol (`raw.rs`); Telnyx or Plivo variants would be a file each.

pub mod raw;
pub mod twilio;

use crate::audio::speech::Format;
use bytes::Bytes;
use std::collections::BTreeMap;

/// A WebSocket message, whichever WebSocket library carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum WireMessage {
    Text(String),
    Binary(Bytes),
}

/// The identifiers of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallIds {
    pub stream_sid: String,
    pub call_sid: String,
    pub account_sid: String,
}

impl CallIds {
    /// Identifiers shaped like the platform's (`MZ…`, `CA…`, `AC…`, 34 characters).
    pub fn new(n: u64) -> Self {
        let tail = format!("{:032x}", (n as u128) << 64 | rand::random::<u64>() as u128);
        Self {
            stream_sid: format!("MZ{tail}"),
            call_sid: format!("CA{tail}"),
            account_sid: "AC00000000000000000000000000000000".into(),
        }
    }
}

/// A frame of the caller's audio, prepared once at load in the protocol's form.
#[derive(Debug, Clone)]
pub struct PreparedFrame {
    pub audio: Bytes,
    /// The audio as the protocol carries it in text (Twilio: base64), when it does.
    pub text: Option<std::sync::Arc<str>>,
    pub speech: bool,
}

/// What the telephony side tells the bot.
#[derive(Debug, Clone, PartialEq)]
pub enum CallerEvent {
    Connected,
    Start {
        call_sid: String,
        stream_sid: String,
        custom_parameters: BTreeMap<String, String>,
    },
    Media(Bytes),
    /// A mark the bot sent, echoed once the audio before it has played (or was cleared).
    Mark(String),
    Dtmf(String),
    Stop,
}

/// What the bot tells the telephony side.
#[derive(Debug, Clone, PartialEq)]
pub enum BotEvent {
    Media(Bytes),
    Mark(String),
    /// Drop the audio queued for playback (the caller interrupted).
    Clear,
}

/// One protocol, both directions. Counters (`sequenceNumber`, `chunk`) are the caller's to keep.
pub trait Wire: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;
    /// The audio format on the wire.
    fn format(&self) -> Format;
    /// A caller frame prepared for sending many times.
    fn prepare(&self, audio: Bytes) -> PreparedFrame;

    /// The caller's first messages.
    fn opening(&self, ids: &CallIds, custom: &BTreeMap<String, String>) -> Vec<WireMessage>;
    /// One 20 ms frame of the caller's audio; `seq` numbers every message, `chunk` the media.
    fn media(
        &self,
        ids: &CallIds,
        frame: &PreparedFrame,
        seq: u64,
        chunk: u64,
        ms: u64,
    ) -> WireMessage;
    /// Echo of a bot mark.
    fn mark(&self, ids: &CallIds, name: &str, seq: u64) -> WireMessage;
    /// The caller hangs up.
    fn stop(&self, ids: &CallIds, seq: u64) -> WireMessage;
    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String>;

    fn bot_media(&self, ids: &CallIds, audio: &[u8]) -> WireMessage;
    fn bot_mark(&self, ids: &CallIds, name: &str) -> WireMessage;
    fn bot_clear(&self, ids: &CallIds) -> WireMessage;
    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String>;
}

/// Makes a protocol's codec for a call at a sample rate (protocols with a fixed rate ignore it).
type MakeWire = fn(u32) -> std::sync::Arc<dyn Wire>;

/// Every protocol, by the name scenario files, the bot's path `/ws/<name>` and messages use. A
/// new dialect is its own file in this folder and one line here.
const REGISTRY: &[(&str, MakeWire)] = &[
    ("twilio", |_| std::sync::Arc::new(twilio::Twilio)),
    ("raw", |sample_rate| {
        std::sync::Arc::new(raw::Raw { sample_rate })
    }),
];

/// A protocol by name, at a sample rate.
pub fn wire(name: &str, sample_rate: u32) -> Option<std::sync::Arc<dyn Wire>> {
    REGISTRY
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, make)| make(sample_rate))
}

/// The protocols [`wire`] knows, for messages and help: `twilio, raw`.
pub fn names() -> String {
    REGISTRY
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}
