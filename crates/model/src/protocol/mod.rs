//! The wire protocols of a real-time phone call over WebSocket, both directions: what the
//! telephony side (voiceswarm's callers) sends and what the bot sends back. One file per
//! protocol behind the [`Wire`] trait — Twilio Media Streams, Telnyx, Plivo, Vonage, Exotel,
//! OpenAI Realtime, Genesys AudioHook and a raw PCM protocol — and the registry of them: a new dialect is one
//! file and one line.

pub mod exotel;
pub mod genesys;
pub mod plivo;
pub mod raw;
pub mod realtime;
pub mod telnyx;
pub mod twilio;
pub mod vonage;

use crate::audio::speech::Format;
use bytes::Bytes;
use std::collections::BTreeMap;

/// A WebSocket message, whichever WebSocket library carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum WireMessage {
    Text(String),
    Binary(Bytes),
}

/// The identifiers of one call, each protocol's in its own shape (Twilio `MZ…`/`CA…`/`AC…`,
/// Telnyx `v3:…` and a UUID, Plivo and Vonage UUIDs, Exotel hex): see [`Wire::ids`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallIds {
    /// The media stream (Twilio `streamSid`, Telnyx `stream_id`, Plivo `streamId`, …).
    pub stream_id: String,
    /// The call (Twilio `callSid`, Telnyx `call_control_id`, Plivo `callId`, Vonage
    /// `call_uuid`, Exotel `call_sid`): what a bot's log names the call by.
    pub call_id: String,
    /// The account, where the protocol names one.
    pub account_id: String,
}

/// 128 bits for call `n` of this process: `n` in the high half, random bits in the low.
fn bits(n: u64) -> u128 {
    (n as u128) << 64 | rand::random::<u64>() as u128
}

impl CallIds {
    /// Twilio's shape: `MZ…`, `CA…`, `AC…`, 34 characters each.
    pub fn twilio(n: u64) -> Self {
        let tail = format!("{:032x}", bits(n));
        Self {
            stream_id: format!("MZ{tail}"),
            call_id: format!("CA{tail}"),
            account_id: "AC00000000000000000000000000000000".into(),
        }
    }

    /// A UUID (version 4's layout) for call `n`, with `salt` telling the stream from the call.
    pub fn uuid(n: u64, salt: u8) -> String {
        let b = bits(n) ^ ((salt as u128) << 56);
        let h = format!("{b:032x}");
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..]
        )
    }

    /// 32 hexadecimal digits for call `n` (Exotel's sids).
    pub fn hex(n: u64) -> String {
        format!("{:032x}", bits(n))
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
        call_id: String,
        stream_id: String,
        custom_parameters: BTreeMap<String, String>,
    },
    /// Audio; `seq` is the message's sequence number where the protocol numbers its messages
    /// and does not promise their order (Telnyx).
    Media {
        audio: Bytes,
        seq: Option<u64>,
    },
    /// A mark the bot sent, echoed once the audio before it has played (or was cleared).
    Mark(String),
    /// The platform dropped the bot's queued audio, as asked (Plivo `clearedAudio`, Vonage
    /// `websocket:cleared`).
    Cleared,
    Dtmf(String),
    Stop,
}

impl CallerEvent {
    /// Audio in order (no sequence number).
    pub fn media(audio: Bytes) -> Self {
        CallerEvent::Media { audio, seq: None }
    }
}

/// What the bot tells the telephony side.
#[derive(Debug, Clone, PartialEq)]
pub enum BotEvent {
    Media(Bytes),
    Mark(String),
    /// Drop the audio queued for playback (the caller interrupted).
    Clear,
    /// The bot's own end of the caller's speech (OpenAI Realtime `speech_stopped`).
    SpeechStopped,
    /// An event read and of no consequence to the caller (Realtime's `session.created`, …).
    Other,
}

