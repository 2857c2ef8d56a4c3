//! voiceswarm: load testing and latency validation for voice-assistant backends, on Goose.
//! This is the library the binary and the tests call; each module owns one part.

pub mod audio;
pub mod backend;
pub mod capacity;
pub mod cli;
pub mod fixtures;
pub mod measure;
pub mod probe;
pub mod report;
pub mod report_cmd;
pub mod scenario;
pub mod signals;
pub mod stats;
pub mod swarm;

/// `voiceswarm serve`: the reference backend in the foreground.
pub async fn serve(args: cli::ServeArgs) -> anyhow::Result<u8> {
    let mut config = args.backend;
    config.backend_redis_url = args.redis_url;
    backend::serve(&config, &format!("{}:{}", args.bind, args.port)).await?;
    Ok(0)
}
