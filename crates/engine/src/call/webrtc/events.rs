//! OpenAI Realtime's events over a WebRTC call's data channel (`oai-events`): the session update
//! the caller sends when the channel opens (server VAD turn detection, audio out), and what it
//! reads of the server's events — where the server heard the caller's speech end
//! (`input_audio_buffer.speech_stopped`, timed as `call:endpointing`) and `error`, which fails
//! the call. The events are read by the WebSocket dialect's own parser
//! (`protocol::realtime`); the audio flows as RTP on the call's track, as on every WebRTC call,
//! and every other event is let pass.

use serde_json::json;
use voiceswarm_model::protocol::realtime::Realtime;
use voiceswarm_model::protocol::{BotEvent, Wire, WireMessage};

/// The data channel's label, as OpenAI's WebRTC guide names it.
pub const CHANNEL: &str = "oai-events";

/// What the caller acts on among the server's events.
#[derive(Debug, PartialEq)]
pub enum ServerEvent {
    /// The server's VAD heard the caller's speech end.
    SpeechStopped,
    /// Any other event.
    Other,
}

/// The caller's `session.update`: audio answers, the server's VAD takes turns. `event_id` carries
/// the call's id, so a server's log names the call as voiceswarm's `calls.jsonl` does.
pub fn session_update(call_id: &str) -> String {
    json!({
        "type": "session.update",
        "event_id": call_id,
        "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {"input": {"turn_detection": {"type": "server_vad"}}}
        }
    })
    .to_string()
}

/// One message of the channel; errors say what was wrong with it (or the server's own error).
pub fn parse(text: &str) -> Result<ServerEvent, String> {
    // The WebSocket dialect at its default 24 kHz: the rate only matters to audio deltas, which
    // a WebRTC server sends on the track instead, and to `session.updated`'s default format.
    let realtime = Realtime {
        sample_rate: 24_000,
    };
    let event = realtime
        .parse_bot(&WireMessage::Text(text.to_string()))
        .map_err(|e| format!("{CHANNEL}: {e}"))?;
    Ok(match event {
        BotEvent::SpeechStopped => ServerEvent::SpeechStopped,
        _ => ServerEvent::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_s_events_read_as_the_caller_needs_them() {
        let stopped =
            r#"{"type":"input_audio_buffer.speech_stopped","audio_end_ms":1200,"item_id":"i"}"#;
        assert_eq!(parse(stopped), Ok(ServerEvent::SpeechStopped));
        let created = r#"{"type":"session.created","session":{}}"#;
        assert_eq!(parse(created), Ok(ServerEvent::Other));
        let error = r#"{"type":"error","error":{"message":"bad key"}}"#;
        assert!(parse(error).unwrap_err().contains("bad key"));
        let junk = parse("hello").unwrap_err();
        assert!(
            junk.starts_with("oai-events: not a Realtime event"),
            "{junk}"
        );
        let update: serde_json::Value = serde_json::from_str(&session_update("rtc_1")).unwrap();
        assert_eq!(update["type"], "session.update");
        assert_eq!(update["event_id"], "rtc_1");
        assert_eq!(
            update["session"]["audio"]["input"]["turn_detection"]["type"],
            "server_vad"
        );
    }
}
