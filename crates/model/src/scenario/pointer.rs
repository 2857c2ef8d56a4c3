//! JSON pointers (RFC 6901) parsed once when a scenario file loads, so resolving one per
//! response is a few map lookups (serde_json's `pointer` re-parses the text on every call).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    /// Parses `/a/0/b~1c`; the empty pointer is the whole document.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Ok(Self {
                text: String::new(),
                tokens: Vec::new(),
            });
        }
        let rest = text
            .strip_prefix('/')
            .ok_or_else(|| format!("'{text}' is not a JSON pointer: write /field or /a/0/b"))?;
        let tokens = rest
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        Ok(Self {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn resolve<'a>(&self, mut v: &'a Value) -> Option<&'a Value> {
        for t in &self.tokens {
            v = match v {
                Value::Object(map) => map.get(t)?,
                Value::Array(items) => items.get(array_index(t)?)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

/// An array index as RFC 6901 writes one: digits, no leading zero (`0`, `7`, `12`; not `00`,
/// `+1` or `-1`).
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    let canonical = token.len() == 1 || !token.starts_with('0');
    if digits && canonical {
        token.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_serde_json() {
        let doc = serde_json::json!({"a": [{"b/c": 1, "d~e": 2}], "": 3});
        for p in [
            "",
            "/a",
            "/a/0",
            "/a/0/b~1c",
            "/a/0/d~0e",
            "/",
            "/a/1",
            "/x",
            "/a/x",
            "/a/00",
            "/a/+0",
        ] {
            assert_eq!(
                Pointer::parse(p).unwrap().resolve(&doc),
                doc.pointer(p),
                "{p}"
            );
        }
        assert!(Pointer::parse("a").is_err());
    }
}
