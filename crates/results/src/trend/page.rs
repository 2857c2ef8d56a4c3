//! `trend.html`: one self-contained page (inline SVG, no script, no network) — the gate's
//! result, per judged metric P50/P90/P99 across runs with its target line, the error rate and
//! cache hit ratio across runs, every point titled with its labels, profile and host, and the
//! table of runs.

use super::gate::Gate;
use super::scan::Skipped;
use super::Point;
use crate::render::html::esc;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

const W: f64 = 900.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 80.0;
/// At most this many runs are named under a chart; every point is titled.
const X_LABELS: usize = 12;

const STYLE: &str = "<style>body{font-family:sans-serif;margin:1em 2em;color:#222}\
.ok{color:#1a7f37}.bad{color:#cf222e}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:3px 8px;font-size:90%}svg{display:block;margin:1em 0}\
circle:hover{r:6}</style>";

/// One line on a chart: a value per run (None: the run has none).
struct Series<'a> {
    name: &'a str,
    colour: &'a str,
    dashed: bool,
    values: Vec<Option<f64>>,
}

fn x_of(i: usize, n: usize) -> f64 {
    let width = W - LEFT - RIGHT;
    if n <= 1 {
        LEFT + width / 2.0
    } else {
        LEFT + i as f64 * width / (n - 1) as f64
    }
}

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

fn axes(o: &mut String, max: f64, unit: &str, points: &[Point]) {
    let (y0, y1) = (H - BOTTOM, TOP);
    let _ = write!(
        o,
        r#"<path d="M{LEFT} {y1} V{y0} H{}" fill="none" stroke="black"/>"#,
        W - RIGHT
    );
    for i in 0..=4 {
        let v = max * i as f64 / 4.0;
        let y = y0 - (y0 - y1) * i as f64 / 4.0;
        let _ = write!(
            o,
            r##"<text x="{}" y="{}" font-size="11" text-anchor="end">{v:.1}</text><path d="M{LEFT} {y} H{}" stroke="#eee"/>"##,
            LEFT - 6.0,
            y + 4.0,
            W - RIGHT
        );
    }
    let _ = write!(
        o,
        r#"<text x="14" y="{}" font-size="11" transform="rotate(-90 14 {})" text-anchor="middle">{unit}</text>"#,
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0
    );
    let step = points.len().div_ceil(X_LABELS).max(1);
    for (i, p) in points.iter().enumerate().step_by(step) {
        let x = x_of(i, points.len());
        let caption: String = p.caption().chars().take(28).collect();
        let _ = write!(
            o,
            r#"<text x="{x}" y="{}" font-size="10" text-anchor="end" transform="rotate(-30 {x} {})">{}</text>"#,
            y0 + 14.0,
            y0 + 14.0,
            esc(&caption)
        );
    }
}

/// A line chart of `series` across `points`.
fn chart(title: &str, unit: &str, series: &[Series], points: &[Point]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0_f64, |a, &b| a.max(b))
        .max(1e-9)
        * 1.1;
    let y = |v: f64| H - BOTTOM - v / max * (H - TOP - BOTTOM);
    let mut o = format!(
        r#"<h3>{}</h3><svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">"#,
        esc(title)
    );
    axes(&mut o, max, unit, points);
    for (k, s) in series.iter().enumerate() {
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let cmd = if pen_down { 'L' } else { 'M' };
                    let _ = write!(d, "{cmd}{:.1} {:.1} ", x_of(i, points.len()), y(*v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let dash = if s.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = write!(
            o,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
            s.colour
        );
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" font-size="11" fill="{}">{}</text>"#,
            LEFT + 10.0 + 150.0 * k as f64,
            TOP - 10.0,
            s.colour,
            esc(s.name)
        );
        if s.dashed {
            continue;
        }
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    o,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{}
{}: {v:.2} {unit}</title></circle>"#,
                    x_of(i, points.len()),
                    y(*v),
                    s.colour,
                    esc(&run_title(&points[i])),
                    esc(s.name)
                );
            }
        }
    }
    o.push_str("</svg>");
    o
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
    let series = [
        Series {
            name: "P50",
            colour: "#9ecae1",
            dashed: false,
            values: pick(|m| m.p50_ms),
        },
        Series {
            name: "P90",
            colour: "#1f77b4",
            dashed: false,
            values: pick(|m| m.p90_ms),
        },
        Series {
            name: "P99",
            colour: "#9467bd",
            dashed: false,
            values: pick(|m| m.p99_ms),
        },
        Series {
            name: &target_name,
            colour: "#d62728",
            dashed: true,
            values: points
                .iter()
                .map(|p| p.targets.get(metric).map(|t| t.limit_ms))
                .collect(),
        },
    ];
    chart(metric, "ms", &series, points)
}

fn totals_charts(o: &mut String, points: &[Point]) {
    let errors = [
        Series {
            name: "error rate",
            colour: "#ff7f0e",
            dashed: false,
            values: points.iter().map(|p| Some(p.error_rate_percent)).collect(),
        },
        Series {
            name: "limit",
            colour: "#d62728",
            dashed: true,
            values: points.iter().map(|p| p.error_rate_limit_percent).collect(),
        },
    ];
    o.push_str(&chart("Error rate", "%", &errors, points));
    if points.iter().any(|p| p.cache_hit_ratio.is_some()) {
        let cache = [Series {
            name: "cache hit ratio",
            colour: "#2ca02c",
            dashed: false,
            values: points
                .iter()
                .map(|p| p.cache_hit_ratio.map(|r| r * 100.0))
                .collect(),
        }];
        o.push_str(&chart("Cache hit ratio", "%", &cache, points));
    }
    let rps = [Series {
        name: "requests/s",
        colour: "#17becf",
        dashed: false,
        values: points.iter().map(|p| Some(p.rps)).collect(),
    }];
    o.push_str(&chart("Throughput", "requests/s", &rps, points));
}

fn gate_section(o: &mut String, gate: &Gate) {
    let (class, head) = if gate.regressed {
        (
            "bad",
            format!("✗ REGRESSION: {} finding(s)", gate.findings.len()),
        )
    } else {
        ("ok", "✓ No regression".to_string())
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
        let _ = write!(o, "<li class=\"bad\">{}</li>", esc(&f.line()));
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
    dir.join("report.html").display().to_string()
}

fn runs_table(o: &mut String, points: &[Point], skipped: &[Skipped], page_dir: &Path) {
    o.push_str("<h2>Runs, newest first</h2><table><tr><th>Started</th><th>Folder</th><th>Profile</th><th>Host</th><th>Labels</th><th>Result</th><th>Error rate</th></tr>");
    for p in points.iter().rev() {
        let (class, result) = if p.passed {
            ("ok", "✓ met")
        } else {
            ("bad", "✗ missed")
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
    let mut o = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>voiceswarm trend</title>{STYLE}</head><body><h1>voiceswarm trend: {} run(s)</h1>",
        points.len()
    );
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
    o.push_str("</body></html>\n");
    o
}
