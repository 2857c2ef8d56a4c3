//! A call step, compiled: the bot's path, the wire protocol, each turn's utterances as frames
//! prepared in the protocol's form (resampled and encoded once, at load), pauses and limits.

use super::error::{Ctx, ScenarioError};
use super::model::CallDef;
use super::template::Template;
use crate::audio::speech::utterance_frames;
use crate::protocol::{self, PreparedFrame, Wire};
use crate::units::{parse_duration, parse_positive_duration};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// After a failed call, a caller waits this long before calling again, unless the call step
/// sets its `redial_pause` (0s: at once).
pub const REDIAL_PAUSE: Duration = Duration::from_secs(1);

/// An utterance: its frames, ready to send.
pub type Utterance = Arc<[PreparedFrame]>;

/// One turn: what the caller may say (one picked at random), and when it barges in.
#[derive(Debug, Clone)]
pub struct TurnPlan {
    /// Empty for a turn that presses keys.
    pub utterances: Arc<[Utterance]>,
    /// The keys this turn presses instead of speaking (DTMF).
    pub dtmf: Option<String>,
    /// Start the next turn this long into the bot's reply.
    pub barge_in_after: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct CallPlan {
    pub path: Template,
    pub wire: Arc<dyn Wire>,
    pub turns: Vec<TurnPlan>,
    /// One frame of digital silence, sent between utterances as a phone line does.
    pub silence: PreparedFrame,
    /// The pause after a reply has played, before the next turn.
    pub pause: (Duration, Duration),
    pub turn_timeout: Duration,
    pub custom_parameters: Vec<(String, Template)>,
    pub max_duration: Duration,
    /// After a failed call, the caller waits this long before its next call.
    pub redial_pause: Duration,
    /// A call over WebRTC instead of a WebSocket (`"transport": "webrtc"`).
    pub webrtc: Option<Arc<super::webrtc::WebRtcPlan>>,
}

fn time(ctx: &Ctx, at: &str, text: Option<&str>, default: &str) -> Result<Duration, ScenarioError> {
    parse_positive_duration(text.unwrap_or(default)).map_err(|e| ctx.err(at, e))
}

fn protocol(ctx: &Ctx, at: &str, def: &CallDef) -> Result<Arc<dyn Wire>, ScenarioError> {
    let name = def.protocol.as_deref().unwrap_or("twilio");
    let p = protocol::protocol(name).ok_or_else(|| {
        ctx.err(
            format!("{at}.protocol"),
            format!(
                "'{name}' is not a protocol: use one of {}",
                protocol::names()
            ),
        )
    })?;
    if let (Some(_), protocol::Rates::Fixed(r)) = (def.sample_rate, p.rates) {
        return Err(ctx.err(
            format!("{at}.sample_rate"),
            format!("{name} takes no sample rate (its rate is {r} Hz)"),
        ));
    }
    let rate = def.sample_rate.unwrap_or(p.rates.default_rate());
    p.wire(rate)
        .map_err(|e| ctx.err(format!("{at}.sample_rate"), e))
}

/// Every audio list a turn names, as utterances in `format` (each list prepared once).
fn utterances(
    ctx: &Ctx,
    at: &str,
    def: &CallDef,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
    wire: &Arc<dyn Wire>,
) -> Result<BTreeMap<String, Arc<[Utterance]>>, ScenarioError> {
    let mut out = BTreeMap::new();
    for (i, turn) in def.turns.iter().enumerate() {
        let Some(say) = &turn.say else { continue };
        if out.contains_key(say) {
            continue;
        }
        let here = format!("{at}.turns[{i}].say");
        let files = audio.get(say).ok_or_else(|| {
            let names: Vec<&str> = audio.keys().map(String::as_str).collect();
            ctx.err(
                &here,
                format!(
                    "no audio list '{}' (defined: {})",
                    say,
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })?;
        let list: Vec<Utterance> = files
            .iter()
            .map(|wav| {
                let frames = utterance_frames(wav, wire.format()).map_err(|e| ctx.err(&here, e))?;
                Ok(wire.prepare_utterance(frames).into())
            })
            .collect::<Result<_, ScenarioError>>()?;
        out.insert(say.clone(), list.into());
    }
    Ok(out)
}

/// A turn's keys: `say` or `dtmf`, one of them; digits a phone has; a protocol that carries them.
fn keys(
    ctx: &Ctx,
    at: &str,
    t: &super::model::TurnDef,
    wire: &Arc<dyn Wire>,
) -> Result<Option<String>, ScenarioError> {
    let Some(d) = &t.dtmf else {
        return match t.say {
            Some(_) => Ok(None),
            None => Err(ctx.err(
                at,
                "a turn says something or presses keys: {\"say\": \"<audio list>\"} or {\"dtmf\": \"1\"}",
            )),
        };
    };
    let field = format!("{at}.dtmf");
    if t.say.is_some() {
        return Err(ctx.err(
            field,
            "a turn either says something or presses keys, not both",
        ));
    }
    if d.is_empty() || !d.chars().all(|c| "0123456789*#ABCD".contains(c)) {
        return Err(ctx.err(field, format!("'{d}': keys are 0-9, *, # and A-D")));
    }
    if wire.dtmf(&wire.ids(0), "1", 0).is_none() {
        return Err(ctx.err(field, format!("{} carries no keys (DTMF)", wire.name())));
    }
    Ok(Some(d.clone()))
}

fn turns(
    ctx: &Ctx,
    at: &str,
    def: &CallDef,
    lists: &BTreeMap<String, Arc<[Utterance]>>,
    wire: &Arc<dyn Wire>,
) -> Result<Vec<TurnPlan>, ScenarioError> {
    let last = def.turns.len() - 1;
    def.turns
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let barge = match &t.barge_in_after {
                None => None,
                Some(_) if i == last => return Err(ctx.err(
                    format!("{at}.turns[{i}].barge_in_after"),
                    "the last turn cannot barge in: there is no next utterance to interrupt with",
                )),
                Some(b) => Some(time(
                    ctx,
                    &format!("{at}.turns[{i}].barge_in_after"),
                    Some(b),
                    "",
                )?),
            };
            let dtmf = keys(ctx, &format!("{at}.turns[{i}]"), t, wire)?;
            Ok(TurnPlan {
                utterances: match &t.say {
                    Some(say) => lists[say].clone(),
                    None => Arc::from([]),
                },
                dtmf,
                barge_in_after: barge,
            })
        })
        .collect()
}

/// A call step's pause between turns: a range, 300–800 ms unless the step sets one.
fn pause(ctx: &Ctx, at: &str, def: &CallDef) -> Result<(Duration, Duration), ScenarioError> {
    Ok(match &def.pause {
        None => (Duration::from_millis(300), Duration::from_millis(800)),
        Some([a, b]) => {
            let d = |i: usize, t: &str| {
                parse_duration(t).map_err(|e| ctx.err(format!("{at}.pause[{i}]"), e))
            };
            let (lo, hi) = (d(0, a)?, d(1, b)?);
            if hi < lo {
                return Err(ctx.err(
                    format!("{at}.pause"),
                    "the second time must not be below the first",
                ));
            }
            (lo, hi)
        }
    })
}

pub(super) fn compile_call(
    ctx: &Ctx,
    at: &str,
    def: &CallDef,
    audio: &BTreeMap<String, Arc<[Bytes]>>,
    template: impl Fn(&str, &str) -> Result<Template, ScenarioError>,
) -> Result<CallPlan, ScenarioError> {
    let webrtc = super::webrtc::compile(ctx, at, def)?.map(Arc::new);
    let wire: Arc<dyn Wire> = match &webrtc {
        Some(w) => Arc::new(super::webrtc::RtpWire { codec: w.codec }),
        None => protocol(ctx, at, def)?,
    };
    let path = match (&def.path, &webrtc) {
        (Some(p), _) => p.clone(),
        (None, Some(w)) => w.signalling.default_path().to_string(),
        // The reference bot's path; a protocol whose rate the caller chooses names it there.
        (None, None) => match protocol::protocol(wire.name()).map(|p| p.rates) {
            Some(protocol::Rates::Fixed(_)) | None => format!("/ws/{}", wire.name()),
            Some(_) => format!(
                "/ws/{}?sample_rate={}",
                wire.name(),
                wire.format().sample_rate()
            ),
        },
    };
    if !path.starts_with('/') {
        return Err(ctx.err(format!("{at}.path"), format!("'{path}' must start with /")));
    }
    if def.turns.is_empty() {
        return Err(ctx.err(
            format!("{at}.turns"),
            "a call needs at least one turn: {\"say\": \"<audio list>\"}",
        ));
    }
    let lists = utterances(ctx, at, def, audio, &wire)?;
    let pause = pause(ctx, at, def)?;
    let custom_parameters = def
        .custom_parameters
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                template(&format!("{at}.custom_parameters.{k}"), v)?,
            ))
        })
        .collect::<Result<_, ScenarioError>>()?;
    Ok(CallPlan {
        path: template(&format!("{at}.path"), &path)?,
        silence: wire.prepare(wire.format().silence()),
        turns: turns(ctx, at, def, &lists, &wire)?,
        wire,
        pause,
        turn_timeout: time(
            ctx,
            &format!("{at}.turn_timeout"),
            def.turn_timeout.as_deref(),
            "10s",
        )?,
        custom_parameters,
        max_duration: time(
            ctx,
            &format!("{at}.max_duration"),
            def.max_duration.as_deref(),
            "5m",
        )?,
        redial_pause: match def.redial_pause.as_deref() {
            None => REDIAL_PAUSE,
            Some(t) => parse_duration(t).map_err(|e| ctx.err(format!("{at}.redial_pause"), e))?,
        },
        webrtc,
    })
}
