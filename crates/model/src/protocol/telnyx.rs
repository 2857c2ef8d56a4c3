//! Telnyx media streaming (bidirectional, `stream_bidirectional_mode: rtp`), as Telnyx's "Media
//! Streaming" WebSocket reference describes it: JSON text messages, μ-law (PCMU) 8 kHz audio in
//! base64, counters as strings, `stream_id` at the top level. Platform → bot: connected, start
//! (`start.media_format`, `start.call_control_id`), media (`sequence_number`, `media.chunk`,
//! `media.timestamp`), dtmf, mark, stop. Bot → platform: media, mark, clear. Telnyx does not
//! promise the order of media messages: the bot side hands each its `sequence_number`.

use super::{decode_audio, text, BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy)]
pub struct Telnyx;

#[derive(Deserialize)]
struct Incoming<'a> {
    event: &'a str,
    #[serde(default)]
    sequence_number: Option<serde_json::Value>,
    #[serde(default)]
    stream_id: Option<String>,
    #[serde(borrow, default)]
    media: Option<Media<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    mark: Option<Named>,
    #[serde(default)]
    dtmf: Option<Digit>,
}

#[derive(Deserialize)]
struct Media<'a> {
    payload: &'a str,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Digit {
    digit: String,
}

#[derive(Deserialize)]
struct Start {
    #[serde(default)]
    call_control_id: String,
    #[serde(default)]
    media_format: Option<MediaFormat>,
    #[serde(default)]
    custom_parameters: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct MediaFormat {
    encoding: String,
}

fn parse(msg: &WireMessage) -> Result<Incoming<'_>, String> {
    serde_json::from_str(text(msg, "Telnyx")?)
        .map_err(|e| format!("not a Telnyx media-streaming message: {e}"))
}

fn audio(m: Option<Media<'_>>) -> Result<Bytes, String> {
    decode_audio(
        m.ok_or("a media message without media")?.payload,
        Format::MuLaw8k,
    )
}

/// The start's encoding, which must be what this codec speaks.
fn check_encoding(s: &Start) -> Result<(), String> {
    match s.media_format.as_ref().map(|f| f.encoding.as_str()) {
        Some("PCMU" | "audio/x-mulaw") | None => Ok(()),
        Some(other) => Err(format!(
            "start.media_format.encoding: '{other}' announced; this side speaks PCMU (μ-law 8 kHz)"
        )),
    }
}

