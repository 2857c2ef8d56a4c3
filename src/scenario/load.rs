//! Loading a scenario file: parse (errors name the file and the JSON path), validate every field,
//! read the audio it names, and compile it into ready-to-run journeys.

use super::model::{Body, ScenarioDef, ScenarioFile, StepDef, Think};
use super::pointer::Pointer;
use super::template::{JsonTemplate, Template};
use crate::stats::targets::valid_metric_name;
use crate::stats::units::parse_duration_us;
use bytes::Bytes;
use goose::goose::GooseMethod;
use reqwest::header::{HeaderName, HeaderValue};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("{file}: {path}: {detail}")]
pub struct ScenarioError {
    pub file: String,
    /// Where in the file, as a JSON path (`scenarios[0].steps[2].method`).
    pub path: String,
    pub detail: String,
}

/// A request body, ready to send.
#[derive(Debug, Clone)]
pub enum CompiledBody {
    None,
    /// A JSON body without templates, serialised once.
    Static(Bytes, &'static str),
    Json(JsonTemplate),
    Text(Template),
    /// Random pick among shared WAV files (never copied per user).
    Audio(Arc<[Bytes]>),
}

#[derive(Debug, Clone)]
pub struct CompiledStep {
    pub name: Arc<str>,
    pub method: GooseMethod,
    pub path: Template,
    pub headers: Vec<(HeaderName, Template)>,
    pub body: CompiledBody,
    pub weight: usize,
    pub sequence: Option<usize>,
    pub expect_status: Option<u16>,
    pub checks: Vec<(Pointer, Option<serde_json::Value>)>,
    pub captures: Vec<(String, Pointer)>,
    pub first_byte: Option<Arc<str>>,
    /// After this step, wait while the audio it returned plays.
    pub listen: bool,
}

impl CompiledStep {
    /// Whether the body must be kept (checks or captures read it).
    pub fn keeps_body(&self) -> bool {
        !self.checks.is_empty() || !self.captures.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct CompiledScenario {
    pub name: String,
    pub weight: usize,
    /// Goose's wait time after each step (min, max).
    pub wait: Option<(Duration, Duration)>,
    pub on_start: Vec<Arc<CompiledStep>>,
    pub steps: Vec<Arc<CompiledStep>>,
    pub host: Option<String>,
}

/// A whole scenario file, compiled.
#[derive(Debug, Clone)]
pub struct Journeys {
    pub file: String,
    pub defaults: super::model::RunDefaults,
    pub scenarios: Vec<CompiledScenario>,
    pub data: Arc<BTreeMap<String, Vec<String>>>,
}

impl Journeys {
    /// Every metric name these journeys record directly (steps and first bytes).
    pub fn metric_names(&self) -> BTreeSet<String> {
        self.scenarios
            .iter()
            .flat_map(|s| s.on_start.iter().chain(&s.steps))
            .flat_map(|st| {
                std::iter::once(st.name.to_string())
                    .chain(st.first_byte.as_deref().map(String::from))
            })
            .collect()
    }
}

struct Ctx<'a> {
    file: &'a str,
    dir: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, path: impl Into<String>, detail: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            path: path.into(),
            detail: detail.into(),
        }
    }
}

fn duration(ctx: &Ctx, path: &str, text: &str) -> Result<Duration, ScenarioError> {
    parse_duration_us(text)
        .map(|us| Duration::from_micros(us as u64))
        .map_err(|e| ctx.err(path, e))
}

/// Reads and compiles the scenario file at `path`.
pub fn load(path: &Path) -> Result<Journeys, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        path: "$".into(),
        detail: format!("cannot read: {e}"),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, &file, dir)
}

/// Compiles scenario-file text; `dir` resolves relative audio paths.
pub fn parse(text: &str, file: &str, dir: &Path) -> Result<Journeys, ScenarioError> {
    let ctx = Ctx { file, dir };
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: ScenarioFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let p = e.path().to_string();
        ctx.err(
            if p == "." { "$".into() } else { p },
            e.into_inner().to_string(),
        )
    })?;
    if raw.scenarios.is_empty() {
        return Err(ctx.err("scenarios", "at least one scenario is needed"));
    }
    let mut audio: BTreeMap<String, Arc<[Bytes]>> = BTreeMap::new();
    for (name, files) in &raw.audio {
        let at = format!("audio.{name}");
        if files.is_empty() {
            return Err(ctx.err(at, "an audio list needs at least one WAV file"));
        }
        let mut loaded = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let p = ctx.dir.join(f);
            let bytes = std::fs::read(&p)
                .map_err(|e| ctx.err(format!("{at}[{i}]"), format!("{}: {e}", p.display())))?;
            crate::audio::parse(&bytes).map_err(|e| {
                ctx.err(
                    format!("{at}[{i}]"),
                    format!("{}: not usable audio: {e}", p.display()),
                )
            })?;
            loaded.push(Bytes::from(bytes));
        }
        audio.insert(name.clone(), loaded.into());
    }
    for (name, list) in &raw.data {
        if list.is_empty() {
            return Err(ctx.err(
                format!("data.{name}"),
                "a data list needs at least one value",
            ));
        }
    }
    let mut scenarios = Vec::new();
    let mut names = BTreeSet::new();
    for (i, s) in raw.scenarios.iter().enumerate() {
        let at = format!("scenarios[{i}]");
        if !names.insert(s.name.clone()) {
            return Err(ctx.err(format!("{at}.name"), format!("'{}' is used twice", s.name)));
        }
        scenarios.push(compile_scenario(&ctx, &at, s, &raw, &audio)?);
    }
    Ok(Journeys {
        file: file.to_string(),
        defaults: raw.defaults.clone(),
        scenarios,
        data: Arc::new(raw.data),
    })
}

