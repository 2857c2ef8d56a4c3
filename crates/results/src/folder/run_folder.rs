//! The run folder: `reports/<UTC timestamp>-<label>/`, created fresh (never reused or
//! overwritten), or the empty folder `--out` names; and the `reports/latest` link to the newest.

use std::path::{Path, PathBuf};

/// Where one command's results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFolder {
    pub dir: PathBuf,
    /// The reports folder whose `latest` link points here when the results are complete (None
    /// for a folder given with `--out`).
    root: Option<PathBuf>,
}

impl RunFolder {
    /// The folder `out` names (created when missing, refused when not empty), or a new one under
    /// `reports_dir` named for now and `label`. Errors name the flag or folder at fault.
    pub fn open(out: Option<&Path>, reports_dir: &Path, label: &str) -> Result<Self, String> {
        match out {
            Some(dir) => use_given(dir).map(|dir| Self { dir, root: None }),
            None => create(reports_dir, label)
                .map(|dir| Self {
                    dir,
                    root: Some(reports_dir.to_path_buf()),
                })
                .map_err(|e| format!("{}: cannot create a run folder: {e}", reports_dir.display())),
        }
    }

    /// A file in the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Points `latest` at this folder, when it was made under a reports folder.
    pub fn link_latest(&self) {
        if let Some(root) = &self.root {
            link_latest(root, &self.dir);
        }
    }

    /// The folder of the `n`th run (n > 1) of a web UI session: `<dir>-<n>`, as Goose names it.
    pub fn nth(&self, n: usize) -> Self {
        let mut name = self.dir.as_os_str().to_owned();
        name.push(format!("-{n}"));
        Self {
            dir: PathBuf::from(name),
            root: self.root.clone(),
        }
    }

    /// Removes the folder if nothing was written into it (a run that never started).
    pub fn remove_if_empty(&self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Creates a new run folder under `root` named for now and `label`; a name already taken gets
/// `-2`, `-3`, … so a second run never writes into the first one's folder.
fn create(root: &Path, label: &str) -> std::io::Result<PathBuf> {
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
        "999 run folders named {base} already exist"
    )))
}

/// Uses `dir` as given by `--out`: created if missing, refused if it already holds files.
fn use_given(dir: &Path) -> Result<PathBuf, String> {
    let cannot = |e: std::io::Error| format!("--out {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(cannot)?;
    if std::fs::read_dir(dir).map_err(cannot)?.next().is_some() {
        return Err(format!(
            "--out {}: the folder is not empty; voiceswarm never overwrites a run's results, give a new folder",
            dir.display()
        ));
    }
    Ok(dir.to_path_buf())
}

/// Points `<root>/latest` at `dir` (best effort: a failure only loses the convenience link).
fn link_latest(root: &Path, dir: &Path) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_reuses_a_folder() {
        let root = tempfile::tempdir().unwrap();
        let a = RunFolder::open(None, root.path(), "light").unwrap();
        let b = RunFolder::open(None, root.path(), "light").unwrap();
        assert_ne!(a, b);
        b.link_latest();
        assert_eq!(
            std::fs::read_link(root.path().join("latest")).unwrap(),
            PathBuf::from(b.dir.file_name().unwrap())
        );
        std::fs::write(a.join("x"), "1").unwrap();
        let e = RunFolder::open(Some(&a.dir), root.path(), "x").unwrap_err();
        assert!(e.starts_with("--out ") && e.contains("not empty"), "{e}");
    }
}
