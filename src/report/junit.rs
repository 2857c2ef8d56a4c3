//! `junit.xml`: one test case per target, failing ones carrying the observed value, so any CI
//! system shows which latency target broke.

use crate::stats::summary::{Status, Summary};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn render(s: &Summary) -> String {
    let failures = s.verdicts.iter().filter(|v| v.fails()).count();
    let skipped = s
        .verdicts
        .iter()
        .filter(|v| !v.fails() && matches!(v.status, Status::Skipped | Status::NoData))
        .count();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str(&format!(
        "<testsuites name=\"voiceswarm\" tests=\"{}\" failures=\"{failures}\">\n",
        s.verdicts.len()
    ));
    o.push_str(&format!(
        "  <testsuite name=\"voiceswarm.{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
        esc(&s.kind),
        s.verdicts.len(),
        s.totals.duration_s
    ));
    for v in &s.verdicts {
        let (observed, limit) = match (v.observed_ms, v.limit_ms) {
            (_, Some(limit)) => (
                v.observed_ms
                    .map_or("no samples".into(), |x| format!("{x}ms")),
                format!("P{} < {limit}ms", v.percentile.unwrap_or(90.0)),
            ),
            _ => (
                v.observed.map_or("none".into(), |x| format!("{x:.3}")),
                format!("{} limit {}", v.name, v.limit.unwrap_or_default()),
            ),
        };
        o.push_str(&format!(
            "    <testcase classname=\"voiceswarm.targets\" name=\"{}\">",
            esc(&v.name)
        ));
        if v.fails() {
            let msg = format!("{}: observed {observed}, target {limit}", v.name);
            o.push_str(&format!(
                "\n      <failure message=\"{}\" type=\"{:?}\">{}</failure>\n    ",
                esc(&msg),
                v.status,
                esc(&msg)
            ));
        } else if matches!(v.status, Status::Skipped | Status::NoData) {
            let why = v.reason.clone().unwrap_or_default();
            o.push_str(&format!(
                "\n      <skipped message=\"{}\"/>\n    ",
                esc(&why)
            ));
        }
        o.push_str("</testcase>\n");
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}
