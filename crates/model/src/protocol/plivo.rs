//! Plivo audio streams (bidirectional `<Stream bidirectional="true">`), as Plivo's "Audio Stream"
//! WebSocket reference describes it: JSON text messages, μ-law 8 kHz audio in base64, numeric
//! counters. Platform → bot: start (`start.callId`, `start.streamId`, `start.mediaFormat`),
//! media, dtmf, playedStream (a checkpoint's audio has played), clearedAudio; no stop on the
//! socket (the call ends when it closes). Bot → platform: playAudio (`media.contentType`,
//! `media.sampleRate`, `media.payload`), checkpoint, clearAudio.

use super::{decode_audio, text, BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy)]
pub struct Plivo;

const CONTENT_TYPE: &str = "audio/x-mulaw";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Incoming<'a> {
    event: &'a str,
    #[serde(borrow, default)]
    media: Option<Media<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    dtmf: Option<Digit>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Media<'a> {
    payload: &'a str,
    #[serde(default)]
    content_type: Option<&'a str>,
    #[serde(default)]
    sample_rate: Option<u32>,
}

#[derive(Deserialize)]
struct Digit {
    digit: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start {
    call_id: String,
    stream_id: String,
    #[serde(default)]
    media_format: Option<MediaFormat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MediaFormat {
    encoding: String,
    #[serde(default)]
    sample_rate: Option<u32>,
}

fn parse(msg: &WireMessage) -> Result<Incoming<'_>, String> {
    serde_json::from_str(text(msg, "Plivo")?)
        .map_err(|e| format!("not a Plivo audio-stream message: {e}"))
}

fn media(m: Option<Media<'_>>) -> Result<Bytes, String> {
    decode_audio(
        m.ok_or("a media message without media")?.payload,
        Format::MuLaw8k,
    )
}

/// A playAudio's audio, in the encoding and rate it declares (which must be this codec's).
fn play_audio(m: Option<Media<'_>>) -> Result<Bytes, String> {
    let m = m.ok_or("a playAudio without media")?;
    match (m.content_type, m.sample_rate) {
        (Some(CONTENT_TYPE) | None, Some(8000) | None) => decode_audio(m.payload, Format::MuLaw8k),
        (ct, rate) => Err(format!(
            "playAudio media: {} at {} Hz announced; this call is {CONTENT_TYPE} at 8000 Hz",
            ct.unwrap_or("?"),
            rate.map_or("?".into(), |r| r.to_string())
        )),
    }
}

impl Wire for Plivo {
    fn name(&self) -> &'static str {
        "plivo"
    }

    fn format(&self) -> Format {
        Format::MuLaw8k
    }

    fn prepare(&self, audio: Bytes) -> PreparedFrame {
        super::prepare_b64(Format::MuLaw8k, audio)
    }

    fn ids(&self, n: u64) -> CallIds {
        CallIds {
            stream_id: CallIds::uuid(n, 1),
            call_id: CallIds::uuid(n, 2),
            account_id: format!("MA{}", &CallIds::hex(n)[14..]),
        }
    }

    fn opening(&self, ids: &CallIds, custom: &BTreeMap<String, String>) -> Vec<WireMessage> {
        let start = json!({
            "event": "start",
            "sequenceNumber": 0,
            "start": {
                "callId": ids.call_id,
                "streamId": ids.stream_id,
                "accountId": ids.account_id,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": CONTENT_TYPE, "sampleRate": 8000}
            },
            "extra_headers": serde_json::to_string(custom).unwrap_or_default()
        });
        vec![WireMessage::Text(start.to_string())]
    }

    fn media(
        &self,
        ids: &CallIds,
        frame: &PreparedFrame,
        seq: u64,
        chunk: u64,
        ms: u64,
    ) -> WireMessage {
        let payload = frame.text.as_deref().unwrap_or_default();
        let mut s = String::with_capacity(160 + payload.len());
        let _ = write!(
            s,
            r#"{{"event":"media","sequenceNumber":{seq},"streamId":"{}","media":{{"track":"inbound","timestamp":"{ms}","chunk":{chunk},"payload":"{payload}"}}}}"#,
            ids.stream_id
        );
        WireMessage::Text(s)
    }

