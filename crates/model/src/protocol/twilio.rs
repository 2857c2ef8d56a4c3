//! Twilio Media Streams (bidirectional `<Connect><Stream>`), as the platform's "Media Streams -
//! WebSocket Messages" reference describes it: JSON text messages; μ-law 8 kHz audio in base64,
//! 160 bytes per 20 ms; counters (`sequenceNumber`, `chunk`, `timestamp`) are strings.
//! Platform → bot: connected, start, media, dtmf, mark, stop. Bot → platform: media, mark, clear.

use super::{BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy)]
pub struct Twilio;

use super::B64;

/// Any message, borrowed from its text: only the fields voiceswarm reads.
#[derive(Deserialize)]
struct Incoming<'a> {
    event: &'a str,
    #[serde(borrow, default)]
    media: Option<Media<'a>>,
    #[serde(borrow, default)]
    mark: Option<Mark<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(borrow, default)]
    dtmf: Option<Dtmf<'a>>,
}

#[derive(Deserialize)]
struct Media<'a> {
    payload: &'a str,
}

#[derive(Deserialize)]
struct Mark<'a> {
    name: &'a str,
}

#[derive(Deserialize)]
struct Dtmf<'a> {
    digit: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start {
    stream_sid: String,
    call_sid: String,
    #[serde(default)]
    custom_parameters: BTreeMap<String, String>,
}

fn parse(msg: &WireMessage) -> Result<Incoming<'_>, String> {
    serde_json::from_str(super::text(msg, "Twilio")?)
        .map_err(|e| format!("not a Media Streams message: {e}"))
}

fn payload(m: Option<Media<'_>>) -> Result<Bytes, String> {
    let m = m.ok_or("a media message without media")?;
    B64.decode(m.payload)
        .map(Bytes::from)
        .map_err(|e| format!("media payload is not base64: {e}"))
}

