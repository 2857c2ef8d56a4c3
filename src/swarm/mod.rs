//! The Locust-style swarm controller behind `voiceswarm run`: resolves the plan, starts the
//! built-in backend when no host is given, runs the journeys on Goose (headless or with the live
//! dashboard), and post-processes every run into its run folder.

pub mod distributed;
pub mod finish;
pub mod folder;
pub mod plan;
pub mod preflight;
pub mod profile;
mod web;

use crate::backend::BackendConfig;
use crate::measure::server_timing::SERVER_STAGES;
use crate::measure::step::StepContext;
use crate::scenario;
use crate::stats::{Recorder, Targets};
use anyhow::{anyhow, Context};
use clap::Args;
use finish::Finisher;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use plan::ClientMode;
use profile::Profile;
use std::path::PathBuf;
use std::sync::Arc;

/// Environment variable holding an API key, sent as `Authorization: Bearer <key>`.
pub const ENV_API_KEY: &str = "VOICESWARM_API_KEY";

/// Metric names every run accepts targets for (the conventions, whatever the journeys record).
pub const CONVENTIONAL_METRICS: &[&str] = &[
    "stt:transcribe",
    "llm:complete",
    "llm:first_token",
    "tts:synthesize",
    "tts:first_audio",
    "company:lookup",
    "search:query",
    "pipeline:voice_turn",
    "cache:read",
    "cache:write",
];

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub goose: GooseConfiguration,

    /// Named load profile: light 10 users 2/s 2m, medium 50/5/5m, heavy 100/10/10m, stress 200/20/10m
    #[arg(long, value_enum, help_heading = "voiceswarm")]
    pub profile: Option<Profile>,
    /// Users started per second (Locust's name for Goose's --increase-rate)
    #[arg(
        long,
        value_name = "RATE",
        help_heading = "voiceswarm",
        conflicts_with = "increase_rate"
    )]
    pub spawn_rate: Option<String>,
    /// Run without the web UI (the default)
    #[arg(long, help_heading = "voiceswarm", conflicts_with = "web")]
    pub headless: bool,
    /// Serve the web UI (Goose's live dashboard, port 8089) and wait for Start on the page
    #[arg(long, help_heading = "voiceswarm")]
    pub web: bool,
    /// Also copy Goose's HTML report to FILE
    #[arg(long, value_name = "FILE", help_heading = "voiceswarm")]
    pub html: Option<PathBuf>,
    /// Locust's --csv: write every request to PREFIX_requests.csv (Goose's request log, CSV)
    #[arg(long, value_name = "PREFIX", help_heading = "voiceswarm")]
    pub csv: Option<String>,
    /// The voice journeys to run
    #[arg(
        long,
        value_name = "FILE",
        default_value = "scenarios/voice_assistant.json",
        help_heading = "voiceswarm"
    )]
    pub scenario_file: PathBuf,
    /// The latency targets to judge
    #[arg(
        long,
        value_name = "FILE",
        default_value = "scenarios/targets.json",
        help_heading = "voiceswarm"
    )]
    pub targets: PathBuf,
    /// Write the run's files into DIR (default: reports/<UTC time>-<profile>/)
    #[arg(long, value_name = "DIR", help_heading = "voiceswarm")]
    pub out: Option<PathBuf>,
    /// Where run folders go
    #[arg(
        long,
        value_name = "DIR",
        default_value = "reports",
        help_heading = "voiceswarm"
    )]
    pub reports_dir: PathBuf,
    /// A header sent with every request, e.g. 'Authorization: Bearer …' (repeatable; never written to any file)
    #[arg(
        long = "header",
        value_name = "NAME: VALUE",
        help_heading = "voiceswarm"
    )]
    pub headers: Vec<String>,
    /// Multiply every think time, listening included (0: no think time, for throughput tests)
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "F",
        help_heading = "voiceswarm"
    )]
    pub think_scale: f64,
    /// HTTP clients: one per user (like separate devices) or one shared (least memory)
    #[arg(
        long,
        value_enum,
        default_value = "per-user",
        help_heading = "voiceswarm"
    )]
    pub client: ClientMode,

    #[command(flatten)]
    pub worker: distributed::WorkerArgs,

    #[command(flatten)]
    pub backend: BackendConfig,
}

/// `--header` values and the API key variable, as request headers.
fn extra_headers(args: &RunArgs) -> anyhow::Result<reqwest::header::HeaderMap> {
    use reqwest::header::{HeaderName, HeaderValue};
    let mut map = reqwest::header::HeaderMap::new();
    for h in &args.headers {
        let (name, value) = h.split_once(':').ok_or_else(|| {
            anyhow!(
                "--header {}: expected 'Name: value'",
                plan::redact_header(h)
            )
        })?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| anyhow!("--header {}: not a valid header name", name.trim()))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| anyhow!("--header {}: not a valid header value", name))?;
        map.insert(name, value);
    }
    if let Ok(key) = std::env::var(ENV_API_KEY) {
        if !map.contains_key(reqwest::header::AUTHORIZATION) {
            let value = HeaderValue::from_str(&format!("Bearer {}", key.trim()))
                .map_err(|_| anyhow!("{ENV_API_KEY}: not usable in a header"))?;
            map.insert(reqwest::header::AUTHORIZATION, value);
        }
    }
    for v in map.values_mut() {
        v.set_sensitive(true);
    }
    Ok(map)
}

