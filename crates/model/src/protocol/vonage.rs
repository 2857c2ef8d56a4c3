//! Vonage Voice API WebSockets (an NCCO `connect` to a `websocket` endpoint), as Vonage's
//! "WebSockets" guide describes it: a first text message (`event: websocket:connected`, the
//! `content-type` `audio/l16;rate=16000` or `8000`, and the headers the NCCO set), then binary
//! messages of 16-bit little-endian PCM, 20 ms each (640 bytes at 16 kHz), both ways. Text
//! events from the platform: `websocket:cleared`, `websocket:dtmf`, `websocket:notify`. Text
//! actions from the bot: `{"action":"clear"}`, `{"action":"notify","payload":…}` (echoed as
//! `websocket:notify` once the audio before it has played: Vonage's mark). No stop message: the
//! call ends when the socket closes.

use super::{text, BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
pub struct Vonage {
    pub sample_rate: u32,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(rename = "content-type", default)]
    content_type: Option<String>,
    #[serde(default)]
    call_uuid: Option<String>,
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    digit: Option<serde_json::Value>,
    #[serde(default)]
    dtmf: Option<serde_json::Value>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
}

fn parse(msg: &str) -> Result<Incoming, String> {
    serde_json::from_str(msg).map_err(|e| format!("not a Vonage WebSocket text message: {e}"))
}

/// A notify's payload as a mark name: its `name`, or the payload itself.
fn mark_name(payload: Option<serde_json::Value>) -> String {
    match payload {
        Some(p) => match p.get("name").and_then(|n| n.as_str()) {
            Some(n) => n.to_string(),
            None => p.to_string(),
        },
        None => String::new(),
    }
}

impl Vonage {
    fn content_type(&self) -> String {
        format!("audio/l16;rate={}", self.sample_rate)
    }

    fn audio(&self, b: &Bytes) -> Result<Bytes, String> {
        if !b.len().is_multiple_of(2) {
            return Err(format!(
                "{} bytes of audio: 16-bit PCM has an even length",
                b.len()
            ));
        }
        Ok(b.clone())
    }

    /// The first message: the call starts, in the rate this side speaks.
    fn start(&self, m: Incoming) -> Result<CallerEvent, String> {
        let ct = m.content_type.unwrap_or_default();
        if ct.replace(' ', "") != self.content_type() {
            return Err(format!(
                "content-type: '{ct}' announced; this side speaks {}",
                self.content_type()
            ));
        }
        Ok(CallerEvent::Start {
            call_id: m.call_uuid.or(m.uuid).unwrap_or_default(),
            stream_id: String::new(),
            custom_parameters: BTreeMap::new(),
        })
    }
}

