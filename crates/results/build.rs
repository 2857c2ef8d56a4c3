//! Records the git commit voiceswarm is built from (run.json's `git_commit`) when it is built
//! from a checkout; elsewhere (a packaged crate, no git) nothing is recorded.

use std::path::Path;
use std::process::Command;

fn main() {
    // Rebuild when the checked-out commit changes: HEAD, the branch it points to, packed refs.
    // This crate sits two folders below the checkout's root.
    let git = Path::new("../../.git");
    let head = git.join("HEAD");
    if let Ok(text) = std::fs::read_to_string(&head) {
        println!("cargo:rerun-if-changed={}", head.display());
        if let Some(branch) = text.trim().strip_prefix("ref: ") {
            watch(&git.join(branch));
        }
        watch(&git.join("packed-refs"));
    }
    let out = Command::new("git").args(["rev-parse", "HEAD"]).output();
    if let Some(out) = out.ok().filter(|o| o.status.success()) {
        let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()) {
            println!("cargo:rustc-env=VOICESWARM_GIT_COMMIT={commit}");
        }
    }
}

/// Watches `path` when it exists (a missing path would rerun the script on every build).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
