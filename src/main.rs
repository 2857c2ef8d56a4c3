//! The `voiceswarm` binary: parse the command line, run the command, map its outcome to the exit
//! code (0 targets met, 1 a target missed, 2 usage, input or runtime error).

use clap::Parser;
use std::process::ExitCode;
use voiceswarm::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("voiceswarm: error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => voiceswarm::swarm::run(*args).await,
            Command::Probe(args) => voiceswarm::probe::run(args).await,
            Command::Serve(args) => voiceswarm::serve(args).await,
            Command::Report(args) => voiceswarm::report_cmd::run(args).await,
            Command::Capacity(args) => voiceswarm::capacity::run(*args).await,
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("voiceswarm: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
