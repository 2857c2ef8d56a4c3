//! A finished recording: merged histograms and counters of one run (or of several runs merged),
//! with their lossless serialisation (HDR V2 + DEFLATE, base64) for the run folder.

use super::histogram::new_histogram;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RecordingError {
    #[error("histogram '{metric}': {detail}")]
    Decode { metric: String, detail: String },
    #[error("histogram '{metric}': cannot encode: {detail}")]
    Encode { metric: String, detail: String },
}

/// Metric histograms (µs) and counters, keyed by name, in name order.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    pub histograms: BTreeMap<String, Histogram<u64>>,
    pub counters: BTreeMap<String, u64>,
}

/// The serialised form kept in `histograms.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncodedRecording {
    /// Base64 of each histogram's HDR V2 DEFLATE encoding.
    pub histograms: BTreeMap<String, String>,
    pub counters: BTreeMap<String, u64>,
}

impl Recording {
    pub fn add_histogram(&mut self, name: &str, h: &Histogram<u64>) {
        let into = self
            .histograms
            .entry(name.to_string())
            .or_insert_with(new_histogram);
        // Same bounds on both sides, so adding cannot fail; a foreign histogram with a larger
        // range is re-recorded value by value.
        if into.add(h).is_err() {
            for v in h.iter_recorded() {
                into.saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    /// Adds every histogram and counter of `other` (exact: HDR histograms merge losslessly).
    pub fn merge(&mut self, other: &Recording) {
        for (name, h) in &other.histograms {
            self.add_histogram(name, h);
        }
        for (name, n) in &other.counters {
            *self.counters.entry(name.clone()).or_default() += n;
        }
    }

    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    pub fn encode(&self) -> Result<EncodedRecording, RecordingError> {
        let mut ser = V2DeflateSerializer::new();
        let mut histograms = BTreeMap::new();
        for (name, h) in &self.histograms {
            let mut buf = Vec::new();
            ser.serialize(h, &mut buf)
                .map_err(|e| RecordingError::Encode {
                    metric: name.clone(),
                    detail: format!("{e:?}"),
                })?;
            histograms.insert(
                name.clone(),
                base64::engine::general_purpose::STANDARD.encode(buf),
            );
        }
        Ok(EncodedRecording {
            histograms,
            counters: self.counters.clone(),
        })
    }

    pub fn decode(enc: &EncodedRecording) -> Result<Self, RecordingError> {
        let mut de = Deserializer::new();
        let mut out = Recording {
            counters: enc.counters.clone(),
            ..Default::default()
        };
        for (metric, b64) in &enc.histograms {
            let err = |detail: String| RecordingError::Decode {
                metric: metric.clone(),
                detail,
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| err(format!("not base64: {e}")))?;
            let h: Histogram<u64> = de
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| err(format!("not an HDR V2 histogram: {e:?}")))?;
            out.add_histogram(metric, &h);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_is_lossless() {
        let mut r = Recording::default();
        let mut h = new_histogram();
        for v in [1u64, 50, 12_345, 999_999, 3_000_000_000] {
            h.record(v).unwrap();
        }
        r.add_histogram("a:b", &h);
        r.counters.insert("cache:hit".into(), 7);
        let back = Recording::decode(&r.encode().unwrap()).unwrap();
        assert_eq!(back.histograms["a:b"], h);
        assert_eq!(back.counter("cache:hit"), 7);
    }

    #[test]
    fn corrupt_histogram_is_an_error_naming_the_metric() {
        let mut enc = Recording::default().encode().unwrap();
        enc.histograms.insert("x:y".into(), "AAAA".into());
        let e = Recording::decode(&enc).unwrap_err().to_string();
        assert!(e.contains("x:y"), "{e}");
    }
}
