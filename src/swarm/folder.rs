//! The run folder: `reports/<UTC timestamp>-<label>/`, created fresh (never reused or
//! overwritten), its `run.json` (the resolved plan, secrets redacted, and whether the run
//! completed), and the `reports/latest` link.

use crate::report::write_atomic;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Creates a new run folder under `root` named for now and `label`; a name already taken gets
/// `-2`, `-3`, … so a second run never writes into the first one's folder.
pub fn create(root: &Path, label: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(root)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let base = format!("{stamp}-{label}");
    for n in 1..1000 {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = root.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: 999 run folders named {base} already exist",
        root.display()
    )))
}

/// Uses `dir` as given by `--out`: created if missing, refused if it already holds files.
pub fn use_given(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    if std::fs::read_dir(dir)?.next().is_some() {
        return Err(std::io::Error::other(format!(
            "--out {}: the folder is not empty; voiceswarm never overwrites a run's results, give a new folder",
            dir.display()
        )));
    }
    Ok(dir.to_path_buf())
}

/// Points `<root>/latest` at `dir` (best effort: a failure only loses the convenience link).
pub fn link_latest(root: &Path, dir: &Path) {
    #[cfg(unix)]
    {
        let link = root.join("latest");
        let target = dir
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.to_path_buf());
        let tmp = root.join(format!(".latest.tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if std::os::unix::fs::symlink(&target, &tmp).is_ok() {
            let _ = std::fs::rename(&tmp, &link);
        }
    }
}

/// `run.json`: what ran and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord<'a, P: Serialize> {
    pub voiceswarm_version: &'static str,
    pub plan: &'a P,
    pub host: &'a str,
    pub started_at: &'a str,
    pub completed: bool,
    pub interrupted: bool,
    pub ended_at: Option<String>,
    pub duration_s: Option<f64>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

pub fn write_record<P: Serialize>(dir: &Path, record: &RunRecord<'_, P>) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(&dir.join("run.json"), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_reuses_a_folder() {
        let root = tempfile::tempdir().unwrap();
        let a = create(root.path(), "light").unwrap();
        let b = create(root.path(), "light").unwrap();
        assert_ne!(a, b);
        link_latest(root.path(), &b);
        assert_eq!(
            std::fs::read_link(root.path().join("latest")).unwrap(),
            PathBuf::from(b.file_name().unwrap())
        );
        std::fs::write(a.join("x"), "1").unwrap();
        assert!(use_given(&a).unwrap_err().to_string().contains("not empty"));
    }
}
