//! Parsing the W3C `Server-Timing` header a backend sends (`stt;dur=81.2, cache;desc=hit, ...`),
//! tolerant of anything a broken or hostile backend might put there.

use voiceswarm_model::stats::recorder::Shard;
use voiceswarm_model::vocab::counter::{CACHE_HIT, CACHE_MISS};
use voiceswarm_model::vocab::{server_stage_metric, stage};

/// Records a response's Server-Timing header: each plausible stage duration as `server:<stage>`,
/// and `cache;desc=hit|miss` as the cache counters.
pub fn record(shard: &mut Shard, header: &str) {
    for entry in parse(header) {
        if let (Some(ms), Some(name)) = (entry.dur_ms, server_stage_metric(entry.name)) {
            shard.record_us(&name, (ms * 1000.0) as u64);
        }
        if entry.name == stage::CACHE {
            match entry.desc {
                Some("hit") => shard.count(CACHE_HIT, 1),
                Some("miss") => shard.count(CACHE_MISS, 1),
                _ => {}
            }
        }
    }
}

/// One entry of the header: a name with an optional duration (ms) and description.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub dur_ms: Option<f64>,
    pub desc: Option<&'a str>,
}

/// The entries of a header value; malformed entries are skipped, never a panic. Durations
/// that are negative, not finite or over an hour are dropped as implausible.
pub fn parse(value: &str) -> impl Iterator<Item = Entry<'_>> {
    value.split(',').filter_map(|entry| {
        let mut parts = entry.split(';');
        let name = parts.next()?.trim();
        // A name is an HTTP token (RFC 9110).
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return None;
        }
        let mut e = Entry {
            name,
            dur_ms: None,
            desc: None,
        };
        for param in parts {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim() {
                "dur" => {
                    e.dur_ms = v
                        .parse::<f64>()
                        .ok()
                        .filter(|d| d.is_finite() && (0.0..=3_600_000.0).contains(d))
                }
                "desc" => e.desc = Some(v),
                _ => {}
            }
        }
        Some(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_backend_header() {
        let v: Vec<Entry> =
            parse("stt;dur=81.2, llm;dur=190.3, tts;dur=79.9, cache;desc=miss, total;dur=352.0")
                .collect();
        assert_eq!(v.len(), 5);
        assert_eq!(
            v[0],
            Entry {
                name: "stt",
                dur_ms: Some(81.2),
                desc: None
            }
        );
        assert_eq!(v[3].desc, Some("miss"));
        assert_eq!(v[4].dur_ms, Some(352.0));
    }

    #[test]
    fn skips_garbage() {
        let v: Vec<Entry> =
            parse(";;, =, stt;dur=abc, llm;dur=-5, x;desc=\"quoted\", y;dur=1e309").collect();
        assert_eq!(
            v.iter().map(|e| e.name).collect::<Vec<_>>(),
            ["stt", "llm", "x", "y"]
        );
        assert!(v.iter().all(|e| e.dur_ms.is_none()));
        assert_eq!(v[2].desc, Some("quoted"));
    }
}
