//! A scenario file's errors, and what compiling it knows about the file to say where they are:
//! the file, the JSON path, and what is accepted.

use crate::inputs::Input;
use std::fmt;

/// `file: path: detail`; a file that cannot be read at all (no path) is its detail alone, which
/// names the flag and the file.
#[derive(Debug)]
pub struct ScenarioError {
    pub file: String,
    /// Where in the file, as a JSON path (`scenarios[0].steps[2].method`); empty for the file
    /// as a whole.
    pub path: String,
    pub detail: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.detail)
        } else {
            write!(f, "{}: {}: {}", self.file, self.path, self.detail)
        }
    }
}

impl std::error::Error for ScenarioError {}

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
