//! Templates in scenario files: `{{name}}` is replaced, per request, by the user's captured value
//! of that name, or else by a random pick from the data list of that name.

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Var(String),
}

/// A parsed template; rendering a template without variables costs a clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// Per-user values captured from responses (e.g. `session_id`).
#[derive(Debug, Clone, Default)]
pub struct UserVars(pub HashMap<String, String>);

impl Template {
    /// Parses `text`; an unclosed `{{` or an empty or malformed name is an error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("'{text}': '{{{{' is never closed by '}}}}'"))?;
            let name = after[..close].trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(format!(
                    "'{text}': '{{{{{name}}}}}' is not a variable name (letters, digits, _ and -)"
                ));
            }
            segments.push(Segment::Var(name.to_string()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_string()));
        }
        Ok(Self { segments })
    }

    /// The variable names it uses.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v.as_str()),
            Segment::Literal(_) => None,
        })
    }

    pub fn is_constant(&self) -> bool {
        self.vars().next().is_none()
    }

    /// Renders with the user's values, falling back to random picks from `data`. A captured
    /// variable not captured yet (its step failed) renders empty. A constant template is
    /// borrowed, not copied.
    pub fn render<'a>(
        &'a self,
        vars: Option<&UserVars>,
        data: &BTreeMap<String, Vec<String>>,
    ) -> std::borrow::Cow<'a, str> {
        if let [Segment::Literal(l)] = self.segments.as_slice() {
            return std::borrow::Cow::Borrowed(l);
        }
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Literal(l) => out.push_str(l),
                Segment::Var(name) => {
                    if let Some(v) = vars.and_then(|u| u.0.get(name)) {
                        out.push_str(v);
                    } else if let Some(list) = data.get(name) {
                        if !list.is_empty() {
                            let i = rand::random_range(0..list.len());
                            out.push_str(&list[i]);
                        }
                    }
                }
            }
        }
        std::borrow::Cow::Owned(out)
    }
}

/// A JSON body whose strings are templates, parsed once when the file loads.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// A value with no template in it.
    Literal(serde_json::Value),
    Str(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    pub fn is_constant(&self) -> bool {
        match self {
            JsonTemplate::Literal(_) => true,
            JsonTemplate::Str(t) => t.is_constant(),
            JsonTemplate::Array(items) => items.iter().all(Self::is_constant),
            JsonTemplate::Object(fields) => fields.iter().all(|(_, v)| v.is_constant()),
        }
    }

    pub fn render(
        &self,
        vars: Option<&UserVars>,
        data: &BTreeMap<String, Vec<String>>,
    ) -> serde_json::Value {
        use serde_json::Value;
        match self {
            JsonTemplate::Literal(v) => v.clone(),
            JsonTemplate::Str(t) => Value::String(t.render(vars, data).into_owned()),
            JsonTemplate::Array(items) => {
                Value::Array(items.iter().map(|x| x.render(vars, data)).collect())
            }
            JsonTemplate::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(vars, data)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_captures_then_data() {
        let t = Template::parse("/v?s={{session_id}}&c={{company}}").unwrap();
        let mut vars = UserVars::default();
        vars.0.insert("session_id".into(), "abc".into());
        let data = BTreeMap::from([("company".to_string(), vec!["acme".to_string()])]);
        assert_eq!(t.render(Some(&vars), &data), "/v?s=abc&c=acme");
        assert!(!t.is_constant());
        assert!(Template::parse("/health").unwrap().is_constant());
    }

    #[test]
    fn json_templates_render_strings_and_keep_other_values() {
        let t = JsonTemplate::Object(vec![
            (
                "message".into(),
                JsonTemplate::Str(Template::parse("hi {{who}}").unwrap()),
            ),
            ("top_k".into(), JsonTemplate::Literal(serde_json::json!(3))),
            (
                "tags".into(),
                JsonTemplate::Array(vec![JsonTemplate::Str(Template::parse("x").unwrap())]),
            ),
        ]);
        assert!(!t.is_constant());
        let data = BTreeMap::from([("who".to_string(), vec!["ann".to_string()])]);
        assert_eq!(
            t.render(None, &data),
            serde_json::json!({"message": "hi ann", "top_k": 3, "tags": ["x"]})
        );
    }

    #[test]
    fn malformed_templates_are_errors() {
        assert!(Template::parse("{{oops")
            .unwrap_err()
            .contains("never closed"));
        assert!(Template::parse("{{}}")
            .unwrap_err()
            .contains("not a variable"));
        assert!(Template::parse("{{a b}}").is_err());
    }
}
