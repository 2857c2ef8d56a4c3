//! A call step over WebRTC (`"transport": "webrtc"`), compiled: its signalling (WHIP, Pipecat's
//! SmallWebRTC JSON offer, OpenAI Realtime's calls endpoint), its codec (Opus at 48 kHz or PCMU),
//! the bad network it asks for (`impair`), and the caller's audio as RTP payloads made once at
//! load ([`RtpWire`]).

use super::error::{Ctx, ScenarioError};
use super::model::{CallDef, ImpairDef};
use crate::audio::opus;
use crate::audio::speech::Format;
use crate::protocol::{BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::units::{parse_duration, parse_percent};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;

/// How the caller and the bot agree on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signalling {
    /// WHIP (RFC 9725): POST `application/sdp` → 201, the answer and a `Location` to DELETE.
    Whip,
    /// Pipecat SmallWebRTC: POST `{"sdp", "type"}` → `{"sdp", "type", "pc_id"}`.
    Pipecat,
    /// OpenAI Realtime: POST `application/sdp` with a bearer key → 201 and the answer.
    OpenAi,
}

impl Signalling {
    pub const NAMES: &'static str = "whip, pipecat, openai";

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "whip" => Some(Self::Whip),
            "pipecat" => Some(Self::Pipecat),
            "openai" => Some(Self::OpenAi),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Whip => "whip",
            Self::Pipecat => "pipecat",
            Self::OpenAi => "openai",
        }
    }

    /// Where the offer goes unless the step names a path (the reference bot answers the first
    /// two there; Pipecat's runner serves `/api/offer`).
    pub fn default_path(self) -> &'static str {
        match self {
            Self::Whip => "/whip",
            Self::Pipecat => "/api/offer",
            Self::OpenAi => "/v1/realtime/calls",
        }
    }
}

/// The audio codec a WebRTC call offers (and only that one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtpCodec {
    /// Opus, 48 kHz mono, 20 ms a packet.
    Opus,
    /// G.711 μ-law, 8 kHz, 160 bytes a packet (RTP payload type 0).
    Pcmu,
}

impl RtpCodec {
    pub fn name(self) -> &'static str {
        match self {
            Self::Opus => "opus",
            Self::Pcmu => "pcmu",
        }
    }

    /// The RTP clock: samples per second in the RTP timestamp.
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Opus => opus::RATE,
            Self::Pcmu => 8_000,
        }
    }

    /// The caller's audio before encoding (and PCMU's on the wire).
    pub fn format(self) -> Format {
        match self {
            Self::Opus => Format::Pcm16(opus::RATE),
            Self::Pcmu => Format::MuLaw8k,
        }
    }
}

/// A bad network on purpose, applied to every packet both ways.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impair {
    /// The chance each packet is dropped, 0 to 1.
    pub loss: f64,
    /// Each packet is delayed by a further random 0 to this much (so packets arrive unevenly, and
    /// out of order when it exceeds their 20 ms spacing).
    pub jitter: Duration,
    /// Every packet is delayed by this much, each way.
    pub latency: Duration,
}

impl Impair {
    pub fn is_none(&self) -> bool {
        self.loss == 0.0 && self.jitter.is_zero() && self.latency.is_zero()
    }
}

/// A WebRTC call step's transport.
#[derive(Debug, Clone, PartialEq)]
pub struct WebRtcPlan {
    pub signalling: Signalling,
    pub codec: RtpCodec,
    pub impair: Impair,
}

/// The caller's audio as RTP payloads: Opus packets encoded once per utterance (each flagged
/// speech as a decoder hears it), or μ-law frames as they are. A WebRTC call has no messages of
/// its own on a socket: the media go as RTP, so this wire only prepares payloads and carries
/// them as binary.
#[derive(Debug, Clone, Copy)]
pub struct RtpWire {
    pub codec: RtpCodec,
}

impl Wire for RtpWire {
    fn name(&self) -> &'static str {
        "webrtc"
    }

    fn format(&self) -> Format {
        self.codec.format()
    }

    fn prepare(&self, audio: Bytes) -> PreparedFrame {
        let mut frames = self.prepare_utterance(vec![audio]);
        frames.pop().unwrap_or(PreparedFrame {
            audio: Bytes::new(),
            text: None,
            speech: false,
        })
    }

    fn prepare_utterance(&self, frames: Vec<Bytes>) -> Vec<PreparedFrame> {
        match self.codec {
            RtpCodec::Pcmu => frames
                .into_iter()
                .map(|audio| PreparedFrame {
                    speech: Format::MuLaw8k.is_speech(&audio),
                    text: None,
                    audio,
                })
                .collect(),
            // The frames are 20 ms at 48 kHz by construction (utterance_frames in this
            // format): libopus refuses nothing of them.
            RtpCodec::Opus => opus::encode_utterance(&frames)
                .unwrap_or_default()
                .into_iter()
                .map(|(audio, speech)| PreparedFrame {
                    audio,
                    text: None,
                    speech,
                })
                .collect(),
        }
    }

    fn ids(&self, n: u64) -> CallIds {
        CallIds {
            stream_id: CallIds::uuid(n, 1),
            call_id: CallIds::uuid(n, 2),
            account_id: String::new(),
        }
    }

    fn opening(&self, _ids: &CallIds, _custom: &BTreeMap<String, String>) -> Vec<WireMessage> {
        Vec::new()
    }

    fn media(&self, _: &CallIds, frame: &PreparedFrame, _: u64, _: u64, _: u64) -> WireMessage {
        WireMessage::Binary(frame.audio.clone())
    }

    fn mark(&self, _: &CallIds, _: &str, _: u64) -> Option<WireMessage> {
        None
    }

    fn stop(&self, _: &CallIds, _: u64) -> Option<WireMessage> {
        None
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        match msg {
            WireMessage::Binary(b) => Ok(BotEvent::Media(b.clone())),
            WireMessage::Text(_) => Err("a WebRTC call carries audio as RTP, not text".into()),
        }
    }

    fn bot_media(&self, _: &CallIds, audio: &[u8]) -> WireMessage {
        WireMessage::Binary(Bytes::copy_from_slice(audio))
    }

    fn bot_mark(&self, _: &CallIds, _: &str) -> Option<WireMessage> {
        None
    }

    fn bot_clear(&self, _: &CallIds) -> WireMessage {
        WireMessage::Binary(Bytes::new())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        match msg {
            WireMessage::Binary(b) => Ok(CallerEvent::media(b.clone())),
            WireMessage::Text(_) => Err("a WebRTC call carries audio as RTP, not text".into()),
        }
    }
}

