//! Command-line parsing: help stability and layout, each profile's plan, precedence (profile <
//! scenario file < environment < flag), bad values refused before anything starts.

use voiceswarm::cli::{self, Command};
use voiceswarm::commands::run::{resolve::resolve, RunArgs};
use voiceswarm_engine::swarm::goose_config::goose_config;
use voiceswarm_model::inputs::Input;
use voiceswarm_model::plan::{Load, RunPlan, Source};
use voiceswarm_model::scenario::{parse, Journeys};

#[test]
fn help_is_consistent() {
    cli::command().debug_assert();
}

fn args(argv: &[&str]) -> Box<RunArgs> {
    let mut full = vec!["voiceswarm", "run"];
    full.extend_from_slice(argv);
    match cli::try_parse_from(full).unwrap().command {
        Command::Run(a) => a,
        _ => unreachable!(),
    }
}

/// Journeys whose file suggests `defaults` (a JSON object).
fn journeys(defaults: &str) -> Journeys {
    let text = format!(
        r#"{{"defaults": {defaults}, "scenarios": [{{"name": "a", "steps": [{{"name": "health:check", "path": "/health"}}]}}]}}"#
    );
    parse(&text, &Input::File("/nonexistent/s.json".into())).unwrap()
}

fn try_plan(argv: &[&str], file: &Journeys, env: &[(&str, &str)]) -> Result<RunPlan, String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    resolve(
        &args(argv),
        file,
        &Input::BuiltIn("targets.json".into()),
        |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
    )
}

fn plan(argv: &[&str], file: &Journeys, env: &[(&str, &str)]) -> RunPlan {
    try_plan(argv, file, env).unwrap()
}

/// (users, spawn rate, run time in seconds) of a plan.
fn shape(p: &RunPlan) -> (usize, f64, Option<u64>) {
    match &p.load {
        Load::Users {
            users,
            spawn_rate,
            run_time,
            ..
        } => (*users, *spawn_rate, run_time.map(|d| d.as_secs())),
        other => panic!("not a users load: {other:?}"),
    }
}

#[test]
fn each_profile_resolves_to_the_seed_values() {
    for (name, users, rate, time) in [
        ("light", 10, 2.0, 120),
        ("medium", 50, 5.0, 300),
        ("heavy", 100, 10.0, 600),
        ("stress", 200, 20.0, 600),
    ] {
        let p = plan(&["--profile", name], &journeys("{}"), &[]);
        assert_eq!(shape(&p), (users, rate, Some(time)));
        assert_eq!(p.label, name);
        assert_eq!(p.host, None, "no host: the built-in backend");
    }
}

