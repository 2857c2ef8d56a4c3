//! `voiceswarm serve`: the reference backend in the foreground, until Ctrl-C or SIGTERM.

use clap::Args;
use voiceswarm_backend::BackendConfig;
use voiceswarm_engine::signals::shutdown_signal;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one; the first line printed says which)
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

pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let mut config = args.backend;
    config.backend_redis_url = args.redis_url;
    let addr = format!("{}:{}", args.bind, args.port);
    voiceswarm_backend::serve(&config, &addr, shutdown_signal()).await?;
    Ok(0)
}
