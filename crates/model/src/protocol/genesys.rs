//! Genesys Cloud AudioHook (protocol version 2, as its Audio Connector uses it for voice bots):
//! JSON text messages for control and binary messages for audio, μ-law (PCMU) 8 kHz, the
//! caller's `external` channel. Every text message carries `version`, `type`, `seq` (the
//! sender's counter), `id` (the session) and `parameters`; the platform's also `serverseq` and
//! `position` (audio sent so far, ISO 8601), the bot's `clientseq`. Platform → bot: `open`
//! (`conversationId`, `participant`, the `media` offered), `dtmf`, `close`, `ping`; audio.
//! Bot → platform: `opened` (the media it takes) in answer to `open`, `closed` to `close`,
//! `event` with a `barge_in` entity (drop the queued audio), `disconnect`; audio.
//!
//! The caller's counter `seq` numbers every message it sends, audio included, so the `seq` of
//! its text messages rises with gaps where AudioHook's would rise by one, and their `position`
//! stays `PT0S`; no bot this was tried with (Pipecat's `GenesysAudioHookSerializer`) does more
//! with either than keep the last value.

use super::{text, BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
pub struct Genesys;

const VERSION: &str = "2";

#[derive(Deserialize)]
struct Incoming {
    version: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    parameters: Value,
}

fn parse(msg: &WireMessage) -> Result<Incoming, String> {
    let m: Incoming = serde_json::from_str(text(msg, "Genesys AudioHook")?)
        .map_err(|e| format!("not a Genesys AudioHook message: {e}"))?;
    if m.version != VERSION {
        return Err(format!(
            "version: '{}' announced; this side speaks AudioHook {VERSION}",
            m.version
        ));
    }
    Ok(m)
}

/// A platform message: its counters and where the audio stands.
fn from_platform(ids: &CallIds, kind: &str, seq: u64, parameters: Value) -> WireMessage {
    let m = json!({
        "version": VERSION, "type": kind, "seq": seq, "serverseq": 0, "id": ids.stream_id,
        "position": "PT0S", "parameters": parameters,
    });
    WireMessage::Text(m.to_string())
}

/// A bot message (its own counter is not kept: `seq` 1, `clientseq` 0).
fn from_bot(ids: &CallIds, kind: &str, parameters: Value) -> WireMessage {
    let m = json!({
        "version": VERSION, "type": kind, "seq": 1, "clientseq": 0, "id": ids.stream_id,
        "parameters": parameters,
    });
    WireMessage::Text(m.to_string())
}

/// The audio this side speaks, as `open` offers it and `opened` takes it.
fn pcmu() -> Value {
    json!([{"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}])
}

/// An `open` must offer, and an `opened` take, PCMU at 8 kHz on the external channel.
fn check_media(p: &Value) -> Result<(), String> {
    let offered = p["media"].as_array().cloned().unwrap_or_default();
    let ok = offered.iter().any(|m| {
        m["format"] == "PCMU"
            && m["rate"] == 8000
            && m["channels"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c == "external"))
    });
    match ok {
        true => Ok(()),
        false => Err(format!(
            "parameters.media: {offered:?}; this side speaks PCMU 8000 Hz, external"
        )),
    }
}

impl Wire for Genesys {
    fn name(&self) -> &'static str {
        "genesys"
    }

    fn format(&self) -> Format {
        Format::MuLaw8k
    }

    fn prepare(&self, audio: Bytes) -> PreparedFrame {
        super::prepare_binary(Format::MuLaw8k, audio)
    }

    /// The session (`id`) and the conversation, both UUIDs.
    fn ids(&self, n: u64) -> CallIds {
        CallIds {
            stream_id: CallIds::uuid(n, 1),
            call_id: CallIds::uuid(n, 2),
            account_id: CallIds::uuid(n, 3),
        }
    }

    fn opening(&self, ids: &CallIds, custom: &BTreeMap<String, String>) -> Vec<WireMessage> {
        let parameters = json!({
            "organizationId": ids.account_id,
            "conversationId": ids.call_id,
            "participant": {"id": CallIds::uuid(0, 4), "ani": "+15550100", "aniName": "voiceswarm", "dnis": "+15550199"},
            "media": pcmu(),
            "language": "en-US",
            "customConfig": {},
            "inputVariables": custom,
        });
        vec![from_platform(ids, "open", 1, parameters)]
    }

    fn media(&self, _: &CallIds, frame: &PreparedFrame, _: u64, _: u64, _: u64) -> WireMessage {
        WireMessage::Binary(frame.audio.clone())
    }

    /// AudioHook has no marks.
    fn mark(&self, _: &CallIds, _: &str, _: u64) -> Option<WireMessage> {
        None
    }

    fn dtmf(&self, ids: &CallIds, digit: &str, seq: u64) -> Option<WireMessage> {
        Some(from_platform(ids, "dtmf", seq, json!({"digit": digit})))
    }

    fn stop(&self, ids: &CallIds, seq: u64) -> Option<WireMessage> {
        Some(from_platform(ids, "close", seq, json!({"reason": "end"})))
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        if let WireMessage::Binary(b) = msg {
            return Ok(BotEvent::Media(b.clone()));
        }
        let m = parse(msg)?;
        match m.kind.as_str() {
            "event" => {
                let barge_in = m.parameters["entities"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["type"] == "barge_in"));
                Ok(if barge_in {
                    BotEvent::Clear
                } else {
                    BotEvent::Other
                })
            }
            // The bot must take the audio offered.
            "opened" => check_media(&m.parameters).map(|()| BotEvent::Other),
            "closed" | "pong" | "resumed" | "disconnect" | "error" => Ok(BotEvent::Other),
            other => Err(format!(
                "'{other}' is not an AudioHook bot message (opened, closed, pong, resumed, event, disconnect, error; audio is binary)"
            )),
        }
    }

    fn bot_media(&self, _: &CallIds, audio: &[u8]) -> WireMessage {
        WireMessage::Binary(Bytes::copy_from_slice(audio))
    }

    /// AudioHook has no marks.
    fn bot_mark(&self, _: &CallIds, _: &str) -> Option<WireMessage> {
        None
    }

    fn bot_clear(&self, ids: &CallIds) -> WireMessage {
        from_bot(
            ids,
            "event",
            json!({"entities": [{"type": "barge_in", "data": {}}]}),
        )
    }

    /// `opened` (taking the offered PCMU) to `open`, `closed` to `close`.
    fn bot_answer(&self, ids: &CallIds, heard: &CallerEvent) -> Option<WireMessage> {
        match heard {
            CallerEvent::Start { .. } => Some(from_bot(
                ids,
                "opened",
                json!({"startPaused": false, "media": pcmu()}),
            )),
            CallerEvent::Stop => Some(from_bot(ids, "closed", json!({}))),
            _ => None,
        }
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        if let WireMessage::Binary(b) = msg {
            return Ok(CallerEvent::media(b.clone()));
        }
        let m = parse(msg)?;
        let p = &m.parameters;
        match m.kind.as_str() {
            "open" => {
                check_media(p)?;
                let custom = p["inputVariables"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                (k.clone(), v.as_str().map_or(v.to_string(), str::to_string))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(CallerEvent::Start {
                    call_id: p["conversationId"].as_str().unwrap_or_default().to_string(),
                    stream_id: m.id,
                    custom_parameters: custom,
                })
            }
            "dtmf" => match p["digit"].as_str() {
                Some(d) => Ok(CallerEvent::Dtmf(d.to_string())),
                None => Err("a dtmf without parameters.digit".into()),
            },
            "close" => Ok(CallerEvent::Stop),
            "ping" | "update" | "pause" | "error" | "playback_started" | "playback_completed" => {
                Ok(CallerEvent::Connected)
            }
            other => Err(format!("'{other}' is not an AudioHook platform message")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tests::{round_trips, same_shape};

    /// One example of every message, as Genesys's AudioHook protocol reference shows them.
    const OPEN: &str = r#"{"version": "2", "type": "open", "seq": 1, "serverseq": 0, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "position": "PT0S", "parameters": {"organizationId": "d7934305-0972-4844-938e-9060eef73d05", "conversationId": "090eaa2f-72fa-480a-83e0-8667ff89c0ec", "participant": {"id": "883efee8-3d6c-4537-b500-6d7ca4b92fa0", "ani": "+1-555-555-1234", "aniName": "John Doe", "dnis": "+1-800-555-6789"}, "media": [{"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}], "language": "en-US", "customConfig": {}, "inputVariables": {}}}"#;
    const OPENED: &str = r#"{"version": "2", "type": "opened", "seq": 1, "clientseq": 1, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "parameters": {"startPaused": false, "media": [{"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}]}}"#;
    const DTMF: &str = r#"{"version": "2", "type": "dtmf", "seq": 5, "serverseq": 1, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "position": "PT4.12S", "parameters": {"digit": "1"}}"#;
    const PING: &str = r#"{"version": "2", "type": "ping", "seq": 6, "serverseq": 1, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "position": "PT5S", "parameters": {}}"#;
    const PONG: &str = r#"{"version": "2", "type": "pong", "seq": 2, "clientseq": 6, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "parameters": {}}"#;
    const BARGE_IN: &str = r#"{"version": "2", "type": "event", "seq": 3, "clientseq": 6, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "parameters": {"entities": [{"type": "barge_in", "data": {}}]}}"#;
    const CLOSE: &str = r#"{"version": "2", "type": "close", "seq": 7, "serverseq": 3, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "position": "PT9.5S", "parameters": {"reason": "end"}}"#;
    const CLOSED: &str = r#"{"version": "2", "type": "closed", "seq": 4, "clientseq": 7, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "parameters": {}}"#;
    const DISCONNECT: &str = r#"{"version": "2", "type": "disconnect", "seq": 5, "clientseq": 7, "id": "e160e428-53e2-487c-977d-96989bf5c99d", "parameters": {"reason": "completed", "outputVariables": {"action": "finished"}}}"#;

    fn t(s: &str) -> WireMessage {
        WireMessage::Text(s.to_string())
    }

    #[test]
    fn reads_every_message_of_the_reference() {
        let w = Genesys;
        match w.parse_caller(&t(OPEN)).unwrap() {
            CallerEvent::Start {
                call_id, stream_id, ..
            } => {
                assert_eq!(call_id, "090eaa2f-72fa-480a-83e0-8667ff89c0ec");
                assert_eq!(stream_id, "e160e428-53e2-487c-977d-96989bf5c99d");
            }
            other => panic!("{other:?}"),
        }
        let frame = WireMessage::Binary(Bytes::from(vec![0xFFu8; 160]));
        assert!(
            matches!(w.parse_caller(&frame).unwrap(), CallerEvent::Media { audio, seq: None } if audio.len() == 160)
        );
        assert_eq!(
            w.parse_caller(&t(DTMF)).unwrap(),
            CallerEvent::Dtmf("1".into())
        );
        assert_eq!(w.parse_caller(&t(PING)).unwrap(), CallerEvent::Connected);
        assert_eq!(w.parse_caller(&t(CLOSE)).unwrap(), CallerEvent::Stop);
        assert!(matches!(w.parse_bot(&frame).unwrap(), BotEvent::Media(a) if a.len() == 160));
        assert_eq!(w.parse_bot(&t(BARGE_IN)).unwrap(), BotEvent::Clear);
        for other in [OPENED, PONG, CLOSED, DISCONNECT] {
            assert_eq!(w.parse_bot(&t(other)).unwrap(), BotEvent::Other);
        }
        let l16 = OPEN.replace("PCMU", "L16");
        assert!(w.parse_caller(&t(&l16)).unwrap_err().contains("L16"));
        let l16 = OPENED.replace("PCMU", "L16");
        assert!(w.parse_bot(&t(&l16)).unwrap_err().contains("L16"));
        let v1 = OPEN.replace(r#""version": "2""#, r#""version": "1""#);
        assert!(w.parse_caller(&t(&v1)).unwrap_err().contains("version"));
    }

    #[test]
    fn writes_messages_shaped_as_the_reference() {
        let w = Genesys;
        let ids = w.ids(1);
        let opening = w.opening(&ids, &BTreeMap::new());
        same_shape(&opening[0], OPEN);
        let frame = w.prepare(Bytes::from(vec![0xFFu8; 160]));
        assert!(
            matches!(w.media(&ids, &frame, 2, 1, 20), WireMessage::Binary(b) if b.len() == 160)
        );
        same_shape(&w.dtmf(&ids, "1", 5).unwrap(), DTMF);
        same_shape(&w.stop(&ids, 7).unwrap(), CLOSE);
        same_shape(&w.bot_clear(&ids), BARGE_IN);
        let start = w.parse_caller(&opening[0]).unwrap();
        same_shape(&w.bot_answer(&ids, &start).unwrap(), OPENED);
        same_shape(&w.bot_answer(&ids, &CallerEvent::Stop).unwrap(), CLOSED);
        assert!(w.mark(&ids, "m", 3).is_none() && w.bot_mark(&ids, "m").is_none());
        round_trips(&w);
    }
}
