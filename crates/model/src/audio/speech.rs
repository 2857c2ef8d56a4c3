//! Speech as a phone line carries it: 20 ms frames in a wire format (μ-law at 8 kHz, or 16-bit
//! PCM at a chosen rate), the one speech test every part of voiceswarm uses — trimming an
//! utterance, the caller's end-of-speech marker, hearing the bot, the reference bot's ear — and
//! the frames of an utterance, made once at load.
//!
//! **End of speech, defined as a VAD defines it.** A 20 ms frame is speech when its RMS is above
//! [`SPEECH_DBFS`] = −40 dBFS, where 0 dBFS is an RMS of 32768 on the 16-bit scale (a full-scale
//! sine is −3 dBFS): RMS > 327.7. An utterance's end of speech is its last such frame, and the
//! caller's voice-to-voice clock starts when that frame leaves. An energy VAD (Pipecat's state
//! machine on a −40 dBFS energy confidence, the reference bot's ear) hears exactly these frames
//! as speech, so the marker sits on the last frame the bot heard as speech. (The old rule, a
//! mean absolute sample of at least 100, ≈ −49 dBFS RMS, also counted the quiet tail of a
//! word, up to five frames that no VAD hears: voice-to-voice read up to 100 ms short.)

use super::mulaw;
use bytes::Bytes;
use std::time::Duration;

/// Every frame of a call is 20 ms of audio, each way.
pub const FRAME: Duration = Duration::from_millis(20);

/// A 20 ms frame is speech when its RMS is above this level, in dBFS (0 dBFS: RMS 32768).
pub const SPEECH_DBFS: f64 = -40.0;

/// [`SPEECH_DBFS`] as an RMS on the 16-bit scale, squared (327.7² ≈ 107,374).
fn speech_power() -> f64 {
    let rms = 32768.0 * 10f64.powf(SPEECH_DBFS / 20.0);
    rms * rms
}

/// How audio travels on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// G.711 μ-law, 8 kHz mono: 160 bytes per frame (Twilio Media Streams).
    MuLaw8k,
    /// 16-bit little-endian PCM, mono, at this rate (the raw protocol).
    Pcm16(u32),
}

impl Format {
    pub fn sample_rate(self) -> u32 {
        match self {
            Format::MuLaw8k => 8000,
            Format::Pcm16(rate) => rate,
        }
    }

    /// Bytes of one 20 ms frame.
    pub fn frame_bytes(self) -> usize {
        let samples = self.sample_rate() as usize / 50;
        match self {
            Format::MuLaw8k => samples,
            Format::Pcm16(_) => samples * 2,
        }
    }

    /// How long `bytes` of this format play.
    pub fn duration(self, bytes: usize) -> Duration {
        let per_sample = match self {
            Format::MuLaw8k => 1,
            Format::Pcm16(_) => 2,
        };
        Duration::from_secs_f64(bytes as f64 / per_sample as f64 / self.sample_rate() as f64)
    }

    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        match self {
            Format::MuLaw8k => samples.iter().map(|s| mulaw::encode(*s)).collect(),
            Format::Pcm16(_) => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        }
    }

    /// The samples of `bytes` (16-bit scale), decoded as they are read (no allocation: the
    /// caller classifies every frame it hears).
    fn samples(self, bytes: &[u8]) -> impl Iterator<Item = f64> + '_ {
        let (mulaw, pcm) = match self {
            Format::MuLaw8k => (bytes, &[][..]),
            Format::Pcm16(_) => (&[][..], bytes),
        };
        let a = mulaw.iter().map(|b| mulaw::decode(*b) as f64);
        let b = pcm
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as f64);
        a.chain(b)
    }

    /// The RMS level of `bytes` in dBFS (−∞ for digital silence or no audio).
    pub fn dbfs(self, bytes: &[u8]) -> f64 {
        let (sum, n) = self
            .samples(bytes)
            .fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
        if n == 0 || sum == 0.0 {
            return f64::NEG_INFINITY;
        }
        10.0 * (sum / n as f64 / (32768.0 * 32768.0)).log10()
    }

    /// Whether audio holds speech: any of its 20 ms windows has an RMS above [`SPEECH_DBFS`].
    /// (A message longer than a frame is speech when any frame of it is.)
    pub fn is_speech(self, bytes: &[u8]) -> bool {
        let window = (self.sample_rate() as usize / 50).max(1);
        let threshold = speech_power();
        let (mut sum, mut n) = (0.0, 0usize);
        for x in self.samples(bytes) {
            sum += x * x;
            n += 1;
            if n == window {
                if sum / n as f64 > threshold {
                    return true;
                }
                (sum, n) = (0.0, 0);
            }
        }
        n > 0 && sum / n as f64 > threshold
    }

    /// One frame of digital silence.
    pub fn silence(self) -> Bytes {
        match self {
            Format::MuLaw8k => Bytes::from(vec![mulaw::SILENCE; self.frame_bytes()]),
            Format::Pcm16(_) => Bytes::from(vec![0u8; self.frame_bytes()]),
        }
    }
}

