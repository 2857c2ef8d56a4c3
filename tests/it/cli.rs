//! Command-line parsing: help stability, each profile's plan, and precedence
//! (profile < scenario file < environment < flag).

use clap::{CommandFactory, Parser};
use voiceswarm::cli::{Cli, Command};
use voiceswarm::scenario::model::RunDefaults;
use voiceswarm::swarm::plan::{resolve, RunPlan, Source};
use voiceswarm::swarm::RunArgs;

#[test]
fn help_is_consistent() {
    Cli::command().debug_assert();
}

fn args(argv: &[&str]) -> Box<RunArgs> {
    let mut full = vec!["voiceswarm", "run"];
    full.extend_from_slice(argv);
    match Cli::try_parse_from(full).unwrap().command {
        Command::Run(a) => a,
        _ => unreachable!(),
    }
}

fn plan(argv: &[&str], file: RunDefaults, env: &[(&str, &str)]) -> RunPlan {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    resolve(&args(argv), &file, |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .unwrap()
}

#[test]
fn each_profile_resolves_to_the_seed_values() {
    for (name, users, rate, time) in [
        ("light", 10, "2", "2m"),
        ("medium", 50, "5", "5m"),
        ("heavy", 100, "10", "10m"),
        ("stress", 200, "20", "10m"),
    ] {
        let p = plan(&["--profile", name], RunDefaults::default(), &[]);
        assert_eq!(
            (p.users, p.spawn_rate.as_deref(), p.run_time.as_deref()),
            (Some(users), Some(rate), Some(time))
        );
        assert_eq!(p.label, name);
        assert_eq!(p.host, None, "no host: the built-in backend");
    }
}

#[test]
fn precedence_is_profile_then_file_then_environment_then_flag() {
    let file = RunDefaults {
        users: Some(7),
        spawn_rate: Some("3".into()),
        run_time: Some("45s".into()),
    };
    let p = plan(&["--profile", "medium"], file.clone(), &[]);
    assert_eq!(
        (p.users, p.sources["users"]),
        (Some(7), Source::ScenarioFile)
    );
    let p = plan(
        &["--profile", "medium"],
        file.clone(),
        &[("VOICESWARM_USERS", "9"), ("VOICESWARM_RUN_TIME", "1m")],
    );
    assert_eq!(
        (p.users, p.sources["users"]),
        (Some(9), Source::Environment)
    );
    assert_eq!(p.run_time.as_deref(), Some("1m"));
    assert_eq!(p.spawn_rate.as_deref(), Some("3"));
    let p = plan(
        &["--profile", "medium", "-u", "11", "--spawn-rate", "4"],
        file,
        &[("VOICESWARM_USERS", "9")],
    );
    assert_eq!((p.users, p.sources["users"]), (Some(11), Source::Flag));
    assert_eq!(p.spawn_rate.as_deref(), Some("4"));
    assert_eq!(p.label, "medium", "an explicit profile keeps its name");
    let p = plan(&["-t", "10s"], RunDefaults::default(), &[]);
    assert_eq!(
        p.label, "custom",
        "overriding the default preset is a custom run"
    );
    let p = plan(&["--increase-rate", "8"], RunDefaults::default(), &[]);
    assert_eq!(
        p.spawn_rate.as_deref(),
        Some("8"),
        "Goose's own -r works too"
    );
}

#[test]
fn bad_values_name_the_flag() {
    let bad = |argv: &[&str], env: &[(&str, &str)]| {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(&args(argv), &RunDefaults::default(), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .unwrap_err()
        .to_string()
    };
    assert!(bad(&["-t", "5mins"], &[]).contains("--run-time 5mins"));
    assert!(bad(&["--spawn-rate", "fast"], &[]).contains("--spawn-rate fast"));
    assert!(bad(&["-H", "not a url"], &[]).contains("--host"));
    assert!(bad(&["-H", "ftp://x"], &[]).contains("http"));
    assert!(bad(&[], &[("VOICESWARM_USERS", "many")]).contains("VOICESWARM_USERS"));
    assert!(Cli::try_parse_from(["voiceswarm", "run", "--profile", "huge"]).is_err());
    assert!(Cli::try_parse_from(["voiceswarm", "run", "--spawn-rate", "2", "-r", "3"]).is_err());
}

#[test]
fn header_values_are_redacted_in_the_plan() {
    let p = plan(
        &["--header", "Authorization: Bearer s3cr3t"],
        RunDefaults::default(),
        &[],
    );
    assert_eq!(p.headers, vec!["Authorization: (redacted)".to_string()]);
    assert!(!serde_json::to_string(&p).unwrap().contains("s3cr3t"));
}

#[test]
fn the_plan_becomes_goose_configuration() {
    use voiceswarm::swarm::plan::goose_config;
    let a = args(&[
        "--profile",
        "medium",
        "--csv",
        "out/run",
        "--threshold",
        "p95<500ms",
    ]);
    let p = resolve(&a, &RunDefaults::default(), |_| None).unwrap();
    let g = goose_config(
        &p,
        a.goose.clone(),
        "http://127.0.0.1:1",
        std::path::Path::new("reports/x"),
    );
    assert_eq!(g.users, Some(50));
    assert_eq!(g.increase_rate.as_deref(), Some("5"));
    assert_eq!(g.run_time.as_deref(), Some("5m"));
    assert_eq!(g.request_log.as_deref(), Some("out/run_requests.csv"));
    assert_eq!(
        g.threshold,
        vec!["p95<500ms".to_string()],
        "Goose's own flags pass through"
    );
    assert!(g.report_file.iter().any(|f| f.ends_with("report.html")));
    assert!(g.no_telnet && !g.dashboard);

    let a = args(&["--web"]);
    let p = resolve(&a, &RunDefaults::default(), |_| None).unwrap();
    let g = goose_config(
        &p,
        a.goose.clone(),
        "http://127.0.0.1:1",
        std::path::Path::new("reports/x"),
    );
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
    let p = resolve(&a, &RunDefaults::default(), |_| None).unwrap();
    let g = goose_config(
        &p,
        a.goose.clone(),
        "http://127.0.0.1:1",
        std::path::Path::new("reports/x"),
    );
    assert!(!g.dashboard_no_auth);
}
