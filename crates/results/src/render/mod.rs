//! Every output voiceswarm renders, behind one interface ([`Renderer`], one implementation per
//! format, as hyperfine's exporters): from a judged run ([`Judged`]) the console summary,
//! summary.md, junit.xml, the verdict in Goose's report.html, summary.json and the data files
//! beside it (here), CloudWatch EMF (`export::cloudwatch`); from trend points the trend page
//! (`trend::page`); from a capacity search its page and chart (the binary's `capacity`). One list
//! ([`run_outputs`]) names a run folder's outputs and [`write_results`] writes them. Renderers
//! only render: every verdict they show was made in `stats`.

pub mod baseline;
pub mod console;
pub mod data;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod offline;
pub mod page;
pub mod words;

use crate::folder::write_atomic;
use std::io;
use std::path::Path;
use voiceswarm_model::stats::{Recording, Summary};

/// One output format, rendered from `I`.
pub trait Renderer<I: ?Sized> {
    /// The file it writes, named in `voiceswarm_model::files`; None when it has no file of its
    /// own in the folder (the console; CloudWatch EMF, written where its flag says).
    fn file_name(&self) -> Option<&str>;

    /// The text. What cannot be rendered (a value JSON cannot hold) is an error, never an empty
    /// file.
    fn render(&self, input: &I) -> io::Result<String>;

    /// Puts the text where it goes: its file in `dir`, written atomically, or else the console.
    fn write(&self, input: &I, dir: &Path) -> io::Result<()> {
        let text = self.render(input)?;
        match self.file_name() {
            Some(name) => write_atomic(&dir.join(name), text.as_bytes()),
            None => {
                print!("{text}");
                Ok(())
            }
        }
    }
}

/// What every run output renders from: a judged run and what it recorded.
#[derive(Debug, Clone, Copy)]
pub struct Judged<'a> {
    pub summary: &'a Summary,
    pub recording: &'a Recording,
}

/// A renderer of judged runs.
pub type RunOutput = dyn for<'a> Renderer<Judged<'a>>;

/// A run folder's outputs, in the order written: histograms.json, the targets judged (so
/// `voiceswarm report` can judge the folder again), summary.md, junit.xml, the verdict in Goose's
/// report.html when the folder has one, and last summary.json, whose presence says the others
/// are complete; then, with `console`, the console summary.
pub fn run_outputs(targets_text: &str, console: bool) -> Vec<Box<RunOutput>> {
    let mut outputs: Vec<Box<RunOutput>> = vec![
        Box::new(data::Histograms),
        Box::new(data::TargetsCopy(targets_text.to_string())),
        Box::new(markdown::Markdown),
        Box::new(junit::JUnit),
        Box::new(html::VerdictSection),
        Box::new(data::SummaryJson),
    ];
    if console {
        outputs.push(Box::new(console::Console));
    }
    outputs
}

/// Writes `run` with every one of `outputs` into `dir`, in order; the first failure is the error.
pub fn write_results(dir: &Path, run: Judged, outputs: &[Box<RunOutput>]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for output in outputs {
        output.write(&run, dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