impl Wire for Vonage {
    fn name(&self) -> &'static str {
        "vonage"
    }

    fn format(&self) -> Format {
        Format::Pcm16(self.sample_rate)
    }

    fn prepare(&self, audio: Bytes) -> PreparedFrame {
        super::prepare_binary(self.format(), audio)
    }

    fn ids(&self, n: u64) -> CallIds {
        CallIds {
            stream_id: CallIds::uuid(n, 1),
            call_id: CallIds::uuid(n, 2),
            account_id: String::new(),
        }
    }

    fn opening(&self, ids: &CallIds, custom: &BTreeMap<String, String>) -> Vec<WireMessage> {
        let mut first = json!({
            "event": "websocket:connected",
            "content-type": self.content_type(),
            "call_uuid": ids.call_id,
        });
        for (k, v) in custom {
            first[k] = json!(v);
        }
        vec![WireMessage::Text(first.to_string())]
    }

    fn media(&self, _: &CallIds, frame: &PreparedFrame, _: u64, _: u64, _: u64) -> WireMessage {
        WireMessage::Binary(frame.audio.clone())
    }

    /// A notify's audio has played.
    fn mark(&self, _: &CallIds, name: &str, _: u64) -> Option<WireMessage> {
        let m = json!({"event": "websocket:notify", "payload": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn cleared(&self, _: &CallIds, _: u64) -> Option<WireMessage> {
        Some(WireMessage::Text(
            json!({"event": "websocket:cleared"}).to_string(),
        ))
    }

    fn dtmf(&self, _: &CallIds, digit: &str, _: u64) -> Option<WireMessage> {
        let m = json!({"event": "websocket:dtmf", "digit": digit, "duration": 260});
        Some(WireMessage::Text(m.to_string()))
    }

    /// Vonage sends no stop: the socket closes.
    fn stop(&self, _: &CallIds, _: u64) -> Option<WireMessage> {
        None
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        let t = match msg {
            WireMessage::Binary(b) => return self.audio(b).map(BotEvent::Media),
            WireMessage::Text(t) => t,
        };
        let m = parse(t)?;
        match m.action.as_deref() {
            Some("clear") => Ok(BotEvent::Clear),
            Some("notify") => Ok(BotEvent::Mark(mark_name(m.payload))),
            other => Err(format!(
                "action {other:?} is not a Vonage bot action (clear, notify; audio is binary)"
            )),
        }
    }

    fn bot_media(&self, _: &CallIds, audio: &[u8]) -> WireMessage {
        WireMessage::Binary(Bytes::copy_from_slice(audio))
    }

    fn bot_mark(&self, _: &CallIds, name: &str) -> Option<WireMessage> {
        let m = json!({"action": "notify", "payload": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn bot_clear(&self, _: &CallIds) -> WireMessage {
        WireMessage::Text(json!({"action": "clear"}).to_string())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        let t = match msg {
            WireMessage::Binary(b) => return self.audio(b).map(CallerEvent::media),
            WireMessage::Text(_) => text(msg, "Vonage")?,
        };
        let m = parse(t)?;
        match m.event.as_deref() {
            Some("websocket:connected") => self.start(m),
            None if m.content_type.is_some() => self.start(m),
            Some("websocket:cleared") => Ok(CallerEvent::Cleared),
            Some("websocket:notify") => Ok(CallerEvent::Mark(mark_name(m.payload))),
            Some("websocket:dtmf") => {
                let digit = m
                    .digit
                    .or_else(|| m.dtmf.and_then(|d| d.get("digit").cloned()))
                    .ok_or("a websocket:dtmf without a digit")?;
                Ok(CallerEvent::Dtmf(
                    digit.as_str().map_or(digit.to_string(), str::to_string),
                ))
            }
            other => Err(format!("event {other:?} is not a Vonage WebSocket event")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tests::{round_trips, same_shape};

    /// One example of every message, as Vonage's WebSockets guide shows them.
    const CONNECTED: &str = r#"{"event": "websocket:connected", "content-type": "audio/l16;rate=16000", "call_uuid": "aaaaaaaa-bbbb-4ccc-addd-0123456789ab"}"#;
    const CLEARED: &str = r#"{"event": "websocket:cleared"}"#;
    const DTMF: &str = r#"{"event": "websocket:dtmf", "digit": "1", "duration": 260}"#;
    const NOTIFY: &str = r#"{"event": "websocket:notify", "payload": {"name": "reply-1"}}"#;
    const BOT_CLEAR: &str = r#"{"action": "clear"}"#;
    const BOT_NOTIFY: &str = r#"{"action": "notify", "payload": {"name": "reply-1"}}"#;

    fn t(s: &str) -> WireMessage {
        WireMessage::Text(s.to_string())
    }

    #[test]
    fn reads_every_message_of_the_guide() {
        let w = Vonage {
            sample_rate: 16_000,
        };
        assert!(
            matches!(w.parse_caller(&t(CONNECTED)).unwrap(), CallerEvent::Start { call_id, .. } if call_id.starts_with("aaaa"))
        );
        let frame = WireMessage::Binary(Bytes::from(vec![0u8; 640]));
        assert!(
            matches!(w.parse_caller(&frame).unwrap(), CallerEvent::Media { audio, .. } if audio.len() == 640)
        );
        assert_eq!(w.parse_caller(&t(CLEARED)).unwrap(), CallerEvent::Cleared);
        assert_eq!(
            w.parse_caller(&t(DTMF)).unwrap(),
            CallerEvent::Dtmf("1".into())
        );
        assert_eq!(
            w.parse_caller(&t(NOTIFY)).unwrap(),
            CallerEvent::Mark("reply-1".into())
        );
        assert!(matches!(w.parse_bot(&frame).unwrap(), BotEvent::Media(a) if a.len() == 640));
        assert_eq!(w.parse_bot(&t(BOT_CLEAR)).unwrap(), BotEvent::Clear);
        assert_eq!(
            w.parse_bot(&t(BOT_NOTIFY)).unwrap(),
            BotEvent::Mark("reply-1".into())
        );
        let at8k = CONNECTED.replace("16000", "8000");
        assert!(w.parse_caller(&t(&at8k)).unwrap_err().contains("rate=8000"));
    }

    #[test]
    fn writes_messages_shaped_as_the_guide() {
        for rate in [16_000, 8_000] {
            let w = Vonage { sample_rate: rate };
            let ids = w.ids(1);
            let first = &w.opening(&ids, &BTreeMap::new())[0];
            same_shape(first, CONNECTED);
            assert!(matches!(first, WireMessage::Text(t) if t.contains(&format!("rate={rate}"))));
            let frame = w.prepare(w.format().silence());
            assert!(
                matches!(w.media(&ids, &frame, 0, 0, 0), WireMessage::Binary(b) if b.len() == rate as usize / 25)
            );
            same_shape(&w.cleared(&ids, 0).unwrap(), CLEARED);
            same_shape(&w.dtmf(&ids, "1", 0).unwrap(), DTMF);
            same_shape(&w.mark(&ids, "reply-1", 0).unwrap(), NOTIFY);
            same_shape(&w.bot_clear(&ids), BOT_CLEAR);
            same_shape(&w.bot_mark(&ids, "reply-1").unwrap(), BOT_NOTIFY);
            assert!(w.stop(&ids, 0).is_none(), "no stop on Vonage's socket");
            round_trips(&w);
        }
    }
}
