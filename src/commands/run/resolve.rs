//! Resolving `voiceswarm run`'s plan from its sources — profile preset < scenario file defaults <
//! environment < flags — into typed values with where each came from. Pure: the environment is
//! a lookup function, so tests need not touch the process environment.

use super::RunArgs;
use std::collections::BTreeMap;
use std::time::Duration;
use voiceswarm_engine::swarm::goose_config::test_plan_given;
use voiceswarm_model::arrival::rate::{parse_positive_rate, Shape};
use voiceswarm_model::arrival::schedule::Process;
use voiceswarm_model::arrival::OnFull;
use voiceswarm_model::inputs::Input;
use voiceswarm_model::labels::{Labels, ENV_LABELS};
use voiceswarm_model::plan::exports::ExportPlan;
use voiceswarm_model::plan::headers::ENV_API_KEY;
use voiceswarm_model::plan::profile::Preset;
use voiceswarm_model::plan::{Console, Headers, Load, Profile, RunPlan, Source};
use voiceswarm_model::scenario::Journeys;
use voiceswarm_model::units::{parse_duration, parse_number_above_zero};

/// Environment variables read (between the scenario file and flags).
pub const ENV_USERS: &str = "VOICESWARM_USERS";
pub const ENV_SPAWN_RATE: &str = "VOICESWARM_SPAWN_RATE";
pub const ENV_RUN_TIME: &str = "VOICESWARM_RUN_TIME";
pub const ENV_HOST: &str = "VOICESWARM_HOST";

type Sources = BTreeMap<&'static str, Source>;

/// The highest-precedence value given, recording its source (candidates lowest first).
fn pick<T>(sources: &mut Sources, field: &'static str, candidates: [(Option<T>, Source); 4]) -> T
where
    T: Default,
{
    let mut chosen = None;
    for (value, source) in candidates {
        if let Some(v) = value {
            chosen = Some(v);
            sources.insert(field, source);
        }
    }
    chosen.unwrap_or_default()
}

/// An environment variable parsed with the flag's own parser; errors name the variable.
fn from_env<T>(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    env(name)
        .map(|v| parse(&v).map_err(|e| format!("{name}={v}: {e}")))
        .transpose()
}

fn users(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "'{text}': expected a whole number of users, at least 1"
        )),
    }
}

/// A run time: Goose runs whole seconds.
pub fn run_time(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "'{text}': a run time is whole seconds, such as 90s or 2m"
        ));
    }
    Ok(d)
}

/// A base URL to load: http or https.
fn host(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("'{text}' is not a URL ({e}); expected e.g. http://127.0.0.1:8000"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{text}': expected an http:// or https:// URL"));
    }
    Ok(text.to_string())
}

/// Users, spawn rate and run time, each from its highest source.
fn shape(
    args: &RunArgs,
    journeys: &Journeys,
    env: &impl Fn(&str) -> Option<String>,
    sources: &mut Sources,
) -> Result<(usize, f64, Duration), String> {
    let preset = args.profile.unwrap_or(Profile::Light).preset();
    let file = &journeys.defaults;
    let g = &args.goose;
    let users = pick(
        sources,
        "users",
        [
            (Some(preset.users), Source::Profile),
            (file.users, Source::ScenarioFile),
            (from_env(env, ENV_USERS, users)?, Source::Environment),
            (g.users, Source::Flag),
        ],
    );
    let flag_rate = match (&args.spawn_rate, &g.increase_rate) {
        (Some(r), _) => Some(*r),
        (None, Some(r)) => {
            Some(parse_number_above_zero(r).map_err(|e| format!("--increase-rate {e}"))?)
        }
        (None, None) => None,
    };
    let spawn_rate = pick(
        sources,
        "spawn_rate",
        [
            (Some(preset.spawn_rate), Source::Profile),
            (file.spawn_rate, Source::ScenarioFile),
            (
                from_env(env, ENV_SPAWN_RATE, parse_number_above_zero)?,
                Source::Environment,
            ),
            (flag_rate, Source::Flag),
        ],
    );
    let flag_time = g.run_time.as_deref().map(run_time).transpose();
    let run_time = pick(
        sources,
        "run_time",
        [
            (Some(preset.run_time), Source::Profile),
            (file.run_time, Source::ScenarioFile),
            (from_env(env, ENV_RUN_TIME, run_time)?, Source::Environment),
            (
                flag_time.map_err(|e| format!("--run-time {e}"))?,
                Source::Flag,
            ),
        ],
    );
    if run_time.subsec_nanos() != 0 {
        return Err(format!(
            "defaults.run_time: a run time is whole seconds ({run_time:?})"
        ));
    }
    Ok((users, spawn_rate, run_time))
}

