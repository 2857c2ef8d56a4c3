//! The chart's geometry: ticks, where a point, a target line and a mark land.

use super::*;

fn point(x: f64, y: f64) -> Point {
    Point {
        x,
        y: Some(y),
        title: None,
    }
}

fn series(name: &str, dashed: bool, right: bool, points: Vec<Point>) -> Series {
    Series {
        name: name.into(),
        colour: "#123456".into(),
        dashed,
        right,
        points,
    }
}

/// 600 × 300, load on x: P90 at (10, 50) and (20, 87), a target at 60 ms from 0 to 40.
fn load_chart() -> Chart {
    Chart {
        title: "t".into(),
        width: 600.0,
        height: 300.0,
        x: XAxis::Values {
            label: "users".into(),
        },
        y_label: "ms".into(),
        y2_label: String::new(),
        series: vec![
            series(
                "P90",
                false,
                false,
                vec![point(10.0, 50.0), point(20.0, 87.0)],
            ),
            series(
                "target",
                true,
                false,
                vec![point(0.0, 60.0), point(40.0, 60.0)],
            ),
        ],
        marks: vec![],
    }
}

#[test]
fn nice_scales_step_by_one_two_or_five_and_top_at_a_tick() {
    assert_eq!(nice_scale(87.0, 5), (20.0, 100.0));
    assert_eq!(nice_scale(40.0, 5), (10.0, 40.0));
    assert_eq!(nice_scale(1234.0, 5), (500.0, 1500.0));
    let (step, top) = nice_scale(0.8, 5);
    assert!(
        (step - 0.2).abs() < 1e-12 && (top - 0.8).abs() < 1e-9,
        "{step} {top}"
    );
    // Nothing to show still makes an axis.
    assert_eq!(nice_scale(0.0, 5).1, 1.0);
    assert_eq!(nice_scale(f64::NAN, 5).1, 1.0);
}

#[test]
fn the_frame_follows_the_margins_and_the_nice_scales() {
    let f = load_chart().frame();
    // One legend row: the title's 30 px, 16 px of legend, 10 px of air.
    assert_eq!(
        (f.left, f.right, f.top, f.bottom),
        (70.0, 580.0, 56.0, 250.0)
    );
    assert_eq!(f.x_scale, Some((10.0, 40.0)));
    assert_eq!(f.y_scale, (20.0, 100.0));
    assert_eq!(f.y2_scale, None);
}