/// One protocol, both directions. Counters (`sequenceNumber`, `chunk`) are the caller's to keep.
/// A message a protocol does not have is `None` (Plivo and Vonage have no stop on the socket;
/// Vonage has no marks but its `notify`).
pub trait Wire: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;
    /// The audio format on the wire.
    fn format(&self) -> Format;
    /// A caller frame prepared for sending many times.
    fn prepare(&self, audio: Bytes) -> PreparedFrame;
    /// An utterance's frames prepared in order (a codec with memory, Opus, encodes them as one).
    fn prepare_utterance(&self, frames: Vec<Bytes>) -> Vec<PreparedFrame> {
        frames.into_iter().map(|f| self.prepare(f)).collect()
    }
    /// The identifiers of call `n`, in the protocol's shape.
    fn ids(&self, n: u64) -> CallIds;

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
    fn mark(&self, ids: &CallIds, name: &str, seq: u64) -> Option<WireMessage>;
    /// The platform's answer to the bot's clear, where it sends one.
    fn cleared(&self, _ids: &CallIds, _seq: u64) -> Option<WireMessage> {
        None
    }
    /// A key pressed (DTMF), where the protocol carries them.
    fn dtmf(&self, _ids: &CallIds, _digit: &str, _seq: u64) -> Option<WireMessage> {
        None
    }
    /// The caller hangs up (a message before the socket closes, where the protocol has one).
    fn stop(&self, ids: &CallIds, seq: u64) -> Option<WireMessage>;
    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String>;

    fn bot_media(&self, ids: &CallIds, audio: &[u8]) -> WireMessage;
    fn bot_mark(&self, ids: &CallIds, name: &str) -> Option<WireMessage>;
    fn bot_clear(&self, ids: &CallIds) -> WireMessage;
    /// What the bot answers to a message of the caller, where the protocol has it answered
    /// (Genesys AudioHook: `opened` to `open`, `closed` to `close`).
    fn bot_answer(&self, _ids: &CallIds, _heard: &CallerEvent) -> Option<WireMessage> {
        None
    }
    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String>;
}

/// The sample rates a protocol's caller may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rates {
    /// Fixed by the protocol (Twilio, Telnyx, Plivo: μ-law 8 kHz; Exotel: PCM 8 kHz).
    Fixed(u32),
    /// One of these, the first by default (Vonage: 16000 or 8000).
    OneOf(&'static [u32]),
    /// Any rate from 8000 to 48000 Hz, a multiple of 50; this one by default (raw).
    Any(u32),
}

impl Rates {
    pub fn default_rate(self) -> u32 {
        match self {
            Rates::Fixed(r) | Rates::Any(r) => r,
            Rates::OneOf(list) => list[0],
        }
    }

