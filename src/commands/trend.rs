//! `voiceswarm trend`: read every run folder, filter and order the runs, write trend.html and
//! trend.json, and gate on the newest run (exit 1 on a regression, 0 otherwise).

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use voiceswarm_model::files::{TREND_HTML, TREND_JSON};
use voiceswarm_model::labels::{parse_label, Labels};
use voiceswarm_model::stats::regression::Rule;
use voiceswarm_results::render::data::Json;
use voiceswarm_results::render::Renderer;
use voiceswarm_results::trend::gate::{self, Gate};
use voiceswarm_results::trend::scan::{scan, Skipped};
use voiceswarm_results::trend::{page, parse_since, Filters, Point};

#[derive(Debug, Args)]
pub struct TrendArgs {
    /// Folders of run folders (or run folders) to read [default: reports]
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Only runs of this profile (light, medium, heavy, stress, custom, web)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Only runs with this label (repeatable: all must match)
    #[arg(long = "label", value_name = "KEY=VALUE",
          value_parser = |s: &str| parse_label(s).map(|_| s.to_string()))]
    pub labels: Vec<String>,
    /// Only the newest N runs (after the other filters)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub last: Option<u64>,
    /// Only runs started at or after DATE (2026-11-01, or an RFC 3339 time)
    #[arg(long, value_name = "DATE", value_parser = |s: &str| parse_since(s).map(|_| s.to_string()))]
    pub since: Option<String>,
    /// Allowed growth of a judged percentile against the baseline before it is a regression, in
    /// percent (a regression must also be significant at the 5% level)
    #[arg(long, default_value_t = 10.0, value_name = "PERCENT",
          value_parser = |s: &str| voiceswarm_model::units::parse_number_at_least(s, 0.0))]
    pub regression_threshold: f64,
    /// The baseline is the median of up to N earlier comparable runs
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub baseline_runs: u64,
    /// Where trend.html and trend.json go [default: the first DIR]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// trend.json.
#[derive(Serialize)]
struct TrendFile<'a> {
    schema_version: u32,
    generated_at: String,
    filters: &'a Filters,
    runs: &'a [Point],
    skipped: &'a [Skipped],
    gate: &'a Gate,
}

fn filters(args: &TrendArgs) -> anyhow::Result<Filters> {
    let labels = Labels::resolve(&args.labels, None).map_err(anyhow::Error::msg)?;
    let since_time = args.since.as_deref().map(parse_since).transpose();
    Ok(Filters {
        profile: args.profile.clone(),
        labels,
        since: args.since.clone(),
        since_time: since_time.map_err(|e| anyhow::anyhow!("--since {e}"))?,
        last: args.last.map(|n| n as usize),
    })
}

fn print_outcome(points: &[Point], skipped: &[Skipped], gate: &Gate) {
    println!(
        "Runs: {} ({} folder(s) skipped)",
        points.len(),
        skipped.len()
    );
    for s in skipped {
        println!("  skipped {}: {}", s.folder, s.reason);
    }
    println!("Rule: {}", gate.rule);
    match &gate.newest {
        None => println!("No runs to judge."),
        Some(n) if gate.baseline.is_empty() => {
            println!("Newest run {n}: no earlier comparable run, nothing to compare")
        }
        Some(n) => println!(
            "Newest run {n} against the median of {} earlier comparable run(s)",
            gate.baseline.len()
        ),
    }
    for f in &gate.findings {
        println!("  ✗ {}", f.line());
    }
    for f in &gate.unsettled {
        println!("  ? {}", f.line());
    }
    if gate.regressed {
        println!("REGRESSION: {} finding(s)", gate.findings.len());
    } else if !gate.baseline.is_empty() {
        println!("✓ No regression");
    }
}

pub fn run(args: TrendArgs) -> anyhow::Result<u8> {
    let dirs = match args.dirs.is_empty() {
        true => vec![PathBuf::from("reports")],
        false => args.dirs.clone(),
    };
    let filters = filters(&args)?;
    let (found, skipped) = scan(&dirs).map_err(anyhow::Error::msg)?;
    let points = filters.apply(found);
    let rule = Rule {
        threshold_percent: args.regression_threshold,
    };
    let gate = gate::judge(&points, rule, args.baseline_runs as usize);
    let out = args.out.clone().unwrap_or_else(|| dirs[0].clone());
    std::fs::create_dir_all(&out).with_context(|| format!("--out {}", out.display()))?;
    let page = page::TrendPage {
        skipped: &skipped,
        gate: &gate,
        page_dir: &out,
    };
    page.write(points.as_slice(), &out)
        .with_context(|| format!("{}: cannot write", out.join(TREND_HTML).display()))?;
    let file = TrendFile {
        schema_version: 1,
        generated_at: chrono::Utc::now().to_rfc3339(),
        filters: &filters,
        runs: &points,
        skipped: &skipped,
        gate: &gate,
    };
    Json(TREND_JSON)
        .write(&file, &out)
        .with_context(|| format!("{}: cannot write", out.join(TREND_JSON).display()))?;
    print_outcome(&points, &skipped, &gate);
    println!(
        "Trend: {}, {}",
        out.join(TREND_HTML).display(),
        out.join(TREND_JSON).display()
    );
    Ok(u8::from(gate.regressed))
}
