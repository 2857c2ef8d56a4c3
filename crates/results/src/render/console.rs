//! The console PERFORMANCE SUMMARY, as a Locust user expects it: ONE table, a row per metric —
//! count, mean, P50, P90, P95, P99, max, its target and ✓/✗ (targets first, those without data
//! too, then the metrics without one; the backend's `server:*` in one line, the generator's
//! pacing and reading in their verdicts' lines) — then every other
//! verdict, the totals, which journeys got no user, and the final verdict line; each judged
//! percentile's 95 % confidence interval stands beside its result. The seed's
//! per-metric blocks are in summary.md. One function per section.

use super::{words, Judged, Renderer};
use std::fmt::Write;
use voiceswarm_model::stats::not_run::{NOT_IN_FILE, NOT_SELECTED};
use voiceswarm_model::stats::summary::{MetricStats, Summary, Totals};
use voiceswarm_model::stats::{Check, Status, Verdict};

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    header(&mut o, s);
    table(&mut o, s);
    other_verdicts(&mut o, s);
    totals(&mut o, s);
    not_run(&mut o, s);
    verdict_line(&mut o, s);
    o
}

fn header(o: &mut String, s: &Summary) {
    let measurements: u64 = s.metrics.iter().map(|m| m.count).sum();
    let _ = writeln!(o, "PERFORMANCE SUMMARY\n===================");
    let _ = writeln!(o, "Metrics measured: {}", s.metrics.len());
    let _ = writeln!(o, "Total Measurements: {measurements}");
    if !s.labels.is_empty() {
        let _ = writeln!(o, "Labels: {}", s.labels.text());
    }
    if s.interrupted {
        let _ = writeln!(
            o,
            "Run INTERRUPTED after {:.1}s: the figures cover what ran",
            s.totals.duration_s
        );
    }
    if !s.coordinated_omission.is_empty() {
        let _ = writeln!(o, "Coordinated omission: {}", s.coordinated_omission);
    }
}

/// One row of the table: a metric's figures (None: no samples), its target and the result.
struct Row<'a> {
    name: &'a str,
    stats: Option<&'a MetricStats>,
    target: String,
    result: String,
}

/// The percentiles the table shows; a target on another one shows its observed value.
const COLUMNS: [f64; 4] = [50.0, 90.0, 95.0, 99.0];

/// What a latency target asks, as the table says it: `P90 < 500ms, goal 335ms`, `P75 < 80ms
/// (P75 72.10ms)` for a percentile the table has no column for.
fn target_cell(v: &Verdict) -> String {
    let target = words::target(v);
    match v.check {
        Check::Latency {
            percentile,
            observed_ms: Some(x),
            ..
        } if !COLUMNS.contains(&percentile) => format!("{target} (P{percentile} {x:.2}ms)"),
        _ => target,
    }
}

/// How a target came out, with its percentile's 95 % confidence interval: `✓ (298.00–330.10)`,
/// `✓ met, goal missed (…)`, `✗ missed (…)`, `✗ no data`, `– not run`, `– skipped: no Redis`.
fn result_cell(v: &Verdict) -> String {
    let result = match v.status {
        Status::Met if !v.goal_missed() && !v.inconclusive() => words::mark(v).to_string(),
        Status::Skipped => format!(
            "{} skipped: {}",
            words::mark(v),
            v.reason.as_deref().unwrap_or("not measured")
        ),
        _ => format!("{} {}", words::mark(v), words::status(v)),
    };
    match words::interval(v) {
        Some(interval) => format!("{result} {interval}"),
        None => result,
    }
}

/// A target no journey of the run can record: left out of the table, named in one line.
fn not_selected(v: &Verdict) -> bool {
    v.status == Status::Skipped
        && matches!(v.reason.as_deref(), Some(NOT_SELECTED) | Some(NOT_IN_FILE))
}

/// Whether the run made only calls (a call is counted as a request too): then the totals
/// speak of calls.
fn only_calls(t: &Totals) -> bool {
    t.calls.as_ref().is_some_and(|c| c.started == t.requests)
}

