//! The capacity chart: P90 of every SLO metric and requests/s against users, with the knee (the
//! maximum sustainable load) marked; an SVG, and an HTML page that embeds it with the step table.

use super::StepResult;
use std::fmt::Write;

const W: f64 = 760.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLOURS: &[&str] = &[
    "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG; `knee` is the maximum sustainable users, if found.
pub fn svg(steps: &[StepResult], slo_names: &[String], knee: Option<usize>) -> String {
    let mut sorted: Vec<&StepResult> = steps.iter().collect();
    sorted.sort_by_key(|s| s.users);
    let max_users = sorted.iter().map(|s| s.users).max().unwrap_or(1).max(1) as f64;
    let max_rps = sorted.iter().map(|s| s.rps).fold(1.0, f64::max);
    let max_ms = sorted
        .iter()
        .flat_map(|s| s.metrics.iter().map(|m| m.p90_ms))
        .fold(1.0, f64::max);
    let x = |u: f64| LEFT + u / max_users * (W - LEFT - RIGHT);
    let y_ms = |v: f64| H - BOTTOM - v / max_ms * (H - TOP - BOTTOM);
    let y_rps = |v: f64| H - BOTTOM - v / max_rps * (H - TOP - BOTTOM);
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(o, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = write!(
        o,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">P90 latency and throughput against concurrent users</text>"#,
        W / 2.0
    );
    // Axes and ticks.
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
            f * max_users
        );
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end" fill="{}">{:.0}</text>"#,
            x0 - 6.0,
            vy + 4.0,
            COLOURS[0],
            f * max_ms
        );
        let _ = write!(
            o,
            r##"<text x="{}" y="{}" fill="#1f77b4">{:.0}</text>"##,
            x1 + 6.0,
            vy + 4.0,
            f * max_rps
        );
        let _ = write!(
            o,
            r##"<line x1="{x0}" x2="{x1}" y1="{vy}" y2="{vy}" stroke="#eee"/>"##
        );
    }
    let _ = write!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">users</text>"#,
        W / 2.0,
        H - 20.0
    );
    let _ = write!(
        o,
        r#"<text x="18" y="{}" transform="rotate(-90 18 {})" text-anchor="middle">P90 (ms)</text>"#,
        H / 2.0,
        H / 2.0
    );
    let _ = write!(
        o,
        r##"<text x="{}" y="{}" transform="rotate(90 {} {})" text-anchor="middle" fill="#1f77b4">requests/s</text>"##,
        W - 14.0,
        H / 2.0,
        W - 14.0,
        H / 2.0
    );
    // Requests per second.
    let pts: Vec<String> = sorted
        .iter()
        .map(|s| format!("{:.1},{:.1}", x(s.users as f64), y_rps(s.rps)))
        .collect();
    let _ = write!(
        o,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2" stroke-dasharray="6 3"/>"##,
        pts.join(" ")
    );
    // P90 of each SLO metric.
    for (i, name) in slo_names.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = sorted
            .iter()
            .filter_map(|s| {
                s.metrics
                    .iter()
                    .find(|m| &m.name == name)
                    .map(|m| format!("{:.1},{:.1}", x(s.users as f64), y_ms(m.p90_ms)))
            })
            .collect();
        let _ = write!(
            o,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            pts.join(" ")
        );
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(o, r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#);
        }
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" fill="{colour}">{} P90</text>"#,
            x0 + 10.0,
            y1 + 14.0 + 14.0 * i as f64,
            esc(name)
        );
    }
    if let Some(k) = knee {
        let kx = x(k as f64);
        let _ = write!(
            o,
            r#"<line x1="{kx}" x2="{kx}" y1="{y1}" y2="{y0}" stroke="green" stroke-width="2"/>"#
        );
        let _ = write!(
            o,
            r#"<text x="{}" y="{}" fill="green">capacity: {k} users</text>"#,
            kx + 4.0,
            y1 + 14.0
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
                    m.p50_ms,
                    m.p90_ms,
                    m.p99_ms
                )
            })
            .collect();
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{:.1}</td><td>{:.2}%</td><td>{}</td><td>{}</td></tr>",
            s.users,
            s.rps,
            s.error_rate_percent,
            metrics.join("<br>"),
            if s.passed {
                "✓".to_string()
            } else {
                format!("✗ {}", esc(s.broke.as_deref().unwrap_or("")))
            }
        );
    }
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>voiceswarm capacity</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px}}table{{border-collapse:collapse}}</style>\
         <h1>Capacity search</h1><p>{}</p>{svg}<h2>Steps, in the order run</h2>\
         <table><tr><th>Users</th><th>Requests/s</th><th>Errors</th><th>P50/P90/P99 (ms)</th><th>SLOs</th></tr>{rows}</table>",
        esc(verdict)
    )
}
