//! The capacity chart: P90 of every SLO metric and requests/s against the load, with the knee
//! (the maximum sustainable load) marked; an SVG, and an HTML page that embeds it with the step
//! table.

use super::step::StepResult;
use std::fmt::Write;
use voiceswarm_results::render::html::esc;

const W: f64 = 760.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const RPS_COLOUR: &str = "#1f77b4";
const COLOURS: &[&str] = &[
    "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
];

/// The plot's scales: load on x, milliseconds on the left axis, requests/s on the right.
struct Scales {
    max_load: f64,
    max_ms: f64,
    max_rps: f64,
}

impl Scales {
    fn of(steps: &[&StepResult]) -> Self {
        Self {
            max_load: steps.iter().map(|s| s.x()).fold(1e-9, f64::max),
            max_rps: steps.iter().map(|s| s.rps).fold(1.0, f64::max),
            max_ms: steps
                .iter()
                .flat_map(|s| s.metrics.iter().map(|m| m.percentiles.p90_ms))
                .fold(1.0, f64::max),
        }
    }
    fn x(&self, load: f64) -> f64 {
        LEFT + load / self.max_load * (W - LEFT - RIGHT)
    }
    fn y(&self, v: f64, max: f64) -> f64 {
        H - BOTTOM - v / max * (H - TOP - BOTTOM)
    }
}

fn axes(o: &mut String, sc: &Scales, x_label: &str) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = write!(
        o,
        r#"<path d="M{x0} {y1} V{y0} H{x1} V{y1}" fill="none" stroke="black"/>"#
    );
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let (ux, vy) = (x0 + f * (x1 - x0), y0 - f * (y0 - y1));
        let _ = write!(
            o,
            r#"<text x="{ux}" y="{}" text-anchor="middle">{:.0}</text>"#,
            y0 + 16.0,
            f * sc.max_load
        );
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end" fill="{}">{:.0}</text>"#,
            x0 - 6.0,
            vy + 4.0,
            COLOURS[0],
            f * sc.max_ms
        );
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" fill="{RPS_COLOUR}">{:.0}</text>"#,
            x1 + 6.0,
            vy + 4.0,
            f * sc.max_rps
        );
        let _ = write!(
            o,
            r##"<line x1="{x0}" x2="{x1}" y1="{vy}" y2="{vy}" stroke="#eee"/>"##
        );
    }
    let (mid_x, mid_y) = (W / 2.0, H / 2.0);
    let _ = write!(
        o,
        r#"<text x="{mid_x}" y="{}" text-anchor="middle">{}</text>"#,
        H - 20.0,
        esc(x_label)
    );
    let _ = write!(
        o,
        r#"<text x="18" y="{mid_y}" transform="rotate(-90 18 {mid_y})" text-anchor="middle">P90 (ms)</text>"#
    );
    let _ = write!(
        o,
        r#"<text x="{}" y="{mid_y}" transform="rotate(90 {} {mid_y})" text-anchor="middle" fill="{RPS_COLOUR}">requests/s</text>"#,
        W - 14.0,
        W - 14.0
    );
}

fn rps_line(o: &mut String, sc: &Scales, steps: &[&StepResult]) {
    let pts: Vec<String> = steps
        .iter()
        .map(|s| format!("{:.1},{:.1}", sc.x(s.x()), sc.y(s.rps, sc.max_rps)))
        .collect();
    let _ = write!(
        o,
        r#"<polyline points="{}" fill="none" stroke="{RPS_COLOUR}" stroke-width="2" stroke-dasharray="6 3"/>"#,
        pts.join(" ")
    );
}

fn metric_line(o: &mut String, sc: &Scales, steps: &[&StepResult], name: &str, i: usize) {
    let colour = COLOURS[i % COLOURS.len()];
    let pts: Vec<(f64, f64)> = steps
        .iter()
        .filter_map(|s| {
            let m = s.metrics.iter().find(|m| m.name == name)?;
            Some((sc.x(s.x()), sc.y(m.percentiles.p90_ms, sc.max_ms)))
        })
        .collect();
    let line: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = write!(
        o,
        r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
        line.join(" ")
    );
    for (x, y) in &pts {
        let _ = write!(
            o,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"/>"#
        );
    }
    let _ = write!(
        o,
        r#"<text x="{}" y="{}" fill="{colour}">{} P90</text>"#,
        LEFT + 10.0,
        TOP + 14.0 + 14.0 * i as f64,
        esc(name)
    );
}

/// The SVG; `knee` is the maximum sustainable load (users or arrivals/s), if found.
pub fn svg(steps: &[StepResult], slo_names: &[String], knee: Option<f64>) -> String {
    let mut sorted: Vec<&StepResult> = steps.iter().collect();
    sorted.sort_by(|a, b| a.x().total_cmp(&b.x()));
    let arrivals = sorted.iter().any(|s| s.arrival_rate.is_some());
    let unit = if arrivals { "arrivals/s" } else { "users" };
    let sc = Scales::of(&sorted);
    let mut o = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12"><rect width="{W}" height="{H}" fill="white"/><text x="{}" y="22" text-anchor="middle" font-size="15">P90 latency and throughput against the load</text>"#,
        W / 2.0
    );
    axes(&mut o, &sc, unit);
    rps_line(&mut o, &sc, &sorted);
    for (i, name) in slo_names.iter().enumerate() {
        metric_line(&mut o, &sc, &sorted, name, i);
    }
    if let Some(k) = knee {
        let kx = sc.x(k);
        let _ = write!(
            o,
            r#"<line x1="{kx}" x2="{kx}" y1="{TOP}" y2="{}" stroke="green" stroke-width="2"/>"#,
            H - BOTTOM
        );
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" fill="green">capacity: {k} {unit}</text>"#,
            kx + 4.0,
            TOP + 14.0
        );
    }
    o.push_str("</svg>\n");
    o
}

/// A page with the chart and the step table.
pub fn html(svg: &str, steps: &[StepResult], verdict: &str) -> String {
    let mut rows = String::new();
    for s in steps {
        let metrics: Vec<String> = s
            .metrics
            .iter()
            .map(|m| {
                format!(
                    "{} {:.1}/{:.1}/{:.1}",
                    esc(&m.name),
                    m.percentiles.p50_ms,
                    m.percentiles.p90_ms,
                    m.percentiles.p99_ms
                )
            })
            .collect();
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{:.1}</td><td>{:.2}%</td><td>{}</td><td>{}</td></tr>",
            s.arrival_rate
                .map_or(s.users.to_string(), |r| format!("{r}/s")),
            s.rps,
            s.error_rate_percent,
            metrics.join("<br>"),
            if s.passed {
                "✓".to_string()
            } else {
                esc(s.broke.as_deref().unwrap_or("✗"))
            }
        );
    }
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>voiceswarm capacity</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px}}table{{border-collapse:collapse}}</style>\
         <h1>Capacity search</h1><p>{}</p>{svg}<h2>Steps, in the order run</h2>\
         <table><tr><th>Load</th><th>Requests/s</th><th>Errors</th><th>P50/P90/P99 (ms)</th><th>SLOs</th></tr>{rows}</table>",
        esc(verdict)
    )
}