    /// A checkpoint's audio has played.
    fn mark(&self, ids: &CallIds, name: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "playedStream", "sequenceNumber": seq, "streamId": ids.stream_id, "name": name});
        Some(WireMessage::Text(m.to_string()))
    }

    fn cleared(&self, ids: &CallIds, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "clearedAudio", "sequenceNumber": seq, "streamId": ids.stream_id});
        Some(WireMessage::Text(m.to_string()))
    }

    fn dtmf(&self, ids: &CallIds, digit: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "dtmf", "sequenceNumber": seq, "streamId": ids.stream_id, "dtmf": {"track": "inbound", "digit": digit, "timestamp": seq.to_string()}});
        Some(WireMessage::Text(m.to_string()))
    }

    /// Plivo sends no stop: the socket closes.
    fn stop(&self, _: &CallIds, _: u64) -> Option<WireMessage> {
        None
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        let m = parse(msg)?;
        match m.event {
            "playAudio" => play_audio(m.media).map(BotEvent::Media),
            "checkpoint" => Ok(BotEvent::Mark(m.name.ok_or("a checkpoint without a name")?)),
            "clearAudio" => Ok(BotEvent::Clear),
            other => Err(format!(
                "'{other}' is not a Plivo bot message (playAudio, checkpoint, clearAudio)"
            )),
        }
    }

    fn bot_media(&self, ids: &CallIds, audio: &[u8]) -> WireMessage {
        let payload = super::B64.encode(audio);
        WireMessage::Text(format!(
            r#"{{"event":"playAudio","media":{{"contentType":"{CONTENT_TYPE}","sampleRate":8000,"payload":"{payload}"}},"streamId":"{}"}}"#,
            ids.stream_id
        ))
    }

    fn bot_mark(&self, ids: &CallIds, name: &str) -> Option<WireMessage> {
        let m = json!({"event": "checkpoint", "streamId": ids.stream_id, "name": name});
        Some(WireMessage::Text(m.to_string()))
    }

    fn bot_clear(&self, ids: &CallIds) -> WireMessage {
        WireMessage::Text(json!({"event": "clearAudio", "streamId": ids.stream_id}).to_string())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        let m = parse(msg)?;
        match m.event {
            "start" => {
                let s = m.start.ok_or("a start message without start")?;
                match s.media_format.as_ref().map(|f| (f.encoding.as_str(), f.sample_rate)) {
                    Some((CONTENT_TYPE, Some(8000) | None)) | None => {}
                    Some((enc, rate)) => {
                        return Err(format!(
                            "start.mediaFormat: {enc} at {rate:?} Hz announced; this side speaks {CONTENT_TYPE} at 8000 Hz"
                        ))
                    }
                }
                Ok(CallerEvent::Start {
                    call_id: s.call_id,
                    stream_id: s.stream_id,
                    custom_parameters: BTreeMap::new(),
                })
            }
            "media" => media(m.media).map(CallerEvent::media),
            "playedStream" => Ok(CallerEvent::Mark(
                m.name.ok_or("a playedStream without a name")?,
            )),
            "clearedAudio" => Ok(CallerEvent::Cleared),
            "dtmf" => Ok(CallerEvent::Dtmf(
                m.dtmf.ok_or("a dtmf without a digit")?.digit,
            )),
            other => Err(format!("'{other}' is not a Plivo audio-stream message")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tests::{round_trips, same_shape};

    /// One example of every message, as Plivo's audio-stream reference shows them.
    const START: &str = r#"{"event": "start", "sequenceNumber": 0, "start": {"callId": "2b3c7b6e-8a55-4c4b-9c0e-5f6ad2b1c9d1", "streamId": "b77e037d-4119-44b5-902d-25826b654539", "accountId": "MAXXXXXXXXXXXXXXXXXX", "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}, "extra_headers": "{}"}"#;
    const MEDIA: &str = r#"{"event": "media", "sequenceNumber": 3, "streamId": "b77e037d-4119-44b5-902d-25826b654539", "media": {"track": "inbound", "timestamp": "1705320587123", "chunk": 2, "payload": "no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDBc0r5WLh4aHi5SnPBkNCAYHChEkzpyOiIaHipGfYCAPCQcHCQ4c"}}"#;
    const DTMF: &str = r#"{"event": "dtmf", "sequenceNumber": 5, "streamId": "b77e037d-4119-44b5-902d-25826b654539", "dtmf": {"track": "inbound", "digit": "1", "timestamp": "1705320587200"}}"#;
    const PLAYED: &str = r#"{"event": "playedStream", "sequenceNumber": 6, "streamId": "b77e037d-4119-44b5-902d-25826b654539", "name": "reply-1"}"#;
    const CLEARED: &str = r#"{"event": "clearedAudio", "sequenceNumber": 7, "streamId": "b77e037d-4119-44b5-902d-25826b654539"}"#;
    const PLAY_AUDIO: &str = r#"{"event": "playAudio", "media": {"contentType": "audio/x-mulaw", "sampleRate": 8000, "payload": "//////8="}, "streamId": "b77e037d-4119-44b5-902d-25826b654539"}"#;
    const CHECKPOINT: &str = r#"{"event": "checkpoint", "streamId": "b77e037d-4119-44b5-902d-25826b654539", "name": "reply-1"}"#;
    const CLEAR_AUDIO: &str =
        r#"{"event": "clearAudio", "streamId": "b77e037d-4119-44b5-902d-25826b654539"}"#;

    fn t(s: &str) -> WireMessage {
        WireMessage::Text(s.to_string())
    }

    #[test]
    fn reads_every_message_of_the_reference() {
        let w = Plivo;
        assert!(
            matches!(w.parse_caller(&t(START)).unwrap(), CallerEvent::Start { call_id, .. } if call_id.starts_with("2b3c"))
        );
        assert!(
            matches!(w.parse_caller(&t(MEDIA)).unwrap(), CallerEvent::Media { audio, .. } if audio.len() == 72)
        );
        assert_eq!(
            w.parse_caller(&t(DTMF)).unwrap(),
            CallerEvent::Dtmf("1".into())
        );
        assert_eq!(
            w.parse_caller(&t(PLAYED)).unwrap(),
            CallerEvent::Mark("reply-1".into())
        );
        assert_eq!(w.parse_caller(&t(CLEARED)).unwrap(), CallerEvent::Cleared);
        assert_eq!(
            w.parse_bot(&t(PLAY_AUDIO)).unwrap(),
            BotEvent::Media(Bytes::from_static(&[0xFF; 5]))
        );
        assert_eq!(
            w.parse_bot(&t(CHECKPOINT)).unwrap(),
            BotEvent::Mark("reply-1".into())
        );
        assert_eq!(w.parse_bot(&t(CLEAR_AUDIO)).unwrap(), BotEvent::Clear);
        let l16 = PLAY_AUDIO.replace("audio/x-mulaw", "audio/x-l16");
        assert!(w.parse_bot(&t(&l16)).unwrap_err().contains("audio/x-l16"));
    }

    #[test]
    fn writes_messages_shaped_as_the_reference() {
        let w = Plivo;
        let ids = w.ids(1);
        same_shape(&w.opening(&ids, &BTreeMap::new())[0], START);
        let frame = w.prepare(Bytes::from(vec![0xFFu8; 160]));
        same_shape(&w.media(&ids, &frame, 3, 2, 40), MEDIA);
        same_shape(&w.dtmf(&ids, "1", 5).unwrap(), DTMF);
        same_shape(&w.mark(&ids, "reply-1", 6).unwrap(), PLAYED);
        same_shape(&w.cleared(&ids, 7).unwrap(), CLEARED);
        assert!(w.stop(&ids, 8).is_none(), "no stop on Plivo's socket");
        same_shape(&w.bot_media(&ids, &[0xFF; 160]), PLAY_AUDIO);
        same_shape(&w.bot_mark(&ids, "x").unwrap(), CHECKPOINT);
        same_shape(&w.bot_clear(&ids), CLEAR_AUDIO);
        round_trips(&w);
    }
}
