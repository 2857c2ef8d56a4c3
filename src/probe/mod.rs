//! `voiceswarm probe`: the component latency probe. N sequential calls per component (after a
//! warm-up), then the whole voice turn, then Redis cache read/write; judged like a load run.

mod redis_cache;

use crate::backend::BackendConfig;
use crate::measure::server_timing;
use crate::measure::server_timing::SERVER_STAGES;
use crate::report::{self, console};
use crate::stats::summary::{FAILURES, REQUESTS};
use crate::stats::{summarize, Recorder, RunInfo, Targets};
use crate::swarm::folder;
use anyhow::{anyhow, Context};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Component {
    Stt,
    Llm,
    Tts,
    Company,
    Search,
    Pipeline,
    Cache,
}

impl Component {
    const ALL: [Component; 7] = [
        Component::Stt,
        Component::Llm,
        Component::Tts,
        Component::Company,
        Component::Search,
        Component::Pipeline,
        Component::Cache,
    ];

    fn name(self) -> &'static str {
        match self {
            Component::Stt => "stt",
            Component::Llm => "llm",
            Component::Tts => "tts",
            Component::Company => "company",
            Component::Search => "search",
            Component::Pipeline => "pipeline",
            Component::Cache => "cache",
        }
    }
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Backend to probe (default: the built-in reference backend)
    #[arg(short = 'H', long, value_name = "URL")]
    pub host: Option<String>,
    /// Measured calls per component
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub samples: u64,
    /// Unmeasured calls per component first
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Only these components (comma separated)
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Component>,
    /// Redis for the cache rows (else a private redis-server, if installed)
    #[arg(long, env = "REDIS_URL", value_name = "URL")]
    pub redis_url: Option<String>,
    /// The latency targets to judge
    #[arg(long, value_name = "FILE", default_value = "scenarios/targets.json")]
    pub targets: PathBuf,
    /// Write the files into DIR (default: reports/<UTC time>-probe/)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where run folders go
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
    /// Seconds each call may take
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub call_timeout: f64,
    #[command(flatten)]
    pub backend: BackendConfig,
}

/// The metric names the probe records.
pub const METRICS: &[&str] = &[
    "stt:transcribe",
    "llm:complete",
    "llm:first_token",
    "llm:stream",
    "tts:first_audio",
    "tts:synthesize",
    "company:lookup",
    "search:query",
    "pipeline:voice_turn",
    "pipeline:voice",
    "cache:read",
    "cache:write",
];

/// What one HTTP call measured.
struct Timed {
    first_byte: Duration,
    full: Duration,
}

struct Prober {
    client: reqwest::Client,
    host: String,
    recorder: Recorder,
    /// Per component: errors and the first error message.
    errors: BTreeMap<&'static str, (u64, String)>,
}

