//! Reading a response body chunk by chunk with its timing: when the first byte came, how long
//! the whole took, its length, its first bytes (a WAV header) and, when asked, the body itself
//! (capped). One reader for the journeys and the probe.

use std::time::{Duration, Instant};

/// Most of a body kept for checks and captures.
pub const KEEP_LIMIT: usize = 1 << 20;

/// What reading a body measured.
#[derive(Debug)]
pub struct BodyRead {
    /// From `started` to the first body byte (None: the body was empty).
    pub first_byte: Option<Duration>,
    /// From `started` to the end of the body.
    pub full: Duration,
    pub len: usize,
    /// The first bytes, enough for a WAV header.
    pub head: [u8; 64],
    pub head_len: usize,
    /// The body (up to `keep` bytes), when asked for.
    pub kept: Vec<u8>,
}

impl Default for BodyRead {
    fn default() -> Self {
        Self {
            first_byte: None,
            full: Duration::ZERO,
            len: 0,
            head: [0; 64],
            head_len: 0,
            kept: Vec::new(),
        }
    }
}

impl BodyRead {
    pub fn head(&self) -> &[u8] {
        &self.head[..self.head_len]
    }
}

/// Reads `response` to its end, timing from `started`; keeps up to `keep` bytes of it.
pub async fn read(
    response: &mut reqwest::Response,
    started: Instant,
    keep: usize,
) -> Result<BodyRead, reqwest::Error> {
    let mut out = BodyRead::default();
    while let Some(chunk) = response.chunk().await? {
        out.first_byte.get_or_insert_with(|| started.elapsed());
        if out.head_len < out.head.len() {
            let n = (out.head.len() - out.head_len).min(chunk.len());
            out.head[out.head_len..out.head_len + n].copy_from_slice(&chunk[..n]);
            out.head_len += n;
        }
        out.len += chunk.len();
        if out.kept.len() < keep {
            let n = (keep - out.kept.len()).min(chunk.len());
            out.kept.extend_from_slice(&chunk[..n]);
        }
    }
    out.full = started.elapsed();
    Ok(out)
}

/// How long the WAV audio of a body plays, from its header and its length (None: not WAV).
pub fn audio_duration(read: &BodyRead) -> Option<Duration> {
    let info = voiceswarm_model::audio::parse(read.head()).ok()?;
    let bytes_per_second = info.sample_rate as f64 * info.channels as f64 * 2.0;
    let data = read.len.saturating_sub(info.data_offset) as f64;
    Some(Duration::from_secs_f64(data / bytes_per_second))
}
