//! The raw protocol, for custom backends: audio as binary messages of 16-bit little-endian PCM
//! (mono, at the call's sample rate, 20 ms each), control as small JSON text messages.
//! Caller → bot: `{"event":"start","call_id","stream_id","sample_rate","encoding":"pcm_s16le",
//! "custom_parameters"}`, audio, `{"event":"mark","name"}` echoes, `{"event":"stop"}`.
//! Bot → caller: audio, `{"event":"mark","name"}`, `{"event":"clear"}`.

use super::{BotEvent, CallIds, CallerEvent, PreparedFrame, Wire, WireMessage};
use crate::audio::speech::Format;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
pub struct Raw {
    pub sample_rate: u32,
}

#[derive(Deserialize)]
struct Control {
    event: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    digit: Option<String>,
    #[serde(default)]
    call_id: Option<String>,
    #[serde(default)]
    stream_id: Option<String>,
    #[serde(default)]
    custom_parameters: BTreeMap<String, String>,
}

fn control(text: &str) -> Result<Control, String> {
    serde_json::from_str(text).map_err(|e| format!("not a raw-protocol control message: {e}"))
}

impl Raw {
    fn audio(&self, b: &Bytes) -> Result<Bytes, String> {
        if !b.len().is_multiple_of(2) {
            return Err(format!(
                "{} bytes of audio: 16-bit PCM has an even length",
                b.len()
            ));
        }
        Ok(b.clone())
    }
}

impl Wire for Raw {
    fn name(&self) -> &'static str {
        "raw"
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
        let start = json!({
            "event": "start",
            "call_id": ids.call_id,
            "stream_id": ids.stream_id,
            "sample_rate": self.sample_rate,
            "encoding": "pcm_s16le",
            "custom_parameters": custom,
        });
        vec![WireMessage::Text(start.to_string())]
    }

    fn media(&self, _: &CallIds, frame: &PreparedFrame, _: u64, _: u64, _: u64) -> WireMessage {
        WireMessage::Binary(frame.audio.clone())
    }

    fn mark(&self, _: &CallIds, name: &str, _: u64) -> Option<WireMessage> {
        Some(WireMessage::Text(
            json!({"event": "mark", "name": name}).to_string(),
        ))
    }

    fn dtmf(&self, _: &CallIds, digit: &str, _: u64) -> Option<WireMessage> {
        Some(WireMessage::Text(
            json!({"event": "dtmf", "digit": digit}).to_string(),
        ))
    }

    fn stop(&self, _: &CallIds, _: u64) -> Option<WireMessage> {
        Some(WireMessage::Text(json!({"event": "stop"}).to_string()))
    }

    fn parse_bot(&self, msg: &WireMessage) -> Result<BotEvent, String> {
        match msg {
            WireMessage::Binary(b) => self.audio(b).map(BotEvent::Media),
            WireMessage::Text(t) => {
                let c = control(t)?;
                match c.event.as_str() {
                    "mark" => Ok(BotEvent::Mark(c.name.ok_or("a mark without a name")?)),
                    "clear" => Ok(BotEvent::Clear),
                    other => Err(format!(
                        "'{other}' is not a bot message (mark, clear, or audio)"
                    )),
                }
            }
        }
    }

    fn bot_media(&self, _: &CallIds, audio: &[u8]) -> WireMessage {
        WireMessage::Binary(Bytes::copy_from_slice(audio))
    }

    fn bot_mark(&self, _: &CallIds, name: &str) -> Option<WireMessage> {
        Some(WireMessage::Text(
            json!({"event": "mark", "name": name}).to_string(),
        ))
    }

    fn bot_clear(&self, _: &CallIds) -> WireMessage {
        WireMessage::Text(json!({"event": "clear"}).to_string())
    }

    fn parse_caller(&self, msg: &WireMessage) -> Result<CallerEvent, String> {
        match msg {
            WireMessage::Binary(b) => self.audio(b).map(CallerEvent::media),
            WireMessage::Text(t) => {
                let c = control(t)?;
                match c.event.as_str() {
                    "start" => Ok(CallerEvent::Start {
                        call_id: c.call_id.unwrap_or_default(),
                        stream_id: c.stream_id.unwrap_or_default(),
                        custom_parameters: c.custom_parameters,
                    }),
                    "mark" => Ok(CallerEvent::Mark(c.name.ok_or("a mark without a name")?)),
                    "dtmf" => Ok(CallerEvent::Dtmf(c.digit.ok_or("a dtmf without a digit")?)),
                    "stop" => Ok(CallerEvent::Stop),
                    other => Err(format!(
                        "'{other}' is not a caller message (start, mark, dtmf, stop, or audio)"
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_example_of_every_message_reads_back() {
        let w = Raw {
            sample_rate: 16_000,
        };
        let ids = w.ids(2);
        let start = &w.opening(&ids, &BTreeMap::new())[0];
        let WireMessage::Text(s) = start else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(s).unwrap();
        assert_eq!(
            (v["event"].as_str(), v["sample_rate"].as_u64()),
            (Some("start"), Some(16_000))
        );
        assert!(matches!(
            w.parse_caller(start).unwrap(),
            CallerEvent::Start { .. }
        ));
        let frame = w.prepare(Bytes::from(vec![0u8; 640]));
        assert_eq!(
            w.parse_caller(&w.media(&ids, &frame, 0, 0, 0)).unwrap(),
            CallerEvent::media(frame.audio.clone())
        );
        assert_eq!(
            w.parse_caller(&w.mark(&ids, "m1", 0).unwrap()).unwrap(),
            CallerEvent::Mark("m1".into())
        );
        assert_eq!(
            w.parse_caller(&w.stop(&ids, 0).unwrap()).unwrap(),
            CallerEvent::Stop
        );
        assert_eq!(
            w.parse_caller(&w.dtmf(&ids, "5", 0).unwrap()).unwrap(),
            CallerEvent::Dtmf("5".into())
        );
        assert_eq!(
            w.parse_bot(&w.bot_mark(&ids, "r1").unwrap()).unwrap(),
            BotEvent::Mark("r1".into())
        );
        assert_eq!(w.parse_bot(&w.bot_clear(&ids)).unwrap(), BotEvent::Clear);
        assert!(matches!(
            w.parse_bot(&w.bot_media(&ids, &[0, 1])).unwrap(),
            BotEvent::Media(_)
        ));
        assert!(w
            .parse_bot(&WireMessage::Binary(Bytes::from_static(&[1, 2, 3])))
            .is_err());
        assert!(w.parse_bot(&WireMessage::Text("{oops".into())).is_err());
    }
}