/// The rows: every latency target (with data or not) first, then the metrics without one; the
/// backend's own Server-Timing metrics (`server:*`) are left to one line after the table, and the
/// generator's (`call:frame_lateness`, `call:read_lag`) to their verdicts' lines.
fn rows(s: &Summary) -> Vec<Row<'_>> {
    let stats = |name: &str| s.metrics.iter().find(|m| m.name == name);
    let mut rows: Vec<Row> = s
        .verdicts
        .iter()
        .filter(|v| v.is_latency() && !not_selected(v))
        .map(|v| Row {
            name: &v.name,
            stats: stats(&v.name),
            target: target_cell(v),
            result: result_cell(v),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(b.name));
    let judged = |m: &&MetricStats| s.verdict(&m.name).is_some_and(|v| v.is_latency());
    // The generator's own pacing and reading: their P99s are in their verdicts' lines.
    let generators = |m: &&MetricStats| {
        s.verdicts
            .iter()
            .any(|v| matches!(&v.check, Check::Pacing { metric, .. } if *metric == m.name))
    };
    let others = s
        .metrics
        .iter()
        .filter(|m| !judged(m) && !generators(m) && !m.name.starts_with("server:"));
    rows.extend(others.map(|m| Row {
        name: &m.name,
        stats: Some(m),
        target: String::new(),
        result: String::new(),
    }));
    rows
}

/// A row's figures: count, mean, P50, P90, P95, P99, max (dashes without samples).
fn figures(m: Option<&MetricStats>) -> String {
    match m {
        Some(m) => format!(
            "{:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            m.count, m.mean_ms, m.median_ms, m.p90_ms, m.p95_ms, m.p99_ms, m.max_ms
        ),
        None => format!("{:>7}{}", "–", format!(" {:>8}", "–").repeat(6)),
    }
}