fn compile_scenario(
    ctx: &Ctx,
    at: &str,
    s: &ScenarioDef,
    raw: &ScenarioFile,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
) -> Result<CompiledScenario, ScenarioError> {
    if s.name.trim().is_empty() {
        return Err(ctx.err(format!("{at}.name"), "must not be empty"));
    }
    if s.weight == 0 {
        return Err(ctx.err(format!("{at}.weight"), "must be at least 1"));
    }
    if s.steps.is_empty() {
        return Err(ctx.err(format!("{at}.steps"), "at least one step is needed"));
    }
    if let Some(h) = &s.host {
        reqwest::Url::parse(h).map_err(|e| {
            ctx.err(
                format!("{at}.host"),
                format!("'{h}' is not a URL ({e}); e.g. http://127.0.0.1:8000"),
            )
        })?;
    }
    let (wait, listen) = match &s.think {
        None => (None, false),
        Some(Think::Fixed(t)) => {
            let d = duration(ctx, &format!("{at}.think.fixed"), t)?;
            (Some((d, d)), false)
        }
        Some(Think::Uniform([a, b])) => {
            let (lo, hi) = (
                duration(ctx, &format!("{at}.think.uniform[0]"), a)?,
                duration(ctx, &format!("{at}.think.uniform[1]"), b)?,
            );
            if hi < lo {
                return Err(ctx.err(
                    format!("{at}.think.uniform"),
                    "the second time must not be below the first",
                ));
            }
            (Some((lo, hi)), false)
        }
        Some(Think::Listen { pause: [a, b] }) => {
            let (lo, hi) = (
                duration(ctx, &format!("{at}.think.listen.pause[0]"), a)?,
                duration(ctx, &format!("{at}.think.listen.pause[1]"), b)?,
            );
            if hi < lo {
                return Err(ctx.err(
                    format!("{at}.think.listen.pause"),
                    "the second time must not be below the first",
                ));
            }
            (Some((lo, hi)), true)
        }
    };
    // Variables a template may use: captures of this scenario and the data lists.
    let mut known: BTreeSet<&str> = raw.data.keys().map(String::as_str).collect();
    for st in s.on_start.iter().chain(&s.steps) {
        known.extend(st.capture.keys().map(String::as_str));
    }
    let compile = |list: &[StepDef], part: &str| -> Result<Vec<Arc<CompiledStep>>, ScenarioError> {
        list.iter()
            .enumerate()
            .map(|(j, st)| {
                compile_step(ctx, &format!("{at}.{part}[{j}]"), st, &known, audio, listen)
                    .map(Arc::new)
            })
            .collect()
    };
    let on_start = compile(&s.on_start, "on_start")?;
    let steps = compile(&s.steps, "steps")?;
    Ok(CompiledScenario {
        name: s.name.clone(),
        weight: s.weight,
        wait,
        on_start,
        steps,
        host: s.host.clone(),
    })
}

