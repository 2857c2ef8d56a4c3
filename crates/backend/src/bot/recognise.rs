//! The bot's speech recognition: the committed fixtures, turned into utterances in a call's
//! wire format as a caller sends them, are known by their fingerprint; other speech gets a
//! placeholder transcript of its length.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use voiceswarm_model::audio::speech::{fingerprint, utterance_frames, Format};

type Known = Arc<HashMap<u64, &'static str>>;

/// The fixtures' fingerprints in `format`, computed once per format.
fn known(format: Format) -> Known {
    static CACHE: OnceLock<Mutex<HashMap<(bool, u32), Known>>> = OnceLock::new();
    let key = (matches!(format, Format::MuLaw8k), format.sample_rate());
    let mut cache = CACHE.get_or_init(Default::default).lock();
    cache
        .entry(key)
        .or_insert_with(|| {
            let map = voiceswarm_model::fixtures::AUDIO
                .iter()
                .filter_map(|f| {
                    let frames = utterance_frames(f.wav, format).ok()?;
                    Some((fingerprint(frames.iter().map(|b| b.as_ref())), f.transcript))
                })
                .collect();
            Arc::new(map)
        })
        .clone()
}

/// Computes the fixtures' fingerprints for every registered protocol's formats at once, before
/// the first call: the first utterance heard in a format would otherwise compute them on a
/// worker thread mid-call, and every other call on that thread would wait (tens of ms).
pub fn warm() {
    use voiceswarm_model::protocol;
    for name in protocol::names().split(", ") {
        for rate in [8_000, 16_000, 24_000] {
            if let Some(w) = protocol::wire(name, rate) {
                known(w.format());
            }
        }
    }
}

/// The transcript of an utterance heard on a call.
pub fn transcribe(format: Format, audio: &[u8]) -> String {
    match known(format).get(&fingerprint([audio])) {
        Some(t) => t.to_string(),
        None => format!(
            "unrecognised speech of {:.0} milliseconds",
            format.duration(audio.len()).as_secs_f64() * 1000.0
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_fixture_as_a_caller_sends_it() {
        for format in [Format::MuLaw8k, Format::Pcm16(16_000)] {
            for f in voiceswarm_model::fixtures::AUDIO {
                let heard = utterance_frames(f.wav, format).unwrap().concat();
                assert_eq!(transcribe(format, &heard), f.transcript);
            }
            assert!(transcribe(format, &[1, 2, 3, 4]).starts_with("unrecognised"));
        }
    }
}
