//! Speech as a phone line carries it: 20 ms frames in a wire format (μ-law at 8 kHz, or 16-bit
//! PCM at a chosen rate), the speech test both ends of a call use (energy above a threshold;
//! digital silence is never speech), and the frames of an utterance, made once at load.

use super::mulaw;
use bytes::Bytes;
use std::time::Duration;

/// Every frame of a call is 20 ms of audio, each way.
pub const FRAME: Duration = Duration::from_millis(20);

/// A frame is speech when its mean absolute sample (16-bit scale) is at least this: about
/// −50 dBFS, well above μ-law's quantisation of silence and below the quietest syllable of
/// the fixtures.
pub const SPEECH_LEVEL: u32 = 100;

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

    /// The mean absolute sample of `bytes` (16-bit scale).
    pub fn level(self, bytes: &[u8]) -> u32 {
        let (sum, n): (u64, u64) = match self {
            Format::MuLaw8k => bytes.iter().fold((0, 0), |(s, n), b| {
                (s + mulaw::decode(*b).unsigned_abs() as u64, n + 1)
            }),
            Format::Pcm16(_) => bytes.chunks_exact(2).fold((0, 0), |(s, n), c| {
                (
                    s + i16::from_le_bytes([c[0], c[1]]).unsigned_abs() as u64,
                    n + 1,
                )
            }),
        };
        sum.checked_div(n).unwrap_or(0) as u32
    }

    /// Whether a frame holds speech.
    pub fn is_speech(self, bytes: &[u8]) -> bool {
        self.level(bytes) >= SPEECH_LEVEL
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

/// One second of the bot's voice in `format`, as frames: a quiet 220 Hz tone, well above the
/// speech level.
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
}
