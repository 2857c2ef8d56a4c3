//! The command line: `voiceswarm run | probe | serve | report`, parsed with clap. Goose's own
//! options are flattened into `run` (see `swarm::RunArgs`), never re-declared.

use crate::backend::BackendConfig;
use crate::probe::ProbeArgs;
use crate::report_cmd::ReportArgs;
use crate::swarm::RunArgs;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "voiceswarm",
    version,
    about = "Load testing and latency validation for voice-assistant backends (STT → LLM → TTS), on Goose",
    long_about = None,
    after_help = "Exit codes: 0 every target met, 1 a target missed, 2 usage, input or runtime error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load test: voice journeys from a scenario file, Locust-style swarm controls
    Run(Box<RunArgs>),
    /// Measure each component's latency with N sequential calls, plus Redis cache read/write
    Probe(ProbeArgs),
    /// Run the reference voice-assistant backend in the foreground
    Serve(ServeArgs),
    /// Recompute, merge or compare summaries from saved run folders
    Report(ReportArgs),
    /// Find the maximum sustainable load: grow the users until an SLO breaks, then bisect
    Capacity(Box<crate::capacity::CapacityArgs>),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// The cache's Redis (otherwise an in-process cache)
    #[arg(long = "redis-url", env = "REDIS_URL", value_name = "URL")]
    pub redis_url: Option<String>,
    #[command(flatten)]
    pub backend: BackendConfig,
}
