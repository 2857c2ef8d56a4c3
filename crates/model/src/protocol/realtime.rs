//! OpenAI Realtime over WebSocket, voiceswarm as the client of a speech-to-speech server, as
//! OpenAI's Realtime API event reference describes it: JSON text events with a `type`. Client →
//! server: `session.update` (audio in and out as `audio/pcm` at 24 kHz, or `audio/pcmu` — G.711
//! μ-law 8 kHz — with server VAD turn detection), `input_audio_buffer.append` (base64 audio,
//! paced in real time). Server → client: `input_audio_buffer.speech_started` (the server hears
//! the caller: during a response, a barge-in it answers by cancelling), `speech_stopped` (its
//! endpoint), the response's audio deltas (`response.output_audio.delta`, and the previous name
//! `response.audio.delta`), `response.done`, `error`; every other event is read and ignored.
//! No marks, keys or stop: the call ends when the socket closes. The API key goes on the upgrade
//! as a bearer header (`--header`), written nowhere.

use super::{decode_audio, text, BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

/// At 24000 Hz: 16-bit PCM (`audio/pcm`); at 8000 Hz: G.711 μ-law (`audio/pcmu`).
#[derive(Debug, Clone, Copy)]
pub struct Realtime {
    pub sample_rate: u32,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    delta: Option<&'a str>,
    #[serde(borrow, default)]
    audio: Option<&'a str>,
    #[serde(default)]
    response: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    session: Option<serde_json::Value>,
    #[serde(borrow, default)]
    event_id: Option<&'a str>,
}

fn parse(msg: &WireMessage) -> Result<Event<'_>, String> {
    serde_json::from_str(text(msg, "OpenAI Realtime")?)
        .map_err(|e| format!("not a Realtime event: {e}"))
}

impl Realtime {
    /// The format's name in `session.audio.*.format.type`.
    fn format_type(&self) -> &'static str {
        match self.format() {
            Format::MuLaw8k => "audio/pcmu",
            Format::Pcm16(_) => "audio/pcm",
        }
    }

    fn audio_format(&self) -> serde_json::Value {
        match self.format() {
            Format::MuLaw8k => json!({"type": "audio/pcmu"}),
            Format::Pcm16(rate) => json!({"type": "audio/pcm", "rate": rate}),
        }
    }

    /// The session's input format, which must be this side's (GA or the previous names).
    fn check_session(&self, session: Option<&serde_json::Value>) -> Result<(), String> {
        let Some(s) = session else { return Ok(()) };
        let ga = s
            .pointer("/audio/input/format/type")
            .and_then(|v| v.as_str());
        let beta = s.get("input_audio_format").and_then(|v| v.as_str());
        let ok = match (ga, beta) {
            (Some(t), _) => t == self.format_type(),
            (None, Some(b)) => matches!(
                (b, self.format()),
                ("pcm16", Format::Pcm16(_)) | ("g711_ulaw", Format::MuLaw8k)
            ),
            (None, None) => true,
        };
        match ok {
            true => Ok(()),
            false => Err(format!(
                "session.audio.input.format: {:?} announced; this side speaks {}",
                ga.or(beta).unwrap_or("?"),
                self.format_type()
            )),
        }
    }
}