/// Goose's errors, said in one line.
pub fn goose_error_line(e: &GooseError) -> String {
    match e {
        GooseError::InvalidOption {
            option,
            value,
            detail,
        } => {
            format!("{option} {value}: {detail}")
        }
        other => other.to_string(),
    }
}

/// `voiceswarm run`: returns the exit code (0 met, 1 missed); errors are exit code 2.
pub async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let journeys = scenario::load(&args.scenario_file)?;
    let data = journeys.data.clone();
    if args.goose.list {
        // Goose's own --list prints the scenarios with their weights and steps, then exits.
        let recorder = Arc::new(Recorder::new(1));
        let ctx = Arc::new(StepContext {
            recorder,
            data,
            extra_headers: Default::default(),
            think_scale: 1.0,
        });
        let mut g = args.goose;
        g.host.get_or_insert_with(|| "http://127.0.0.1".into());
        scenario::goose::attack(g, &journeys, &ctx)
            .map_err(|e| anyhow!(goose_error_line(&e)))?
            .execute()
            .await
            .map_err(|e| anyhow!(goose_error_line(&e)))?;
        return Ok(0);
    }
    let targets_file = args.targets.display().to_string();
    let targets_text = std::fs::read_to_string(&args.targets)
        .with_context(|| format!("{targets_file}: cannot read"))?;
    let targets = Targets::parse(&targets_text, &targets_file)?;
    let names = journeys.metric_names();
    let known = names
        .iter()
        .map(String::as_str)
        .chain(SERVER_STAGES.iter().copied())
        .chain(CONVENTIONAL_METRICS.iter().copied());
    targets.check_known(&targets_file, known)?;
    let plan = plan::resolve(&args, &journeys.defaults, |k| std::env::var(k).ok())?;
    if !(args.think_scale.is_finite() && args.think_scale >= 0.0) {
        return Err(anyhow!(
            "--think-scale {}: expected a number >= 0",
            args.think_scale
        ));
    }
    let headers = extra_headers(&args)?;

    let (host, backend) =
        preflight::resolve_target(plan.host.as_deref(), &args.backend, "load goes to").await?;
    for s in &journeys.scenarios {
        if let Some(h) = &s.host {
            preflight::check_reachable(h)
                .await
                .map_err(|e| anyhow!("scenario '{}': {e}", s.name))?;
        }
    }
    let out = match &args.out {
        Some(dir) => folder::use_given(dir)?,
        None => folder::create(&args.reports_dir, &plan.label).with_context(|| {
            format!("{}: cannot create a run folder", args.reports_dir.display())
        })?,
    };
    let recorder = Arc::new(Recorder::for_this_machine());
    let ctx = Arc::new(StepContext {
        recorder: recorder.clone(),
        data,
        extra_headers: headers,
        think_scale: args.think_scale,
    });
    let mut goose_config = plan::goose_config(&plan, args.goose, &host, &out);
    let mut dashboard_port = None;
    if plan.web {
        // Port 0 means any free port: pick it here so the page's URL can be printed and watched.
        if goose_config.dashboard_port == Some(0) {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            goose_config.dashboard_port = Some(l.local_addr()?.port());
        }
        dashboard_port = goose_config.dashboard_port;
        goose_config.report_file.clear();
        goose_config.output_dir = Some(out.to_string_lossy().into_owned());
    }
    let co_mitigation = goose_config.co_mitigation.clone();
    let mut attack = scenario::goose::attack(goose_config, &journeys, &ctx)
        .map_err(|e| anyhow!(goose_error_line(&e)))?;
    if plan.client == ClientMode::Shared {
        attack = attack
            .set_client_builder_without_cookies(
                goose::client::GooseClientBuilder::new().without_cookies(),
            )
            .map_err(|e| anyhow!(goose_error_line(&e)))?;
    }
    let finisher = Finisher {
        recorder,
        targets,
        targets_text,
        plan: plan.clone(),
        host: host.clone(),
        co_mitigation,
        html_copy: args.html.clone(),
        reports_root: args.out.is_none().then(|| args.reports_dir.clone()),
    };
    let sigterm = tokio::spawn(async {
        crate::signals::sigterm().await;
        goose::trigger_killswitch("SIGTERM received");
    });
    if let Some(w) = &plan.worker {
        w.wait_for_start().await;
    }
    let code = if let Some(port) = dashboard_port {
        web::run(attack, port, &out, &finisher).await
    } else {
        finisher.headless(attack, &out).await
    };
    sigterm.abort();
    if let Some(b) = backend {
        b.stop().await;
    }
    code
}
