//! `junit.xml`: one test case per verdict — latency targets, error rate, throughput, Goose's
//! thresholds, component errors — failing ones carrying what was observed, so any CI system shows
//! which check broke; a latency target's test case carries its percentile, confidence interval
//! and sample count as properties.

use super::page::esc;
use super::{words, Judged, Renderer};
use std::fmt::Write;
use voiceswarm_model::stats::{Check, Status, Summary, Verdict};

/// A latency target's figures as test-case properties: `percentile`, `observed_ms`,
/// `lower_ms`, `upper_ms` (when bounded), `confidence`, `samples`, `inconclusive`.
fn properties(o: &mut String, v: &Verdict) {
    let Check::Latency {
        percentile,
        observed_ms: Some(observed),
        interval: Some(i),
        inconclusive,
        ..
    } = &v.check
    else {
        return;
    };
    let mut props = vec![
        ("percentile", percentile.to_string()),
        ("observed_ms", observed.to_string()),
    ];
    props.extend(i.lower_ms.map(|l| ("lower_ms", l.to_string())));
    props.extend(i.upper_ms.map(|u| ("upper_ms", u.to_string())));
    props.push(("confidence", i.confidence.to_string()));
    props.push(("samples", i.samples.to_string()));
    props.push(("inconclusive", inconclusive.to_string()));
    o.push_str("\n      <properties>");
    for (name, value) in props {
        let _ = write!(o, "<property name=\"{name}\" value=\"{}\"/>", esc(&value));
    }
    o.push_str("</properties>");
}

pub fn render(s: &Summary) -> String {
    let failures = s.verdicts.iter().filter(|v| v.fails()).count();
    let skipped = s
        .verdicts
        .iter()
        .filter(|v| {
            !v.fails()
                && matches!(
                    v.status,
                    Status::Skipped | Status::NotRun | Status::NoData | Status::Inconclusive
                )
        })
        .count();
    let tests = s.verdicts.len();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"voiceswarm\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"voiceswarm.{}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        s.kind.name(),
        s.totals.duration_s
    );
    if !s.labels.is_empty() {
        o.push_str("    <properties>\n");
        for (k, v) in s.labels.iter() {
            let _ = writeln!(
                o,
                "      <property name=\"label.{}\" value=\"{}\"/>",
                esc(k),
                esc(v)
            );
        }
        o.push_str("    </properties>\n");
    }
    for v in &s.verdicts {
        let _ = write!(
            o,
            "    <testcase classname=\"voiceswarm.targets\" name=\"{}\">",
            esc(&v.name)
        );
        properties(&mut o, v);
        if v.fails() {
            let msg = format!(
                "{}: observed {}, target {}",
                v.name,
                words::observed(v),
                words::target(v)
            );
            let _ = write!(
                o,
                "\n      <failure message=\"{}\" type=\"{:?}\">{}</failure>\n    ",
                esc(&msg),
                v.status,
                esc(&msg)
            );
        } else if matches!(
            v.status,
            Status::Skipped | Status::NotRun | Status::NoData | Status::Inconclusive
        ) {
            let why = v.reason.clone().unwrap_or_default();
            let _ = write!(o, "\n      <skipped message=\"{}\"/>\n    ", esc(&why));
        } else if o.ends_with("</properties>") {
            o.push_str("\n    ");
        }
        o.push_str("</testcase>\n");
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}

/// `junit.xml`.
pub struct JUnit;

impl Renderer<Judged<'_>> for JUnit {
    fn file_name(&self) -> Option<&str> {
        Some(voiceswarm_model::files::JUNIT_XML)
    }

    fn render(&self, run: &Judged) -> std::io::Result<String> {
        Ok(render(run.summary))
    }
}
