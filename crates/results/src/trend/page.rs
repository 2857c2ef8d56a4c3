//! `trend.html`: one self-contained page (inline SVG, no script, no network) — the gate's
//! result, per judged metric P50/P90/P99 across runs with its target line, the error rate and
//! cache hit ratio across runs (each a `chart::Chart`), every point titled with its labels,
//! profile and host, and the table of runs.

use super::gate::Gate;
use super::scan::Skipped;
use super::Point;
use crate::chart::{self, Chart, Series, XAxis};
use crate::render::page::{esc, page};
use crate::render::Renderer;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;
use voiceswarm_model::files::{REPORT_HTML, TREND_HTML};

const W: f64 = 900.0;
const H: f64 = 300.0;

/// What a point's tooltip says about its run.
fn run_title(p: &Point) -> String {
    let mut t = format!(
        "{}\n{} · {} · {}",
        p.folder, p.started_at, p.profile, p.host
    );
    if !p.labels.is_empty() {
        let _ = write!(t, "\n{}", p.labels.text());
    }
    if let Some(c) = &p.git_commit {
        let _ = write!(t, "\nvoiceswarm {}", c.get(..12).unwrap_or(c));
    }
    t
}

/// One line across the runs: a value per run (None: the run has none).
fn line(name: &str, colour: &str, dashed: bool, values: Vec<Option<f64>>) -> Series {
    Series {
        name: name.to_string(),
        colour: colour.to_string(),
        dashed,
        right: false,
        points: values
            .into_iter()
            .enumerate()
            .map(|(i, y)| chart::Point {
                x: i as f64,
                y,
                title: None,
            })
            .collect(),
    }
}

/// A line chart of `series` across `points`, every point titled with its run and value.
fn chart(title: &str, unit: &str, mut series: Vec<Series>, points: &[Point]) -> String {
    for s in &mut series {
        for p in &mut s.points {
            let run = points.get(p.x as usize);
            p.title =
                p.y.zip(run)
                    .map(|(v, run)| format!("{}\n{}: {v:.2} {unit}", run_title(run), s.name));
        }
    }
    Chart {
        title: title.to_string(),
        width: W,
        height: H,
        x: XAxis::Places {
            captions: points.iter().map(Point::caption).collect(),
        },
        y_label: unit.to_string(),
        y2_label: String::new(),
        series,
        marks: vec![],
    }
    .svg()
}

/// P50, P90 and P99 of `metric` across runs, with its target's limit.
fn metric_chart(metric: &str, points: &[Point]) -> String {
    let pick = |f: fn(&super::Percentiles) -> f64| -> Vec<Option<f64>> {
        points
            .iter()
            .map(|p| p.metrics.get(metric).map(f))
            .collect()
    };
    let target = points.iter().rev().find_map(|p| p.targets.get(metric));
    let target_name = match target {
        Some(t) => format!("target: P{} < {} ms", t.percentile, t.limit_ms),
        None => "target".into(),
    };
    let limits = points
        .iter()
        .map(|p| p.targets.get(metric).map(|t| t.limit_ms))
        .collect();
    let series = vec![
        line("P50", "#9ecae1", false, pick(|m| m.p50_ms)),
        line("P90", "#1f77b4", false, pick(|m| m.p90_ms)),
        line("P99", "#9467bd", false, pick(|m| m.p99_ms)),
        line(&target_name, "#d62728", true, limits),
    ];
    chart(metric, "ms", series, points)
}

fn totals_charts(o: &mut String, points: &[Point]) {
    let errors = vec![
        line(
            "error rate",
            "#ff7f0e",
            false,
            points.iter().map(|p| Some(p.error_rate_percent)).collect(),
        ),
        line(
            "limit",
            "#d62728",
            true,
            points.iter().map(|p| p.error_rate_limit_percent).collect(),
        ),
    ];
    o.push_str(&chart("Error rate", "%", errors, points));
    if points.iter().any(|p| p.cache_hit_ratio.is_some()) {
        let ratios = points.iter().map(|p| p.cache_hit_ratio.map(|r| r * 100.0));
        let cache = vec![line("cache hit ratio", "#2ca02c", false, ratios.collect())];
        o.push_str(&chart("Cache hit ratio", "%", cache, points));
    }
    let rps = points.iter().map(|p| Some(p.rps)).collect();
    let rps = vec![line("requests/s", "#17becf", false, rps)];
    o.push_str(&chart("Throughput", "requests/s", rps, points));
}

