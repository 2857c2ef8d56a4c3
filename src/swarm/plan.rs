//! Resolving one immutable run plan from its sources — profile preset < scenario file defaults <
//! environment < explicit flags — and turning it into Goose's configuration.

use super::profile::Profile;
use super::RunArgs;
use crate::scenario::model::RunDefaults;
use goose::config::GooseConfiguration;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a plan value came from, recorded in run.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Default,
    Profile,
    ScenarioFile,
    Environment,
    Flag,
}

/// How users get HTTP clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientMode {
    /// Every user has its own client and connections, like separate devices (Goose's default)
    PerUser,
    /// One client, without cookies, shared by all users: far less memory, pooled connections
    Shared,
}

/// Everything a run needs to know, resolved once.
#[derive(Debug, Clone, Serialize)]
pub struct RunPlan {
    pub label: String,
    pub profile: Option<Profile>,
    pub users: Option<usize>,
    pub spawn_rate: Option<String>,
    pub run_time: Option<String>,
    /// None: the built-in reference backend.
    pub host: Option<String>,
    pub scenario_file: PathBuf,
    pub targets_file: PathBuf,
    pub web: bool,
    pub client: ClientMode,
    /// Locust's `--csv PREFIX`.
    pub csv: Option<String>,
    /// Set when this process is one worker of a distributed run.
    pub worker: Option<super::distributed::Worker>,
    /// FNV-1a of the scenario file's bytes: workers of one run must share it.
    pub scenario_hash: Option<String>,
    /// `--header` values with their values redacted.
    pub headers: Vec<String>,
    pub sources: BTreeMap<&'static str, Source>,
}

/// Environment variables read (between the scenario file and flags).
pub const ENV_USERS: &str = "VOICESWARM_USERS";
pub const ENV_SPAWN_RATE: &str = "VOICESWARM_SPAWN_RATE";
pub const ENV_RUN_TIME: &str = "VOICESWARM_RUN_TIME";
pub const ENV_HOST: &str = "VOICESWARM_HOST";

/// A plan error: names the flag, variable or file field at fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

fn pick<T: Clone>(
    sources: &mut BTreeMap<&'static str, Source>,
    field: &'static str,
    candidates: [(Option<T>, Source); 4],
) -> Option<T> {
    // Highest precedence last.
    let mut chosen = None;
    for (value, source) in candidates {
        if let Some(v) = value {
            chosen = Some(v);
            sources.insert(field, source);
        }
    }
    chosen
}

