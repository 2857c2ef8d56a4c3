//! Opus at 48 kHz, mono, 20 ms a packet (what WebRTC voice carries), through libopus (the `opus`
//! crate over Debian's libopus-dev): an utterance encoded once, in sequence, with each packet's
//! speech flag read from what a decoder makes of it; and a decoder that tells the bot's speech
//! from silence.

use super::speech::Format;
use bytes::Bytes;

/// Opus's RTP clock and the rate voiceswarm encodes at.
pub const RATE: u32 = 48_000;
/// 20 ms at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
/// Far above what a 20 ms voice packet needs (RFC 6716: at most 1275 bytes a frame).
const MAX_PACKET: usize = 1500;

/// 16-bit little-endian PCM as samples.
fn samples(pcm: &[u8]) -> Vec<i16> {
    pcm.chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn encoder() -> Result<opus::Encoder, String> {
    let mut e = opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip)
        .map_err(|e| format!("libopus encoder: {e}"))?;
    e.set_bitrate(opus::Bitrate::Bits(32_000))
        .map_err(|e| format!("libopus bitrate: {e}"))?;
    Ok(e)
}

/// An utterance's 20 ms frames of 16-bit PCM at 48 kHz as Opus packets, encoded in sequence by
/// one encoder, each with whether it is speech as a decoder hears it (decoded in the same
/// sequence and judged by [`Format::is_speech`], so the caller's end of speech is the last
/// packet a bot hears as speech).
pub fn encode_utterance(frames: &[Bytes]) -> Result<Vec<(Bytes, bool)>, String> {
    let mut enc = encoder()?;
    let mut dec = Decoder::new(RATE)?;
    frames
        .iter()
        .map(|f| {
            let pcm = samples(f);
            if pcm.len() != FRAME_SAMPLES {
                return Err(format!(
                    "an Opus frame is {FRAME_SAMPLES} samples, not {}",
                    pcm.len()
                ));
            }
            let packet = enc
                .encode_vec(&pcm, MAX_PACKET)
                .map_err(|e| format!("libopus encode: {e}"))?;
            let speech = dec.is_speech(&packet);
            Ok((Bytes::from(packet), speech))
        })
        .collect()
}

/// A decoder of one stream, at `rate` (8, 12, 16, 24 or 48 kHz: a caller that only tells speech
/// from silence decodes at 16 kHz, a third of the work of 48).
///
/// A talker between its turns sends silence, often one identical packet after another, and
/// decoding them was a third of a generator's core at 400 WebRTC calls: once the same packet has
/// decoded to near nothing ([`QUIET_PEAK`]) twice running, the decoder's memory has emptied and
/// further copies decode to silence without libopus.
pub struct Decoder {
    inner: opus::Decoder,
    rate: u32,
    pcm: Vec<i16>,
    bytes: Vec<u8>,
    /// The last packet, and how many times running it decoded to near nothing.
    last: Vec<u8>,
    quiet_runs: u32,
    /// One packet's silence, for the copies not decoded.
    silence: Vec<u8>,
}

/// Near nothing: no sample above this (−60 dBFS, 20 dB under the speech rule's RMS of 327).
/// Digital silence through libopus's SILK decoder peaks at 1–3.
pub const QUIET_PEAK: u16 = 32;
/// Copies of a packet that decoded to near nothing this many times running are not decoded.
const AT_REST: u32 = 2;

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "opus::Decoder({} Hz)", self.rate)
    }
}

impl Decoder {
    pub fn new(rate: u32) -> Result<Self, String> {
        let inner = opus::Decoder::new(rate, opus::Channels::Mono)
            .map_err(|e| format!("libopus decoder at {rate} Hz: {e}"))?;
        Ok(Self {
            inner,
            rate,
            // 120 ms, the longest Opus packet.
            pcm: vec![0; rate as usize / 1000 * 120],
            bytes: Vec::new(),
            last: Vec::new(),
            quiet_runs: 0,
            silence: Vec::new(),
        })
    }

    /// The format of what [`Decoder::decode`] returns.
    pub fn format(&self) -> Format {
        Format::Pcm16(self.rate)
    }