impl Wire for Realtime {
    fn name(&self) -> &'static str {
        "openai-realtime"
    }

    fn format(&self) -> Format {
        match self.sample_rate {
            8000 => Format::MuLaw8k,
            rate => Format::Pcm16(rate),
        }
    }

    fn prepare(&self, audio: Bytes) -> PreparedFrame {
        super::prepare_b64(self.format(), audio)
    }

    fn ids(&self, n: u64) -> CallIds {
        CallIds {
            stream_id: format!("sess_{}", &CallIds::hex(n)[..22]),
            call_id: format!("event_{}", &CallIds::hex(n)[10..]),
            account_id: String::new(),
        }
    }

    fn opening(&self, ids: &CallIds, _: &BTreeMap<String, String>) -> Vec<WireMessage> {
        let update = json!({
            "type": "session.update",
            "event_id": ids.call_id,
            "session": {
                "type": "realtime",
                "output_modalities": ["audio"],
                "audio": {
                    "input": {"format": self.audio_format(), "turn_detection": {"type": "server_vad"}},
                    "output": {"format": self.audio_format()}
                }
            }
        });
        vec![WireMessage::Text(update.to_string())]
    }

    fn media(&self, _: &CallIds, frame: &PreparedFrame, _: u64, _: u64, _: u64) -> WireMessage {
        let audio = frame.text.as_deref().unwrap_or_default();
        let mut s = String::with_capacity(64 + audio.len());
        let _ = write!(
            s,
            r#"{{"type":"input_audio_buffer.append","audio":"{audio}"}}"#
        );
        WireMessage::Text(s)
    }

    /// Realtime has no marks to echo.
    fn mark(&self, _: &CallIds, _: &str, _: u64) -> Option<WireMessage> {
        None
    }

    fn stop(&self, _: &CallIds, _: u64) -> Option<WireMessage> {
        None
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        let e = parse(msg)?;
        match e.kind {
            "response.output_audio.delta" | "response.audio.delta" => decode_audio(
                e.delta.ok_or("an audio delta without delta")?,
                self.format(),
            )
            .map(BotEvent::Media),
            "response.done" => Ok(BotEvent::Mark(
                e.response
                    .as_ref()
                    .and_then(|r| r.get("id")?.as_str().map(str::to_string))
                    .unwrap_or_default(),
            )),
            "input_audio_buffer.speech_started" => Ok(BotEvent::Clear),
            "input_audio_buffer.speech_stopped" => Ok(BotEvent::SpeechStopped),
            "error" => Err(format!(
                "the server's error: {}",
                e.error.map_or("(none)".into(), |v| v.to_string())
            )),
            // The answer to our session.update must take our format; session.created comes
            // before it, with the server's defaults (audio/pcm at 24 kHz).
            "session.updated" => {
                self.check_session(e.session.as_ref())?;
                Ok(BotEvent::Other)
            }
            kind if kind.contains('.') => Ok(BotEvent::Other),
            other => Err(format!("'{other}' is not a Realtime server event")),
        }
    }

    fn bot_media(&self, ids: &CallIds, audio: &[u8]) -> WireMessage {
        let delta = super::B64.encode(audio);
        WireMessage::Text(format!(
            r#"{{"type":"response.output_audio.delta","event_id":"{}","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"{delta}"}}"#,
            ids.call_id
        ))
    }

    fn bot_mark(&self, _: &CallIds, name: &str) -> Option<WireMessage> {
        let m = json!({"type": "response.done", "event_id": format!("event_{name}"), "response": {"id": name, "object": "realtime.response", "status": "completed"}});
        Some(WireMessage::Text(m.to_string()))
    }

    /// The server heard the caller over its response: it says so, and stops its audio.
    fn bot_clear(&self, _: &CallIds) -> WireMessage {
        let m = json!({"type": "input_audio_buffer.speech_started", "audio_start_ms": 0, "item_id": "item_2"});
        WireMessage::Text(m.to_string())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        let e = parse(msg)?;
        match e.kind {
            "session.update" => {
                let s = e.session.ok_or("a session.update without session")?;
                self.check_session(Some(&s))?;
                // The session names no call: the client's event id stands for it.
                Ok(CallerEvent::Start {
                    call_id: e.event_id.unwrap_or_default().to_string(),
                    stream_id: String::new(),
                    custom_parameters: BTreeMap::new(),
                })
            }
            "input_audio_buffer.append" => {
                decode_audio(e.audio.ok_or("an append without audio")?, self.format())
                    .map(CallerEvent::media)
            }
            kind if kind.contains('.') => Ok(CallerEvent::Connected),
            other => Err(format!("'{other}' is not a Realtime client event")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tests::{round_trips, same_shape};

    /// One example of every event voiceswarm sends or reads, as the Realtime API reference
    /// shows them.
    const SESSION_UPDATE: &str = r#"{"type": "session.update", "event_id": "event_123", "session": {"type": "realtime", "output_modalities": ["audio"], "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": {"type": "server_vad"}}, "output": {"format": {"type": "audio/pcm", "rate": 24000}}}}}"#;
    const APPEND: &str = r#"{"type": "input_audio_buffer.append", "audio": "AAAAAA=="}"#;
    const SESSION_CREATED: &str = r#"{"type": "session.created", "event_id": "event_1", "session": {"type": "realtime", "id": "sess_1", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}}}}"#;
    const SPEECH_STARTED: &str = r#"{"type": "input_audio_buffer.speech_started", "event_id": "event_2", "audio_start_ms": 1000, "item_id": "item_1"}"#;
    const SPEECH_STOPPED: &str = r#"{"type": "input_audio_buffer.speech_stopped", "event_id": "event_3", "audio_end_ms": 2000, "item_id": "item_1"}"#;
    const DELTA: &str = r#"{"type": "response.output_audio.delta", "event_id": "event_4", "response_id": "resp_1", "item_id": "item_2", "output_index": 0, "content_index": 0, "delta": "AAAAAA=="}"#;
    const DELTA_BETA: &str = r#"{"type": "response.audio.delta", "event_id": "event_4", "response_id": "resp_1", "item_id": "item_2", "output_index": 0, "content_index": 0, "delta": "AAAAAA=="}"#;
    const DONE: &str = r#"{"type": "response.done", "event_id": "event_5", "response": {"id": "resp_1", "object": "realtime.response", "status": "completed"}}"#;
    const ERROR: &str = r#"{"type": "error", "event_id": "event_6", "error": {"type": "invalid_request_error", "code": "invalid_value", "message": "Invalid value"}}"#;

    fn t(s: &str) -> WireMessage {
        WireMessage::Text(s.to_string())
    }

    #[test]
    fn reads_every_event_of_the_reference() {
        let w = Realtime {
            sample_rate: 24_000,
        };
        assert_eq!(w.parse_bot(&t(SESSION_CREATED)).unwrap(), BotEvent::Other);
        // The server's defaults come before our session.update: not a wrong format.
        let ulaw = Realtime { sample_rate: 8_000 };
        assert_eq!(
            ulaw.parse_bot(&t(SESSION_CREATED)).unwrap(),
            BotEvent::Other
        );
        let updated = SESSION_CREATED.replace("session.created", "session.updated");
        assert!(ulaw
            .parse_bot(&t(&updated))
            .unwrap_err()
            .contains("audio/pcm"));
        assert_eq!(w.parse_bot(&t(SPEECH_STARTED)).unwrap(), BotEvent::Clear);
        assert_eq!(
            w.parse_bot(&t(SPEECH_STOPPED)).unwrap(),
            BotEvent::SpeechStopped
        );
        for d in [DELTA, DELTA_BETA] {
            assert_eq!(
                w.parse_bot(&t(d)).unwrap(),
                BotEvent::Media(Bytes::from_static(&[0; 4]))
            );
        }
        assert_eq!(
            w.parse_bot(&t(DONE)).unwrap(),
            BotEvent::Mark("resp_1".into())
        );
        assert!(w
            .parse_bot(&t(ERROR))
            .unwrap_err()
            .contains("invalid_value"));
        assert!(matches!(
            w.parse_caller(&t(SESSION_UPDATE)).unwrap(),
            CallerEvent::Start { .. }
        ));
        assert!(
            matches!(w.parse_caller(&t(APPEND)).unwrap(), CallerEvent::Media { audio, .. } if audio.len() == 4)
        );
        assert!(ulaw
            .parse_caller(&t(SESSION_UPDATE))
            .unwrap_err()
            .contains("audio/pcmu"));
    }

    #[test]
    fn writes_events_shaped_as_the_reference() {
        for rate in [24_000, 8_000] {
            let w = Realtime { sample_rate: rate };
            let ids = w.ids(1);
            let update = &w.opening(&ids, &BTreeMap::new())[0];
            if rate == 24_000 {
                same_shape(update, SESSION_UPDATE);
            }
            let frame = w.prepare(w.format().silence());
            same_shape(&w.media(&ids, &frame, 0, 0, 0), APPEND);
            same_shape(&w.bot_media(&ids, &[0; 4]), DELTA);
            same_shape(&w.bot_mark(&ids, "resp_1").unwrap(), DONE);
            assert!(w.mark(&ids, "x", 0).is_none() && w.stop(&ids, 0).is_none());
            round_trips(&w);
        }
    }
}