fn impair(ctx: &Ctx, at: &str, def: &ImpairDef) -> Result<Impair, ScenarioError> {
    let time = |field: &str, text: &Option<String>| match text {
        None => Ok(Duration::ZERO),
        Some(t) => parse_duration(t).map_err(|e| ctx.err(format!("{at}.impair.{field}"), e)),
    };
    let loss = match &def.loss {
        None => 0.0,
        Some(t) => parse_percent(t).map_err(|e| ctx.err(format!("{at}.impair.loss"), e))? / 100.0,
    };
    Ok(Impair {
        loss,
        jitter: time("jitter", &def.jitter)?,
        latency: time("latency", &def.latency)?,
    })
}

/// The step's WebRTC transport, or None for a WebSocket call; fields of the other transport are
/// refused, naming the field.
pub(super) fn compile(
    ctx: &Ctx,
    at: &str,
    def: &CallDef,
) -> Result<Option<WebRtcPlan>, ScenarioError> {
    let webrtc = match def.transport.as_deref() {
        None | Some("websocket") => false,
        Some("webrtc") => true,
        Some(other) => {
            return Err(ctx.err(
                format!("{at}.transport"),
                format!("'{other}' is not a transport: use websocket or webrtc"),
            ))
        }
    };
    let only_webrtc = [
        ("signalling", def.signalling.is_some()),
        ("codec", def.codec.is_some()),
        ("impair", def.impair.is_some()),
    ];
    let only_websocket = [
        ("protocol", def.protocol.is_some()),
        ("sample_rate", def.sample_rate.is_some()),
        ("custom_parameters", !def.custom_parameters.is_empty()),
    ];
    if !webrtc {
        if let Some((f, _)) = only_webrtc.iter().find(|(_, set)| *set) {
            return Err(ctx.err(
                format!("{at}.{f}"),
                "only a WebRTC call takes it: add \"transport\": \"webrtc\"",
            ));
        }
        return Ok(None);
    }
    if let Some((f, _)) = only_websocket.iter().find(|(_, set)| *set) {
        return Err(ctx.err(
            format!("{at}.{f}"),
            "a WebRTC call takes no WebSocket protocol's settings: it speaks RTP (signalling and codec choose it)",
        ));
    }
    let name = def.signalling.as_deref().unwrap_or("whip");
    let signalling = Signalling::parse(name).ok_or_else(|| {
        ctx.err(
            format!("{at}.signalling"),
            format!(
                "'{name}' is not a signalling: use one of {}",
                Signalling::NAMES
            ),
        )
    })?;
    let codec = match def.codec.as_deref().unwrap_or("opus") {
        "opus" => RtpCodec::Opus,
        "pcmu" => RtpCodec::Pcmu,
        other => {
            return Err(ctx.err(
                format!("{at}.codec"),
                format!("'{other}' is not a codec: use opus or pcmu"),
            ))
        }
    };
    let impair = match &def.impair {
        None => Impair::default(),
        Some(d) => impair(ctx, at, d)?,
    };
    Ok(Some(WebRtcPlan {
        signalling,
        codec,
        impair,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcmu_payloads_are_the_frames_and_opus_ones_are_packets() {
        let tone = crate::audio::speech::tone_frames(Format::MuLaw8k);
        let w = RtpWire {
            codec: RtpCodec::Pcmu,
        };
        let f = w.prepare_utterance(tone[..3].to_vec());
        assert_eq!(f[0].audio, tone[0]);
        assert!(f.iter().all(|f| f.speech));
        let w = RtpWire {
            codec: RtpCodec::Opus,
        };
        let tone = crate::audio::speech::tone_frames(w.format());
        let f = w.prepare_utterance(tone[..5].to_vec());
        assert_eq!(f.len(), 5);
        assert!(f[1..].iter().all(|f| f.speech && f.audio.len() < 200));
        assert!(!w.prepare(w.format().silence()).speech);
        assert!(w.dtmf(&w.ids(0), "1", 0).is_none(), "no keys over RTP yet");
    }
}
