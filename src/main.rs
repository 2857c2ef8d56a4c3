//! The `voiceswarm` binary: parse the command line, run the command, map its outcome to the exit
//! code (0 targets met, 1 a target missed, 2 usage, input or runtime error).

use std::process::ExitCode;
use voiceswarm::cli::{self, Command};
use voiceswarm::commands;

fn main() -> ExitCode {
    let cli = match cli::try_parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version: what was asked for, exit 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("voiceswarm: error: {}", cli::error_line(&e));
            return ExitCode::from(2);
        }
    };
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
            Command::Run(args) => commands::run::run(*args).await,
            Command::Probe(args) => commands::probe::run(args).await,
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Report(args) => commands::report::run(args).await,
            Command::Capacity(args) => commands::capacity::run(*args).await,
            Command::Init(args) => commands::init::run(args),
            Command::Trend(args) => commands::trend::run(args),
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