fn template(
    ctx: &Ctx,
    at: &str,
    text: &str,
    known: &BTreeSet<&str>,
) -> Result<Template, ScenarioError> {
    let t = Template::parse(text).map_err(|e| ctx.err(at, e))?;
    for v in t.vars() {
        if !known.contains(v) {
            let list: Vec<&str> = known.iter().copied().collect();
            return Err(ctx.err(
                at,
                format!(
                    "unknown variable '{{{{{v}}}}}': use a data list or a captured value ({})",
                    if list.is_empty() {
                        "none defined".to_string()
                    } else {
                        list.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(t)
}

/// Parses every string of a JSON body as a template, checking its variables.
fn json_template(
    ctx: &Ctx,
    at: &str,
    v: &serde_json::Value,
    known: &BTreeSet<&str>,
) -> Result<JsonTemplate, ScenarioError> {
    Ok(match v {
        serde_json::Value::String(s) => JsonTemplate::Str(template(ctx, at, s, known)?),
        serde_json::Value::Array(a) => JsonTemplate::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| json_template(ctx, &format!("{at}[{i}]"), x, known))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(o) => JsonTemplate::Object(
            o.iter()
                .map(|(k, x)| {
                    Ok((
                        k.clone(),
                        json_template(ctx, &format!("{at}.{k}"), x, known)?,
                    ))
                })
                .collect::<Result<_, _>>()?,
        ),
        other => JsonTemplate::Literal(other.clone()),
    })
}

fn compile_step(
    ctx: &Ctx,
    at: &str,
    st: &StepDef,
    known: &BTreeSet<&str>,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
    listen: bool,
) -> Result<CompiledStep, ScenarioError> {
    if !valid_metric_name(&st.name) {
        return Err(ctx.err(
            format!("{at}.name"),
            format!("'{}' is not a metric name: write component:action in lower case, e.g. stt:transcribe", st.name),
        ));
    }
    if let Some(fb) = &st.first_byte {
        if !valid_metric_name(fb) {
            return Err(ctx.err(
                format!("{at}.first_byte"),
                format!(
                    "'{fb}' is not a metric name: write component:action, e.g. llm:first_token"
                ),
            ));
        }
    }
    let method = match st.method.to_ascii_uppercase().as_str() {
        "GET" => GooseMethod::Get,
        "POST" => GooseMethod::Post,
        "PUT" => GooseMethod::Put,
        "PATCH" => GooseMethod::Patch,
        "DELETE" => GooseMethod::Delete,
        "HEAD" => GooseMethod::Head,
        _ => {
            return Err(ctx.err(
                format!("{at}.method"),
                format!(
                    "'{}' is not accepted: use one of GET, POST, PUT, PATCH, DELETE, HEAD",
                    st.method
                ),
            ))
        }
    };
    if !st.path.starts_with('/') {
        return Err(ctx.err(
            format!("{at}.path"),
            format!("'{}' must start with /", st.path),
        ));
    }
    let path = template(ctx, &format!("{at}.path"), &st.path, known)?;
    let mut headers = Vec::new();
    for (k, v) in &st.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| ctx.err(format!("{at}.headers.{k}"), "not a valid header name"))?;
        if HeaderValue::from_str(v).is_err() {
            return Err(ctx.err(format!("{at}.headers.{k}"), "not a valid header value"));
        }
        headers.push((name, template(ctx, &format!("{at}.headers.{k}"), v, known)?));
    }
    let body = match &st.body {
        None => CompiledBody::None,
        Some(Body::Json(v)) => {
            let t = json_template(ctx, &format!("{at}.body.json"), v, known)?;
            if !t.is_constant() {
                CompiledBody::Json(t)
            } else {
                let bytes = serde_json::to_vec(v)
                    .map_err(|e| ctx.err(format!("{at}.body.json"), e.to_string()))?;
                CompiledBody::Static(Bytes::from(bytes), "application/json")
            }
        }
        Some(Body::Text(t)) => {
            CompiledBody::Text(template(ctx, &format!("{at}.body.text"), t, known)?)
        }
        Some(Body::Audio(name)) => match audio.get(name) {
            Some(files) => CompiledBody::Audio(files.clone()),
            None => {
                let names: Vec<&str> = audio.keys().map(String::as_str).collect();
                return Err(ctx.err(
                    format!("{at}.body.audio"),
                    format!(
                        "no audio list '{name}' (defined: {})",
                        if names.is_empty() {
                            "none".into()
                        } else {
                            names.join(", ")
                        }
                    ),
                ));
            }
        },
    };
    if st.weight == 0 {
        return Err(ctx.err(format!("{at}.weight"), "must be at least 1"));
    }
    if let Some(code) = st.expect_status {
        if !(100..=599).contains(&code) {
            return Err(ctx.err(
                format!("{at}.expect_status"),
                format!("{code} is not an HTTP status (100 to 599)"),
            ));
        }
    }
    let mut checks = Vec::new();
    for (i, c) in st.checks.iter().enumerate() {
        let ptr = Pointer::parse(&c.pointer)
            .map_err(|e| ctx.err(format!("{at}.checks[{i}].pointer"), e))?;
        checks.push((ptr, c.equals.clone()));
    }
    let mut captures = Vec::new();
    for (var, ptr) in &st.capture {
        let ptr = Pointer::parse(ptr).map_err(|e| ctx.err(format!("{at}.capture.{var}"), e))?;
        captures.push((var.clone(), ptr));
    }
    Ok(CompiledStep {
        name: st.name.as_str().into(),
        method,
        path,
        headers,
        body,
        weight: st.weight,
        sequence: st.sequence,
        expect_status: st.expect_status,
        checks,
        captures,
        first_byte: st.first_byte.as_deref().map(Arc::from),
        listen,
    })
}
