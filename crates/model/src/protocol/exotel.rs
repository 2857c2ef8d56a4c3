//! Exotel AgentStream (the bidirectional Voicebot applet), as Exotel's "Stream and Voicebot
//! Applet" WebSocket reference describes it: JSON text messages, raw 16-bit little-endian PCM
//! at 8 kHz in base64 (320 bytes per 20 ms), counters as strings, snake_case ids. Platform →
//! bot: connected, start (`start.stream_sid`, `call_sid`, `account_sid`, `media_format`),
//! media, dtmf, mark, stop. Bot → platform: media, mark, clear (each with `stream_sid`).

use super::{decode_audio, text, BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy)]
pub struct Exotel;

const FORMAT: Format = Format::Pcm16(8000);

#[derive(Deserialize)]
struct Incoming<'a> {
    event: &'a str,
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
    stream_sid: String,
    #[serde(default)]
    call_sid: String,
    #[serde(default)]
    custom_parameters: BTreeMap<String, String>,
    #[serde(default)]
    media_format: Option<MediaFormat>,
}

#[derive(Deserialize)]
struct MediaFormat {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    sample_rate: Option<serde_json::Value>,
}

fn parse(msg: &WireMessage) -> Result<Incoming<'_>, String> {
    serde_json::from_str(text(msg, "Exotel")?)
        .map_err(|e| format!("not an Exotel stream message: {e}"))
}

fn audio(m: Option<Media<'_>>) -> Result<Bytes, String> {
    decode_audio(m.ok_or("a media message without media")?.payload, FORMAT)
}

/// The start's media format, which must be raw 16-bit PCM at 8 kHz.
fn check_format(f: Option<&MediaFormat>) -> Result<(), String> {
    let Some(f) = f else { return Ok(()) };
    let rate = f.sample_rate.as_ref().and_then(super::counter);
    let raw = matches!(
        f.encoding.as_deref(),
        None | Some("audio/x-raw" | "raw/slin")
    );
    if raw && matches!(rate, None | Some(8000)) {
        return Ok(());
    }
    Err(format!(
        "start.media_format: {:?} at {rate:?} Hz announced; this side speaks audio/x-raw (16-bit PCM) at 8000 Hz",
        f.encoding
    ))
}

