//! A scenario file's errors, and what compiling it knows about the file to say where they are:
//! the file, the JSON path, and what is accepted.

use crate::inputs::Input;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("{file}: {path}: {detail}")]
pub struct ScenarioError {
    pub file: String,
    /// Where in the file, as a JSON path (`scenarios[0].steps[2].method`).
    pub path: String,
    pub detail: String,
}

/// What compiling needs to know about the file: its name for errors, where its audio is.
pub(super) struct Ctx<'a> {
    pub file: &'a str,
    pub input: &'a Input,
}

impl Ctx<'_> {
    pub fn err(&self, path: impl Into<String>, detail: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            path: path.into(),
            detail: detail.into(),
        }
    }
}
