//! voiceswarm's results: run folders and the files in them, every renderer (console, Markdown,
//! JUnit, HTML), the exporters (Prometheus, CloudWatch), trend and charts. Readers of the
//! recorder and of run folders; nothing here runs a load.

pub mod calls_file;
pub mod chart;
pub mod export;
pub mod folder;
pub mod load_run;
pub mod render;
pub mod session;
pub mod trend;