/// A half-band low-pass for 2:1 decimation: a 31-tap windowed sinc (Hann window), cut-off a
/// quarter of the input rate, so 16 kHz speech keeps its 0–3.4 kHz telephone band without
/// folding the 4–8 kHz band back into it.
fn half_band_taps() -> Vec<f64> {
    let n = 31;
    let mid = (n / 2) as f64;
    let taps: Vec<f64> = (0..n)
        .map(|i| {
            let x = i as f64 - mid;
            let sinc = if x == 0.0 {
                0.5
            } else {
                (std::f64::consts::PI * x / 2.0).sin() / (std::f64::consts::PI * x)
            };
            let hann = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (n - 1) as f64).cos();
            sinc * hann
        })
        .collect();
    let sum: f64 = taps.iter().sum();
    taps.iter().map(|t| t / sum).collect()
}

/// `samples` at `from` Hz as `to` Hz: 2:1 through the half-band filter, any other ratio by
/// linear interpolation (enough for speech fixtures, done once at load).
pub fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || samples.is_empty() {
        return samples.to_vec();
    }
    if from == 2 * to {
        let taps = half_band_taps();
        let half = taps.len() / 2;
        return (0..samples.len() / 2)
            .map(|n| {
                let centre = 2 * n;
                let acc: f64 = taps
                    .iter()
                    .enumerate()
                    .map(|(k, t)| {
                        let i = (centre + k).checked_sub(half);
                        t * i.and_then(|i| samples.get(i)).copied().unwrap_or(0) as f64
                    })
                    .sum();
                acc.round().clamp(i16::MIN as f64, i16::MAX as f64) as i16
            })
            .collect();
    }
    let out_len = (samples.len() as u64 * to as u64 / from as u64) as usize;
    (0..out_len)
        .map(|n| {
            let pos = n as f64 * from as f64 / to as f64;
            let i = pos.floor() as usize;
            let frac = pos - i as f64;
            let a = samples[i.min(samples.len() - 1)] as f64;
            let b = samples[(i + 1).min(samples.len() - 1)] as f64;
            (a + (b - a) * frac).round() as i16
        })
        .collect()
}

/// The mono 16-bit samples of a WAV file and their rate (stereo is mixed down).
pub fn wav_samples(wav: &[u8]) -> Result<(Vec<i16>, u32), super::WavError> {
    let info = super::parse(wav)?;
    let pcm = &wav[info.data_offset..info.data_offset + info.data_len];
    let all: Vec<i16> = pcm
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let mono = if info.channels == 2 {
        all.chunks_exact(2)
            .map(|c| ((c[0] as i32 + c[1] as i32) / 2) as i16)
            .collect()
    } else {
        all
    };
    Ok((mono, info.sample_rate))
}

