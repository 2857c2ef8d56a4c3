//! Headers sent with every request and WebSocket upgrade (`--header`, `VOICESWARM_API_KEY`):
//! kept as sensitive header values, and serialised only with their values redacted.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use serde::{Serialize, Serializer};

/// Environment variable holding an API key, sent as `Authorization: Bearer <key>`.
pub const ENV_API_KEY: &str = "VOICESWARM_API_KEY";

#[derive(Debug, Clone, Default)]
pub struct Headers(HeaderMap);

/// `Authorization: Bearer abc` → `Authorization: (redacted)`.
pub fn redact(h: &str) -> String {
    match h.split_once(':') {
        Some((name, _)) => format!("{}: (redacted)", name.trim()),
        None => "(redacted)".to_string(),
    }
}

impl Headers {
    /// The `--header 'Name: value'` flags, then the API key (unless an Authorization header
    /// was given); every value marked sensitive so no log shows it. Errors never show a value.
    pub fn parse(flags: &[String], api_key: Option<&str>) -> Result<Self, String> {
        let mut map = HeaderMap::new();
        for h in flags {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| format!("--header {}: expected 'Name: value'", redact(h)))?;
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| format!("--header {}: not a valid header name", name.trim()))?;
            let value = HeaderValue::from_str(value.trim())
                .map_err(|_| format!("--header {name}: not a valid header value"))?;
            map.insert(name, value);
        }
        if let Some(key) = api_key.filter(|_| !map.contains_key(AUTHORIZATION)) {
            let value = HeaderValue::from_str(&format!("Bearer {}", key.trim()))
                .map_err(|_| format!("{ENV_API_KEY}: not usable in a header"))?;
            map.insert(AUTHORIZATION, value);
        }
        for v in map.values_mut() {
            v.set_sensitive(true);
        }
        Ok(Self(map))
    }

    pub fn map(&self) -> &HeaderMap {
        &self.0
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.keys().map(|k| format!("{k}: (redacted)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_sent_sensitive_and_never_serialised() {
        let h = Headers::parse(&["X-Team: blue".into()], Some("s3cr3t")).unwrap();
        assert!(h.map().values().all(|v| v.is_sensitive()));
        assert_eq!(h.map()[AUTHORIZATION], "Bearer s3cr3t");
        let json = serde_json::to_string(&h).unwrap();
        assert!(!json.contains("s3cr3t") && !json.contains("blue"), "{json}");
        let given = Headers::parse(&["Authorization: Bearer mine".into()], Some("k")).unwrap();
        assert_eq!(given.map()[AUTHORIZATION], "Bearer mine");
        let e = Headers::parse(&["Authorization Bearer s3cr3t".into()], None).unwrap_err();
        assert!(e.contains("--header") && !e.contains("s3cr3t"), "{e}");
    }
}
