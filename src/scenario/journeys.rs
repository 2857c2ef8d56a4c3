//! Compiled journeys: what a scenario file becomes once checked, ready to run — scenarios with
//! their steps, shared audio and data, and the run settings the file suggests.

use super::pointer::Pointer;
use super::template::{JsonTemplate, Template};
use crate::inputs::Input;
use bytes::Bytes;
use goose::goose::GooseMethod;
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
}

impl CompiledStep {
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

#[derive(Debug, Clone)]
pub struct CompiledScenario {
    pub name: String,
    pub weight: usize,
    pub think: Think,
    pub on_start: Vec<Arc<CompiledStep>>,
    pub steps: Vec<Arc<CompiledStep>>,
    pub host: Option<String>,
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