    /// `rate` if the protocol takes it, else what it takes.
    pub fn check(self, rate: u32) -> Result<u32, String> {
        let ok = match self {
            Rates::Fixed(r) => rate == r,
            Rates::OneOf(list) => list.contains(&rate),
            Rates::Any(_) => (8_000..=48_000).contains(&rate) && rate.is_multiple_of(50),
        };
        match (ok, self) {
            (true, _) => Ok(rate),
            (false, Rates::Fixed(r)) => Err(format!("{rate}: this protocol's rate is {r} Hz")),
            (false, Rates::OneOf(list)) => Err(format!(
                "{rate}: expected one of {}",
                list.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            (false, Rates::Any(_)) => Err(format!(
                "{rate}: expected 8000 to 48000 Hz, a multiple of 50"
            )),
        }
    }
}

/// A registered protocol: its name (the scenario's `protocol`, the bot's `/ws/<name>`), the
/// rates it takes, and its codec at a rate.
#[derive(Debug, Clone, Copy)]
pub struct Protocol {
    pub name: &'static str,
    pub rates: Rates,
    make: fn(u32) -> std::sync::Arc<dyn Wire>,
}

impl Protocol {
    /// Its codec at `rate` (checked against [`Protocol::rates`]).
    pub fn wire(&self, rate: u32) -> Result<std::sync::Arc<dyn Wire>, String> {
        self.rates.check(rate).map(self.make)
    }

    /// Where the reference bot answers it, and a call step's path by default.
    pub fn default_path(&self) -> String {
        format!("/ws/{}", self.name)
    }
}

/// Every protocol. A new dialect is its own file in this folder and one line here.
const REGISTRY: &[Protocol] = &[
    Protocol {
        name: "twilio",
        rates: Rates::Fixed(8_000),
        make: |_| std::sync::Arc::new(twilio::Twilio),
    },
    Protocol {
        name: "raw",
        rates: Rates::Any(16_000),
        make: |sample_rate| std::sync::Arc::new(raw::Raw { sample_rate }),
    },
    Protocol {
        name: "telnyx",
        rates: Rates::Fixed(8_000),
        make: |_| std::sync::Arc::new(telnyx::Telnyx),
    },
    Protocol {
        name: "plivo",
        rates: Rates::Fixed(8_000),
        make: |_| std::sync::Arc::new(plivo::Plivo),
    },
    Protocol {
        name: "vonage",
        rates: Rates::OneOf(&[16_000, 8_000]),
        make: |sample_rate| std::sync::Arc::new(vonage::Vonage { sample_rate }),
    },
    Protocol {
        name: "exotel",
        rates: Rates::Fixed(8_000),
        make: |_| std::sync::Arc::new(exotel::Exotel),
    },
    Protocol {
        name: "openai-realtime",
        rates: Rates::OneOf(&[24_000, 8_000]),
        make: |sample_rate| std::sync::Arc::new(realtime::Realtime { sample_rate }),
    },
    Protocol {
        name: "genesys",
        rates: Rates::Fixed(8_000),
        make: |_| std::sync::Arc::new(genesys::Genesys),
    },
];

/// A protocol by name.
pub fn protocol(name: &str) -> Option<&'static Protocol> {
    REGISTRY.iter().find(|p| p.name == name)
}

/// A protocol's codec by name, at a rate (a protocol with a fixed rate ignores it).
pub fn wire(name: &str, sample_rate: u32) -> Option<std::sync::Arc<dyn Wire>> {
    let p = protocol(name)?;
    let rate = match p.rates {
        Rates::Fixed(r) => r,
        other => other.check(sample_rate).ok()?,
    };
    p.wire(rate).ok()
}

/// The protocols [`wire`] knows, for messages and help: `twilio, raw, …`.
pub fn names() -> String {
    REGISTRY
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Base64 as every JSON dialect carries audio (RFC 4648, padded).
pub(crate) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A message's text, or an error naming the protocol whose messages are text.
pub(crate) fn text<'a>(msg: &'a WireMessage, proto: &str) -> Result<&'a str, String> {
    match msg {
        WireMessage::Text(t) => Ok(t),
        WireMessage::Binary(b) => Err(format!(
            "a binary message of {} bytes; {proto}'s are JSON text",
            b.len()
        )),
    }
}

/// A base64 payload's audio, checked to be whole samples of `format`.
pub(crate) fn decode_audio(payload: &str, format: Format) -> Result<Bytes, String> {
    use base64::Engine;
    let audio = B64
        .decode(payload)
        .map_err(|e| format!("media payload is not base64: {e}"))?;
    if matches!(format, Format::Pcm16(_)) && !audio.len().is_multiple_of(2) {
        return Err(format!(
            "{} bytes of audio: 16-bit PCM has an even length",
            audio.len()
        ));
    }
    Ok(Bytes::from(audio))
}