#[test]
fn a_known_point_lands_at_its_computed_coordinates() {
    let svg = load_chart().svg();
    // x: 70 + 10/40 × 510 = 197.5; y: 250 − 50/100 × 194 = 153.
    assert!(
        svg.contains(r##"<circle cx="197.5" cy="153.0" r="3" fill="#123456">"##),
        "{svg}"
    );
    // x: 70 + 20/40 × 510 = 325; y: 250 − 87/100 × 194 = 81.22.
    assert!(svg.contains(r#"<circle cx="325.0" cy="81.2""#), "{svg}");
    assert!(svg.contains(r#"d="M197.5 153.0 L325.0 81.2""#), "{svg}");
}

#[test]
fn the_dashed_target_line_sits_at_its_value() {
    let svg = load_chart().svg();
    // 60 ms: 250 − 0.6 × 194 = 133.6, across the plot, dashed, its ends not marked.
    assert!(
        svg.contains(r##"<path d="M70.0 133.6 L580.0 133.6" fill="none" stroke="#123456" stroke-width="2" stroke-dasharray="6 4"/>"##),
        "{svg}"
    );
    assert!(!svg.contains(r#"cy="133.6""#), "{svg}");
}

#[test]
fn the_axis_ticks_are_where_the_scale_puts_them() {
    let svg = load_chart().svg();
    // y ticks 0, 20 … 100: 20 at 250 − 0.2 × 194 = 211.2 (label 4 px lower), a grid line there.
    for (v, y) in [(0, 250.0), (20, 211.2), (100, 56.0)] {
        let grid = format!(r##"<path d="M70.0 {y:.1} H580.0" stroke="#eee"/>"##);
        let label = format!(
            r#"<text x="64.0" y="{:.1}" text-anchor="end">{v}</text>"#,
            y + 4.0
        );
        assert!(svg.contains(&grid) && svg.contains(&label), "{v}: {svg}");
    }
    assert!(!svg.contains(">120</text>"), "no tick above the top: {svg}");
    // x ticks 0, 10 … 40 under the axis: 10 at 197.5.
    for (v, x) in [(0, 70.0), (10, 197.5), (40, 580.0)] {
        let label = format!(r#"<text x="{x:.1}" y="266.0" text-anchor="middle">{v}</text>"#);
        assert!(svg.contains(&label), "{v}: {svg}");
    }
}

#[test]
fn the_legend_names_every_series_with_its_stroke() {
    let svg = load_chart().svg();
    assert!(svg.contains(r##"<path d="M70.0 38.0 h24" stroke="#123456" stroke-width="2"/><text x="98.0" y="42.0" fill="#123456">P90</text>"##), "{svg}");
    // The second entry follows the first (34 + 7 × 3 px) and is dashed like its line.
    assert!(svg.contains(r##"<path d="M125.0 38.0 h24" stroke="#123456" stroke-width="2" stroke-dasharray="6 4"/>"##), "{svg}");
}

#[test]
fn a_right_hand_axis_has_its_own_scale() {
    let mut c = load_chart();
    c.y2_label = "requests/s".into();
    c.series
        .push(series("req/s", false, true, vec![point(20.0, 45.0)]));
    let f = c.frame();
    assert_eq!((f.right, f.y2_scale), (530.0, Some((10.0, 50.0))));
    let svg = c.svg();
    // x: 70 + 20/40 × 460 = 300; y: 250 − 45/50 × 194 = 75.4.
    assert!(svg.contains(r#"<circle cx="300.0" cy="75.4""#), "{svg}");
    assert!(
        svg.contains(r#"<text x="536.0" y="254.0">0</text>"#),
        "{svg}"
    );
    assert!(svg.contains(">requests/s</text>"), "{svg}");
}

#[test]
fn places_spread_evenly_gaps_break_the_line_and_points_are_titled() {
    let c = Chart {
        title: "runs".into(),
        width: 600.0,
        height: 300.0,
        x: XAxis::Places {
            captions: vec!["a".into(), "b<".into(), "c".into()],
        },
        y_label: "ms".into(),
        y2_label: String::new(),
        series: vec![series(
            "P90",
            false,
            false,
            vec![
                Point {
                    x: 0.0,
                    y: Some(10.0),
                    title: Some("run <1>".into()),
                },
                Point {
                    x: 1.0,
                    y: None,
                    title: None,
                },
                point(2.0, 10.0),
            ],
        )],
        marks: vec![],
    };
    let f = c.frame();
    assert_eq!((f.bottom, f.x(1.0)), (220.0, 325.0));
    let svg = c.svg();
    // 10 on a 0–10 axis is the plot's top, 56.
    assert!(svg.contains(r#"d="M70.0 56.0 M580.0 56.0""#), "{svg}");
    assert!(svg.contains("<title>run &lt;1&gt;</title>"), "{svg}");
    assert!(svg.contains(">b&lt;</text>"), "{svg}");
}

#[test]
fn a_mark_is_a_labelled_vertical_line_at_its_x() {
    let mut c = load_chart();
    c.marks.push(Mark {
        x: 30.0,
        label: "capacity: 30 users".into(),
        colour: "green".into(),
    });
    let svg = c.svg();
    // 70 + 30/40 × 510 = 452.5, from the plot's top to its bottom.
    assert!(
        svg.contains(
            r#"<line x1="452.5" x2="452.5" y1="56.0" y2="250.0" stroke="green" stroke-width="2"/>"#
        ),
        "{svg}"
    );
    assert!(svg.contains(">capacity: 30 users</text>"), "{svg}");
}