impl Wire for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn format(&self) -> Format {
        Format::MuLaw8k
    }

    fn prepare(&self, audio: Bytes) -> PreparedFrame {
        super::prepare_b64(Format::MuLaw8k, audio)
    }

    fn ids(&self, n: u64) -> CallIds {
        CallIds::twilio(n)
    }

    fn opening(&self, ids: &CallIds, custom: &BTreeMap<String, String>) -> Vec<WireMessage> {
        let connected = json!({"event": "connected", "protocol": "Call", "version": "1.0.0"});
        let start = json!({
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "accountSid": ids.account_id,
                "streamSid": ids.stream_id,
                "callSid": ids.call_id,
                "tracks": ["inbound"],
                "customParameters": custom,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
            },
            "streamSid": ids.stream_id
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
        // The hot path (every frame of every call): pieces pushed straight into one string, no
        // JSON value built and no formatting machinery.
        let payload = frame.text.as_deref().unwrap_or_default();
        let mut s = String::with_capacity(160 + payload.len());
        s.push_str(r#"{"event":"media","sequenceNumber":""#);
        push_number(&mut s, seq);
        s.push_str(r#"","media":{"track":"inbound","chunk":""#);
        push_number(&mut s, chunk);
        s.push_str(r#"","timestamp":""#);
        push_number(&mut s, ms);
        s.push_str(r#"","payload":""#);
        s.push_str(payload);
        s.push_str(r#""},"streamSid":""#);
        s.push_str(&ids.stream_id);
        s.push_str(r#""}"#);
        WireMessage::Text(s)
    }

    fn mark(&self, ids: &CallIds, name: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "mark", "sequenceNumber": seq.to_string(), "streamSid": ids.stream_id, "mark": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn dtmf(&self, ids: &CallIds, digit: &str, seq: u64) -> Option<WireMessage> {
        let m = json!({"event": "dtmf", "streamSid": ids.stream_id, "sequenceNumber": seq.to_string(), "dtmf": {"track": "inbound_track", "digit": digit}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn stop(&self, ids: &CallIds, seq: u64) -> Option<WireMessage> {
        let m = json!({
            "event": "stop",
            "sequenceNumber": seq.to_string(),
            "streamSid": ids.stream_id,
            "stop": {"accountSid": ids.account_id, "callSid": ids.call_id}
        });
        Some(WireMessage::Text(m.to_string()))
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        let m = parse(msg)?;
        match m.event {
            "media" => payload(m.media).map(BotEvent::Media),
            "mark" => Ok(BotEvent::Mark(
                m.mark.ok_or("a mark without a name")?.name.to_string(),
            )),
            "clear" => Ok(BotEvent::Clear),
            other => Err(format!(
                "'{other}' is not a bot message (media, mark, clear)"
            )),
        }
    }

    fn bot_media(&self, ids: &CallIds, audio: &[u8]) -> WireMessage {
        let payload = B64.encode(audio);
        let mut s = String::with_capacity(80 + payload.len());
        let _ = write!(
            s,
            r#"{{"event":"media","streamSid":"{}","media":{{"payload":"{payload}"}}}}"#,
            ids.stream_id
        );
        WireMessage::Text(s)
    }

    fn bot_mark(&self, ids: &CallIds, name: &str) -> Option<WireMessage> {
        let m = json!({"event": "mark", "streamSid": ids.stream_id, "mark": {"name": name}});
        Some(WireMessage::Text(m.to_string()))
    }

    fn bot_clear(&self, ids: &CallIds) -> WireMessage {
        WireMessage::Text(json!({"event": "clear", "streamSid": ids.stream_id}).to_string())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        let m = parse(msg)?;
        match m.event {
            "connected" => Ok(CallerEvent::Connected),
            "start" => {
                let s = m.start.ok_or("a start message without start")?;
                Ok(CallerEvent::Start {
                    call_id: s.call_sid,
                    stream_id: s.stream_sid,
                    custom_parameters: s.custom_parameters,
                })
            }
            "media" => payload(m.media).map(CallerEvent::media),
            "mark" => Ok(CallerEvent::Mark(
                m.mark.ok_or("a mark without a name")?.name.to_string(),
            )),
            "dtmf" => Ok(CallerEvent::Dtmf(
                m.dtmf.ok_or("a dtmf without a digit")?.digit.to_string(),
            )),
            "stop" => Ok(CallerEvent::Stop),
            other => Err(format!("'{other}' is not a Media Streams message")),
        }
    }
}

/// Appends `n` in decimal.
fn push_number(s: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[at..].iter().for_each(|&d| s.push(d as char));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One example of every message, as the platform's reference shows them.
    const CONNECTED: &str = r#"{"event": "connected", "protocol": "Call", "version": "1.0.0"}"#;
    const START: &str = r#"{"event": "start", "sequenceNumber": "1", "start": {"accountSid": "AC123", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0", "callSid": "CA123", "tracks": ["inbound"], "customParameters": {"FirstName": "Jane"}, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}, "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0"}"#;
    const MEDIA: &str = r#"{"event": "media", "sequenceNumber": "3", "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": "no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDBc0r5WLh4aHi5SnPBkNCAYHChEkzpyOiIaHipGfYCAPCQcHCQ4c"}, "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0"}"#;
    const DTMF: &str = r#"{"event": "dtmf", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0", "sequenceNumber": "5", "dtmf": {"track": "inbound_track", "digit": "1"}}"#;
    const MARK_ECHO: &str = r#"{"event": "mark", "sequenceNumber": "4", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0", "mark": {"name": "my label"}}"#;
    const STOP: &str = r#"{"event": "stop", "sequenceNumber": "5", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0", "stop": {"accountSid": "AC123", "callSid": "CA123"}}"#;
    const BOT_MEDIA: &str = r#"{"event": "media", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0", "media": {"payload": "a3242sa"}}"#;
    const BOT_MARK: &str = r#"{"event": "mark", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0", "mark": {"name": "my label"}}"#;
    const BOT_CLEAR: &str =
        r#"{"event": "clear", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0"}"#;

    fn t(s: &str) -> WireMessage {
        WireMessage::Text(s.to_string())
    }

    fn json(m: &WireMessage) -> serde_json::Value {
        match m {
            WireMessage::Text(s) => serde_json::from_str(s).unwrap(),
            WireMessage::Binary(_) => panic!("binary"),
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

    #[test]
    fn media_numbers_are_written_in_decimal() {
        let w = Twilio;
        let ids = w.ids(7);
        let frame = w.prepare(Bytes::from_static(&[0xFF; 160]));
        for n in [0, 9, 10, 1_234_567, u64::MAX] {
            let m = json(&w.media(&ids, &frame, n, n, n));
            assert_eq!(m["sequenceNumber"], n.to_string());
            assert_eq!(m["media"]["chunk"], n.to_string());
            assert_eq!(m["media"]["timestamp"], n.to_string());
            assert_eq!(m["streamSid"], ids.stream_id.as_str());
        }
    }

    #[test]
    fn reads_every_platform_message_of_the_reference() {
        let w = Twilio;
        assert_eq!(
            w.parse_caller(&t(CONNECTED)).unwrap(),
            CallerEvent::Connected
        );
        match w.parse_caller(&t(START)).unwrap() {
            CallerEvent::Start {
                call_id,
                custom_parameters,
                ..
            } => {
                assert_eq!(call_id, "CA123");
                assert_eq!(custom_parameters["FirstName"], "Jane");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(w.parse_caller(&t(MEDIA)).unwrap(), CallerEvent::Media { audio, .. } if audio.len() == 72)
        );
        assert_eq!(
            w.parse_caller(&t(DTMF)).unwrap(),
            CallerEvent::Dtmf("1".into())
        );
        assert_eq!(
            w.parse_caller(&t(MARK_ECHO)).unwrap(),
            CallerEvent::Mark("my label".into())
        );
        assert_eq!(w.parse_caller(&t(STOP)).unwrap(), CallerEvent::Stop);
        assert_eq!(
            w.parse_bot(&t(BOT_MARK)).unwrap(),
            BotEvent::Mark("my label".into())
        );
        assert_eq!(w.parse_bot(&t(BOT_CLEAR)).unwrap(), BotEvent::Clear);
        assert!(
            w.parse_bot(&t(BOT_MEDIA)).is_err(),
            "the reference's placeholder is not base64"
        );
    }

    #[test]
    fn writes_messages_shaped_as_the_reference() {
        let w = Twilio;
        let ids = w.ids(1);
        let custom = BTreeMap::from([("FirstName".to_string(), "Jane".to_string())]);
        let opening = w.opening(&ids, &custom);
        assert_eq!(
            shape(&json(&opening[0])),
            shape(&serde_json::from_str(CONNECTED).unwrap())
        );
        assert_eq!(
            shape(&json(&opening[1])),
            shape(&serde_json::from_str(START).unwrap())
        );
        let frame = w.prepare(Bytes::from(vec![0xFFu8; 160]));
        let media = w.media(&ids, &frame, 3, 1, 5);
        assert_eq!(
            shape(&json(&media)),
            shape(&serde_json::from_str(MEDIA).unwrap())
        );
        let v = json(&media);
        assert_eq!(
            (v["sequenceNumber"].as_str(), v["media"]["chunk"].as_str()),
            (Some("3"), Some("1"))
        );
        assert_eq!(v["media"]["timestamp"], "5");
        assert_eq!(
            shape(&json(&w.mark(&ids, "my label", 4).unwrap())),
            shape(&serde_json::from_str(MARK_ECHO).unwrap())
        );
        assert_eq!(
            shape(&json(&w.stop(&ids, 5).unwrap())),
            shape(&serde_json::from_str(STOP).unwrap())
        );
        assert_eq!(
            shape(&json(&w.bot_media(&ids, &[0xFF; 160]))),
            shape(&serde_json::from_str(BOT_MEDIA).unwrap())
        );
        assert_eq!(
            shape(&json(&w.bot_mark(&ids, "x").unwrap())),
            shape(&serde_json::from_str(BOT_MARK).unwrap())
        );
        assert_eq!(
            shape(&json(&w.dtmf(&ids, "1", 5).unwrap())),
            shape(&serde_json::from_str(DTMF).unwrap())
        );
        assert_eq!(
            shape(&json(&w.bot_clear(&ids))),
            shape(&serde_json::from_str(BOT_CLEAR).unwrap())
        );
        // Round trips: what one side writes, the other reads.
        assert_eq!(
            w.parse_caller(&media).unwrap(),
            CallerEvent::media(frame.audio.clone())
        );
        let bot = w.bot_media(&ids, &[1, 2, 3]);
        assert_eq!(
            w.parse_bot(&bot).unwrap(),
            BotEvent::Media(Bytes::from_static(&[1, 2, 3]))
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let w = Twilio;
        for bad in [
            "",
            "{",
            "[]",
            r#"{"event": "media"}"#,
            r#"{"event": "teleport"}"#,
            r#"{"event": 7}"#,
        ] {
            assert!(w.parse_bot(&t(bad)).is_err(), "{bad}");
            assert!(w.parse_caller(&t(bad)).is_err(), "{bad}");
        }
        assert!(w
            .parse_bot(&WireMessage::Binary(Bytes::from_static(b"\x00\x01")))
            .is_err());
    }
}
