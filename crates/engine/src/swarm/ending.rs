//! What the engine reads from Goose when a run ends: its threshold results, its most frequent
//! errors and what its coordinated-omission setting means for the figures.

use goose::metrics::{GooseCoordinatedOmissionMitigation, GooseMetrics};

/// The threshold results of Goose's metrics: (rule, observed, passed).
pub fn thresholds_of(metrics: &GooseMetrics) -> Vec<(String, String, bool)> {
    metrics
        .thresholds
        .iter()
        .map(|t| (t.rule.clone(), t.observed.clone(), t.passed))
        .collect()
}

/// The five errors Goose saw most often, with their reasons (a failed check names its step).
pub fn top_errors_of(metrics: &GooseMetrics) -> Vec<(usize, String)> {
    let mut errors: Vec<(usize, String)> = metrics
        .errors
        .values()
        .map(|e| (e.occurrences, e.error.clone()))
        .collect();
    errors.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    errors.truncate(5);
    errors
}

/// What the summary says about coordinated omission, given Goose's setting.
pub fn coordinated_omission_text(m: Option<&GooseCoordinatedOmissionMitigation>) -> String {
    match m {
        None | Some(GooseCoordinatedOmissionMitigation::Disabled) => String::new(),
        Some(m) => format!(
            "Goose's --co-mitigation {m:?} corrects the request tables of Goose's reports \
             (report.html/json/md); every figure in this summary is raw, as measured"
        ),
    }
}
