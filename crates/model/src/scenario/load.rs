//! Loading a scenario file: parse (errors name the file and the JSON path), check every field,
//! read the audio it names, and compile its scenarios into journeys.

use super::error::{Ctx, ScenarioError};
use super::journeys::{CompiledScenario, Defaults, Journeys, Think};
use super::model::{NumberOrText, RunDefaults, ScenarioDef, ScenarioFile, Think as ThinkDef};
use super::step::compile_step;
use crate::inputs::Input;
use crate::units::{parse_duration, parse_number_above_zero};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Reads and compiles the scenario file `input` (set by `flag`).
pub fn load(input: &Input, flag: &str) -> Result<Journeys, ScenarioError> {
    let text = input.read(flag).map_err(|detail| ScenarioError {
        file: input.name(),
        path: String::new(),
        detail,
    })?;
    parse(&text, input)
}

/// Compiles scenario-file text; `input` names it and resolves its relative audio paths.
pub fn parse(text: &str, input: &Input) -> Result<Journeys, ScenarioError> {
    let file = input.name();
    let ctx = Ctx { file: &file, input };
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
    let audio = load_audio(&ctx, &raw.audio)?;
    if let Some((name, _)) = raw.data.iter().find(|(_, list)| list.is_empty()) {
        return Err(ctx.err(
            format!("data.{name}"),
            "a data list needs at least one value",
        ));
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
        input: input.clone(),
        hash: text_hash(text),
        defaults: compile_defaults(&ctx, &raw.defaults)?,
        scenarios,
        data: Arc::new(raw.data),
    })
}

/// FNV-1a of `text`, in hex.
fn text_hash(text: &str) -> String {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(text.as_bytes());
    format!("{:016x}", h.finish())
}

/// Reads every audio list's WAV files once; they are shared by all users.
fn load_audio(
    ctx: &Ctx,
    lists: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Arc<[Bytes]>>, ScenarioError> {
    let mut audio = BTreeMap::new();
    for (name, files) in lists {
        let at = format!("audio.{name}");
        if files.is_empty() {
            return Err(ctx.err(at, "an audio list needs at least one WAV file"));
        }
        let mut loaded = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let bytes = ctx
                .input
                .read_relative(f)
                .map_err(|e| ctx.err(format!("{at}[{i}]"), e))?;
            crate::audio::parse(&bytes).map_err(|e| {
                ctx.err(format!("{at}[{i}]"), format!("{f}: not usable audio: {e}"))
            })?;
            loaded.push(Bytes::from(bytes));
        }
        audio.insert(name.clone(), loaded.into());
    }
    Ok(audio)
}

fn compile_defaults(ctx: &Ctx, raw: &RunDefaults) -> Result<Defaults, ScenarioError> {
    if raw.users == Some(0) {
        return Err(ctx.err("defaults.users", "expected at least 1 user"));
    }
    let spawn_rate = match &raw.spawn_rate {
        None => None,
        Some(NumberOrText::Number(n)) => Some(parse_number_above_zero(&n.to_string())),
        Some(NumberOrText::Text(t)) => Some(parse_number_above_zero(t)),
    }
    .transpose()
    .map_err(|e| ctx.err("defaults.spawn_rate", e))?;
    let run_time = raw
        .run_time
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(|e| ctx.err("defaults.run_time", e))?;
    Ok(Defaults {
        users: raw.users,
        spawn_rate,
        run_time,
    })
}

fn duration(ctx: &Ctx, path: &str, text: &str) -> Result<Duration, ScenarioError> {
    parse_duration(text).map_err(|e| ctx.err(path, e))
}

/// A pause between two times, the second not below the first.
fn pause(ctx: &Ctx, at: &str, [a, b]: &[String; 2]) -> Result<(Duration, Duration), ScenarioError> {
    let (lo, hi) = (
        duration(ctx, &format!("{at}[0]"), a)?,
        duration(ctx, &format!("{at}[1]"), b)?,
    );
    if hi < lo {
        return Err(ctx.err(at, "the second time must not be below the first"));
    }
    Ok((lo, hi))
}

fn compile_think(ctx: &Ctx, at: &str, think: &Option<ThinkDef>) -> Result<Think, ScenarioError> {
    Ok(match think {
        None => Think::None,
        Some(ThinkDef::Fixed(t)) => {
            let d = duration(ctx, &format!("{at}.think.fixed"), t)?;
            Think::Pause(d, d)
        }
        Some(ThinkDef::Uniform(range)) => {
            let (lo, hi) = pause(ctx, &format!("{at}.think.uniform"), range)?;
            Think::Pause(lo, hi)
        }
        Some(ThinkDef::Listen { pause: range }) => {
            let (lo, hi) = pause(ctx, &format!("{at}.think.listen.pause"), range)?;
            Think::Listen(lo, hi)
        }
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
    let think = compile_think(ctx, at, &s.think)?;
    // Variables a template may use: captures of this scenario and the data lists.
    let mut known: BTreeSet<&str> = raw.data.keys().map(String::as_str).collect();
    for st in s.on_start.iter().chain(&s.steps) {
        known.extend(st.capture.keys().map(String::as_str));
    }
    let compile = |list: &[super::model::StepDef], part: &str| {
        list.iter()
            .enumerate()
            .map(|(j, st)| {
                compile_step(ctx, &format!("{at}.{part}[{j}]"), st, &known, audio).map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(CompiledScenario {
        name: s.name.clone(),
        weight: s.weight,
        think,
        on_start: compile(&s.on_start, "on_start")?,
        steps: compile(&s.steps, "steps")?,
        host: s.host.clone(),
    })
}