impl Prober {
    /// Sends a request, reads the body to its end, records Server-Timing stages.
    async fn call(&self, req: reqwest::RequestBuilder, expect: u16) -> Result<Timed, String> {
        let start = Instant::now();
        let mut resp = req
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if let Some(st) = resp
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
        {
            self.recorder
                .with_shard(0, |s| server_timing::record(s, st));
        }
        let status = resp.status().as_u16();
        let mut first = None;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("response body: {e}"))?
        {
            first.get_or_insert_with(|| start.elapsed());
            if body.len() < 512 {
                body.extend_from_slice(&chunk[..chunk.len().min(512)]);
            }
        }
        let full = start.elapsed();
        if status != expect {
            let text = String::from_utf8_lossy(&body);
            return Err(format!(
                "HTTP {status} (expected {expect}): {}",
                text.trim()
            ));
        }
        Ok(Timed {
            first_byte: first.unwrap_or(full),
            full,
        })
    }

    fn note_error(&mut self, component: &'static str, e: String) {
        self.recorder.count(0, FAILURES, 1);
        let entry = self.errors.entry(component).or_insert((0, e));
        entry.0 += 1;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.host.trim_end_matches('/'), path)
    }

    /// One call of an HTTP component; `i` varies the input.
    async fn http_sample(
        &self,
        c: Component,
        i: u64,
    ) -> Result<Vec<(&'static str, Duration)>, String> {
        let fixtures = crate::fixtures::AUDIO;
        let (wav, transcript) = fixtures[i as usize % fixtures.len()];
        let json = |body: serde_json::Value| {
            self.client
                .post(self.url(match c {
                    Component::Llm => "/api/v1/llm",
                    Component::Tts => "/api/v1/tts",
                    _ => "/api/v1/search",
                }))
                .json(&body)
        };
        Ok(match c {
            Component::Stt => {
                let t = self
                    .call(
                        self.client
                            .post(self.url("/api/v1/stt"))
                            .header("content-type", "audio/wav")
                            .body(wav),
                        200,
                    )
                    .await?;
                vec![("stt:transcribe", t.full)]
            }
            Component::Llm => {
                // A fresh message each time: the probe measures the model, not the cache.
                let message = format!("{transcript} (probe {i} {})", std::process::id());
                let plain = self
                    .call(json(serde_json::json!({ "message": message })), 200)
                    .await?;
                let streamed = self
                    .call(
                        self.client
                            .post(self.url("/api/v1/llm/stream"))
                            .json(&serde_json::json!({ "message": format!("{message} streamed") })),
                        200,
                    )
                    .await?;
                vec![
                    ("llm:complete", plain.full),
                    ("llm:first_token", streamed.first_byte),
                    ("llm:stream", streamed.full),
                ]
            }
            Component::Tts => {
                let t = self
                    .call(json(serde_json::json!({ "text": transcript })), 200)
                    .await?;
                vec![
                    ("tts:first_audio", t.first_byte),
                    ("tts:synthesize", t.full),
                ]
            }
            Component::Company => {
                let ids = ["acme", "globex", "initech", "hooli"];
                let t = self
                    .call(
                        self.client.get(
                            self.url(&format!("/api/v1/company/{}", ids[i as usize % ids.len()])),
                        ),
                        200,
                    )
                    .await?;
                vec![("company:lookup", t.full)]
            }
            Component::Search => {
                let t = self
                    .call(
                        json(serde_json::json!({ "query": transcript, "top_k": 3 })),
                        200,
                    )
                    .await?;
                vec![("search:query", t.full)]
            }
            Component::Pipeline => {
                // A new conversation per turn, so the LLM cache does not shortcut it.
                let url = self.url(&format!(
                    "/api/v1/voice?session_id=probe-{}-{i}",
                    std::process::id()
                ));
                let t = self
                    .call(
                        self.client
                            .post(url)
                            .header("content-type", "audio/wav")
                            .body(wav),
                        200,
                    )
                    .await?;
                vec![
                    ("pipeline:voice_turn", t.first_byte),
                    ("pipeline:voice", t.full),
                ]
            }
            Component::Cache => unreachable!("the cache is probed through Redis"),
        })
    }
}

fn progress(c: Component, done: u64, total: u64) {
    if done == total || done.is_multiple_of((total / 4).max(1)) {
        eprintln!("probe: {:<8} {done}/{total}", c.name());
    }
}

