//! Compiled journeys: what a scenario file becomes once checked, ready to run — scenarios with
//! their steps, shared audio and data, and the run settings the file suggests.

pub use super::call_step::CallPlan;
use super::pointer::Pointer;
use super::template::{JsonTemplate, Template};
use crate::inputs::Input;
use bytes::Bytes;
use reqwest::header::HeaderName;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

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

/// One step of a journey: its metric name, how often and in which order it runs, and what it
/// does.
#[derive(Debug, Clone)]
pub struct CompiledStep {
    pub name: Arc<str>,
    pub weight: usize,
    pub sequence: Option<usize>,
    pub kind: StepKind,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Http(HttpStep),
    /// A real-time phone call over WebSocket.
    Call(Arc<CallPlan>),
}

/// The HTTP methods a step may use (the engine maps each onto Goose's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

/// An HTTP request, and what its response must hold.
#[derive(Debug, Clone)]
pub struct HttpStep {
    pub method: Method,
    pub path: Template,
    pub headers: Vec<(HeaderName, Template)>,
    pub body: CompiledBody,
    pub expect_status: Option<u16>,
    pub checks: Vec<(Pointer, Option<serde_json::Value>)>,
    pub captures: Vec<(String, Pointer)>,
    pub first_byte: Option<Arc<str>>,
}

impl HttpStep {
    /// Whether the body must be kept (checks or captures read it).
    pub fn keeps_body(&self) -> bool {
        !self.checks.is_empty() || !self.captures.is_empty()
    }
}

/// How a user pauses between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Think {
    None,
    /// A pause drawn between the two times (equal for a fixed pause).
    Pause(Duration, Duration),
    /// Listen while the returned audio plays, then pause between the two times.
    Listen(Duration, Duration),
}

/// A pause drawn uniformly between `lo` and `hi` (`lo` when they are equal).
pub fn between(lo: Duration, hi: Duration) -> Duration {
    if hi > lo {
        lo + (hi - lo).mul_f64(rand::random::<f64>())
    } else {
        lo
    }
}

#[derive(Debug, Clone)]
pub struct CompiledScenario {
    pub name: String,
    pub weight: usize,
    pub think: Think,
    pub on_start: Vec<Arc<CompiledStep>>,
    pub steps: Vec<Arc<CompiledStep>>,
    pub host: Option<String>,
}

impl CompiledScenario {
    /// A generous estimate of one iteration's length (for sizing an arrival pool): half a second
    /// per request, the think times' means, three seconds of each reply listened to, and for a
    /// call turn its speech, the bot's answer and its reply.
    pub fn estimated_duration(&self) -> Duration {
        let think = match self.think {
            Think::None => Duration::ZERO,
            Think::Pause(lo, hi) => (lo + hi) / 2,
            Think::Listen(lo, hi) => Duration::from_secs(3) + (lo + hi) / 2,
        };
        self.on_start
            .iter()
            .chain(self.iteration())
            .map(|st| match &st.kind {
                StepKind::Http(_) => Duration::from_millis(500) + think,
                StepKind::Call(c) => {
                    let pause = (c.pause.0 + c.pause.1) / 2;
                    (Duration::from_secs(6) + pause) * c.turns.len() as u32 + think
                }
            })
            .sum()
    }

    /// The steps of one iteration in the order a caller takes them: sequenced steps by their
    /// sequence, then the others, each repeated its weight times in a row.
    pub fn iteration(&self) -> Vec<&Arc<CompiledStep>> {
        let mut ordered: Vec<&Arc<CompiledStep>> = self.steps.iter().collect();
        ordered.sort_by_key(|s| s.sequence.unwrap_or(usize::MAX));
        ordered
            .into_iter()
            .flat_map(|s| std::iter::repeat_n(s, s.weight))
            .collect()
    }
}

/// The run settings a scenario file suggests (checked): they override a profile, and are
/// overridden by environment variables and flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Defaults {
    pub users: Option<usize>,
    pub spawn_rate: Option<f64>,
    pub run_time: Option<Duration>,
}

/// A whole scenario file, compiled.
#[derive(Debug, Clone)]
pub struct Journeys {
    /// Where it came from.
    pub input: Input,
    /// FNV-1a of the file's text, in hex: the workers of one run must share it.
    pub hash: String,
    pub defaults: Defaults,
    pub scenarios: Vec<CompiledScenario>,
    pub data: Arc<BTreeMap<String, Vec<String>>>,
}

/// Whether `pattern` (with `*` wildcards) matches the journey `name`. Case and `_` are ignored,
/// as Goose ignores them in its machine names: `phone_call` and `phonecall` both select
/// `phone_call`.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let norm = |s: &str| s.to_lowercase().replace('_', "");
    let (p, n) = (norm(pattern), norm(name));
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == n;
    }
    let mut rest = n.as_str();
    for (i, part) in parts.iter().enumerate() {
        match rest.find(part) {
            Some(at) if i > 0 || at == 0 => rest = &rest[at + part.len()..],
            _ => return false,
        }
    }
    parts.last().is_some_and(|l| l.is_empty()) || rest.is_empty()
}

