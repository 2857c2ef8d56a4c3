//! The bot's ear: energy-based voice activity detection with an endpointing silence. It
//! captures an utterance from its first speech frame to its last, and says it has ended once
//! the caller has been quiet for the endpointing window.

use std::time::Duration;
use voiceswarm_model::audio::speech::Format;

/// What one frame of the caller's audio meant.
#[derive(Debug, PartialEq)]
pub enum Heard {
    Nothing,
    /// The caller started speaking (a barge-in if the bot is talking).
    SpeechStarted,
    /// The caller finished an utterance: its audio, first to last speech frame.
    Utterance(Vec<u8>),
}

#[derive(Debug)]
pub struct Ear {
    format: Format,
    endpoint: Duration,
    captured: Vec<u8>,
    /// Length of `captured` up to its last speech frame.
    speech_len: usize,
    in_speech: bool,
    quiet: Duration,
}

impl Ear {
    pub fn new(format: Format, endpoint: Duration) -> Self {
        Self {
            format,
            endpoint,
            captured: Vec::new(),
            speech_len: 0,
            in_speech: false,
            quiet: Duration::ZERO,
        }
    }

    pub fn hear(&mut self, audio: &[u8]) -> Heard {
        let speech = self.format.is_speech(audio);
        if !self.in_speech {
            if !speech {
                return Heard::Nothing;
            }
            self.in_speech = true;
            self.captured.clear();
            self.captured.extend_from_slice(audio);
            self.speech_len = self.captured.len();
            self.quiet = Duration::ZERO;
            return Heard::SpeechStarted;
        }
        self.captured.extend_from_slice(audio);
        if speech {
            self.speech_len = self.captured.len();
            self.quiet = Duration::ZERO;
            return Heard::Nothing;
        }
        self.quiet += self.format.duration(audio.len());
        if self.quiet < self.endpoint {
            return Heard::Nothing;
        }
        self.in_speech = false;
        self.captured.truncate(self.speech_len);
        Heard::Utterance(std::mem::take(&mut self.captured))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voiceswarm_model::audio::speech::utterance_frames;

    #[test]
    fn an_utterance_ends_after_the_endpointing_silence() {
        let f = Format::MuLaw8k;
        let mut ear = Ear::new(f, Duration::from_millis(300));
        let words = utterance_frames(voiceswarm_model::fixtures::AUDIO[0].wav, f).unwrap();
        let silence = f.silence();
        assert_eq!(ear.hear(&silence), Heard::Nothing);
        let mut heard = Vec::new();
        for w in &words {
            heard.push(ear.hear(w));
        }
        assert_eq!(heard[0], Heard::SpeechStarted);
        assert!(heard[1..].iter().all(|h| *h == Heard::Nothing));
        for _ in 0..14 {
            assert_eq!(ear.hear(&silence), Heard::Nothing, "still within 300 ms");
        }
        match ear.hear(&silence) {
            Heard::Utterance(audio) => {
                assert_eq!(audio, words.concat(), "first to last speech frame")
            }
            other => panic!("{other:?}"),
        }
    }
}
