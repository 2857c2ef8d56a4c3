//! voiceswarm's verdict in the HTML report a user opens: a section added to the top of Goose's
//! report.html with every verdict, the judged metrics' full-response percentiles, and one
//! sentence on what Goose's own (header) times mean.

use super::page::STYLE;
use super::{words, Judged, Renderer};
use std::fmt::Write;
use std::path::Path;
use voiceswarm_model::files::REPORT_HTML;
use voiceswarm_model::stats::Summary;

pub use super::page::esc;

/// The section: verdict line, verdict table, judged metrics, and the note on Goose's times.
pub fn section(s: &Summary) -> String {
    let mut o = String::from(STYLE);
    o.push_str(
        "<div class=\"voiceswarm verdict\" id=\"voiceswarm-verdict\"><h2>voiceswarm verdict</h2>",
    );
    let (class, verdict) = if s.passed {
        ("met", "✓ All performance targets MET".to_string())
    } else {
        (
            "failed",
            format!(
                "✗ {} target(s) MISSED: {}",
                s.missed.len(),
                s.missed.join(", ")
            ),
        )
    };
    let _ = write!(
        o,
        "<p class=\"{class}\"><strong>{}</strong></p>",
        esc(&verdict)
    );
    if !s.labels.is_empty() {
        let _ = write!(o, "<p>Labels: <code>{}</code></p>", esc(&s.labels.text()));
    }
    o.push_str("<table><tr><th>Check</th><th>Observed</th><th>Target</th><th>Status</th></tr>");
    for v in &s.verdicts {
        let class = if v.fails() { "failed" } else { "met" };
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{} {}</td></tr>",
            esc(&v.name),
            esc(&words::observed(v)),
            esc(&words::target(v)),
            words::mark(v),
            words::status(v)
        );
    }
    o.push_str("</table><h3>Judged metrics, full response (ms)</h3><table><tr><th>Metric</th><th>Count</th><th>P50</th><th>P90</th><th>P95</th><th>P99</th><th>Max</th></tr>");
    for m in s.metrics.iter().filter(|m| s.verdict(&m.name).is_some()) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            esc(&m.name), m.count, m.median_ms, m.p90_ms, m.p95_ms, m.p99_ms, m.max_ms
        );
    }
    o.push_str(
        "</table><p><small>voiceswarm times a step to the end of its response body (first-byte \
         metrics such as <code>pipeline:voice_turn</code> to its first byte), and judges those \
         times; a judged percentile's 95% confidence interval follows it in brackets, and \
         <em>inconclusive</em> means that interval straddles the limit; summary.json holds every \
         metric. Goose's tables below time each request only until \
         its response headers arrive, which for streamed replies (speech, tokens) is before any \
         audio or token, so they read far lower.</small></p></div>",
    );
    o
}

/// Adds the section to the top of the HTML report at `path` (after Goose's title), and makes the
/// page self-contained (`offline`). A report that is not there is left alone: the run's other
/// files carry the verdict.
pub fn add_to_report(path: &Path, s: &Summary) -> std::io::Result<()> {
    let page = match std::fs::read_to_string(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let page = super::offline::self_contained(&page, &s.label);
    let section = section(s);
    let at = ["</h1>", "<body>"]
        .iter()
        .find_map(|marker| page.find(marker).map(|i| i + marker.len()))
        .unwrap_or(page.len());
    let mut out = String::with_capacity(page.len() + section.len());
    out.push_str(&page[..at]);
    out.push_str(&section);
    out.push_str(&page[at..]);
    crate::folder::write_atomic(path, out.as_bytes())
}

/// voiceswarm's verdict, added to the top of Goose's report.html.
pub struct VerdictSection;

impl Renderer<Judged<'_>> for VerdictSection {
    fn file_name(&self) -> Option<&str> {
        Some(REPORT_HTML)
    }

    /// The section alone.
    fn render(&self, run: &Judged) -> std::io::Result<String> {
        Ok(section(run.summary))
    }

    /// Adds the section to the report in `dir`, when there is one.
    fn write(&self, run: &Judged, dir: &Path) -> std::io::Result<()> {
        add_to_report(&dir.join(REPORT_HTML), run.summary)
    }
}