/// The frames of an utterance in `format`: resampled, cut into 20 ms frames (the last padded
/// with silence), without the frames before the first and after the last speech frame — so its
/// first and last frames are speech, as the bot at the other end hears them.
pub fn utterance_frames(wav: &[u8], format: Format) -> Result<Vec<Bytes>, String> {
    let (samples, rate) = wav_samples(wav).map_err(|e| e.to_string())?;
    let samples = resample(&samples, rate, format.sample_rate());
    let mut bytes = format.encode(&samples);
    let frame = format.frame_bytes();
    let silence = format.silence();
    let partial = bytes.len() % frame;
    if partial != 0 {
        bytes.extend_from_slice(&silence[..frame - partial]);
    }
    let frames: Vec<&[u8]> = bytes.chunks_exact(frame).collect();
    let first = frames.iter().position(|f| format.is_speech(f));
    let last = frames.iter().rposition(|f| format.is_speech(f));
    match (first, last) {
        (Some(a), Some(b)) => Ok(frames[a..=b]
            .iter()
            .map(|f| Bytes::copy_from_slice(f))
            .collect()),
        _ => Err("the audio holds no speech (every frame is below the speech level)".into()),
    }
}

/// A fingerprint of an utterance's frames: what the bot recognises speech by.
pub fn fingerprint<'a>(frames: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    for f in frames {
        h.write(f);
    }
    h.finish()
}