/// The name of the run folder: the worker, `web`, the profile — given, or whose values the
/// load has (`-u 10 -r 2 -t 2m` is the light profile, however it was said) — or `custom`.
fn label(
    args: &RunArgs,
    plan_worker: Option<&voiceswarm_model::plan::Worker>,
    sources: &Sources,
    load: &Preset,
) -> String {
    let overridden = sources.values().any(|s| *s != Source::Profile);
    let profile = args.profile.unwrap_or(Profile::Light);
    let arrivals = args.arrival_rate.is_some() || args.arrival_plan.is_some();
    let profile_values = !arrivals && profile.preset() == *load;
    if let Some(w) = plan_worker {
        format!("{}-worker{}", w.run_id, w.index)
    } else if args.web {
        "web".into()
    } else if args.profile.is_some() || !overridden || profile_values {
        profile.name().into()
    } else {
        "custom".into()
    }
}

/// `--scenarios`, by the journeys' own names; a name that matches no journey is refused.
fn selected_journeys(args: &RunArgs, journeys: &Journeys) -> Result<Option<Vec<String>>, String> {
    let Some(selected) = &args.goose.scenarios else {
        return Ok(None);
    };
    journeys.select(&selected.active).map_err(|pattern| {
        let names: Vec<&str> = journeys.scenarios.iter().map(|s| s.name.as_str()).collect();
        format!(
            "--scenarios {pattern}: no journey of that name; the journeys are {}",
            names.join(", ")
        )
    })?;
    Ok(Some(selected.active.clone()))
}

/// Open arrivals, when `--arrival-rate` or `--arrival-plan` asks for them (a worker takes its
/// share of the rate and of the pool).
fn arrivals(
    args: &RunArgs,
    journeys: &Journeys,
    run_time: Duration,
    worker: Option<&voiceswarm_model::plan::Worker>,
) -> Result<Option<Load>, String> {
    let rate = match (&args.arrival_rate, &args.arrival_plan) {
        (Some(r), _) => Shape::constant(
            r,
            parse_positive_rate(r).map_err(|e| format!("--arrival-rate {e}"))?,
            run_time,
        ),
        (None, Some(p)) => Shape::plan(p).map_err(|e| format!("--arrival-plan {e}"))?,
        (None, None) => {
            let given = [
                ("--arrivals", args.arrivals.is_some()),
                ("--max-concurrency", args.max_concurrency.is_some()),
                ("--on-full", args.on_full.is_some()),
            ];
            return match given.iter().find(|(_, g)| *g) {
                Some((flag, _)) => Err(format!("{flag}: needs --arrival-rate or --arrival-plan")),
                None => Ok(None),
            };
        }
    };
    if run_time.is_zero() && args.arrival_rate.is_some() {
        return Err("--arrival-rate: the run time is 0; give -t, such as -t 5m".into());
    }
    let pool = match args.max_concurrency {
        Some(n) => n,
        // Sized for the journeys the arrivals will pick from.
        None => {
            let selected = selected_journeys(args, journeys)?;
            let chosen = journeys
                .only(selected.as_deref())
                .map_err(|p| format!("--scenarios {p}: no journey of that name"))?;
            voiceswarm_engine::arrivals::pool_for(&rate, &chosen)
        }
    };
    let (rate, pool) = match worker {
        Some(w) => (
            rate.scaled(1.0 / w.workers as f64),
            pool.div_ceil(w.workers),
        ),
        None => (rate, pool),
    };
    Ok(Some(Load::Arrivals {
        rate,
        process: args.arrivals.unwrap_or(Process::Poisson),
        max_concurrency: pool,
        on_full: args.on_full.unwrap_or(OnFull::Drop),
    }))
}

