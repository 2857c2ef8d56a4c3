//! The bot's own ground truth, per turn (`--bot-log FILE`, JSON lines): when the last inbound
//! message with speech (or the key pressed) arrived and when the reply's first frame left, each
//! stamped at the kernel edge of the socket (the kernel's receive time of the message; the moment
//! the frame's write entered the kernel: `edge.rs`) on the wall clock (ns since the Unix
//! epoch), with the call's ids and the turn's number — what a caller's voice-to-voice is checked
//! against, turn by turn.
//!
//! One line per reply, written when its first frame has been handed to the socket:
//!
//! ```json
//! {"event":"turn","protocol":"twilio","call":"CA…","stream":"MZ…","turn":1,
//!  "last_speech_in_ns":…,"first_reply_out_ns":…,"gap_ms":250.31,"dtmf":false}
//! ```
//!
//! `gap_ms` is taken on the monotonic clock. Speech is what the bot's ear hears as speech: a
//! message any 20 ms window of which is above the speech level (`Format::is_speech`).

use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use voiceswarm_model::audio::speech::Format;
use voiceswarm_model::protocol::{CallIds, CallerEvent};

/// The file every call of the backend writes its turns to (appended; one write per line).
#[derive(Debug)]
pub struct TruthLog(std::fs::File);

impl TruthLog {
    /// Opens (creates, appends to) `path`; the error names the flag and the file.
    pub fn open(path: &Path) -> Result<Arc<Self>, String> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|f| Arc::new(Self(f)))
            .map_err(|e| format!("--bot-log {}: {e}", path.display()))
    }

    fn write(&self, line: &Line<'_>) {
        if let Ok(mut text) = serde_json::to_string(line) {
            text.push('\n');
            // One write on a file opened for appending: lines of concurrent calls never mix.
            let _ = (&self.0).write_all(text.as_bytes());
        }
    }
}

/// A moment on both clocks.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    mono: Instant,
    wall: SystemTime,
}

impl Stamp {
    pub fn now() -> Self {
        Self {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    /// `mono`, a moment in the past (a socket's stamp), on both clocks.
    pub fn at(mono: Instant) -> Self {
        let now = Self::now();
        Self {
            mono,
            wall: now.wall - now.mono.saturating_duration_since(mono),
        }
    }

    fn ns(&self) -> u64 {
        self.wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    }
}

#[derive(Serialize)]
struct Line<'a> {
    event: &'static str,
    protocol: &'static str,
    call: &'a str,
    stream: &'a str,
    turn: u64,
    last_speech_in_ns: u64,
    first_reply_out_ns: u64,
    gap_ms: f64,
    dtmf: bool,
}

/// One call's stamps.
#[derive(Debug)]
pub struct Truth {
    log: Option<Arc<TruthLog>>,
    protocol: &'static str,
    format: Format,
    /// The last message with speech (or a key, `true`) that arrived.
    last_in: Option<(Stamp, bool)>,
    /// The next message sent is a reply's first frame.
    replying: bool,
    turn: u64,
}

impl Truth {
    pub fn new(log: Option<Arc<TruthLog>>, protocol: &'static str, format: Format) -> Self {
        Self {
            log,
            protocol,
            format,
            last_in: None,
            replying: false,
            turn: 0,
        }
    }

    /// A message of the caller's, read at `at`.
    pub fn heard(&mut self, event: &CallerEvent, at: Stamp) {
        if self.log.is_none() {
            return;
        }
        match event {
            CallerEvent::Media { audio, .. } if self.format.is_speech(audio) => {
                self.last_in = Some((at, false))
            }
            CallerEvent::Dtmf(_) => self.last_in = Some((at, true)),
            _ => {}
        }
    }

    /// A reply's first frame is the next message sent.
    pub fn reply_begins(&mut self) {
        self.replying = true;
    }

    /// A message entered the socket at `out`: the reply's first frame, its turn is logged.
    pub fn sent(&mut self, ids: &CallIds, out: Stamp) {
        if !std::mem::take(&mut self.replying) {
            return;
        }
        let (Some(log), Some((since, dtmf))) = (&self.log, self.last_in) else {
            return;
        };
        self.turn += 1;
        log.write(&Line {
            event: "turn",
            protocol: self.protocol,
            call: &ids.call_id,
            stream: &ids.stream_id,
            turn: self.turn,
            last_speech_in_ns: since.ns(),
            first_reply_out_ns: out.ns(),
            gap_ms: (out.mono - since.mono).as_secs_f64() * 1000.0,
            dtmf,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_each_reply_from_the_last_speech_that_came_before_it() {
        let dir = std::env::temp_dir().join(format!("truth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bot.jsonl");
        let _ = std::fs::remove_file(&path);
        let f = Format::MuLaw8k;
        let mut t = Truth::new(Some(TruthLog::open(&path).unwrap()), "twilio", f);
        let ids = CallIds::twilio(3);
        let speech = voiceswarm_model::audio::speech::tone_frames(f)[0].clone();
        let first = Stamp::now();
        t.heard(&CallerEvent::media(speech.clone()), first);
        let last = Stamp::now();
        t.heard(&CallerEvent::media(speech), last);
        // Silence after the speech does not move its end.
        t.heard(&CallerEvent::media(f.silence()), Stamp::now());
        t.sent(&ids, Stamp::now()); // not a reply: nothing logged
        t.reply_begins();
        t.sent(&ids, Stamp::now());
        t.sent(&ids, Stamp::now()); // the reply's second frame: nothing more
        t.heard(&CallerEvent::Dtmf("1".into()), Stamp::now());
        t.reply_begins();
        t.sent(&ids, Stamp::now());
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["call"], ids.call_id.as_str());
        assert_eq!(lines[0]["turn"], 1);
        assert_eq!(lines[0]["last_speech_in_ns"], last.ns());
        assert_eq!(lines[0]["dtmf"], false);
        let gap = lines[0]["gap_ms"].as_f64().unwrap();
        let wall = (lines[0]["first_reply_out_ns"].as_u64().unwrap() - last.ns()) as f64 / 1e6;
        assert!(gap >= 0.0 && (gap - wall).abs() < 1.0, "{gap} vs {wall}");
        assert_eq!(
            (lines[1]["turn"].as_u64(), lines[1]["dtmf"].as_bool()),
            (Some(2), Some(true))
        );
        assert!(TruthLog::open(&dir.join("no/such/dir/x"))
            .unwrap_err()
            .starts_with("--bot-log"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