fn gate_section(o: &mut String, gate: &Gate) {
    let (class, head) = if gate.regressed {
        (
            "failed",
            format!("✗ REGRESSION: {} finding(s)", gate.findings.len()),
        )
    } else {
        ("met", "✓ No regression".to_string())
    };
    let _ = write!(o, "<h2 class=\"{class}\">{}</h2>", esc(&head));
    if let Some(n) = &gate.newest {
        let _ = write!(
            o,
            "<p>Newest run <code>{}</code> against {} earlier comparable run(s).</p>",
            esc(n),
            gate.baseline.len()
        );
    }
    let _ = write!(o, "<p><small>Rule: {}</small></p><ul>", esc(&gate.rule));
    for f in &gate.findings {
        let _ = write!(o, "<li class=\"failed\">{}</li>", esc(&f.line()));
    }
    for f in &gate.unsettled {
        let _ = write!(o, "<li>? {}</li>", esc(&f.line()));
    }
    o.push_str("</ul>");
}

/// A run's report as a link from the page in `page_dir`: relative when the run is beneath it.
fn report_href(folder: &str, page_dir: &Path) -> String {
    let dir = Path::new(folder);
    let dir = match dir.strip_prefix(page_dir) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
    };
    dir.join(REPORT_HTML).display().to_string()
}

fn runs_table(o: &mut String, points: &[Point], skipped: &[Skipped], page_dir: &Path) {
    o.push_str("<h2>Runs, newest first</h2><table><tr><th>Started</th><th>Folder</th><th>Profile</th><th>Host</th><th>Labels</th><th>Result</th><th>Error rate</th></tr>");
    for p in points.iter().rev() {
        let (class, result) = if p.passed {
            ("met", "✓ met")
        } else {
            ("failed", "✗ missed")
        };
        let _ = write!(
            o,
            "<tr><td>{}</td><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{result}</td><td>{:.2}%</td></tr>",
            esc(&p.started_at),
            esc(&report_href(&p.folder, page_dir)),
            esc(&p.folder),
            esc(&p.profile),
            esc(&p.host),
            esc(&p.labels.text()),
            p.error_rate_percent
        );
    }
    o.push_str("</table>");
    if !skipped.is_empty() {
        o.push_str("<h2>Folders skipped</h2><ul>");
        for s in skipped {
            let _ = write!(
                o,
                "<li><code>{}</code>: {}</li>",
                esc(&s.folder),
                esc(&s.reason)
            );
        }
        o.push_str("</ul>");
    }
}

/// The page for `points` (oldest first), to be written into `page_dir`.
pub fn render(points: &[Point], skipped: &[Skipped], gate: &Gate, page_dir: &Path) -> String {
    let mut o = format!("<h1>voiceswarm trend: {} run(s)</h1>", points.len());
    gate_section(&mut o, gate);
    let judged: BTreeSet<&String> = points.iter().flat_map(|p| p.targets.keys()).collect();
    let (measured, unmeasured): (Vec<&String>, Vec<&String>) = judged
        .into_iter()
        .partition(|m| points.iter().any(|p| p.metrics.contains_key(*m)));
    for metric in measured {
        o.push_str(&metric_chart(metric, points));
    }
    if !unmeasured.is_empty() {
        let names: Vec<&str> = unmeasured.iter().map(|m| m.as_str()).collect();
        let _ = write!(
            o,
            "<p>Targets without samples in any of these runs: {}</p>",
            esc(&names.join(", "))
        );
    }
    totals_charts(&mut o, points);
    runs_table(&mut o, points, skipped, page_dir);
    page("voiceswarm trend", &o)
}

/// trend.html, rendered from the runs (oldest first) with the folders skipped and the gate's
/// result, for the folder `page_dir` (its links to run reports are relative to it).
pub struct TrendPage<'a> {
    pub skipped: &'a [Skipped],
    pub gate: &'a Gate,
    pub page_dir: &'a Path,
}

impl Renderer<[Point]> for TrendPage<'_> {
    fn file_name(&self) -> Option<&str> {
        Some(TREND_HTML)
    }

    fn render(&self, points: &[Point]) -> std::io::Result<String> {
        Ok(render(points, self.skipped, self.gate, self.page_dir))
    }
}
