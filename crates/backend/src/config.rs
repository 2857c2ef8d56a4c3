//! The reference backend's settings: latency model, capacity, cache and faults, as command-line
//! flags (shared by `voiceswarm serve` and the in-process backend) and an optional JSON file.

use super::latency::LatencyModel;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use voiceswarm_model::vocab::Component;

#[derive(Debug, Clone, Args, Serialize)]
pub struct BackendConfig {
    /// JSON file with the latency model: {"stt": {"median_ms": 80, "p90_ms": 86}, ...}
    #[arg(long, value_name = "FILE", help_heading = "Backend")]
    pub latency_config: Option<PathBuf>,
    /// Multiply every simulated service time (0 turns all sleeps off, for throughput tests)
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "F",
        help_heading = "Backend"
    )]
    pub latency_scale: f64,
    /// Every component takes exactly this long (a known ground truth for tests)
    #[arg(long, value_name = "MS", help_heading = "Backend")]
    pub fixed_latency_ms: Option<f64>,
    /// Seed of the latency and fault draws
    #[arg(long, default_value_t = 1, help_heading = "Backend")]
    pub seed: u64,
    /// Concurrent requests each component serves; more wait in its queue
    #[arg(
        id = "workers_per_component",
        long = "workers-per-component",
        default_value_t = 8,
        value_name = "N",
        help_heading = "Backend"
    )]
    pub workers: usize,
    /// Use this Redis as the LLM reply cache (otherwise an in-process cache); `serve` sets it
    /// from `--redis-url`.
    #[arg(skip)]
    pub backend_redis_url: Option<String>,
    /// Seconds a cached LLM reply lives
    #[arg(
        long,
        default_value_t = 300,
        value_name = "SECS",
        help_heading = "Backend"
    )]
    pub cache_ttl: u64,
    /// Fraction of /api requests answered with an injected 503 (0..1)
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "F",
        help_heading = "Backend faults"
    )]
    pub error_rate: f64,
    /// Fraction of /api requests delayed by --slow-ms (0..1)
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "F",
        help_heading = "Backend faults"
    )]
    pub slow_rate: f64,
    /// The delay of a slow response, in milliseconds
    #[arg(
        long,
        default_value_t = 2000,
        value_name = "MS",
        help_heading = "Backend faults"
    )]
    pub slow_ms: u64,
    /// Fraction of /api requests whose connection is dropped mid-response (0..1)
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "F",
        help_heading = "Backend faults"
    )]
    pub drop_rate: f64,
    /// Fraction of streamed responses whose body never finishes (0..1)
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "F",
        help_heading = "Backend faults"
    )]
    pub hang_rate: f64,
    /// Make one component fail every request: stt, llm, tts, company or search
    #[arg(long, value_name = "NAME", help_heading = "Backend faults")]
    pub fail_component: Option<String>,
    /// Refuse /api requests (401) whose Authorization is not `Bearer KEY`
    #[arg(long, value_name = "KEY", help_heading = "Backend")]
    #[serde(skip)]
    pub require_api_key: Option<String>,
    /// Calls: the caller's silence that ends an utterance (the bot's endpointing), in ms
    #[arg(
        long,
        default_value_t = 300,
        value_name = "MS",
        help_heading = "Backend"
    )]
    pub endpoint_ms: u64,
    /// Calls: the longest reply the bot speaks, in ms (a phone bot keeps its answers short)
    #[arg(
        long,
        default_value_t = 2000,
        value_name = "MS",
        help_heading = "Backend"
    )]
    pub call_reply_max_ms: u64,
    /// Calls: append each turn's ground truth to FILE (JSON lines: the last speech in and the
    /// reply's first frame out, stamped at the socket)
    #[arg(long, value_name = "FILE", help_heading = "Backend")]
    pub bot_log: Option<PathBuf>,
    /// Largest request body accepted, in bytes
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES", help_heading = "Backend")]
    pub max_body_bytes: usize,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            latency_config: None,
            latency_scale: 1.0,
            fixed_latency_ms: None,
            seed: 1,
            workers: 8,
            backend_redis_url: None,
            cache_ttl: 300,
            error_rate: 0.0,
            slow_rate: 0.0,
            slow_ms: 2000,
            drop_rate: 0.0,
            hang_rate: 0.0,
            fail_component: None,
            require_api_key: None,
            endpoint_ms: 300,
            call_reply_max_ms: 2000,
            bot_log: None,
            max_body_bytes: 10 * 1024 * 1024,
        }
    }
}

impl BackendConfig {
    /// Checks every value and loads the latency model; errors name the flag or file at fault.
    pub fn resolve_model(&self) -> Result<LatencyModel, String> {
        for (flag, v) in [
            ("--error-rate", self.error_rate),
            ("--slow-rate", self.slow_rate),
            ("--drop-rate", self.drop_rate),
            ("--hang-rate", self.hang_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{flag} {v}: expected a fraction from 0 to 1"));
            }
        }
        if !(self.latency_scale.is_finite() && self.latency_scale >= 0.0) {
            return Err(format!(
                "--latency-scale {}: expected a number >= 0",
                self.latency_scale
            ));
        }
        if self.endpoint_ms == 0 || self.endpoint_ms > 10_000 {
            return Err(format!(
                "--endpoint-ms {}: expected 1 to 10000",
                self.endpoint_ms
            ));
        }
        if self.workers == 0 {
            return Err("--workers-per-component 0: expected at least 1".into());
        }
        if let Some(c) = &self.fail_component {
            if Component::service(c).is_none() {
                let names: Vec<&str> = Component::SERVICES.iter().map(|c| c.name()).collect();
                return Err(format!(
                    "--fail-component {c}: expected one of {}",
                    names.join(", ")
                ));
            }
        }
        let model = match (&self.fixed_latency_ms, &self.latency_config) {
            (Some(_), Some(_)) => {
                return Err("--fixed-latency-ms and --latency-config: give one or the other".into())
            }
            (Some(ms), None) => {
                if !(ms.is_finite() && *ms >= 0.0) {
                    return Err(format!("--fixed-latency-ms {ms}: expected a number >= 0"));
                }
                LatencyModel::fixed(*ms)
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            (None, None) => LatencyModel::default(),
        };
        model.validate().map_err(|e| match &self.latency_config {
            Some(p) => format!("{}: {e}", p.display()),
            None => e,
        })?;
        Ok(model)
    }
}
