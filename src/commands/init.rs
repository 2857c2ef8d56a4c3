//! `voiceswarm init [DIR]`: writes the built-in journeys, targets and audio out as editable
//! files (and a short README), so a user starts from a copy. Into `scenarios/` by default, where
//! `voiceswarm run` and `probe` then find them; never over an existing file.

use clap::Args;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use voiceswarm_model::fixtures::AUDIO;
use voiceswarm_model::inputs::{BUILT_IN_SCENARIO, BUILT_IN_TARGETS};
use voiceswarm_results::folder::write_atomic;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the files (voiceswarm run looks in ./scenarios by default)
    #[arg(value_name = "DIR", default_value = "scenarios")]
    pub dir: PathBuf,
}

const README_INTRO: &str = "# voiceswarm journeys and targets

Written by `voiceswarm init` from the copies built into voiceswarm; edit them freely.

- `voice_assistant.json`: the voice journeys (scenarios, steps, weights, think times).
- `targets.json`: the latency targets judged after every run and probe.
- `audio/`: the speech the journeys send (16 kHz mono 16-bit WAV), with transcripts.

Run from the folder that holds `scenarios/` and voiceswarm uses these files (and says so), or
name them: `voiceswarm run --scenario-file DIR/voice_assistant.json --targets DIR/targets.json`.
`voiceswarm run --list` shows the journeys as Goose runs them. The format of both files follows.

";

/// The format reference, built in so the README stands alone beside a binary.
const REFERENCE: &str = include_str!("../../scenarios/README.md");

/// The README init writes: what the files are, then the whole format reference.
fn readme() -> String {
    format!(
        "{README_INTRO}{}",
        REFERENCE.replacen("# Scenario files", "## Scenario files", 1)
    )
}

/// Every file init writes: (path under DIR, content).
fn files() -> Vec<(String, Cow<'static, [u8]>)> {
    let mut out: Vec<(String, Cow<'static, [u8]>)> = vec![
        (
            "voice_assistant.json".into(),
            BUILT_IN_SCENARIO.as_bytes().into(),
        ),
        ("targets.json".into(), BUILT_IN_TARGETS.as_bytes().into()),
        ("README.md".into(), readme().into_bytes().into()),
    ];
    for f in AUDIO {
        out.push((format!("audio/{}.wav", f.name), f.wav.into()));
        out.push((
            format!("audio/{}.txt", f.name),
            f.transcript.as_bytes().into(),
        ));
    }
    out
}

/// Writes the files into `dir`; refuses (before writing anything) when one already exists.
pub fn write(dir: &Path) -> Result<usize, String> {
    let files = files();
    if let Some((name, _)) = files.iter().find(|(name, _)| dir.join(name).exists()) {
        return Err(format!(
            "{}: already exists; voiceswarm init never overwrites a file, give another DIR",
            dir.join(name).display()
        ));
    }
    let cannot = |p: &Path, e: std::io::Error| format!("{}: cannot write: {e}", p.display());
    std::fs::create_dir_all(dir.join("audio")).map_err(|e| cannot(dir, e))?;
    for (name, content) in &files {
        let path = dir.join(name);
        write_atomic(&path, content).map_err(|e| cannot(&path, e))?;
    }
    Ok(files.len())
}

pub fn run(args: InitArgs) -> anyhow::Result<u8> {
    let n = write(&args.dir).map_err(anyhow::Error::msg)?;
    println!(
        "Wrote {n} files into {}: voice_assistant.json, targets.json, audio/, README.md",
        args.dir.display()
    );
    if args.dir
        == Path::new(voiceswarm_model::inputs::SCENARIO_PATH)
            .parent()
            .unwrap_or(Path::new(""))
    {
        println!("voiceswarm run and probe use them from this directory on.");
    } else {
        println!(
            "Use them with: voiceswarm run --scenario-file {0}/voice_assistant.json --targets {0}/targets.json",
            args.dir.display()
        );
    }
    Ok(0)
}
