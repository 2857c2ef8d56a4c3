//! Goose's configuration as a pure projection of a run plan: the user's own Goose flags pass
//! through, and the plan sets the load, the reports, the console and the dashboard.

use goose::config::GooseConfiguration;
use std::path::Path;
use voiceswarm_model::files::GOOSE_REPORTS;
use voiceswarm_model::plan::{Load, RunPlan};

/// Whether `--test-plan` was given (Goose keeps the field crate-private; its serialised form
/// shows it).
pub fn test_plan_given(g: &GooseConfiguration) -> bool {
    serde_json::to_value(g).is_ok_and(|v| !v["test_plan"].is_null())
}

/// Goose's time span for a run time: whole seconds, rounded (a ramp may leave a fraction).
fn timespan(d: std::time::Duration) -> String {
    (d.as_secs_f64().round() as u64).max(1).to_string()
}

/// Goose's configuration for `plan` against `host`, reports into `out` (None: no reports, as
/// for capacity steps).
pub fn goose_config(
    plan: &RunPlan,
    mut g: GooseConfiguration,
    host: &str,
    out: Option<&Path>,
) -> GooseConfiguration {
    g.host = Some(host.to_string());
    if let Load::Users {
        users,
        spawn_rate,
        run_time,
        iterations,
    } = &plan.load
    {
        g.users = Some(*users);
        if g.increase_time.is_none() {
            g.increase_rate = Some(format!("{spawn_rate}"));
        }
        // `-t` includes the ramp (as Locust's): Goose counts its run time after the ramp.
        g.run_time = run_time.and(plan.after_ramp()).map(timespan);
        g.iterations = *iterations;
        // The recorder cannot see Goose's reset at the end of the ramp up, so neither resets:
        // every figure covers the whole run, in the summary and in Goose's reports alike.
        g.no_reset_metrics = iterations.is_none();
    }
    if let Load::Arrivals {
        rate,
        max_concurrency,
        ..
    } = &plan.load
    {
        // The pool starts within a second; Goose then allows the schedule's length and a grace
        // for the last arrivals to finish — the dispatcher ends the run as soon as they have.
        g.users = Some(*max_concurrency);
        g.increase_rate = Some(format!("{}", (*max_concurrency).max(1)));
        let grace = voiceswarm_model::plan::ARRIVAL_GRACE + std::time::Duration::from_secs(1);
        g.run_time = Some(timespan(rate.duration() + grace));
        g.iterations = None;
        g.no_reset_metrics = true;
    }
    // With arrivals every user runs the one arrival scenario and picks among the selected
    // journeys itself (swarm::arrivals), so Goose's own filter is off.
    g.scenarios = match (&plan.journeys, &plan.load) {
        (_, Load::Arrivals { .. }) | (None, _) => None,
        // Goose matches machine names, which drop the `_` of a journey's name.
        (Some(names), _) => Some(goose::config::Scenarios {
            active: names
                .iter()
                .map(|n| n.to_lowercase().replace('_', ""))
                .collect(),
        }),
    };
    match out {
        Some(dir) => {
            for name in GOOSE_REPORTS {
                g.report_file
                    .push(dir.join(name).to_string_lossy().into_owned());
            }
        }
        None => g.report_file.clear(),
    }
    if let (Some(prefix), None) = (&plan.csv, &g.request_log) {
        g.request_log = Some(format!("{prefix}_requests.csv"));
        g.request_format = Some(goose::logger::GooseLogFormat::Csv);
    }
    console(plan, &mut g, out.is_some());
    // The telnet Controller would fight over port 5116 between concurrent runs; the dashboard
    // is the controller here.
    g.no_telnet = true;
    if plan.web {
        dashboard(&mut g);
    }
    g
}

/// Goose's console: warnings only and no tables unless asked for (`-v`, `--running-metrics`);
/// voiceswarm prints a status line and the summary instead.
fn console(plan: &RunPlan, g: &mut GooseConfiguration, reporting: bool) {
    let c = plan.console;
    g.verbose = c.verbose.saturating_sub(1);
    if c.verbose == 0 {
        g.quiet = 1;
    }
    g.running_metrics = c.goose_tables_every_s.filter(|_| !plan.web);
    g.no_print_metrics = c.verbose == 0 || !reporting;
}

/// The web UI: Goose's dashboard with control on, waiting for Start; no token on loopback only.
fn dashboard(g: &mut GooseConfiguration) {
    g.dashboard = true;
    g.dashboard_control = true;
    g.no_autostart = true;
    g.run_time = None;
    if g.dashboard_port.is_none() {
        g.dashboard_port = Some(8089);
    }
    let loopback = g
        .dashboard_host
        .as_deref()
        .is_none_or(|h| h == "127.0.0.1" || h == "localhost" || h == "::1" || h == "[::1]");
    // Off loopback, Goose requires a token: never weaken that.
    if loopback && g.dashboard_auth_token.is_none() {
        g.dashboard_no_auth = true;
    }
}
