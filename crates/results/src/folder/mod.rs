//! Where results go: run folders (created fresh, never reused, `latest` linked), the `run.json`
//! record each holds, and atomic writes, for every command that writes results.

pub mod atomic;
pub mod record;
pub mod run_folder;
pub mod schema;

pub use atomic::{write_atomic, write_json};
pub use record::{FolderKind, RunRecord};
pub use run_folder::RunFolder;
