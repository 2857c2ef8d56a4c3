//! Every file of a run folder, named once: what each command writes and every reader looks for.

/// The record of what a folder holds and how its run ended; written first and again at the end.
pub const RUN_JSON: &str = "run.json";
/// The judged summary; written last, so its presence says the other files are complete.
pub const SUMMARY_JSON: &str = "summary.json";
/// The summary as Markdown tables, and every judged metric's block in the seed's format.
pub const SUMMARY_MD: &str = "summary.md";
/// One JUnit test case per verdict.
pub const JUNIT_XML: &str = "junit.xml";
/// Every metric's HDR histogram, so a folder can be judged again and merged exactly.
pub const HISTOGRAMS_JSON: &str = "histograms.json";
/// The targets the run was judged against, as the file said them.
pub const TARGETS_JSON: &str = "targets.json";
/// Every call and turn of a run, one JSON object per line (`model::turns::CallLine`).
pub const CALLS_JSONL: &str = "calls.jsonl";
/// Goose's HTML report, with voiceswarm's verdict added at the top.
pub const REPORT_HTML: &str = "report.html";
/// Goose's own reports written into every load run's folder.
pub const GOOSE_REPORTS: [&str; 3] = [REPORT_HTML, "report.json", "report.md"];
/// A capacity search's steps and what it found, its chart, and the page with both.
pub const CAPACITY_JSON: &str = "capacity.json";
pub const CAPACITY_SVG: &str = "capacity.svg";
pub const CAPACITY_HTML: &str = "capacity.html";
/// Runs over time, written beside the run folders by `voiceswarm trend`.
pub const TREND_HTML: &str = "trend.html";
pub const TREND_JSON: &str = "trend.json";
/// The link to the newest run folder, beside them.
pub const LATEST: &str = "latest";