impl Wire for Exotel {
    fn name(&self) -> &'static str {
        "exotel"
    }

    fn format(&self) -> Format {
        FORMAT
    }

    fn prepare(&self, audio: Bytes) -> PreparedFrame {
        super::prepare_b64(FORMAT, audio)
    }

    fn ids(&self, n: u64) -> CallIds {
        CallIds {
            stream_id: CallIds::hex(n),
            call_id: CallIds::hex(n ^ 0x5a5a),
            account_id: "voiceswarm1".into(),
        }
    }

    fn opening(&self, ids: &CallIds, custom: &BTreeMap<String, String>) -> Vec<WireMessage> {
        let connected = json!({"event": "connected"});
        let start = json!({
            "event": "start",
            "sequence_number": "1",
            "stream_sid": ids.stream_id,
            "start": {
                "stream_sid": ids.stream_id,
                "call_sid": ids.call_id,
                "account_sid": ids.account_id,
                "from": "09999999999",
                "to": "08000000000",
                "custom_parameters": custom,
                "media_format": {"encoding": "audio/x-raw", "sample_rate": "8000", "bit_rate": "16"}
            }
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
            r#"{{"event":"media","sequence_number":"{seq}","stream_sid":"{}","media":{{"chunk":"{chunk}","timestamp":"{ms}","payload":"{payload}"}}}}"#,
            ids.stream_id
        );
        WireMessage::Text(s)
    }

    fn mark(&self, ids: &CallIds, name: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "mark", "sequence_number": seq.to_string(), "stream_sid": ids.stream_id, "mark": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn dtmf(&self, ids: &CallIds, digit: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "dtmf", "sequence_number": seq.to_string(), "stream_sid": ids.stream_id, "dtmf": {"duration": "260", "digit": digit}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn stop(&self, ids: &CallIds, seq: u64) -> Option<WireMessage> {
        let m = json!({
            "event": "stop",
            "sequence_number": seq.to_string(),
            "stream_sid": ids.stream_id,
            "stop": {"call_sid": ids.call_id, "account_sid": ids.account_id, "reason": "callended"}
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
                "'{other}' is not an Exotel bot message (media, mark, clear)"
            )),
        }
    }

    fn bot_media(&self, ids: &CallIds, audio: &[u8]) -> WireMessage {
        let payload = super::B64.encode(audio);
        WireMessage::Text(format!(
            r#"{{"event":"media","stream_sid":"{}","media":{{"payload":"{payload}"}}}}"#,
            ids.stream_id
        ))
    }

    fn bot_mark(&self, ids: &CallIds, name: &str) -> Option<WireMessage> {
        let m = json!({"event": "mark", "stream_sid": ids.stream_id, "mark": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn bot_clear(&self, ids: &CallIds) -> WireMessage {
        WireMessage::Text(json!({"event": "clear", "stream_sid": ids.stream_id}).to_string())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        let m = parse(msg)?;
        match m.event {
            "connected" => Ok(CallerEvent::Connected),
            "start" => {
                let s = m.start.ok_or("a start message without start")?;
                check_format(s.media_format.as_ref())?;
                Ok(CallerEvent::Start {
                    call_id: s.call_sid,
                    stream_id: s.stream_sid,
                    custom_parameters: s.custom_parameters,
                })
            }
            "media" => audio(m.media).map(CallerEvent::media),
            "mark" => Ok(CallerEvent::Mark(
                m.mark.ok_or("a mark without a name")?.name,
            )),
            "dtmf" => Ok(CallerEvent::Dtmf(
                m.dtmf.ok_or("a dtmf without a digit")?.digit,
            )),
            "stop" => Ok(CallerEvent::Stop),
            other => Err(format!("'{other}' is not an Exotel stream message")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tests::{round_trips, same_shape};

    /// One example of every message, as Exotel's stream reference shows them.
    const CONNECTED: &str = r#"{"event": "connected"}"#;
    const START: &str = r#"{"event": "start", "sequence_number": "1", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "start": {"stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "call_sid": "7f3e2d1c0b9a48f7e6d5c4b3a2918070", "account_sid": "exotel1", "from": "09999999999", "to": "08000000000", "custom_parameters": {"lang": "en"}, "media_format": {"encoding": "audio/x-raw", "sample_rate": "8000", "bit_rate": "16"}}}"#;
    const MEDIA: &str = r#"{"event": "media", "sequence_number": "3", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "media": {"chunk": "2", "timestamp": "40", "payload": "AAAAAAAAAAA="}}"#;
    const DTMF: &str = r#"{"event": "dtmf", "sequence_number": "4", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "dtmf": {"duration": "260", "digit": "1"}}"#;
    const MARK: &str = r#"{"event": "mark", "sequence_number": "5", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "mark": {"name": "reply-1"}}"#;
    const STOP: &str = r#"{"event": "stop", "sequence_number": "6", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "stop": {"call_sid": "7f3e2d1c0b9a48f7e6d5c4b3a2918070", "account_sid": "exotel1", "reason": "callended"}}"#;
    const BOT_MEDIA: &str = r#"{"event": "media", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "media": {"payload": "AAAAAAAAAAA="}}"#;
    const BOT_MARK: &str = r#"{"event": "mark", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e", "mark": {"name": "reply-1"}}"#;
    const BOT_CLEAR: &str =
        r#"{"event": "clear", "stream_sid": "d2b4c1e0a3f54b6c9e8d7f6a5b4c3d2e"}"#;

    fn t(s: &str) -> WireMessage {
        WireMessage::Text(s.to_string())
    }

    #[test]
    fn reads_every_message_of_the_reference() {
        let w = Exotel;
        assert_eq!(
            w.parse_caller(&t(CONNECTED)).unwrap(),
            CallerEvent::Connected
        );
        assert!(
            matches!(w.parse_caller(&t(START)).unwrap(), CallerEvent::Start { call_id, custom_parameters, .. } if call_id.starts_with("7f3e") && custom_parameters["lang"] == "en")
        );
        assert!(
            matches!(w.parse_caller(&t(MEDIA)).unwrap(), CallerEvent::Media { audio, .. } if audio.len() == 8)
        );
        assert_eq!(
            w.parse_caller(&t(DTMF)).unwrap(),
            CallerEvent::Dtmf("1".into())
        );
        assert_eq!(
            w.parse_caller(&t(MARK)).unwrap(),
            CallerEvent::Mark("reply-1".into())
        );
        assert_eq!(w.parse_caller(&t(STOP)).unwrap(), CallerEvent::Stop);
        assert!(matches!(w.parse_bot(&t(BOT_MEDIA)).unwrap(), BotEvent::Media(a) if a.len() == 8));
        assert_eq!(
            w.parse_bot(&t(BOT_MARK)).unwrap(),
            BotEvent::Mark("reply-1".into())
        );
        assert_eq!(w.parse_bot(&t(BOT_CLEAR)).unwrap(), BotEvent::Clear);
        let ulaw = START.replace("audio/x-raw", "audio/x-mulaw");
        assert!(w
            .parse_caller(&t(&ulaw))
            .unwrap_err()
            .contains("audio/x-mulaw"));
    }

    #[test]
    fn writes_messages_shaped_as_the_reference() {
        let w = Exotel;
        let ids = w.ids(1);
        let custom = BTreeMap::from([("lang".to_string(), "en".to_string())]);
        let opening = w.opening(&ids, &custom);
        same_shape(&opening[0], CONNECTED);
        same_shape(&opening[1], START);
        let frame = w.prepare(FORMAT.silence());
        assert_eq!(frame.audio.len(), 320, "320 bytes per 20 ms");
        same_shape(&w.media(&ids, &frame, 3, 2, 40), MEDIA);
        same_shape(&w.dtmf(&ids, "1", 4).unwrap(), DTMF);
        same_shape(&w.mark(&ids, "reply-1", 5).unwrap(), MARK);
        same_shape(&w.stop(&ids, 6).unwrap(), STOP);
        same_shape(&w.bot_media(&ids, &[0; 320]), BOT_MEDIA);
        same_shape(&w.bot_mark(&ids, "x").unwrap(), BOT_MARK);
        same_shape(&w.bot_clear(&ids), BOT_CLEAR);
        round_trips(&w);
    }
}