/// The one table, a row per metric: count, mean, P50, P90, P95, P99, max, target, ✓/✗.
fn table(o: &mut String, s: &Summary) {
    let rows = rows(s);
    let name_w = rows.iter().map(|r| r.name.len()).fold(11, usize::max);
    let target_w = rows
        .iter()
        .map(|r| r.target.chars().count())
        .fold(6, usize::max);
    let head = format!(
        "{:<name_w$} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  {:<target_w$}  result",
        "metric (ms)", "count", "mean", "P50", "P90", "P95", "P99", "max", "target"
    );
    let _ = writeln!(o, "\n{head}");
    for r in &rows {
        let line = format!(
            "{:<name_w$} {}  {:<target_w$}  {}",
            r.name,
            figures(r.stats),
            r.target,
            r.result
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    server_line(o, s);
    not_selected_line(o, s);
}

/// The targets the selected journeys cannot record, in one line rather than a row each.
fn not_selected_line(o: &mut String, s: &Summary) {
    let names: Vec<&str> = s
        .verdicts
        .iter()
        .filter(|v| not_selected(v))
        .map(|v| v.name.as_str())
        .collect();
    if !names.is_empty() {
        let _ = writeln!(
            o,
            "Not judged: {} targets that no journey of this run records ({})",
            names.len(),
            names.join(", ")
        );
    }
}

/// The backend's Server-Timing metrics (`server:*`) in one line: the system's view of the same
/// requests, in full in summary.md.
fn server_line(o: &mut String, s: &Summary) {
    let server: Vec<&MetricStats> = s
        .metrics
        .iter()
        .filter(|m| m.name.starts_with("server:"))
        .collect();
    if !server.is_empty() {
        let total = match server.iter().find(|m| m.name == "server:total") {
            Some(t) => format!("; server:total P90 {:.2}", t.p90_ms),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "server:* ({} metrics, the backend's Server-Timing{total}): in summary.md",
            server.len()
        );
    }
}

/// Every verdict that is not a latency target: error rate, throughput, Goose's thresholds,
/// component errors.
fn other_verdicts(o: &mut String, s: &Summary) {
    let _ = writeln!(o);
    let t = &s.totals;
    for v in s.verdicts.iter().filter(|v| !v.is_latency()) {
        match &v.check {
            Check::ErrorRate { limit_percent, .. } => {
                let (what, unit) = match only_calls(t) {
                    true => ("Calls failed", "calls"),
                    false => ("Error rate", "requests"),
                };
                let _ = writeln!(
                    o,
                    "{what}: {:.2}% ({} of {} {unit}) {} (Target: ≤ {limit_percent}%)",
                    t.error_rate_percent,
                    t.failures,
                    t.requests,
                    words::mark(v),
                );
            }
            _ => {
                let _ = writeln!(o, "{}", words::line(v));
            }
        }
    }
}

fn totals(o: &mut String, s: &Summary) {
    let t = &s.totals;
    if !t.errors_by_kind.is_empty() {
        let kinds: Vec<String> = t
            .errors_by_kind
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        let _ = writeln!(o, "Errors by kind: {}", kinds.join(", "));
    }
    let unit = if only_calls(t) { "calls" } else { "requests" };
    let cache = match t.cache_hit_ratio {
        Some(r) => format!(
            "; cache hit ratio {:.1}% ({} hits, {} misses)",
            r * 100.0,
            t.cache_hits,
            t.cache_misses
        ),
        None => String::new(),
    };
    let _ = writeln!(
        o,
        "Throughput: {:.1} {unit}/s over {:.1}s{cache}",
        t.rps, t.duration_s
    );
    if let Some(a) = &s.arrivals {
        let _ = writeln!(
            o,
            "Arrivals ({}, {}; {} when all {} users are busy): {} scheduled, {} started, {} dropped, {} queued; \
             in progress: mean {:.1}, max {}",
            a.model, a.rate, a.on_full, a.pool, a.scheduled, a.started, a.dropped, a.queued,
            a.mean_concurrency, a.max_concurrency
        );
        let _ = writeln!(
            o,
            "  arrival:journey times each caller from its arrival (queueing included): free of coordinated omission"
        );
    }
    if let Some(c) = &t.calls {
        let _ = writeln!(
            o,
            "Calls: {} started, {} completed, {} failed, {} cut short by the end of the run; {} stutters, {} barge-ins ignored",
            c.started, c.completed, c.failed, c.cut_short, c.stutters, c.barge_ins_ignored
        );
        if c.redials > 0 {
            let _ = writeln!(
                o,
                "  {} redials: a caller whose call failed waited the call step's redial_pause, then called again",
                c.redials
            );
        }
    }
    for n in &s.notes {
        let _ = writeln!(o, "Note: {n}");
    }
}

/// The journeys no user ran, in one line.
fn not_run(o: &mut String, s: &Summary) {
    if let Some(n) = &s.not_run {
        let _ = writeln!(
            o,
            "Not run: {} got no user ({}: Goose gives each user one journey, by weight); their \
             targets are not judged",
            n.names.join(", "),
            n.users_for_journeys()
        );
    }
}

/// What would settle the inconclusive targets: a line each for one or two, else one line for
/// all (a short run leaves most of them inconclusive, and the verdict must stay in view).
fn settle_lines(o: &mut String, s: &Summary) {
    let unsettled: Vec<&Verdict> = s.verdicts.iter().filter(|v| v.inconclusive()).collect();
    if unsettled.len() <= 2 {
        for v in unsettled {
            if let Some(settle) = words::settle(v) {
                let _ = writeln!(o, "{} inconclusive: {settle}", v.name);
            }
        }
        return;
    }
    let each: Vec<String> = unsettled
        .iter()
        .map(|v| format!("{} {}", v.name, words::samples_and_needed(v)))
        .collect();
    let _ = writeln!(
        o,
        "Inconclusive, too few samples to tell (more time or users settles them): {}",
        each.join(", ")
    );
}

/// The final verdict, with what was not measured or not run beside it.
fn verdict_line(o: &mut String, s: &Summary) {
    let _ = writeln!(o);
    settle_lines(o, s);
    let names = |keep: fn(&Verdict) -> bool| -> Vec<&str> {
        s.verdicts
            .iter()
            .filter(|v| keep(v))
            .map(|v| v.name.as_str())
            .collect()
    };
    let skipped = names(|v| v.status == Status::Skipped && !not_selected(v));
    let unselected = names(not_selected);
    let not_run = names(|v| v.status == Status::NotRun);
    let goals = names(Verdict::goal_missed);
    let mut aside = Vec::new();
    if !skipped.is_empty() {
        aside.push(format!(
            "{} not measured: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    if !not_run.is_empty() {
        aside.push(format!("{} not run: {}", not_run.len(), not_run.join(", ")));
    }
    if !unselected.is_empty() {
        aside.push(format!(
            "{} not recorded by this run's journeys",
            unselected.len()
        ));
    }
    let aside = match aside.is_empty() {
        true => String::new(),
        false => format!(" ({})", aside.join("; ")),
    };
    if s.passed {
        let _ = writeln!(o, "✓ All performance targets MET{aside}");
    } else {
        let judged = s.verdicts.iter().filter(|v| v.judged()).count();
        let _ = writeln!(
            o,
            "✗ {} of {judged} targets MISSED: {}{aside}",
            s.missed.len(),
            s.missed.join(", ")
        );
    }
    if !goals.is_empty() {
        let _ = writeln!(o, "  goal missed (not a failure): {}", goals.join(", "));
    }
}

/// The console summary, printed.
pub struct Console;

impl Renderer<Judged<'_>> for Console {
    fn file_name(&self) -> Option<&str> {
        None
    }

    fn render(&self, run: &Judged) -> std::io::Result<String> {
        Ok(render(run.summary))
    }
}
