//! The one chart of voiceswarm's pages (the trend page, the capacity page): a line chart drawn as
//! inline SVG — axes with nice ticks (a right-hand axis when a series asks for one), a legend,
//! solid lines whose every point is marked and titled, dashed lines for targets, and vertical
//! marks (the capacity's knee). Its geometry is public ([`Frame`]) so tests can check where
//! things land.

use crate::render::page::esc;
use std::fmt::Write;

/// Intervals between ticks an axis aims at.
const TICKS: usize = 5;
/// At most this many places on a place axis are named; every point is titled.
const PLACE_NAMES: usize = 12;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
/// The right margin when there is a right-hand axis.
const RIGHT_AXIS: f64 = 70.0;
/// The title's band, then one band per legend row.
const TITLE: f64 = 30.0;
const LEGEND_ROW: f64 = 16.0;
const BOTTOM_VALUES: f64 = 50.0;
const BOTTOM_PLACES: f64 = 80.0;

/// What the x axis shows.
#[derive(Debug, Clone)]
pub enum XAxis {
    /// Numbers from 0, with nice ticks (the capacity's load).
    Values { label: String },
    /// One place per item, evenly spread and named by its caption (the trend's runs); a
    /// point's x is its place's index.
    Places { captions: Vec<String> },
}

/// One point of a series; `y` None is a gap (the line is broken there).
#[derive(Debug, Clone)]
pub struct Point {
    pub x: f64,
    pub y: Option<f64>,
    /// What hovering over the point says.
    pub title: Option<String>,
}

/// One line: solid with its points marked, or dashed (a target) without.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub colour: String,
    pub dashed: bool,
    /// Drawn against the right-hand axis.
    pub right: bool,
    pub points: Vec<Point>,
}

/// A vertical line at `x`, labelled (the knee).
#[derive(Debug, Clone)]
pub struct Mark {
    pub x: f64,
    pub label: String,
    pub colour: String,
}

/// A chart, drawn by [`Chart::svg`].
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub x: XAxis,
    pub y_label: String,
    /// The right-hand axis's label (used when a series is `right`).
    pub y2_label: String,
    pub series: Vec<Series>,
    pub marks: Vec<Mark>,
}

/// A nice tick step for an axis from 0 to `max` in about `intervals` steps (1, 2 or 5 times a
/// power of ten), and the axis's top: the first tick at or above `max`.
pub fn nice_scale(max: f64, intervals: usize) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / intervals.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    } * magnitude;
    let top = (max / step - 1e-9).ceil().max(1.0) * step;
    (step, top)
}

/// A tick's label: as many decimals as the step needs.
fn tick_text(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// Where a chart's data lands: the plot area in pixels and each axis's scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    /// (tick step, axis top) of x (None for places), y and the right-hand y.
    pub x_scale: Option<(f64, f64)>,
    pub y_scale: (f64, f64),
    pub y2_scale: Option<(f64, f64)>,
    /// How many places a place axis has.
    pub places: usize,
}

impl Frame {
    /// The pixel x of the value (or place index) `v`.
    pub fn x(&self, v: f64) -> f64 {
        let width = self.right - self.left;
        match self.x_scale {
            Some((_, top)) => self.left + v / top * width,
            None if self.places <= 1 => self.left + width / 2.0,
            None => self.left + v * width / (self.places - 1) as f64,
        }
    }

    /// The pixel y of `v` on the left-hand axis.
    pub fn y(&self, v: f64) -> f64 {
        self.bottom - v / self.y_scale.1 * (self.bottom - self.top)
    }

    /// The pixel y of `v` on the right-hand axis (the left one when there is none).
    pub fn y2(&self, v: f64) -> f64 {
        let top = self.y2_scale.unwrap_or(self.y_scale).1;
        self.bottom - v / top * (self.bottom - self.top)
    }

    fn y_of(&self, v: f64, right: bool) -> f64 {
        if right {
            self.y2(v)
        } else {
            self.y(v)
        }
    }
}