/// Resolves the plan. `env` looks up environment variables (a parameter so tests need not
/// touch the process environment).
pub fn resolve(
    args: &RunArgs,
    file_defaults: &RunDefaults,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RunPlan, PlanError> {
    let g = &args.goose;
    let mut sources = BTreeMap::new();
    // Without --profile the light preset is the base that everything else overrides.
    let profile = args.profile.unwrap_or(Profile::Light);
    let preset = Some(profile.preset());
    let env_users = match env(ENV_USERS) {
        Some(v) => Some(
            v.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    PlanError(format!(
                        "{ENV_USERS}={v}: expected a whole number of users, at least 1"
                    ))
                })?,
        ),
        None => None,
    };
    let users = pick(
        &mut sources,
        "users",
        [
            (preset.as_ref().map(|p| p.users), Source::Profile),
            (file_defaults.users, Source::ScenarioFile),
            (env_users, Source::Environment),
            (g.users, Source::Flag),
        ],
    );
    let flag_rate = args.spawn_rate.clone().or_else(|| g.increase_rate.clone());
    let spawn_rate = pick(
        &mut sources,
        "spawn_rate",
        [
            (
                preset.as_ref().map(|p| p.spawn_rate.to_string()),
                Source::Profile,
            ),
            (file_defaults.spawn_rate.clone(), Source::ScenarioFile),
            (env(ENV_SPAWN_RATE), Source::Environment),
            (flag_rate, Source::Flag),
        ],
    );
    if let Some(rate) = &spawn_rate {
        let ok = rate
            .trim()
            .parse::<f64>()
            .is_ok_and(|r| r.is_finite() && r > 0.0);
        if !ok {
            return Err(PlanError(format!(
                "--spawn-rate {rate}: expected users per second, a number above 0 such as 2 or 0.5"
            )));
        }
    }
    let run_time = pick(
        &mut sources,
        "run_time",
        [
            (
                preset.as_ref().map(|p| p.run_time.to_string()),
                Source::Profile,
            ),
            (file_defaults.run_time.clone(), Source::ScenarioFile),
            (env(ENV_RUN_TIME), Source::Environment),
            (g.run_time.clone(), Source::Flag),
        ],
    );
    if let Some(t) = &run_time {
        if goose::util::parse_timespan(t).is_none() && t.trim() != "0" {
            return Err(PlanError(format!(
                "--run-time {t}: expected a time such as 90, 30s, 2m or 1h30m (h, m and s only)"
            )));
        }
    }
    let host = pick(
        &mut sources,
        "host",
        [
            (None, Source::Default),
            (None, Source::ScenarioFile),
            (env(ENV_HOST), Source::Environment),
            (g.host.clone(), Source::Flag),
        ],
    );
    if let Some(h) = &host {
        let url = reqwest::Url::parse(h).map_err(|e| {
            PlanError(format!(
                "--host {h}: not a URL ({e}); expected e.g. http://127.0.0.1:8000"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PlanError(format!(
                "--host {h}: expected an http:// or https:// URL"
            )));
        }
    }
    let worker = args.worker.resolve().map_err(PlanError)?;
    let (users, spawn_rate) = match &worker {
        // Each worker runs its share; the plan records the share, run.json the whole.
        Some(w) => (
            users.map(|u| w.users(u)),
            spawn_rate.map(|r| format!("{:.4}", w.rate(r.trim().parse::<f64>().unwrap_or(1.0)))),
        ),
        None => (users, spawn_rate),
    };
    if let (Some(w), Some(0)) = (&worker, users) {
        return Err(PlanError(format!(
            "--workers {}: more workers than users; worker {} would run none",
            w.workers, w.index
        )));
    }
    let overridden = sources.values().any(|s| *s != Source::Profile);
    let label = if let Some(w) = &worker {
        format!("{}-worker{}", w.run_id, w.index)
    } else if args.web {
        "web".to_string()
    } else if args.profile.is_some() || !overridden {
        profile.name().to_string()
    } else {
        "custom".to_string()
    };
    Ok(RunPlan {
        label,
        profile: Some(profile),
        users,
        spawn_rate,
        run_time,
        host,
        scenario_file: args.scenario_file.clone(),
        targets_file: args.targets.clone(),
        web: args.web,
        client: args.client,
        csv: args.csv.clone(),
        worker,
        scenario_hash: std::fs::read(&args.scenario_file)
            .ok()
            .map(|b| format!("{:016x}", fnv1a(&b))),
        headers: args.headers.iter().map(|h| redact_header(h)).collect(),
        sources,
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `Authorization: Bearer abc` → `Authorization: (redacted)`.
pub fn redact_header(h: &str) -> String {
    match h.split_once(':') {
        Some((name, _)) => format!("{}: (redacted)", name.trim()),
        None => "(redacted)".to_string(),
    }
}

/// Whether `--test-plan` was given (Goose keeps the field crate-private; its serialised form
/// shows it).
pub fn test_plan_given(g: &GooseConfiguration) -> bool {
    serde_json::to_value(g).is_ok_and(|v| !v["test_plan"].is_null())
}

/// Goose's configuration for the plan: the user's own Goose flags, plus what the plan sets.
pub fn goose_config(
    plan: &RunPlan,
    mut g: GooseConfiguration,
    host: &str,
    out_dir: &Path,
) -> GooseConfiguration {
    g.host = Some(host.to_string());
    let shaped_elsewhere = test_plan_given(&g);
    if !shaped_elsewhere {
        g.users = plan.users.or(g.users);
        if g.increase_time.is_none() {
            g.increase_rate = plan.spawn_rate.clone();
        }
        if g.iterations.is_none() && !plan.web {
            g.run_time = plan.run_time.clone();
        }
    }
    if g.iterations.is_none() && !shaped_elsewhere {
        // Our recorder cannot see Goose's reset at the end of the ramp up, so neither resets:
        // every figure covers the whole run, in our summary and in Goose's reports alike.
        g.no_reset_metrics = true;
    }
    for name in ["report.html", "report.json", "report.md"] {
        g.report_file
            .push(out_dir.join(name).to_string_lossy().into_owned());
    }
    if let (Some(prefix), None) = (&plan.csv, &g.request_log) {
        g.request_log = Some(format!("{prefix}_requests.csv"));
        g.request_format = Some(goose::logger::GooseLogFormat::Csv);
    }
    if g.running_metrics.is_none() && !plan.web {
        g.running_metrics = Some(15);
    }
    // The telnet Controller would fight over port 5116 between concurrent runs; the dashboard
    // is the controller here.
    g.no_telnet = true;
    if plan.web {
        g.dashboard = true;
        g.dashboard_control = true;
        g.no_autostart = true;
        if g.dashboard_port.is_none() {
            g.dashboard_port = Some(8089);
        }
        let loopback = g
            .dashboard_host
            .as_deref()
            .is_none_or(|h| h == "127.0.0.1" || h == "localhost" || h == "::1" || h == "[::1]");
        // Off loopback, Goose requires a token: never weaken that.
        if loopback && g.dashboard_auth_token.is_none() {
            g.dashboard_no_auth = true;
        }
    }
    g
}
