//! Compiling one step of a scenario file: its metric name, method, path and headers (templates
//! whose variables must exist), body, expected status, checks and captures.

use super::call_step::compile_call;
use super::error::{Ctx, ScenarioError};
use super::journeys::Method;
use super::journeys::{CompiledBody, CompiledStep, HttpStep, StepKind};
use super::model::{Body, StepDef};
use super::pointer::Pointer;
use super::template::{JsonTemplate, Template};
use crate::vocab::{is_metric_name, METRIC_NAME_HELP};
use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The names known to templates: data lists and the scenario's captures.
type Known<'a> = BTreeSet<&'a str>;

pub(super) fn compile_step(
    ctx: &Ctx,
    at: &str,
    st: &StepDef,
    known: &Known,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
) -> Result<CompiledStep, ScenarioError> {
    metric_name(ctx, &format!("{at}.name"), &st.name)?;
    if st.weight == 0 {
        return Err(ctx.err(format!("{at}.weight"), "must be at least 1"));
    }
    let kind = match &st.call {
        Some(call) => {
            only_call_fields(ctx, at, st)?;
            let t = |here: &str, text: &str| template(ctx, here, text, known);
            StepKind::Call(Arc::new(compile_call(
                ctx,
                &format!("{at}.call"),
                call,
                audio,
                t,
            )?))
        }
        None => StepKind::Http(http(ctx, at, st, known, audio)?),
    };
    Ok(CompiledStep {
        name: st.name.as_str().into(),
        weight: st.weight,
        sequence: st.sequence,
        kind,
    })
}

/// A call step takes its name, weight, sequence and `call`; nothing of an HTTP request.
fn only_call_fields(ctx: &Ctx, at: &str, st: &StepDef) -> Result<(), ScenarioError> {
    let http_fields = [
        ("method", st.method.is_some()),
        ("path", st.path.is_some()),
        ("headers", !st.headers.is_empty()),
        ("body", st.body.is_some()),
        ("expect_status", st.expect_status.is_some()),
        ("checks", !st.checks.is_empty()),
        ("capture", !st.capture.is_empty()),
        ("first_byte", st.first_byte.is_some()),
    ];
    match http_fields.iter().find(|(_, given)| *given) {
        Some((field, _)) => Err(ctx.err(
            format!("{at}.{field}"),
            "a call step takes name, weight, sequence and call; the path goes inside call",
        )),
        None => Ok(()),
    }
}

fn http(
    ctx: &Ctx,
    at: &str,
    st: &StepDef,
    known: &Known,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
) -> Result<HttpStep, ScenarioError> {
    if let Some(fb) = &st.first_byte {
        metric_name(ctx, &format!("{at}.first_byte"), fb)?;
    }
    if let Some(code) = st.expect_status.filter(|c| !(100..=599).contains(c)) {
        return Err(ctx.err(
            format!("{at}.expect_status"),
            format!("{code} is not an HTTP status (100 to 599)"),
        ));
    }
    let path = st.path.as_deref().ok_or_else(|| {
        ctx.err(
            format!("{at}.path"),
            "missing: an HTTP step needs a path (or a call step, a call)",
        )
    })?;
    if !path.starts_with('/') {
        return Err(ctx.err(format!("{at}.path"), format!("'{path}' must start with /")));
    }
    Ok(HttpStep {
        method: method(ctx, at, st.method.as_deref().unwrap_or("GET"))?,
        path: template(ctx, &format!("{at}.path"), path, known)?,
        headers: headers(ctx, at, &st.headers, known)?,
        body: body(ctx, at, &st.body, known, audio)?,
        expect_status: st.expect_status,
        checks: checks(ctx, at, st)?,
        captures: captures(ctx, at, st)?,
        first_byte: st.first_byte.as_deref().map(Arc::from),
    })
}

fn metric_name(ctx: &Ctx, at: &str, name: &str) -> Result<(), ScenarioError> {
    if is_metric_name(name) {
        Ok(())
    } else {
        Err(ctx.err(
            at,
            format!("'{name}' is not a metric name: {METRIC_NAME_HELP}"),
        ))
    }
}

fn method(ctx: &Ctx, at: &str, text: &str) -> Result<Method, ScenarioError> {
    Ok(match text.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        "HEAD" => Method::Head,
        _ => {
            return Err(ctx.err(
                format!("{at}.method"),
                format!("'{text}' is not accepted: use one of GET, POST, PUT, PATCH, DELETE, HEAD"),
            ))
        }
    })
}

fn template(ctx: &Ctx, at: &str, text: &str, known: &Known) -> Result<Template, ScenarioError> {
    let t = Template::parse(text).map_err(|e| ctx.err(at, e))?;
    if let Some(v) = t.vars().find(|v| !known.contains(v)) {
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
    Ok(t)
}

fn headers(
    ctx: &Ctx,
    at: &str,
    given: &BTreeMap<String, String>,
    known: &Known,
) -> Result<Vec<(HeaderName, Template)>, ScenarioError> {
    given
        .iter()
        .map(|(k, v)| {
            let here = format!("{at}.headers.{k}");
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| ctx.err(&here, "not a valid header name"))?;
            if HeaderValue::from_str(v).is_err() {
                return Err(ctx.err(&here, "not a valid header value"));
            }
            Ok((name, template(ctx, &here, v, known)?))
        })
        .collect()
}

/// Parses every string of a JSON body as a template, checking its variables.
fn json_template(
    ctx: &Ctx,
    at: &str,
    v: &serde_json::Value,
    known: &Known,
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

fn body(
    ctx: &Ctx,
    at: &str,
    given: &Option<Body>,
    known: &Known,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
) -> Result<CompiledBody, ScenarioError> {
    Ok(match given {
        None => CompiledBody::None,
        Some(Body::Json(v)) => {
            let here = format!("{at}.body.json");
            let t = json_template(ctx, &here, v, known)?;
            if t.is_constant() {
                let bytes = serde_json::to_vec(v).map_err(|e| ctx.err(&here, e.to_string()))?;
                CompiledBody::Static(Bytes::from(bytes), "application/json")
            } else {
                CompiledBody::Json(t)
            }
        }
        Some(Body::Text(t)) => {
            CompiledBody::Text(template(ctx, &format!("{at}.body.text"), t, known)?)
        }
        Some(Body::Audio(name)) => CompiledBody::Audio(audio_list(ctx, at, name, audio)?),
    })
}

/// The audio list a step names; an unknown name lists those defined.
pub(super) fn audio_list(
    ctx: &Ctx,
    at: &str,
    name: &str,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
) -> Result<Arc<[Bytes]>, ScenarioError> {
    audio.get(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = audio.keys().map(String::as_str).collect();
        ctx.err(
            format!("{at}.body.audio"),
            format!(
                "no audio list '{name}' (defined: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        )
    })
}

fn checks(
    ctx: &Ctx,
    at: &str,
    st: &StepDef,
) -> Result<Vec<(Pointer, Option<serde_json::Value>)>, ScenarioError> {
    st.checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ptr = Pointer::parse(&c.pointer)
                .map_err(|e| ctx.err(format!("{at}.checks[{i}].pointer"), e))?;
            Ok((ptr, c.equals.clone()))
        })
        .collect()
}

fn captures(ctx: &Ctx, at: &str, st: &StepDef) -> Result<Vec<(String, Pointer)>, ScenarioError> {
    st.capture
        .iter()
        .map(|(var, ptr)| {
            let ptr = Pointer::parse(ptr).map_err(|e| ctx.err(format!("{at}.capture.{var}"), e))?;
            Ok((var.clone(), ptr))
        })
        .collect()
}