#[test]
fn precedence_is_profile_then_file_then_environment_then_flag() {
    let file = journeys(r#"{"users": 7, "spawn_rate": "3", "run_time": "45s"}"#);
    let p = plan(&["--profile", "medium"], &file, &[]);
    assert_eq!((shape(&p).0, p.sources["users"]), (7, Source::ScenarioFile));
    let p = plan(
        &["--profile", "medium"],
        &file,
        &[("VOICESWARM_USERS", "9"), ("VOICESWARM_RUN_TIME", "1m")],
    );
    assert_eq!(
        (shape(&p), p.sources["users"]),
        ((9, 3.0, Some(60)), Source::Environment)
    );
    let p = plan(
        &["--profile", "medium", "-u", "11", "--spawn-rate", "4"],
        &file,
        &[("VOICESWARM_USERS", "9")],
    );
    assert_eq!((shape(&p).0, p.sources["users"]), (11, Source::Flag));
    assert_eq!(shape(&p).1, 4.0);
    assert_eq!(p.label, "medium", "an explicit profile keeps its name");
    let p = plan(&["-t", "10s"], &journeys("{}"), &[]);
    assert_eq!(
        p.label, "custom",
        "overriding the default preset is a custom run"
    );
    let p = plan(&["--increase-rate", "8"], &journeys("{}"), &[]);
    assert_eq!(shape(&p).1, 8.0, "Goose's own -r works too");
    let p = plan(
        &["--spawn-rate", "2", "-t", "1h30m"],
        &journeys(r#"{"spawn_rate": 0.5}"#),
        &[],
    );
    assert_eq!(shape(&p).2, Some(5400));
}

#[test]
fn bad_values_name_the_flag_or_variable() {
    let parse_err = |argv: &[&str]| {
        let mut full = vec!["voiceswarm", "run"];
        full.extend_from_slice(argv);
        cli::error_line(&cli::try_parse_from(full).unwrap_err())
    };
    assert!(parse_err(&["-t", "5mins"]).contains("--run-time"));
    assert!(parse_err(&["-t", "1.5s"]).contains("whole seconds"));
    assert!(parse_err(&["-u", "0"]).contains("--users"));
    assert!(parse_err(&["--spawn-rate", "fast"]).contains("--spawn-rate"));
    assert!(parse_err(&["--think-scale=-1"]).contains("--think-scale"));
    assert!(parse_err(&["--profile", "huge"]).contains("huge"));
    assert!(parse_err(&["--spawn-rate", "2", "-r", "3"]).contains("cannot be used"));
    let bad =
        |argv: &[&str], env: &[(&str, &str)]| try_plan(argv, &journeys("{}"), env).unwrap_err();
    assert!(bad(&["-H", "not a url"], &[]).contains("--host"));
    assert!(bad(&["-H", "ftp://x"], &[]).contains("http"));
    assert!(bad(&["--no-metrics"], &[]).starts_with("--no-metrics: not accepted"));
    assert!(bad(&[], &[("VOICESWARM_USERS", "many")]).contains("VOICESWARM_USERS"));
    assert!(bad(&[], &[("VOICESWARM_RUN_TIME", "5mins")]).contains("VOICESWARM_RUN_TIME"));
    let e = parse(
        r#"{"defaults": {"run_time": "2 minutes"}, "scenarios": [{"name": "a", "steps": [{"name": "a:b", "path": "/"}]}]}"#,
        &Input::File("s.json".into()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("s.json") && e.contains("defaults.run_time"),
        "{e}"
    );
}

#[test]
fn arrivals_resolve_with_a_pool_and_workers_take_their_share() {
    let p = plan(
        &["--arrival-rate", "10/s", "-t", "1m"],
        &journeys("{}"),
        &[],
    );
    match &p.load {
        Load::Arrivals {
            rate,
            max_concurrency,
            ..
        } => {
            assert_eq!((rate.peak(), rate.duration().as_secs()), (10.0, 60));
            // One health check of 0.5 s estimated: 10/s × 0.5 s × 2.
            assert_eq!(*max_concurrency, 10);
        }
        other => panic!("{other:?}"),
    }
    let w = [
        "--arrival-plan",
        "20/s,1m",
        "--max-concurrency",
        "9",
        "--workers",
        "2",
        "--worker-index",
        "1",
        "--run-id",
        "r",
    ];
    match &plan(&w, &journeys("{}"), &[]).load {
        Load::Arrivals {
            rate,
            max_concurrency,
            ..
        } => {
            assert_eq!(
                (rate.peak(), *max_concurrency),
                (10.0, 5),
                "half the rate, half the pool"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn header_values_are_redacted_in_the_plan() {
    let p = plan(
        &["--header", "Authorization: Bearer s3cr3t"],
        &journeys("{}"),
        &[],
    );
    let json = serde_json::to_string(&p).unwrap();
    assert!(
        json.contains("authorization: (redacted)") && !json.contains("s3cr3t"),
        "{json}"
    );
}

#[test]
fn short_help_shows_the_locust_vocabulary_first_with_true_defaults() {
    let help = cli::command()
        .find_subcommand_mut("run")
        .unwrap()
        .render_help()
        .to_string();
    let first_40: Vec<&str> = help.lines().take(40).collect();
    for (flag, default) in [
        ("--profile", "light"),
        ("--users", "10"),
        ("--spawn-rate", "2"),
        ("--run-time", "2m"),
        ("--host", "built-in reference backend"),
    ] {
        let line = first_40
            .iter()
            .position(|l| l.contains(flag))
            .unwrap_or_else(|| panic!("{flag} not in the first 40 lines:\n{help}"));
        let text = first_40[line..(line + 3).min(first_40.len())].join(" ");
        assert!(
            text.contains(default),
            "{flag}: no default {default}: {text}"
        );
    }
    assert!(
        !help.contains("--co-mitigation"),
        "-h leaves Goose's own options to --help"
    );
    // What the README's own examples use is in -h, under one heading.
    let journeys = help
        .split("Journeys and targets:")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or_else(|| panic!("no Journeys and targets heading:\n{help}"));
    for flag in ["--scenarios", "--scenario-file", "--targets"] {
        assert!(journeys.contains(flag), "{flag} is not in -h:\n{help}");
    }
    let long = cli::command()
        .find_subcommand_mut("run")
        .unwrap()
        .render_long_help()
        .to_string();
    assert!(long.contains("Goose: Metrics") && long.contains("--co-mitigation"));
    assert!(
        !long.contains("one per CPU"),
        "Goose's default is not voiceswarm's"
    );
}

#[test]
fn the_plan_becomes_goose_configuration() {
    let a = args(&[
        "--profile",
        "medium",
        "--csv",
        "out/run",
        "--threshold",
        "p95<500ms",
    ]);
    let targets = Input::BuiltIn("targets.json".into());
    let p = resolve(&a, &journeys("{}"), &targets, |_| None).unwrap();
    let out = std::path::Path::new("reports/x");
    let g = goose_config(&p, a.goose.clone(), "http://127.0.0.1:1", Some(out));
    assert_eq!(g.users, Some(50));
    assert_eq!(g.increase_rate.as_deref(), Some("5"));
    // -t 5m includes the 10 s ramp (50 users at 5/s), as Locust's; Goose counts after it.
    assert_eq!(g.run_time.as_deref(), Some("290"));
    assert_eq!(
        p.planned_duration(),
        Some(std::time::Duration::from_secs(300))
    );
    assert_eq!(g.request_log.as_deref(), Some("out/run_requests.csv"));
    assert_eq!(
        g.threshold,
        vec!["p95<500ms".to_string()],
        "Goose's own flags pass through"
    );
    assert!(g.report_file.iter().any(|f| f.ends_with("report.html")));
    assert!(g.no_telnet && !g.dashboard);
    assert!(
        g.quiet == 1 && g.no_print_metrics && g.running_metrics.is_none(),
        "a quiet console"
    );
    let a = args(&["-v", "--running-metrics", "5"]);
    let p = resolve(&a, &journeys("{}"), &targets, |_| None).unwrap();
    let g = goose_config(&p, a.goose.clone(), "http://127.0.0.1:1", Some(out));
    assert!(g.quiet == 0 && g.verbose == 0 && g.running_metrics == Some(5) && !g.no_print_metrics);

    let a = args(&["--web"]);
    let p = resolve(&a, &journeys("{}"), &targets, |_| None).unwrap();
    let g = goose_config(&p, a.goose.clone(), "http://127.0.0.1:1", Some(out));
    assert!(g.dashboard && g.dashboard_control && g.no_autostart && g.dashboard_no_auth);
    assert_eq!(g.dashboard_port, Some(8089));
    assert_eq!(g.run_time, None, "the page decides when to stop");

    // Off loopback Goose's token rule stands: voiceswarm does not add --dashboard-no-auth.
    let a = args(&[
        "--web",
        "--dashboard-host",
        "0.0.0.0",
        "--dashboard-auth-token",
        "t0k",
    ]);
    let p = resolve(&a, &journeys("{}"), &targets, |_| None).unwrap();
    let g = goose_config(&p, a.goose.clone(), "http://127.0.0.1:1", Some(out));
    assert!(!g.dashboard_no_auth);
}