/// `voiceswarm probe`: returns the exit code.
pub async fn run(args: ProbeArgs) -> anyhow::Result<u8> {
    let targets_file = args.targets.display().to_string();
    let targets_text = std::fs::read_to_string(&args.targets)
        .with_context(|| format!("{targets_file}: cannot read"))?;
    let targets = Targets::parse(&targets_text, &targets_file)?;
    targets.check_known(
        &targets_file,
        METRICS.iter().copied().chain(SERVER_STAGES.iter().copied()),
    )?;
    if !(args.call_timeout.is_finite() && args.call_timeout > 0.0) {
        return Err(anyhow!(
            "--call-timeout {}: expected seconds above 0",
            args.call_timeout
        ));
    }
    let components: Vec<Component> = if args.only.is_empty() {
        Component::ALL.to_vec()
    } else {
        let mut v = args.only.clone();
        v.sort();
        v.dedup();
        v
    };
    let (host, backend) =
        crate::swarm::preflight::resolve_target(args.host.as_deref(), &args.backend, "probing")
            .await?;
    let out = match &args.out {
        Some(d) => folder::use_given(d)?,
        None => folder::create(&args.reports_dir, "probe")?,
    };
    let started_at = chrono::Utc::now().to_rfc3339();
    let clock = Instant::now();
    let mut p = Prober {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(args.call_timeout))
            .build()?,
        host,
        recorder: Recorder::new(1),
        errors: BTreeMap::new(),
    };
    let mut skipped = BTreeMap::new();
    for &c in &components {
        if c == Component::Cache {
            probe_cache(&mut p, &args, &mut skipped).await;
            continue;
        }
        for i in 0..args.warmup {
            let _ = p.http_sample(c, 1_000_000 + i).await;
        }
        for i in 0..args.samples {
            p.recorder.count(0, REQUESTS, 1);
            match p.http_sample(c, i).await {
                Ok(rows) => {
                    for (metric, took) in rows {
                        p.recorder.record(0, metric, took);
                    }
                }
                Err(e) => p.note_error(c.name(), e),
            }
            progress(c, i + 1, args.samples);
        }
    }
    if !components.contains(&Component::Cache) {
        for m in ["cache:read", "cache:write"] {
            skipped.insert(m.to_string(), "not selected with --only".to_string());
        }
    }
    for c in Component::ALL
        .iter()
        .filter(|c| !components.contains(c) && **c != Component::Cache)
    {
        for m in METRICS
            .iter()
            .filter(|m| m.starts_with(&format!("{}:", c.name())))
        {
            skipped.insert(m.to_string(), "not selected with --only".to_string());
        }
    }
    let notes: Vec<String> = p
        .errors
        .iter()
        .map(|(c, (n, first))| format!("{c}: {n} error(s); first: {first}"))
        .collect();
    let recording = p.recorder.snapshot();
    let info = RunInfo {
        kind: "probe".into(),
        label: "probe".into(),
        started_at,
        duration_s: clock.elapsed().as_secs_f64(),
        completed: true,
        interrupted: false,
        coordinated_omission: String::new(),
        skipped,
        notes,
    };
    let mut summary = summarize(&recording, &targets, &info);
    if !p.errors.is_empty() {
        // A component that errored fails the probe even when the error rate target allows it.
        summary.passed = false;
        summary.exit_code = 1;
        for c in p.errors.keys() {
            summary.missed.push(format!("{c} errors"));
        }
    }
    report::write_results(&out, &summary, &recording, &targets_text)
        .with_context(|| format!("{}: cannot write the results", out.display()))?;
    print!("{}", console::render(&summary));
    if args.out.is_none() {
        folder::link_latest(&args.reports_dir, &out);
    }
    println!("Run folder: {}", out.display());
    if let Some(b) = backend {
        b.stop().await;
    }
    Ok(summary.exit_code as u8)
}

/// Cache rows: N timed SET EX and GET of a realistic cached reply (about 3 KB).
async fn probe_cache(p: &mut Prober, args: &ProbeArgs, skipped: &mut BTreeMap<String, String>) {
    let target = match redis_cache::find(args.redis_url.clone()).await {
        Ok(t) => t,
        Err(why) => {
            eprintln!("probe: cache    skipped: {why}");
            skipped.insert("cache:read".into(), why.clone());
            skipped.insert("cache:write".into(), why);
            return;
        }
    };
    let mut conn = match redis_cache::connect(&target.url).await {
        Ok(c) => c,
        Err(e) => {
            p.recorder.count(0, REQUESTS, 1);
            p.note_error("cache", e);
            return;
        }
    };
    let value: String = "The assistant's cached reply. ".repeat(100);
    let pid = std::process::id();
    for i in 0..args.warmup {
        let _ =
            redis_cache::timed_write(&mut conn, &format!("voiceswarm:probe:{pid}:w{i}"), &value)
                .await;
    }
    for i in 0..args.samples {
        let key = format!("voiceswarm:probe:{pid}:{i}");
        p.recorder.count(0, REQUESTS, 2);
        match redis_cache::timed_write(&mut conn, &key, &value).await {
            Ok(t) => p.recorder.record(0, "cache:write", t),
            Err(e) => p.note_error("cache", e),
        }
        match redis_cache::timed_read(&mut conn, &key, value.len()).await {
            Ok(t) => p.recorder.record(0, "cache:read", t),
            Err(e) => p.note_error("cache", e),
        }
        progress(Component::Cache, i + 1, args.samples);
    }
}
