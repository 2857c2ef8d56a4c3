//! The scenario file's format (`scenarios/*.json`), as serde types that refuse unknown fields.
//! `scenarios/README.md` documents every field.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    #[serde(default, rename = "$comment")]
    pub comment: Option<serde_json::Value>,
    /// Named lists of strings; `{{name}}` in a template picks one at random.
    #[serde(default)]
    pub data: BTreeMap<String, Vec<String>>,
    /// Named lists of WAV files (paths relative to the scenario file); a step's
    /// `"body": {"audio": "name"}` sends one at random.
    #[serde(default)]
    pub audio: BTreeMap<String, Vec<String>>,
    /// Run settings this file suggests; a profile is overridden by them, flags override them.
    #[serde(default)]
    pub defaults: RunDefaults,
    pub scenarios: Vec<ScenarioDef>,
}

/// Run settings as written in the file; [`crate::scenario::Defaults`] is the checked form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    pub users: Option<usize>,
    /// Users started per second: a number, or a string holding one (`"2"`).
    pub spawn_rate: Option<NumberOrText>,
    /// A time such as `"2m"`.
    pub run_time: Option<String>,
}

/// A number written either as a JSON number or as a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NumberOrText {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDef {
    pub name: String,
    #[serde(default = "one")]
    pub weight: usize,
    /// Pause after each step.
    #[serde(default)]
    pub think: Option<Think>,
    /// Steps each user runs once, when it starts.
    #[serde(default)]
    pub on_start: Vec<StepDef>,
    pub steps: Vec<StepDef>,
    /// A host for this scenario only (otherwise `--host`).
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

fn one() -> usize {
    1
}

/// How long a user pauses after a step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Think {
    /// Always the same pause, e.g. `"2s"`.
    Fixed(String),
    /// A pause drawn uniformly between two times, e.g. `["1s", "3s"]`.
    Uniform([String; 2]),
    /// Wait while the assistant's audio reply plays, then pause (`["500ms", "1500ms"]`).
    Listen { pause: [String; 2] },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// The metric name, `component:action` (e.g. `stt:transcribe`).
    pub name: String,
    /// The HTTP method (default GET).
    #[serde(default)]
    pub method: Option<String>,
    /// The path (templated), e.g. `/api/v1/voice?session_id={{session_id}}`; an HTTP step
    /// has one, a call step has `call` instead.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<Body>,
    /// How many times this step runs per iteration of its scenario.
    #[serde(default = "one")]
    pub weight: usize,
    /// Steps with a sequence run in that order, before steps without one.
    #[serde(default)]
    pub sequence: Option<usize>,
    /// The status code a good response has (default: any 2xx).
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// JSON checks on the response body.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Values to keep for later steps: variable name → JSON pointer into the response.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// Metric for the time to the first body byte (first token, first audio).
    #[serde(default)]
    pub first_byte: Option<String>,
    /// A real-time phone call over WebSocket, in place of an HTTP request.
    #[serde(default)]
    pub call: Option<CallDef>,
}

/// A phone call: the caller connects, speaks each turn as paced audio, waits for the bot's
/// reply, listens to it, pauses, and speaks again; then hangs up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallDef {
    /// The bot's WebSocket path (templated), e.g. `/ws/twilio`; by default `/ws/<protocol>`,
    /// where the reference bot answers it.
    #[serde(default)]
    pub path: Option<String>,
    /// A registered protocol (`voiceswarm run --help` lists them): `twilio` by default.
    #[serde(default)]
    pub protocol: Option<String>,
    /// The sample rate, for protocols that let the caller choose (raw: any, 16000 by default;
    /// vonage: 16000 or 8000).
    #[serde(default)]
    pub sample_rate: Option<u32>,
    pub turns: Vec<TurnDef>,
    /// The pause after a reply has played, before the next turn (default 300ms–800ms).
    #[serde(default)]
    pub pause: Option<[String; 2]>,
    /// After a failed call, how long the caller waits before it calls again (default 1s), as a
    /// person redialling does: a bot that fails every call is not hammered.
    #[serde(default)]
    pub redial_pause: Option<String>,
    /// How long to wait for the bot's first reply audio (default 10s).
    #[serde(default)]
    pub turn_timeout: Option<String>,
    /// The start message's customParameters (values are templates).
    #[serde(default)]
    pub custom_parameters: BTreeMap<String, String>,
    /// Hang up (a failed call) after this long (default 5m).
    #[serde(default)]
    pub max_duration: Option<String>,
    /// How the call travels: `websocket` (default) or `webrtc` (see `scenario/webrtc.rs`).
    #[serde(default)]
    pub transport: Option<String>,
    /// WebRTC only: `whip` (default), `pipecat` or `openai`.
    #[serde(default)]
    pub signalling: Option<String>,
    /// WebRTC only: `opus` (default, 48 kHz) or `pcmu`.
    #[serde(default)]
    pub codec: Option<String>,
    /// WebRTC only: a bad network on purpose, applied to packets both ways.
    #[serde(default)]
    pub impair: Option<ImpairDef>,
}

/// `{"loss": "2%", "jitter": "30ms", "latency": "80ms"}`: each knob 0 unless given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpairDef {
    #[serde(default)]
    pub loss: Option<String>,
    #[serde(default)]
    pub jitter: Option<String>,
    #[serde(default)]
    pub latency: Option<String>,
}

/// One turn of a call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnDef {
    /// The audio list an utterance is picked from (or `dtmf`).
    #[serde(default)]
    pub say: Option<String>,
    /// Keys to press instead of speaking (DTMF, e.g. `"1"` or `"42#"`), on protocols that
    /// carry them; the bot's answer is measured as `call:dtmf_to_voice`.
    #[serde(default)]
    pub dtmf: Option<String>,
    /// Barge in: this long into the bot's reply, start speaking the next turn.
    #[serde(default)]
    pub barge_in_after: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Body {
    /// A JSON document; its strings are templates.
    Json(serde_json::Value),
    /// A text body (template).
    Text(String),
    /// A WAV file picked at random from the named audio list.
    Audio(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// JSON pointer into the response body, e.g. `/reply`.
    pub pointer: String,
    /// The value it must equal; without it the value must exist and not be null or empty.
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
}