    /// `packet` as 16-bit little-endian PCM (empty when it does not decode: a lost or garbled
    /// packet is heard as nothing; silence, not decoded, for another copy of a packet at rest).
    pub fn decode(&mut self, packet: &[u8]) -> &[u8] {
        if self.quiet_runs >= AT_REST && packet == self.last.as_slice() {
            return &self.silence;
        }
        self.bytes.clear();
        let mut quiet = false;
        if let Ok(n) = self.inner.decode(packet, &mut self.pcm, false) {
            let pcm = &self.pcm[..n];
            self.bytes.extend(pcm.iter().flat_map(|s| s.to_le_bytes()));
            // (A packet that does not decode gives nothing, which is not the silence of a rest.)
            quiet = n > 0 && pcm.iter().all(|s| s.unsigned_abs() <= QUIET_PEAK);
        }
        if quiet && packet == self.last.as_slice() {
            self.quiet_runs += 1;
        } else {
            self.quiet_runs = u32::from(quiet);
            self.last.clear();
            self.last.extend_from_slice(packet);
        }
        if quiet {
            self.silence.resize(self.bytes.len(), 0);
        }
        &self.bytes
    }

    /// Whether `packet` decodes to speech.
    pub fn is_speech(&mut self, packet: &[u8]) -> bool {
        let format = self.format();
        format.is_speech(self.decode(packet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::speech::{tone_frames, utterance_frames};

    #[test]
    fn speech_and_silence_survive_the_codec() {
        let format = Format::Pcm16(RATE);
        let wav = crate::fixtures::AUDIO[0].wav;
        let frames = utterance_frames(wav, format).unwrap();
        let packets = encode_utterance(&frames).unwrap();
        assert_eq!(packets.len(), frames.len());
        // Trimmed to its speech, an utterance decodes to speech at both ends.
        assert!(packets[0].1 && packets[packets.len() - 1].1);
        let speech = packets.iter().filter(|p| p.1).count();
        assert!(
            speech * 10 >= packets.len() * 8,
            "{speech} of {}",
            packets.len()
        );
        let silence = encode_utterance(&[format.silence()]).unwrap();
        assert!(!silence[0].1, "digital silence stays silent");
        assert!(silence[0].0.len() <= 40, "{} bytes", silence[0].0.len());
        // The bot's tone, decoded at 16 kHz as a caller does.
        let tone = encode_utterance(&tone_frames(format)[..10]).unwrap();
        let mut d = Decoder::new(16_000).unwrap();
        let heard: Vec<bool> = tone.iter().map(|(p, _)| d.is_speech(p)).collect();
        assert!(heard[1..].iter().all(|s| *s), "{heard:?}");
        assert_eq!(d.decode(&tone[1].0).len(), 640, "20 ms at 16 kHz");
        assert!(d.decode(&[0xff, 0xff, 0xff]).is_empty() || !d.is_speech(&[0xff]));
    }

    /// A talker that sends one packet of silence between its turns (as the reference bot and
    /// voiceswarm's callers do): after two quiet decodes its copies are silence, undecoded.
    #[test]
    fn repeated_silence_rests_and_speech_after_it_is_still_speech() {
        let format = Format::Pcm16(RATE);
        let tone = encode_utterance(&tone_frames(format)[..2]).unwrap()[1]
            .0
            .clone();
        let quiet = encode_utterance(&[format.silence()]).unwrap()[0].0.clone();
        let mut d = Decoder::new(16_000).unwrap();
        assert!(d.is_speech(&tone), "a tone is speech");
        // The first packet after the tone still sounds its tail (the codec's overlap).
        let heard: Vec<bool> = (0..4).map(|_| d.is_speech(&quiet)).collect();
        assert!(
            heard[1..].iter().all(|s| !s),
            "silence is silence: {heard:?}"
        );
        assert!(d.quiet_runs >= AT_REST, "{}", d.quiet_runs);
        let pcm = d.decode(&quiet);
        assert!(
            pcm.len() == 640 && pcm.iter().all(|&b| b == 0),
            "undecoded silence"
        );
        assert!(std::ptr::eq(pcm, d.silence.as_slice()), "not decoded");
        assert!(d.is_speech(&tone), "speech after silence is heard");
        assert_eq!(d.quiet_runs, 0);
        // A packet that does not decode is never taken for the rest's silence.
        let mut fresh = Decoder::new(16_000).unwrap();
        for _ in 0..3 {
            fresh.decode(&[0xff; 3]);
        }
        assert_eq!(fresh.quiet_runs, 0);
    }
}