impl Wire for Telnyx {
    fn name(&self) -> &'static str {
        "telnyx"
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
            call_id: format!("v3:{}", CallIds::hex(n)),
            account_id: CallIds::uuid(n, 3),
        }
    }

    fn opening(&self, ids: &CallIds, custom: &BTreeMap<String, String>) -> Vec<WireMessage> {
        let connected = json!({"event": "connected", "version": "1.0.0"});
        let start = json!({
            "event": "start",
            "sequence_number": "1",
            "start": {
                "user_id": ids.account_id,
                "call_control_id": ids.call_id,
                "call_session_id": ids.stream_id,
                "from": "+15550100",
                "to": "+15550199",
                "client_state": null,
                "custom_parameters": custom,
                "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1}
            },
            "stream_id": ids.stream_id
        });
        vec![
            WireMessage::Text(connected.to_string()),
            WireMessage::Text(start.to_string()),
        ]
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
            r#"{{"event":"media","sequence_number":"{seq}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{ms}","payload":"{payload}"}},"stream_id":"{}"}}"#,
            ids.stream_id
        );
        WireMessage::Text(s)
    }

    fn mark(&self, ids: &CallIds, name: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "mark", "sequence_number": seq.to_string(), "stream_id": ids.stream_id, "mark": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn dtmf(&self, ids: &CallIds, digit: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "dtmf", "stream_id": ids.stream_id, "occurred_at": "2026-01-01T00:00:00.000000Z", "sequence_number": seq.to_string(), "dtmf": {"digit": digit}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn stop(&self, ids: &CallIds, seq: u64) -> Option<WireMessage> {
        let m = json!({
            "event": "stop",
            "sequence_number": seq.to_string(),
            "stop": {"user_id": ids.account_id, "call_control_id": ids.call_id},
            "stream_id": ids.stream_id
        });
        Some(WireMessage::Text(m.to_string()))
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        let m = parse(msg)?;
        match m.event {
            "media" => audio(m.media).map(BotEvent::Media),
            "mark" => Ok(BotEvent::Mark(m.mark.ok_or("a mark without a name")?.name)),
            "clear" => Ok(BotEvent::Clear),
            other => Err(format!(
                "'{other}' is not a Telnyx bot message (media, mark, clear)"
            )),
        }
    }

    fn bot_media(&self, _: &CallIds, audio: &[u8]) -> WireMessage {
        let payload = super::B64.encode(audio);
        WireMessage::Text(format!(
            r#"{{"event":"media","media":{{"payload":"{payload}"}}}}"#
        ))
    }

    fn bot_mark(&self, _: &CallIds, name: &str) -> Option<WireMessage> {
        let m = json!({"event": "mark", "mark": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn bot_clear(&self, _: &CallIds) -> WireMessage {
        WireMessage::Text(json!({"event": "clear"}).to_string())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        let m = parse(msg)?;
        match m.event {
            "connected" => Ok(CallerEvent::Connected),
            "start" => {
                let s = m.start.ok_or("a start message without start")?;
                check_encoding(&s)?;
                Ok(CallerEvent::Start {
                    call_id: s.call_control_id,
                    stream_id: m.stream_id.ok_or("a start without stream_id")?,
                    custom_parameters: s.custom_parameters,
                })
            }
            "media" => Ok(CallerEvent::Media {
                seq: m.sequence_number.as_ref().and_then(super::counter),
                audio: audio(m.media)?,
            }),
            "mark" => Ok(CallerEvent::Mark(
                m.mark.ok_or("a mark without a name")?.name,
            )),
            "dtmf" => Ok(CallerEvent::Dtmf(
                m.dtmf.ok_or("a dtmf without a digit")?.digit,
            )),
            "stop" => Ok(CallerEvent::Stop),
            other => Err(format!("'{other}' is not a Telnyx media-streaming message")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tests::{round_trips, same_shape};

    /// One example of every message, as Telnyx's media-streaming reference shows them.
    const CONNECTED: &str = r#"{"event": "connected", "version": "1.0.0"}"#;
    const START: &str = r#"{"event": "start", "sequence_number": "1", "start": {"user_id": "3E6F995F-85F7-4705-9741-53B116D28237", "call_control_id": "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg", "call_session_id": "2b9f3b3c-0f3d-11ee-a2b6-02420a0d7e68", "from": "+13122010094", "to": "+13122123456", "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d", "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1}}, "stream_id": "32de0dea-53cb-4B21-89a4-9283a3e8c2a8"}"#;
    const MEDIA: &str = r#"{"event": "media", "sequence_number": "4", "media": {"track": "inbound", "chunk": "2", "timestamp": "5", "payload": "no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDBc0r5WLh4aHi5SnPBkNCAYHChEkzpyOiIaHipGfYCAPCQcHCQ4c"}, "stream_id": "32de0dea-53cb-4B21-89a4-9283a3e8c2a8"}"#;
    const DTMF: &str = r#"{"event": "dtmf", "stream_id": "32de0dea-53cb-4B21-89a4-9283a3e8c2a8", "occurred_at": "2022-08-18T11:01:08.520574Z", "sequence_number": "5", "dtmf": {"digit": "1"}}"#;
    const MARK: &str = r#"{"event": "mark", "sequence_number": "6", "stream_id": "32de0dea-53cb-4B21-89a4-9283a3e8c2a8", "mark": {"name": "my label"}}"#;
    const STOP: &str = r#"{"event": "stop", "sequence_number": "7", "stop": {"user_id": "3E6F995F-85F7-4705-9741-53B116D28237", "call_control_id": "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg"}, "stream_id": "32de0dea-53cb-4B21-89a4-9283a3e8c2a8"}"#;
    const BOT_MEDIA: &str = r#"{"event": "media", "media": {"payload": "//////8="}}"#;
    const BOT_MARK: &str = r#"{"event": "mark", "mark": {"name": "my label"}}"#;
    const BOT_CLEAR: &str = r#"{"event": "clear"}"#;

    fn t(s: &str) -> WireMessage {
        WireMessage::Text(s.to_string())
    }

    #[test]
    fn reads_every_message_of_the_reference() {
        let w = Telnyx;
        assert_eq!(
            w.parse_caller(&t(CONNECTED)).unwrap(),
            CallerEvent::Connected
        );
        match w.parse_caller(&t(START)).unwrap() {
            CallerEvent::Start {
                call_id, stream_id, ..
            } => {
                assert!(call_id.starts_with("v3:"));
                assert_eq!(stream_id, "32de0dea-53cb-4B21-89a4-9283a3e8c2a8");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            w.parse_caller(&t(MEDIA)).unwrap(),
            CallerEvent::Media { audio, seq: Some(4) } if audio.len() == 72
        ));
        assert_eq!(
            w.parse_caller(&t(DTMF)).unwrap(),
            CallerEvent::Dtmf("1".into())
        );
        assert_eq!(
            w.parse_caller(&t(MARK)).unwrap(),
            CallerEvent::Mark("my label".into())
        );
        assert_eq!(w.parse_caller(&t(STOP)).unwrap(), CallerEvent::Stop);
        assert_eq!(
            w.parse_bot(&t(BOT_MEDIA)).unwrap(),
            BotEvent::Media(Bytes::from_static(&[0xFF; 5]))
        );
        assert_eq!(
            w.parse_bot(&t(BOT_MARK)).unwrap(),
            BotEvent::Mark("my label".into())
        );
        assert_eq!(w.parse_bot(&t(BOT_CLEAR)).unwrap(), BotEvent::Clear);
        let pcma = START.replace("PCMU", "PCMA");
        assert!(w.parse_caller(&t(&pcma)).unwrap_err().contains("PCMA"));
    }

    #[test]
    fn writes_messages_shaped_as_the_reference() {
        let w = Telnyx;
        let ids = w.ids(1);
        let opening = w.opening(&ids, &BTreeMap::new());
        same_shape(&opening[0], CONNECTED);
        let start = START.replace(
            r#""media_format""#,
            r#""custom_parameters": {}, "media_format""#,
        );
        same_shape(&opening[1], &start);
        let frame = w.prepare(Bytes::from(vec![0xFFu8; 160]));
        same_shape(&w.media(&ids, &frame, 4, 2, 5), MEDIA);
        same_shape(&w.dtmf(&ids, "1", 5).unwrap(), DTMF);
        same_shape(&w.mark(&ids, "my label", 6).unwrap(), MARK);
        same_shape(&w.stop(&ids, 7).unwrap(), STOP);
        same_shape(&w.bot_media(&ids, &[0xFF; 160]), BOT_MEDIA);
        same_shape(&w.bot_mark(&ids, "x").unwrap(), BOT_MARK);
        same_shape(&w.bot_clear(&ids), BOT_CLEAR);
        round_trips(&w);
    }
}