/// A number in the SVG: one decimal.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// The largest y of the series on one side.
fn max_y(series: &[Series], right: bool) -> f64 {
    series
        .iter()
        .filter(|s| s.right == right)
        .flat_map(|s| s.points.iter().filter_map(|p| p.y))
        .fold(0.0, f64::max)
}

impl Chart {
    /// The legend's entries: (row, x offset from the plot's left, series).
    fn legend(&self, width: f64) -> Vec<(usize, f64, &Series)> {
        let (mut row, mut x) = (0, 0.0);
        let mut out = Vec::new();
        for s in &self.series {
            let w = 34.0 + 7.0 * s.name.chars().count() as f64;
            if x > 0.0 && x + w > width {
                row += 1;
                x = 0.0;
            }
            out.push((row, x, s));
            x += w;
        }
        out
    }

    /// The frame this chart is drawn in.
    pub fn frame(&self) -> Frame {
        let has_right = self.series.iter().any(|s| s.right);
        let right = self.width - if has_right { RIGHT_AXIS } else { RIGHT };
        let rows = self
            .legend(right - LEFT)
            .last()
            .map_or(0, |(row, _, _)| row + 1);
        let (x_scale, places, bottom) = match &self.x {
            XAxis::Values { .. } => {
                let max = self
                    .series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.x));
                let max = max
                    .chain(self.marks.iter().map(|m| m.x))
                    .fold(0.0, f64::max);
                (Some(nice_scale(max, TICKS)), 0, BOTTOM_VALUES)
            }
            XAxis::Places { captions } => (None, captions.len(), BOTTOM_PLACES),
        };
        Frame {
            left: LEFT,
            right,
            top: TITLE + LEGEND_ROW * rows as f64 + 10.0,
            bottom: self.height - bottom,
            x_scale,
            y_scale: nice_scale(max_y(&self.series, false), TICKS),
            y2_scale: has_right.then(|| nice_scale(max_y(&self.series, true), TICKS)),
            places,
        }
    }

    /// The chart as one `<svg>` element.
    pub fn svg(&self) -> String {
        let f = self.frame();
        let (w, h) = (self.width, self.height);
        let mut o = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12"><rect width="{w}" height="{h}" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="15">{}</text>"#,
            n(w / 2.0),
            esc(&self.title)
        );
        self.draw_legend(&mut o, &f);
        self.draw_y_axes(&mut o, &f);
        self.draw_x_axis(&mut o, &f);
        for s in &self.series {
            draw_series(&mut o, &f, s);
        }
        for m in &self.marks {
            let x = n(f.x(m.x));
            let _ = write!(
                o,
                r#"<line x1="{x}" x2="{x}" y1="{}" y2="{}" stroke="{c}" stroke-width="2"/><text x="{}" y="{}" fill="{c}">{}</text>"#,
                n(f.top),
                n(f.bottom),
                n(f.x(m.x) + 4.0),
                n(f.top + 14.0),
                esc(&m.label),
                c = m.colour
            );
        }
        o.push_str("</svg>");
        o
    }

    fn draw_legend(&self, o: &mut String, f: &Frame) {
        for (row, dx, s) in self.legend(f.right - f.left) {
            let (x, y) = (f.left + dx, TITLE + LEGEND_ROW * (row + 1) as f64 - 4.0);
            let _ = write!(
                o,
                r#"<path d="M{} {} h24" stroke="{c}" stroke-width="2"{}/><text x="{}" y="{}" fill="{c}">{}</text>"#,
                n(x),
                n(y - 4.0),
                dash(s.dashed),
                n(x + 28.0),
                n(y),
                esc(&s.name),
                c = s.colour
            );
        }
    }

    /// The left-hand axis (ticks, grid lines, label) and the right-hand one when there is one.
    fn draw_y_axes(&self, o: &mut String, f: &Frame) {
        let (step, top) = f.y_scale;
        for i in 0..=((top / step).round() as usize) {
            let v = i as f64 * step;
            let y = n(f.y(v));
            let _ = write!(
                o,
                r##"<path d="M{} {y} H{}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                n(f.left),
                n(f.right),
                n(f.left - 6.0),
                n(f.y(v) + 4.0),
                tick_text(v, step)
            );
        }
        let mid = n((f.top + f.bottom) / 2.0);
        let _ = write!(
            o,
            r#"<text x="16" y="{mid}" transform="rotate(-90 16 {mid})" text-anchor="middle">{}</text>"#,
            esc(&self.y_label)
        );
        let mut path = format!(
            "M{} {} V{} H{}",
            n(f.left),
            n(f.top),
            n(f.bottom),
            n(f.right)
        );
        if let Some((step, top)) = f.y2_scale {
            let _ = write!(path, " V{}", n(f.top));
            for i in 0..=((top / step).round() as usize) {
                let v = i as f64 * step;
                let _ = write!(
                    o,
                    r#"<text x="{}" y="{}">{}</text>"#,
                    n(f.right + 6.0),
                    n(f.y2(v) + 4.0),
                    tick_text(v, step)
                );
            }
            let x = n(self.width - 14.0);
            let _ = write!(
                o,
                r#"<text x="{x}" y="{mid}" transform="rotate(90 {x} {mid})" text-anchor="middle">{}</text>"#,
                esc(&self.y2_label)
            );
        }
        let _ = write!(o, r#"<path d="{path}" fill="none" stroke="black"/>"#);
    }

    fn draw_x_axis(&self, o: &mut String, f: &Frame) {
        let y = f.bottom + 16.0;
        match (&self.x, f.x_scale) {
            (XAxis::Values { label }, Some((step, top))) => {
                for i in 0..=((top / step).round() as usize) {
                    let v = i as f64 * step;
                    let _ = write!(
                        o,
                        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                        n(f.x(v)),
                        n(y),
                        tick_text(v, step)
                    );
                }
                let _ = write!(
                    o,
                    r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                    n((f.left + f.right) / 2.0),
                    n(self.height - 12.0),
                    esc(label)
                );
            }
            (XAxis::Places { captions }, _) => {
                let every = captions.len().div_ceil(PLACE_NAMES).max(1);
                for (i, c) in captions.iter().enumerate().step_by(every) {
                    let (x, y) = (n(f.x(i as f64)), n(y - 2.0));
                    let short: String = c.chars().take(28).collect();
                    let _ = write!(
                        o,
                        r#"<text x="{x}" y="{y}" font-size="10" text-anchor="end" transform="rotate(-30 {x} {y})">{}</text>"#,
                        esc(&short)
                    );
                }
            }
            (XAxis::Values { .. }, None) => {}
        }
    }
}

fn dash(dashed: bool) -> &'static str {
    if dashed {
        r#" stroke-dasharray="6 4""#
    } else {
        ""
    }
}

/// A series' line (broken at gaps) and, for a solid one, a titled circle at every point.
fn draw_series(o: &mut String, f: &Frame, s: &Series) {
    let mut d = String::new();
    let mut pen_down = false;
    for p in &s.points {
        match p.y {
            Some(y) => {
                let cmd = if pen_down { 'L' } else { 'M' };
                let _ = write!(d, "{cmd}{} {} ", n(f.x(p.x)), n(f.y_of(y, s.right)));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        o,
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="2"{}/>"#,
        d.trim_end(),
        s.colour,
        dash(s.dashed)
    );
    if s.dashed {
        return;
    }
    for p in &s.points {
        let Some(y) = p.y else { continue };
        let title = match &p.title {
            Some(t) => format!("<title>{}</title>", esc(t)),
            None => String::new(),
        };
        let _ = write!(
            o,
            r#"<circle cx="{}" cy="{}" r="3" fill="{}">{title}</circle>"#,
            n(f.x(p.x)),
            n(f.y_of(y, s.right)),
            s.colour
        );
    }
}

#[cfg(test)]
mod tests;
