//! What `run`, `probe` and `capacity` share, declared once and flattened into each: where the
//! results go, the targets file, the journeys and how they are sent — and the one check of a
//! targets file against the metrics its journeys can record.

use clap::Args;
use std::path::PathBuf;
use voiceswarm_model::inputs::{Input, SCENARIO_PATH, TARGETS_PATH};
use voiceswarm_model::scenario::Journeys;
use voiceswarm_model::stats::Targets;
use voiceswarm_model::units::parse_number_at_least;
use voiceswarm_model::vocab::{metric, stage};

/// Where a command's run folder goes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Results")]
pub struct ResultsArgs {
    /// Write the files into DIR (created, or empty) [default: a new folder under --reports-dir]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where run folders go (reports/<UTC time>-<label>/, and the `latest` link)
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
}

/// The targets file that judges a command's results.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Journeys and targets")]
pub struct TargetsArgs {
    /// The latency targets [default: scenarios/targets.json, else the built-in ones]
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
}

impl TargetsArgs {
    pub fn input(&self) -> Input {
        Input::choose(self.targets.as_deref(), TARGETS_PATH)
    }
}

/// The journeys a load runs and how its requests are sent.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Journeys and targets")]
pub struct JourneyArgs {
    /// The voice journeys [default: scenarios/voice_assistant.json, else the built-in ones]
    #[arg(long, value_name = "FILE")]
    pub scenario_file: Option<PathBuf>,
    #[command(flatten)]
    pub targets: TargetsArgs,
    /// Multiply every think time, listening included (0: no think time, for throughput tests)
    #[arg(long, default_value_t = 1.0, value_name = "F",
          value_parser = |s: &str| parse_number_at_least(s, 0.0))]
    pub think_scale: f64,
    /// A header sent with every request, e.g. 'Authorization: Bearer …' (repeatable; never written to any file)
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Your bot's stream path for every call journey (phone_call), e.g. /media-stream; the host is --host [default: the scenario file's, /ws/twilio]
    #[arg(long, value_name = "PATH")]
    pub call_path: Option<String>,
}

impl JourneyArgs {
    pub fn scenario_input(&self) -> Input {
        Input::choose(self.scenario_file.as_deref(), SCENARIO_PATH)
    }

    /// The journeys, compiled, their call steps pointed at `--call-path` when it is given.
    pub fn load(&self) -> anyhow::Result<Journeys> {
        let mut journeys =
            voiceswarm_model::scenario::load(&self.scenario_input(), "--scenario-file")?;
        if let Some(path) = &self.call_path {
            journeys.set_call_path(path).map_err(anyhow::Error::msg)?;
        }
        Ok(journeys)
    }
}

/// Every metric `journeys` can record: their steps' and calls' names, the backend's
/// Server-Timing stages and the conventional names.
pub fn known_metrics(journeys: &Journeys) -> Vec<String> {
    let mut names: Vec<String> = journeys.metric_names().into_iter().collect();
    names.extend(stage::METRICS.iter().map(|s| s.to_string()));
    names.extend(metric::CONVENTIONAL.iter().map(|s| s.to_string()));
    names
}

/// The targets file, refused when it names a metric the journeys can never record (a typo
/// there would be a permanent NO DATA).
pub fn load_targets(input: &Input, journeys: &Journeys) -> anyhow::Result<(Targets, String)> {
    let (targets, text) = Targets::read(input, "--targets")?;
    let known = known_metrics(journeys);
    targets.check_known(&input.name(), known.iter().map(String::as_str))?;
    Ok((targets, text))
}