impl Journeys {
    /// Points every call step at `path` (`--call-path`: a bot's stream path, e.g.
    /// `/media-stream`); Err when it is not a path or the journeys have no call step.
    pub fn set_call_path(&mut self, path: &str) -> Result<(), String> {
        let bad = |why: &str| format!("--call-path {path}: {why}");
        if !path.starts_with('/') {
            return Err(bad(
                "must start with /, e.g. /media-stream (the host is --host)",
            ));
        }
        let template = Template::parse(path).map_err(|e| bad(&e))?;
        let mut found = false;
        for sc in &mut self.scenarios {
            for step in sc.on_start.iter_mut().chain(sc.steps.iter_mut()) {
                if let StepKind::Call(plan) = &step.kind {
                    let mut plan = CallPlan::clone(plan);
                    plan.path = template.clone();
                    Arc::make_mut(step).kind = StepKind::Call(Arc::new(plan));
                    found = true;
                }
            }
        }
        if found {
            Ok(())
        } else {
            Err(bad("the journeys have no call step"))
        }
    }

    /// The journeys `patterns` select (each must select one at least: Err names one that
    /// selects none).
    pub fn select(&self, patterns: &[String]) -> Result<Vec<&CompiledScenario>, String> {
        if let Some(p) = patterns
            .iter()
            .find(|p| !self.scenarios.iter().any(|s| name_matches(p, &s.name)))
        {
            return Err(p.clone());
        }
        Ok(self
            .scenarios
            .iter()
            .filter(|s| patterns.iter().any(|p| name_matches(p, &s.name)))
            .collect())
    }

    /// These journeys with only those `patterns` select (all when None); Err is a pattern that
    /// selects none.
    pub fn only(&self, patterns: Option<&[String]>) -> Result<Journeys, String> {
        let mut chosen = self.clone();
        if let Some(p) = patterns {
            let names: BTreeSet<&str> = self.select(p)?.iter().map(|s| s.name.as_str()).collect();
            chosen.scenarios.retain(|s| names.contains(s.name.as_str()));
        }
        Ok(chosen)
    }

    /// Every metric name these journeys record directly (steps and first bytes).
    pub fn metric_names(&self) -> BTreeSet<String> {
        Self::names_of(self.scenarios.iter())
    }

    /// Every metric name `scenarios` record directly, and the Server-Timing stages of their
    /// HTTP steps.
    pub fn names_of<'a>(scenarios: impl Iterator<Item = &'a CompiledScenario>) -> BTreeSet<String> {
        scenarios
            .flat_map(|s| s.on_start.iter().chain(&s.steps))
            .flat_map(|st| {
                let extra: Vec<&str> = match &st.kind {
                    StepKind::Http(h) => h
                        .first_byte
                        .as_deref()
                        .into_iter()
                        .chain(crate::vocab::stage::METRICS.iter().copied())
                        .collect(),
                    StepKind::Call(_) => crate::vocab::metric::CALL.to_vec(),
                };
                let extra: Vec<String> = extra.into_iter().map(String::from).collect();
                std::iter::once(st.name.to_string()).chain(extra)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn patterns_match_names_as_goose_does() {
        for (p, n, m) in [
            ("phone_call", "phone_call", true),
            ("phonecall", "phone_call", true),
            ("PHONE_CALL", "phone_call", true),
            ("phone*", "phone_call", true),
            ("*call", "phone_call", true),
            ("*one*", "phone_call", true),
            ("phone", "phone_call", false),
            ("call*", "phone_call", false),
            ("*chat", "phone_call", false),
        ] {
            assert_eq!(name_matches(p, n), m, "{p} vs {n}");
        }
    }
}

#[cfg(test)]
mod call_path_tests {
    use super::*;
    use crate::inputs::{Input, BUILT_IN_SCENARIO};

    #[test]
    fn call_path_points_every_call_step_and_refuses_what_is_not_a_path() {
        let input = Input::BuiltIn("voice_assistant.json".into());
        let mut j = super::super::load::parse(BUILT_IN_SCENARIO, &input).unwrap();
        j.set_call_path("/media-stream").unwrap();
        let paths: Vec<String> = j
            .scenarios
            .iter()
            .flat_map(|s| s.steps.iter())
            .filter_map(|st| match &st.kind {
                StepKind::Call(c) => Some(format!("{:?}", c.path)),
                StepKind::Http(_) => None,
            })
            .collect();
        assert!(!paths.is_empty() && paths.iter().all(|p| p.contains("/media-stream")));
        let e = j.set_call_path("media").unwrap_err();
        assert!(e.starts_with("--call-path media: must start with /"), "{e}");
    }
}
