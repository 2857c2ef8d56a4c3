//! WAV (RIFF, 16-bit PCM) reading and writing: what the backend accepts and returns, and what a
//! caller's "listen" think time reads to know how long the assistant spoke.

use thiserror::Error;

/// The sample rate the reference backend speaks and expects (16 kHz, as telephony STT uses).
pub const SAMPLE_RATE: u32 = 16_000;
/// Length of the canonical 44-byte header that [`wav_header`] writes.
pub const HEADER_LEN: usize = 44;

/// Why a byte string is not a usable WAV file.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WavError {
    #[error("audio is empty")]
    Empty,
    #[error("not a RIFF/WAVE file (bad magic bytes)")]
    NotWav,
    #[error("WAV header is truncated")]
    Truncated,
    #[error("WAV format is not 16-bit PCM (format {format}, {bits} bits)")]
    NotPcm16 { format: u16, bits: u16 },
    #[error("WAV has {0} channels; mono or stereo expected")]
    BadChannels(u16),
    #[error("WAV sample rate {0} Hz is out of range (8000..=48000)")]
    BadRate(u32),
    #[error("WAV has no data chunk")]
    NoData,
}

/// What a WAV header says about its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    pub sample_rate: u32,
    pub channels: u16,
    /// Bytes of PCM data present (may be less than declared when a stream was cut short).
    pub data_len: usize,
    /// Offset of the first PCM byte.
    pub data_offset: usize,
}

impl WavInfo {
    /// Duration of the audio, in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        let bytes_per_second = self.sample_rate as f64 * self.channels as f64 * 2.0;
        self.data_len as f64 * 1000.0 / bytes_per_second
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, WavError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(WavError::Truncated)
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, WavError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(WavError::Truncated)
}

/// Parses a WAV file's chunks, tolerating extra chunks (LIST, fact) and a data chunk whose
/// declared size is larger than what arrived (streamed audio cut short).
pub fn parse(bytes: &[u8]) -> Result<WavInfo, WavError> {
    if bytes.is_empty() {
        return Err(WavError::Empty);
    }
    if bytes.len() < 12 {
        return Err(WavError::Truncated);
    }
    if &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWav);
    }
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32_at(bytes, at + 4)? as usize;
        let body = at + 8;
        if id == b"fmt " {
            let audio_format = u16_at(bytes, body)?;
            let channels = u16_at(bytes, body + 2)?;
            let rate = u32_at(bytes, body + 4)?;
            let bits = u16_at(bytes, body + 14)?;
            format = Some((audio_format, channels, rate, bits));
        } else if id == b"data" {
            let (audio_format, channels, rate, bits) = format.ok_or(WavError::Truncated)?;
            if audio_format != 1 || bits != 16 {
                return Err(WavError::NotPcm16 {
                    format: audio_format,
                    bits,
                });
            }
            if channels == 0 || channels > 2 {
                return Err(WavError::BadChannels(channels));
            }
            if !(8_000..=48_000).contains(&rate) {
                return Err(WavError::BadRate(rate));
            }
            let present = bytes.len() - body;
            return Ok(WavInfo {
                sample_rate: rate,
                channels,
                data_len: size.min(present),
                data_offset: body,
            });
        }
        // Chunks are padded to an even size.
        at = body.saturating_add(size).saturating_add(size & 1);
    }
    if format.is_none() {
        Err(WavError::Truncated)
    } else {
        Err(WavError::NoData)
    }
}

/// The canonical 44-byte header for `data_len` bytes of 16 kHz mono 16-bit PCM.
pub fn wav_header(data_len: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&36u32.saturating_add(data_len).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&1u16.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    h[32..34].copy_from_slice(&2u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

/// PCM bytes for `duration_ms` of 16 kHz mono audio (a quiet 220 Hz tone: cheap, audible).
pub fn tone_pcm(duration_ms: u32) -> Vec<u8> {
    let samples = (SAMPLE_RATE as u64 * duration_ms as u64 / 1000) as usize;
    let mut pcm = Vec::with_capacity(samples * 2);
    for i in 0..samples {
        let t = i as f32 / SAMPLE_RATE as f32;
        let v = ((t * 220.0 * std::f32::consts::TAU).sin() * 3000.0) as i16;
        pcm.extend_from_slice(&v.to_le_bytes());
    }
    pcm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole WAV file of `duration_ms` of tone.
    fn tone_wav(duration_ms: u32) -> Vec<u8> {
        let pcm = tone_pcm(duration_ms);
        let mut out = Vec::with_capacity(HEADER_LEN + pcm.len());
        out.extend_from_slice(&wav_header(pcm.len() as u32));
        out.extend_from_slice(&pcm);
        out
    }

    #[test]
    fn round_trip_duration() {
        let wav = tone_wav(1500);
        let info = parse(&wav).unwrap();
        assert_eq!(info.sample_rate, SAMPLE_RATE);
        assert!((info.duration_ms() - 1500.0).abs() < 0.1);
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(parse(b""), Err(WavError::Empty));
        assert_eq!(parse(b"hello world!!"), Err(WavError::NotWav));
        let mut wav = tone_wav(10);
        wav[34] = 8; // 8-bit
        assert!(matches!(parse(&wav), Err(WavError::NotPcm16 { .. })));
        assert_eq!(parse(&tone_wav(10)[..20]), Err(WavError::Truncated));
    }

    #[test]
    fn cut_stream_reports_present_audio() {
        let wav = tone_wav(1000);
        let info = parse(&wav[..HEADER_LEN + 16_000]).unwrap();
        assert!((info.duration_ms() - 500.0).abs() < 0.1);
    }
}
