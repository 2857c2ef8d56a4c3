//! The one HTML shell of voiceswarm's pages — the trend page, the capacity page, and the verdict
//! section added to Goose's report: one style (every rule under `.voiceswarm`, so it leaves the
//! page it is added to alone) and the one escape function, for HTML and XML alike.

/// Text made safe for HTML or XML content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The style of every page and section voiceswarm writes: `met` and `failed` colour a result,
/// each ≥ 4.5:1 against white (WCAG AA); the verdict section has its own white ground, since
/// Goose's report it sits in is dark green, and a large verdict line.
pub const STYLE: &str = "<style>.voiceswarm{font-family:sans-serif;color:#222}\
body.voiceswarm{margin:1em 2em}\
.voiceswarm .met{color:#1a7f37}.voiceswarm .failed{color:#cf222e}\
.voiceswarm table{border-collapse:collapse}\
.voiceswarm td,.voiceswarm th{border:1px solid #ccc;padding:3px 8px;font-size:90%}\
.voiceswarm svg{display:block;margin:1em 0}.voiceswarm circle:hover{r:6}\
.voiceswarm.verdict{border:2px solid #444;padding:0 1em 1em;margin:1em 0;background:#fff}\
.voiceswarm.verdict>p.met,.voiceswarm.verdict>p.failed{font-size:1.4em}</style>";

/// A whole self-contained page (no script, nothing fetched) titled `title`, around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title>{STYLE}</head>\
         <body class=\"voiceswarm\">{body}</body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_makes_text_safe_in_html_and_xml() {
        assert_eq!(
            esc(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_page_has_the_one_style_and_an_escaped_title() {
        let p = page("a <b>", "<p>hi</p>");
        assert!(p.starts_with("<!DOCTYPE html>"));
        assert!(p.contains("<title>a &lt;b&gt;</title>") && p.contains(STYLE));
        assert!(p.contains("<body class=\"voiceswarm\"><p>hi</p></body>"));
    }
}
