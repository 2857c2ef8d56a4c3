//! Goose's report.html made self-contained: its chart library, which Goose loads from a CDN, is
//! inlined from a pinned copy (Apache ECharts 5.2.2, `assets/echarts/`, licence kept), so the
//! charts draw on a machine without internet; and the page is titled with voiceswarm and the
//! run's label.

/// The pinned chart library, the very file Goose's page asks the CDN for.
const ECHARTS: &str = include_str!("../../assets/echarts/echarts-5.2.2.min.js");
const ECHARTS_CDN: &str = "<script src=\"https://cdn.jsdelivr.net/npm/echarts@";
const GOOSE_TITLE: &str = "<title>Goose Attack Report</title>";

/// `page` with its CDN script tag replaced by the inlined library and its title naming the run.
/// A page without either is returned with what it has changed.
pub fn self_contained(page: &str, label: &str) -> String {
    let mut out = String::with_capacity(page.len() + ECHARTS.len() + 64);
    let mut rest = page;
    if let Some(start) = rest.find(ECHARTS_CDN) {
        if let Some(len) = rest[start..].find("</script>") {
            out.push_str(&rest[..start]);
            out.push_str("<script>");
            out.push_str(ECHARTS);
            out.push_str("</script>");
            rest = &rest[start + len + "</script>".len()..];
        }
    }
    out.push_str(rest);
    let title = format!(
        "<title>voiceswarm {} — Goose Attack Report</title>",
        super::page::esc(label)
    );
    out.replacen(GOOSE_TITLE, &title, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cdn_script_is_inlined_and_the_title_names_the_run() {
        let page = "<html><head><title>Goose Attack Report</title>\n    <script src=\"https://cdn.jsdelivr.net/npm/echarts@5.2.2/dist/echarts.min.js\"></script>\n</head><body></body></html>";
        let out = self_contained(page, "light <x>");
        assert!(!out.contains("https://cdn"), "nothing is fetched");
        assert!(out.contains("<title>voiceswarm light &lt;x&gt; — Goose Attack Report</title>"));
        assert!(out.contains("Licensed to the Apache Software Foundation"));
        assert_eq!(out.matches("<script").count(), 1);
        assert!(out.ends_with("</script>\n</head><body></body></html>"));
    }

    #[test]
    fn the_library_never_closes_its_own_script_tag() {
        assert!(!ECHARTS.contains("</script"));
    }
}