/// A counter sent as a string (`"42"`) or a number (`42`), as dialects differ.
pub(crate) fn counter(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// A frame prepared as it is, for the dialects that carry audio in binary messages.
pub(crate) fn prepare_binary(format: Format, audio: Bytes) -> PreparedFrame {
    PreparedFrame {
        speech: format.is_speech(&audio),
        text: None,
        audio,
    }
}

/// A frame prepared with its base64 text, for the JSON dialects.
pub(crate) fn prepare_b64(format: Format, audio: Bytes) -> PreparedFrame {
    use base64::Engine;
    PreparedFrame {
        text: Some(B64.encode(&audio).into()),
        speech: format.is_speech(&audio),
        audio,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn json(m: &WireMessage) -> serde_json::Value {
        match m {
            WireMessage::Text(s) => serde_json::from_str(s).expect("JSON text"),
            WireMessage::Binary(_) => panic!("a binary message where JSON was expected"),
        }
    }

    /// The keys of a JSON document, nested, for comparing shapes.
    fn shape(v: &serde_json::Value) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(o) = v.as_object() {
            for (k, x) in o {
                out.push(k.clone());
                out.extend(shape(x).into_iter().map(|s| format!("{k}.{s}")));
            }
        }
        out.sort();
        out
    }

    /// `msg` has the keys of the reference's example, nested.
    pub fn same_shape(msg: &WireMessage, reference: &str) {
        let r: serde_json::Value = serde_json::from_str(reference).expect("the reference parses");
        assert_eq!(shape(&json(msg)), shape(&r), "{msg:?}");
    }

    /// What one side writes, the other reads, and garbage is an error, not a panic.
    pub fn round_trips(w: &dyn Wire) {
        let ids = w.ids(7);
        let custom = BTreeMap::from([("FirstName".to_string(), "Jane".to_string())]);
        let mut started = false;
        for m in w.opening(&ids, &custom) {
            if let CallerEvent::Start { call_id, .. } = w.parse_caller(&m).unwrap() {
                // (Realtime's session names no call: its event id stands for it.)
                assert_eq!(call_id, ids.call_id, "{}", w.name());
                started = true;
            }
        }
        assert!(started, "{}: the opening starts the call", w.name());
        let speech = crate::audio::speech::tone_frames(w.format())[0].clone();
        let frame = w.prepare(speech.clone());
        assert!(frame.speech);
        match w.parse_caller(&w.media(&ids, &frame, 3, 2, 20)).unwrap() {
            CallerEvent::Media { audio, .. } => assert_eq!(audio, speech),
            other => panic!("{other:?}"),
        }
        if let Some(m) = w.mark(&ids, "m1", 4) {
            assert_eq!(w.parse_caller(&m).unwrap(), CallerEvent::Mark("m1".into()));
        }
        if let Some(m) = w.dtmf(&ids, "7", 5) {
            assert_eq!(w.parse_caller(&m).unwrap(), CallerEvent::Dtmf("7".into()));
        }
        if let Some(m) = w.cleared(&ids, 6) {
            assert_eq!(w.parse_caller(&m).unwrap(), CallerEvent::Cleared);
        }
        if let Some(m) = w.stop(&ids, 7) {
            assert_eq!(w.parse_caller(&m).unwrap(), CallerEvent::Stop);
        }
        assert_eq!(
            w.parse_bot(&w.bot_media(&ids, &speech)).unwrap(),
            BotEvent::Media(speech.clone())
        );
        if let Some(m) = w.bot_mark(&ids, "r1") {
            assert_eq!(w.parse_bot(&m).unwrap(), BotEvent::Mark("r1".into()));
        }
        assert_eq!(w.parse_bot(&w.bot_clear(&ids)).unwrap(), BotEvent::Clear);
        for bad in [
            "",
            "{",
            "[]",
            r#"{"event": "media"}"#,
            r#"{"event": "teleport"}"#,
            r#"{"event": 7}"#,
            r#"{"event": "media", "media": {"payload": "%%%"}}"#,
        ] {
            let bad = WireMessage::Text(bad.into());
            assert!(w.parse_bot(&bad).is_err(), "{}: {bad:?}", w.name());
            assert!(w.parse_caller(&bad).is_err(), "{}: {bad:?}", w.name());
        }
        // Three bytes are never whole 16-bit samples, and the text dialects take no binary; on
        // a binary μ-law dialect (Genesys) any length is audio.
        let binary = matches!(w.media(&ids, &frame, 3, 2, 20), WireMessage::Binary(_));
        if !(binary && w.format() == Format::MuLaw8k) {
            let odd = WireMessage::Binary(Bytes::from_static(&[1, 2, 3]));
            assert!(w.parse_bot(&odd).is_err(), "{}", w.name());
        }
    }

    #[test]
    fn every_registered_protocol_round_trips() {
        for p in REGISTRY {
            round_trips(p.wire(p.rates.default_rate()).unwrap().as_ref());
        }
        assert!(protocol("twilio").unwrap().wire(16_000).is_err());
        assert!(wire("carrier-pigeon", 8_000).is_none());
    }
}
