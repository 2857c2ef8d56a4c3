//! The run folder's data files, as renderers: summary.json (the judged summary), histograms.json
//! (every metric's histogram, lossless) and targets.json (the targets judged, as written), and
//! any value as a JSON file (trend.json, capacity.json).

use super::{Judged, Renderer};
use serde::Serialize;
use std::io;
use voiceswarm_model::files::{HISTOGRAMS_JSON, SUMMARY_JSON, TARGETS_JSON};

/// A value as pretty JSON, in the file named.
pub struct Json(pub &'static str);

impl<T: Serialize + ?Sized> Renderer<T> for Json {
    fn file_name(&self) -> Option<&str> {
        Some(self.0)
    }

    fn render(&self, value: &T) -> io::Result<String> {
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|e| io::Error::other(format!("{}: cannot serialise: {e}", self.0)))?;
        text.push('\n');
        Ok(text)
    }
}

/// `summary.json`: the judged summary.
pub struct SummaryJson;

impl Renderer<Judged<'_>> for SummaryJson {
    fn file_name(&self) -> Option<&str> {
        Some(SUMMARY_JSON)
    }

    fn render(&self, run: &Judged) -> io::Result<String> {
        Json(SUMMARY_JSON).render(run.summary)
    }
}

/// `histograms.json`: every metric's HDR histogram, encoded; one that cannot be is an error.
pub struct Histograms;

impl Renderer<Judged<'_>> for Histograms {
    fn file_name(&self) -> Option<&str> {
        Some(HISTOGRAMS_JSON)
    }

    fn render(&self, run: &Judged) -> io::Result<String> {
        let encoded = run.recording.encode().map_err(io::Error::other)?;
        Json(HISTOGRAMS_JSON).render(&encoded)
    }
}

/// `targets.json`: the targets the run was judged against, as their file said them.
pub struct TargetsCopy(pub String);

impl Renderer<Judged<'_>> for TargetsCopy {
    fn file_name(&self) -> Option<&str> {
        Some(TARGETS_JSON)
    }

    fn render(&self, _run: &Judged) -> io::Result<String> {
        Ok(self.0.clone())
    }
}
