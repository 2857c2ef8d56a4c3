//! The capacity search's chart and page, as renderers of its report: P90 of every SLO metric
//! (its limit dashed, when the SLO judges P90) and requests/s against the load, with the knee
//! (the maximum sustainable load) marked — a `chart::Chart` — written alone as capacity.svg and
//! in capacity.html with the step table.

use super::step::StepResult;
use super::{load_text, CapacityReport};
use std::fmt::Write;
use voiceswarm_model::files::{CAPACITY_HTML, CAPACITY_SVG};
use voiceswarm_results::chart::{Chart, Mark, Point, Series, XAxis};
use voiceswarm_results::render::page::{esc, page};
use voiceswarm_results::render::Renderer;

const W: f64 = 760.0;
const H: f64 = 420.0;
const RPS_COLOUR: &str = "#1f77b4";
const COLOURS: &[&str] = &[
    "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
];

/// One metric's P90 at every step that measured it, and its SLO's limit dashed across the
/// chart when the SLO judges P90.
fn metric_lines(report: &CapacityReport, steps: &[&StepResult], i: usize) -> Vec<Series> {
    let name = &report.slo_targets[i].metric;
    let colour = COLOURS[i % COLOURS.len()].to_string();
    let points = steps
        .iter()
        .filter_map(|s| {
            let m = s.metrics.iter().find(|m| &m.name == name)?;
            Some(Point {
                x: s.x(),
                y: Some(m.percentiles.p90_ms),
                title: Some(format!(
                    "{}: {name} P90 {:.1} ms",
                    load_text(s),
                    m.percentiles.p90_ms
                )),
            })
        })
        .collect();
    let mut lines = vec![Series {
        name: format!("{name} P90"),
        colour: colour.clone(),
        dashed: false,
        right: false,
        points,
    }];
    let t = &report.slo_targets[i];
    if t.percentile == 90.0 {
        let limit = t.limit_us / 1000.0;
        let last = steps.last().map_or(1.0, |s| s.x());
        let at = |x| Point {
            x,
            y: Some(limit),
            title: None,
        };
        lines.push(Series {
            name: format!("{name} SLO {limit} ms"),
            colour,
            dashed: true,
            right: false,
            points: vec![at(0.0), at(last)],
        });
    }
    lines
}

/// The chart of the search's steps, in load order.
pub fn chart(report: &CapacityReport) -> Chart {
    let mut steps: Vec<&StepResult> = report.steps.iter().collect();
    steps.sort_by(|a, b| a.x().total_cmp(&b.x()));
    let unit = match steps.iter().any(|s| s.arrival_rate.is_some()) {
        true => "arrivals/s",
        false => "users",
    };
    let mut series: Vec<Series> = (0..report.slo_targets.len())
        .flat_map(|i| metric_lines(report, &steps, i))
        .collect();
    series.push(Series {
        name: "requests/s".into(),
        colour: RPS_COLOUR.into(),
        dashed: false,
        right: true,
        points: steps
            .iter()
            .map(|s| Point {
                x: s.x(),
                y: Some(s.rps),
                title: Some(format!("{}: {:.1} requests/s", load_text(s), s.rps)),
            })
            .collect(),
    });
    let knee = report
        .max_sustainable_arrival_rate
        .or(report.max_sustainable_users.map(|u| u as f64));
    Chart {
        title: "P90 latency and throughput against the load".into(),
        width: W,
        height: H,
        x: XAxis::Values { label: unit.into() },
        y_label: "P90 (ms)".into(),
        y2_label: "requests/s".into(),
        series,
        marks: knee
            .map(|k| Mark {
                x: k,
                label: format!("capacity: {k} {unit}"),
                colour: "green".into(),
            })
            .into_iter()
            .collect(),
    }
}

/// capacity.svg: the chart alone.
pub struct CapacityChart;

impl Renderer<CapacityReport> for CapacityChart {
    fn file_name(&self) -> Option<&str> {
        Some(CAPACITY_SVG)
    }

    fn render(&self, report: &CapacityReport) -> std::io::Result<String> {
        Ok(chart(report).svg() + "\n")
    }
}

/// One row of the step table.
fn step_row(rows: &mut String, s: &StepResult) {
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

/// capacity.html: the verdict, the chart and the step table.
pub struct CapacityPage;

impl Renderer<CapacityReport> for CapacityPage {
    fn file_name(&self) -> Option<&str> {
        Some(CAPACITY_HTML)
    }

    fn render(&self, report: &CapacityReport) -> std::io::Result<String> {
        let mut rows = String::new();
        for s in &report.steps {
            step_row(&mut rows, s);
        }
        let body = format!(
            "<h1>Capacity search</h1><p>{}</p>{}<h2>Steps, in the order run</h2>\
             <table><tr><th>Load</th><th>Requests/s</th><th>Errors</th><th>P50/P90/P99 (ms)</th><th>SLOs</th></tr>{rows}</table>",
            esc(&report.verdict()),
            chart(report).svg()
        );
        Ok(page("voiceswarm capacity", &body))
    }
}
