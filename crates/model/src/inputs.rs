//! Where a command's input files come from — the path its flag gives, else the file under
//! `./scenarios/`, else the copy built into the binary — and reading them, with errors that name
//! the flag. The built-in copies are what `voiceswarm init` writes out.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The default journeys, as committed in scenarios/.
pub const BUILT_IN_SCENARIO: &str = include_str!("../../../scenarios/voice_assistant.json");
/// The default targets, as committed in scenarios/.
pub const BUILT_IN_TARGETS: &str = include_str!("../../../scenarios/targets.json");
/// Where the defaults are looked for on disk, relative to the working directory.
pub const SCENARIO_PATH: &str = "scenarios/voice_assistant.json";
pub const TARGETS_PATH: &str = "scenarios/targets.json";

/// One input file: on disk, or built in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    File(PathBuf),
    /// The built-in copy of the default file with this name.
    BuiltIn(String),
}

impl Input {
    /// The file `given` by a flag; else `default_path` when it exists; else the built-in copy.
    pub fn choose(given: Option<&Path>, default_path: &str) -> Input {
        match given {
            Some(p) => Input::File(p.to_path_buf()),
            None if Path::new(default_path).is_file() => Input::File(default_path.into()),
            None => Input::BuiltIn(
                Path::new(default_path)
                    .file_name()
                    .map_or(default_path.into(), |n| n.to_string_lossy().into_owned()),
            ),
        }
    }

    /// How messages name it: the path, or `built-in targets.json`.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::BuiltIn(n) => format!("built-in {n}"),
        }
    }

    /// Its text; a file that cannot be read is an error naming `flag`, the flag that sets it.
    pub fn read(&self, flag: &str) -> Result<String, String> {
        match self {
            Input::File(p) => std::fs::read_to_string(p)
                .map_err(|e| format!("{flag} {}: cannot read: {e}", p.display())),
            Input::BuiltIn(n) if n == "targets.json" => Ok(BUILT_IN_TARGETS.into()),
            Input::BuiltIn(n) if n == "voice_assistant.json" => Ok(BUILT_IN_SCENARIO.into()),
            Input::BuiltIn(n) => Err(format!("{flag}: no built-in file named {n}")),
        }
    }

    /// A file the input names by a relative path (a scenario's audio): beside the file on
    /// disk, or among the built-in fixtures.
    pub fn read_relative(&self, relative: &str) -> Result<Vec<u8>, String> {
        match self {
            Input::File(p) => {
                let path = p.parent().unwrap_or(Path::new(".")).join(relative);
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
            }
            Input::BuiltIn(_) => crate::fixtures::by_path(relative)
                .map(|f| f.wav.to_vec())
                .ok_or_else(|| format!("{relative}: not among the built-in audio fixtures")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_inputs_read_and_name_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope/targets.json");
        let i = Input::choose(None, missing.to_str().unwrap());
        assert_eq!(i, Input::BuiltIn("targets.json".into()));
        assert_eq!(i.read("--targets").unwrap(), BUILT_IN_TARGETS);
        assert_eq!(i.name(), "built-in targets.json");
        assert!(i
            .read_relative("audio/refund.wav")
            .unwrap()
            .starts_with(b"RIFF"));
        let given = Input::choose(Some(&missing), TARGETS_PATH);
        let e = given.read("--targets").unwrap_err();
        assert!(
            e.starts_with("--targets ") && e.contains("cannot read"),
            "{e}"
        );
    }
}
