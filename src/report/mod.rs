//! Writing a run's results: the console summary and one file per format into the run folder,
//! each written atomically (temporary file, then rename).

pub mod console;
pub mod junit;
pub mod markdown;

use crate::stats::{Recording, Summary};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a crash
/// leaves either the old file, no file, or the whole new one — never a truncated one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

fn json_bytes<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}

/// The post-processing files of a run folder.
pub const SUMMARY_JSON: &str = "summary.json";
pub const SUMMARY_MD: &str = "summary.md";
pub const JUNIT_XML: &str = "junit.xml";
pub const HISTOGRAMS_JSON: &str = "histograms.json";
pub const TARGETS_JSON: &str = "targets.json";

/// Writes summary.json, summary.md, junit.xml, histograms.json and a copy of the targets file
/// judged (so `voiceswarm report` can judge the folder again).
pub fn write_results(
    dir: &Path,
    summary: &Summary,
    recording: &Recording,
    targets_source: &str,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files: [(&str, Vec<u8>); 5] = [
        (HISTOGRAMS_JSON, json_bytes(&recording.encode())),
        (TARGETS_JSON, targets_source.as_bytes().to_vec()),
        (SUMMARY_MD, markdown::render(summary).into_bytes()),
        (JUNIT_XML, junit::render(summary).into_bytes()),
        // Last: its presence says the others are complete.
        (SUMMARY_JSON, json_bytes(summary)),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}