/// One second of the bot's voice in `format`, as frames: a quiet 220 Hz tone (−23.8 dBFS),
/// well above the speech level.
pub fn tone_frames(format: Format) -> Vec<Bytes> {
    let rate = format.sample_rate();
    let samples: Vec<i16> = (0..rate)
        .map(|i| {
            let t = i as f32 / rate as f32;
            ((t * 220.0 * std::f32::consts::TAU).sin() * 3000.0) as i16
        })
        .collect();
    format
        .encode(&samples)
        .chunks_exact(format.frame_bytes())
        .map(Bytes::copy_from_slice)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_becomes_speech_frames_in_both_formats() {
        for f in crate::fixtures::AUDIO {
            for format in [Format::MuLaw8k, Format::Pcm16(16_000), Format::Pcm16(8_000)] {
                let frames = utterance_frames(f.wav, format).unwrap();
                assert!(frames.len() > 25, "{}: {} frames", f.name, frames.len());
                assert!(frames.iter().all(|fr| fr.len() == format.frame_bytes()));
                assert!(format.is_speech(&frames[0]) && format.is_speech(frames.last().unwrap()));
                // No pause inside an utterance is as long as a bot's endpointing window.
                let longest_quiet = frames
                    .split(|fr| format.is_speech(fr))
                    .map(|run| run.len())
                    .max()
                    .unwrap_or(0);
                assert!(
                    longest_quiet * 20 < 250,
                    "{}: a {} ms pause",
                    f.name,
                    longest_quiet * 20
                );
            }
        }
        assert!(!Format::MuLaw8k.is_speech(&Format::MuLaw8k.silence()));
        assert!(tone_frames(Format::MuLaw8k)
            .iter()
            .all(|f| Format::MuLaw8k.is_speech(f)));
    }

    #[test]
    fn halving_the_rate_keeps_the_telephone_band() {
        let tone = |hz: f64| -> Vec<i16> {
            (0..16_000)
                .map(|i| {
                    ((i as f64 / 16_000.0 * hz * std::f64::consts::TAU).sin() * 10_000.0) as i16
                })
                .collect()
        };
        let level =
            |s: &[i16]| s.iter().map(|x| x.unsigned_abs() as f64).sum::<f64>() / s.len() as f64;
        let kept = resample(&tone(1_000.0), 16_000, 8_000);
        let folded = resample(&tone(6_000.0), 16_000, 8_000);
        assert_eq!(kept.len(), 8_000);
        assert!(level(&kept) > 6_000.0, "1 kHz passes: {}", level(&kept));
        assert!(
            level(&folded) < 300.0,
            "6 kHz is filtered out: {}",
            level(&folded)
        );
    }

    /// The level of the fixture bot's ground truth, computed here independently: the RMS of a
    /// frame's decoded samples above 32768 × 10^(−40/20).
    fn vad_hears(format: Format, frame: &[u8]) -> bool {
        let s: Vec<f64> = match format {
            Format::MuLaw8k => frame.iter().map(|b| mulaw::decode(*b) as f64).collect(),
            Format::Pcm16(_) => frame
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]) as f64)
                .collect(),
        };
        let rms = (s.iter().map(|x| x * x).sum::<f64>() / s.len() as f64).sqrt();
        rms > 327.68
    }

    /// The old rule: a mean absolute sample of at least 100.
    fn old_rule(format: Format, frame: &[u8]) -> bool {
        let s: Vec<i16> = match format {
            Format::MuLaw8k => frame.iter().map(|b| mulaw::decode(*b)).collect(),
            Format::Pcm16(_) => frame
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect(),
        };
        s.iter().map(|x| x.unsigned_abs() as u64).sum::<u64>() / s.len() as u64 >= 100
    }

    /// A word whose last 100 ms fade from −41 to −49 dBFS: a VAD hears them as silence.
    fn fading_word() -> Vec<u8> {
        let rate = 16_000;
        let frame = rate / 50;
        let mut samples = Vec::new();
        for (k, dbfs) in [-20.0, -20.0, -30.0, -41.0, -43.0, -45.0, -47.0, -49.0]
            .into_iter()
            .enumerate()
        {
            // A sine's peak is √2 × its RMS.
            let peak = 32768.0 * 10f64.powf(dbfs / 20.0) * std::f64::consts::SQRT_2;
            samples.extend((0..frame).map(|i| {
                let t = (k * frame + i) as f64 / rate as f64;
                (peak * (t * 300.0 * std::f64::consts::TAU).sin()) as i16
            }));
        }
        samples.extend(std::iter::repeat_n(0, frame * 10));
        let pcm: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut wav = crate::audio::wav::wav_header(pcm.len() as u32).to_vec();
        wav.extend_from_slice(&pcm);
        wav
    }

    #[test]
    fn end_of_speech_is_the_last_frame_a_vad_hears_as_speech() {
        for format in [Format::MuLaw8k, Format::Pcm16(16_000), Format::Pcm16(8_000)] {
            let wav = fading_word();
            let frames = utterance_frames(&wav, format).unwrap();
            // Three frames above −40 dBFS: the marker leaves with the third.
            assert_eq!(frames.len(), 3, "{format:?}");
            assert!(frames.iter().all(|f| vad_hears(format, f)));
            // The old rule ran five frames on: 100 ms of voice-to-voice lost.
            let (samples, rate) = wav_samples(&wav).unwrap();
            let all = format.encode(&resample(&samples, rate, format.sample_rate()));
            let old_last = all
                .chunks_exact(format.frame_bytes())
                .rposition(|f| old_rule(format, f))
                .unwrap();
            assert_eq!(old_last + 1 - frames.len(), 5, "{format:?}");
            // Every frame of every committed fixture: the rule is the fixture bot's rule.
            for f in crate::fixtures::AUDIO {
                let (s, r) = wav_samples(f.wav).unwrap();
                let bytes = format.encode(&resample(&s, r, format.sample_rate()));
                for fr in bytes.chunks_exact(format.frame_bytes()) {
                    assert_eq!(format.is_speech(fr), vad_hears(format, fr), "{}", f.name);
                }
                let u = utterance_frames(f.wav, format).unwrap();
                assert!(vad_hears(format, u.last().unwrap()));
            }
        }
        assert!((Format::MuLaw8k.dbfs(&tone_frames(Format::MuLaw8k)[0]) + 23.8).abs() < 0.2);
    }
}