/// The shape of the load: open arrivals, Goose's test plan, or users (a worker's share of them).
fn load(
    args: &RunArgs,
    journeys: &Journeys,
    preset: &Preset,
    worker: Option<&voiceswarm_model::plan::Worker>,
) -> Result<Load, String> {
    if let Some(arrivals) = arrivals(args, journeys, preset.run_time, worker)? {
        return Ok(arrivals);
    }
    if test_plan_given(&args.goose) {
        return Ok(Load::TestPlan);
    }
    let (users, spawn_rate) = match worker {
        // Each worker runs its share; run.json records the share.
        Some(w) => (w.users(preset.users), w.rate(preset.spawn_rate)),
        None => (preset.users, preset.spawn_rate),
    };
    if let (Some(w), 0) = (worker, users) {
        return Err(format!(
            "--workers {}: more workers than users; worker {} would run none",
            w.workers, w.index
        ));
    }
    let iterations = args.goose.iterations;
    Ok(Load::Users {
        users,
        spawn_rate,
        run_time: (!args.web && iterations.is_none()).then_some(preset.run_time),
        iterations,
    })
}

/// The plan for `args` running `journeys` judged by `targets`, with environment lookups through `env`.
pub fn resolve(
    args: &RunArgs,
    journeys: &Journeys,
    targets: &Input,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RunPlan, String> {
    if args.goose.no_metrics {
        // Goose would refuse it too, in its own configuration's words (`report_file`).
        return Err(
            "--no-metrics: not accepted: voiceswarm's verdict, summary and reports are \
                    made from the run's metrics (Goose's console tables are off unless -v)"
                .into(),
        );
    }
    let mut sources = Sources::new();
    let (users, spawn_rate, run_time) = shape(args, journeys, &env, &mut sources)?;
    let flag_host = args.goose.host.as_deref().map(host).transpose();
    let host = match (
        flag_host.map_err(|e| format!("--host {e}"))?,
        from_env(&env, ENV_HOST, host)?,
    ) {
        (Some(h), _) => Some((h, Source::Flag)),
        (None, Some(h)) => Some((h, Source::Environment)),
        (None, None) => None,
    }
    .map(|(h, source)| {
        sources.insert("host", source);
        h
    });
    let worker = args.worker.resolve()?;
    let preset = Preset {
        users,
        spawn_rate,
        run_time,
    };
    let load = load(args, journeys, &preset, worker.as_ref())?;
    Ok(RunPlan {
        label: label(args, worker.as_ref(), &sources, &preset),
        profile: args.profile.unwrap_or(Profile::Light),
        load,
        journeys: selected_journeys(args, journeys)?,
        host,
        scenario: journeys.input.clone(),
        scenario_hash: journeys.hash.clone(),
        targets: targets.clone(),
        web: args.web,
        client: args.client,
        think_scale: args.journey.think_scale,
        csv: args.csv.clone(),
        html: args.html.clone(),
        worker,
        headers: Headers::parse(&args.journey.headers, env(ENV_API_KEY).as_deref())?,
        labels: Labels::resolve(&args.labels, env(ENV_LABELS).as_deref())?,
        export: ExportPlan {
            prometheus_listen: args.prometheus_listen,
            prometheus_linger: args.prometheus_linger,
            prometheus_push: args.prometheus_push.clone(),
            cloudwatch_emf: args.cloudwatch_emf.clone(),
        },
        console: Console {
            verbose: args.goose.verbose,
            goose_tables_every_s: args.goose.running_metrics,
        },
        sources,
    })
}
