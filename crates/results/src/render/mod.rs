//! Rendering a judged summary: one file per format (console text, Markdown, JUnit XML, the
//! baseline comparison), and writing the run folder's result files. Renderers only render: every
//! verdict they show was made in `stats`.

pub mod baseline;
pub mod console;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod page;
pub mod words;

use crate::folder::{write_atomic, write_json};
use std::path::Path;
use voiceswarm_model::files::{HISTOGRAMS_JSON, JUNIT_XML, SUMMARY_JSON, SUMMARY_MD, TARGETS_JSON};
use voiceswarm_model::stats::{Recording, Summary};

/// Writes histograms.json, a copy of the targets judged (so `voiceswarm report` can judge the
/// folder again), summary.md, junit.xml, and last summary.json, whose presence says the others
/// are complete. Any failure — a histogram that cannot be encoded included — is an error.
pub fn write_results(
    dir: &Path,
    summary: &Summary,
    recording: &Recording,
    targets_text: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let encoded = recording.encode().map_err(std::io::Error::other)?;
    write_json(&dir.join(HISTOGRAMS_JSON), &encoded)?;
    write_atomic(&dir.join(TARGETS_JSON), targets_text.as_bytes())?;
    write_atomic(&dir.join(SUMMARY_MD), markdown::render(summary).as_bytes())?;
    write_atomic(&dir.join(JUNIT_XML), junit::render(summary).as_bytes())?;
    write_json(&dir.join(SUMMARY_JSON), summary)
}
