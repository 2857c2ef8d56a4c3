//! The caller's ear on a WebRTC call: each RTP payload of the bot decoded just enough to tell
//! speech from silence — Opus at 16 kHz (a third of the work of 48 kHz; a tone or a voice keeps
//! its level), PCMU as it is — by the one speech rule of `audio::speech`. A bot between replies
//! sends silence, often one identical Opus packet after another, and decoding them was a third of
//! a generator's core at 400 WebRTC calls: once the same packet has decoded to near nothing (a
//! peak 20 dB under the speech level's RMS) twice running, the decoder is at rest, and further
//! copies are silence without decoding.

use voiceswarm_model::audio::opus;
use voiceswarm_model::audio::speech::Format;
use voiceswarm_model::scenario::webrtc::RtpCodec;

/// The rate the caller decodes Opus at.
const OPUS_EAR_RATE: u32 = 16_000;

#[derive(Debug)]
pub enum Ear {
    Opus(OpusEar),
    Pcmu,
}

/// An Opus decoder and the run of digital silence it has decoded.
#[derive(Debug)]
pub struct OpusEar {
    decoder: opus::Decoder,
    /// The last payload, and how many times running it decoded to near nothing.
    last: Vec<u8>,
    quiet_runs: u32,
    /// One packet's worth of silence, for the copies not decoded.
    silence: Vec<u8>,
}

impl OpusEar {
    /// Copies of a payload that decoded to near nothing this many times running are not
    /// decoded: the decoder's memory (overlap, de-emphasis) has emptied into the first two.
    const AT_REST: u32 = 2;
    /// Near nothing: no sample above this (−60 dBFS; the speech rule is an RMS of −40 dBFS,
    /// 327). Silence through libopus's SILK decoder peaks at 1–3.
    const QUIET_PEAK: u16 = 32;

    fn hear(&mut self, payload: &[u8]) -> (&[u8], bool) {
        if self.quiet_runs >= Self::AT_REST && payload == self.last.as_slice() {
            return (&self.silence, false);
        }
        let format = self.decoder.format();
        let pcm = self.decoder.decode(payload);
        // (A packet that does not decode gives nothing, which is not the silence of a rest.)
        let quiet = !pcm.is_empty()
            && pcm
                .chunks_exact(2)
                .all(|c| i16::from_le_bytes([c[0], c[1]]).unsigned_abs() <= Self::QUIET_PEAK);
        if quiet && payload == self.last.as_slice() {
            self.quiet_runs += 1;
        } else {
            self.quiet_runs = u32::from(quiet);
            self.last.clear();
            self.last.extend_from_slice(payload);
        }
        if quiet && self.silence.len() != pcm.len() {
            self.silence = vec![0; pcm.len()];
        }
        (pcm, format.is_speech(pcm))
    }
}

impl Ear {
    pub fn new(codec: RtpCodec) -> Result<Self, String> {
        Ok(match codec {
            RtpCodec::Opus => Ear::Opus(OpusEar {
                decoder: opus::Decoder::new(OPUS_EAR_RATE)?,
                last: Vec::new(),
                quiet_runs: 0,
                silence: Vec::new(),
            }),
            RtpCodec::Pcmu => Ear::Pcmu,
        })
    }

    /// The format of the audio [`Ear::hear`] returns.
    pub fn format(&self) -> Format {
        match self {
            Ear::Opus(e) => e.decoder.format(),
            Ear::Pcmu => Format::MuLaw8k,
        }
    }

    /// A payload's audio and whether it is speech.
    pub fn hear<'a>(&'a mut self, payload: &'a [u8]) -> (&'a [u8], bool) {
        match self {
            Ear::Opus(e) => e.hear(payload),
            Ear::Pcmu => (payload, Format::MuLaw8k.is_speech(payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// 20 ms at 48 kHz as 16-bit PCM: a 440 Hz tone at about −12 dBFS, or silence.
    fn frame(tone: bool) -> Bytes {
        let sample = |n: usize| match tone {
            true => (8_000.0 * (std::f64::consts::TAU * 440.0 * n as f64 / 48_000.0).sin()) as i16,
            false => 0,
        };
        (0..opus::FRAME_SAMPLES)
            .flat_map(|n| sample(n).to_le_bytes())
            .collect()
    }

    /// A bot that sends one packet of silence between its replies, as the reference bot does.
    #[test]
    fn repeated_silence_is_heard_as_silence_without_decoding_and_speech_still_is_speech() {
        let tone = opus::encode_utterance(&[frame(true)]).unwrap()[0].0.clone();
        let quiet = opus::encode_utterance(&[frame(false)]).unwrap()[0]
            .0
            .clone();
        let Ear::Opus(mut ear) = Ear::new(RtpCodec::Opus).unwrap() else {
            unreachable!()
        };
        assert!(ear.hear(&tone).1, "a tone is speech");
        // The first packet after the tone still sounds its tail (the codec's overlap).
        let heard: Vec<bool> = (0..4).map(|_| ear.hear(&quiet).1).collect();
        assert!(
            heard[1..].iter().all(|s| !s),
            "silence is silence: {heard:?}"
        );
        assert!(ear.quiet_runs >= OpusEar::AT_REST, "{}", ear.quiet_runs);
        let (audio, speech) = ear.hear(&quiet);
        assert!(!speech && audio.len() == 640 && audio.iter().all(|&b| b == 0));
        assert!(ear.hear(&tone).1, "speech after silence is heard");
        assert_eq!(ear.quiet_runs, 0);
        // A packet that does not decode is never taken for the rest's silence.
        let mut fresh = Ear::new(RtpCodec::Opus).unwrap();
        for _ in 0..3 {
            assert!(!fresh.hear(&[0xff; 3]).1);
        }
        let Ear::Opus(fresh) = fresh else {
            unreachable!()
        };
        assert_eq!(fresh.quiet_runs, 0);
    }
}
