//! Run labels (`--label KEY=VALUE`, `VOICESWARM_LABELS`): what a run tested — a version, a
//! deployment, an environment — saved with its results, shown in its reports, and carried to
//! every export (Prometheus labels, CloudWatch dimensions), so a chart can be read by them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Labels from the environment, `KEY=VALUE` separated by commas; `--label` overrides a key.
pub const ENV_LABELS: &str = "VOICESWARM_LABELS";

/// Names voiceswarm gives its own series and dimensions; a label of the same name would clash.
pub const RESERVED: [&str; 9] = [
    "metric", "profile", "host", "target", "kind", "le", "quantile", "job", "instance",
];

/// A label value's longest accepted length (CloudWatch takes dimension values of 1 to 1,024
/// characters; a label is meant to be read on a chart).
const MAX_VALUE_CHARS: usize = 256;
/// At most this many labels: with metric, profile and host they stay within CloudWatch's 30
/// dimensions.
pub const MAX_LABELS: usize = 20;

/// A run's labels, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Labels(pub BTreeMap<String, String>);

/// A key usable as a Prometheus label name and a CloudWatch dimension name.
fn check_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || key.len() > 100 {
        return Err(format!(
            "label name '{key}': letters, digits and _ (not starting with a digit, at most 100)"
        ));
    }
    if key.starts_with("__") || RESERVED.contains(&key) {
        return Err(format!(
            "label name '{key}' is voiceswarm's own (reserved: {}, and names starting with __)",
            RESERVED.join(", ")
        ));
    }
    Ok(())
}

/// One `KEY=VALUE`.
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!(
            "'{text}': expected KEY=VALUE, such as version=1.4.2"
        ));
    };
    let (key, value) = (key.trim(), value.trim());
    check_key(key)?;
    if value.is_empty() || value.chars().count() > MAX_VALUE_CHARS {
        return Err(format!(
            "label {key}: a value of 1 to {MAX_VALUE_CHARS} characters, such as {key}=1.4.2"
        ));
    }
    if !value.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(format!(
            "label {key}: printable ASCII only (CloudWatch dimension values are ASCII)"
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

impl Labels {
    /// `VOICESWARM_LABELS` (`env`), then the `--label` flags, a later key replacing an earlier.
    pub fn resolve(flags: &[String], env: Option<&str>) -> Result<Self, String> {
        let mut labels = BTreeMap::new();
        for part in env
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.trim().is_empty())
        {
            let (k, v) = parse_label(part).map_err(|e| format!("{ENV_LABELS}: {e}"))?;
            labels.insert(k, v);
        }
        for flag in flags {
            let (k, v) = parse_label(flag).map_err(|e| format!("--label {e}"))?;
            labels.insert(k, v);
        }
        if labels.len() > MAX_LABELS {
            return Err(format!(
                "--label: {} labels; at most {MAX_LABELS}",
                labels.len()
            ));
        }
        Ok(Labels(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// Whether every label of `wanted` is among these, with the same value.
    pub fn contain(&self, wanted: &Labels) -> bool {
        wanted.iter().all(|(k, v)| self.0.get(k) == Some(v))
    }

    /// `version=1.4.2 env=staging`.
    pub fn text(&self) -> String {
        let parts: Vec<String> = self.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_environment_key_by_key() {
        let l = Labels::resolve(
            &["version=1.4.3".into(), "deploy=abc123".into()],
            Some("version=1.4.2, env=staging"),
        )
        .unwrap();
        assert_eq!(l.text(), "deploy=abc123 env=staging version=1.4.3");
        assert!(l.contain(&Labels::resolve(&["env=staging".into()], None).unwrap()));
        assert!(!l.contain(&Labels::resolve(&["env=prod".into()], None).unwrap()));
        assert!(Labels::resolve(&[], Some("")).unwrap().is_empty());
    }

    #[test]
    fn bad_labels_name_the_source_and_what_is_accepted() {
        let e = Labels::resolve(&["version".into()], None).unwrap_err();
        assert!(
            e.starts_with("--label 'version': expected KEY=VALUE"),
            "{e}"
        );
        let e = Labels::resolve(&[], Some("1x=a")).unwrap_err();
        assert!(e.starts_with("VOICESWARM_LABELS: label name '1x'"), "{e}");
        let e = Labels::resolve(&["host=a".into()], None).unwrap_err();
        assert!(e.contains("reserved"), "{e}");
        let e = Labels::resolve(&["__x=a".into()], None).unwrap_err();
        assert!(e.contains("reserved"), "{e}");
        let e = Labels::resolve(&["v=".into()], None).unwrap_err();
        assert!(e.contains("a value of 1 to 256"), "{e}");
        let e = Labels::resolve(&["v=a\tb".into()], None).unwrap_err();
        assert!(e.contains("printable ASCII"), "{e}");
        let many: Vec<String> = (0..21).map(|i| format!("k{i}=v")).collect();
        let e = Labels::resolve(&many, None).unwrap_err();
        assert!(e.contains("at most 20"), "{e}");
    }
}
