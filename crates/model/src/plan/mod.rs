//! The run plan: every decision of a load run made once, as typed values with where each came
//! from (recorded in run.json). It does no I/O; Goose's configuration and capacity's steps are
//! pure projections of it (`goose.rs`).

pub mod exports;
pub mod headers;
pub mod probe;
pub mod profile;
pub mod worker;

use crate::arrival::rate::Shape;
use crate::arrival::schedule::Process;
use crate::arrival::OnFull;
use crate::inputs::Input;
pub use crate::labels::Labels;
use exports::ExportPlan;
pub use headers::Headers;
pub use profile::Profile;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
pub use worker::Worker;

/// Where a plan value came from, lowest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Default,
    Profile,
    ScenarioFile,
    Environment,
    Flag,
}

/// How users get HTTP clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClientMode {
    /// Every user has its own client and connections, like separate devices (Goose's default)
    PerUser,
    /// One client, without cookies, shared by all users: far less memory, pooled connections
    Shared,
}

/// How long the users that carry arrivals take to start (all within a second).
pub const ARRIVAL_POOL_RAMP: Duration = Duration::from_secs(1);
/// After an arrival schedule, arrivals in progress or queued get this long to finish (as k6's
/// graceful stop); the run ends as soon as they have.
pub const ARRIVAL_GRACE: Duration = Duration::from_secs(30);

/// The shape of the load.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Load {
    /// `users` started at `spawn_rate` per second, each looping its journey until the run
    /// time is up, each has run `iterations` times, or the web UI stops them (both None).
    Users {
        users: usize,
        spawn_rate: f64,
        #[serde(rename = "run_time_s", serialize_with = "seconds")]
        #[schemars(with = "Option<f64>")]
        run_time: Option<Duration>,
        iterations: Option<usize>,
    },
    /// Goose's `--test-plan` shapes the users itself.
    TestPlan,
    /// Open arrivals: callers arrive at `rate` (spread by `process`) for its duration, each
    /// carried by one of `max_concurrency` users; with none free, an arrival is dropped or
    /// queued.
    Arrivals {
        rate: Shape,
        process: Process,
        max_concurrency: usize,
        on_full: OnFull,
    },
}

fn seconds<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// What the console shows while a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Console {
    /// Goose's verbosity (`-v`): at 0 Goose prints warnings only and voiceswarm a status line.
    pub verbose: u8,
    /// Goose's running metric tables every N seconds (`--running-metrics N`).
    pub goose_tables_every_s: Option<usize>,
}

/// Everything a load run needs to know, decided once.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RunPlan {
    /// Names the run folder: the profile, `custom`, `web` or the worker.
    pub label: String,
    /// The preset the other values override.
    pub profile: Profile,
    pub load: Load,
    /// The journeys to run, by the names the scenario file gives them (`*` a wildcard);
    /// None: every journey.
    pub journeys: Option<Vec<String>>,
    /// None: the built-in reference backend.
    pub host: Option<String>,
    pub scenario: Input,
    /// FNV-1a of the scenario file's text: workers of one run must share it.
    pub scenario_hash: String,
    pub targets: Input,
    pub web: bool,
    pub client: ClientMode,
    /// Multiplies every think time, listening included.
    pub think_scale: f64,
    /// Locust's `--csv PREFIX`.
    pub csv: Option<String>,
    /// `--html FILE`: a copy of the HTML report.
    pub html: Option<PathBuf>,
    /// Set when this process is one worker of a distributed run.
    pub worker: Option<Worker>,
    /// Sent with every request; serialised redacted.
    #[schemars(with = "Vec<String>")]
    pub headers: Headers,
    /// What the run tested (`--label`, `VOICESWARM_LABELS`).
    pub labels: Labels,
    /// Where the figures go besides the run folder (Prometheus, CloudWatch).
    pub export: ExportPlan,
    pub console: Console,
    #[schemars(with = "BTreeMap<String, Source>")]
    pub sources: BTreeMap<&'static str, Source>,
}

/// The least time a run holds its users after a ramp longer than `-t`.
const HOLD_AFTER_LONG_RAMP: Duration = Duration::from_secs(1);

impl RunPlan {
    /// The users the plan starts (None for a Goose test plan, which sets its own).
    pub fn users(&self) -> Option<usize> {
        match self.load {
            Load::Users { users, .. } => Some(users),
            Load::Arrivals {
                max_concurrency, ..
            } => Some(max_concurrency),
            Load::TestPlan => None,
        }
    }

    /// How long the run should take: `-t`, the ramp up included, as Locust counts it (a ramp
    /// longer than `-t` gets one second after it). None without a run time.
    pub fn planned_duration(&self) -> Option<Duration> {
        match self.load {
            Load::Users {
                run_time: Some(t), ..
            } => Some(self.ramp().map_or(t, |r| t.max(r + HOLD_AFTER_LONG_RAMP))),
            // The pool starts within a second, then the schedule runs.
            Load::Arrivals { ref rate, .. } => Some(rate.duration() + ARRIVAL_POOL_RAMP),
            _ => None,
        }
    }

    /// How long every user takes to start: users / spawn rate (None but for users).
    pub fn ramp(&self) -> Option<Duration> {
        match self.load {
            Load::Users {
                users, spawn_rate, ..
            } => Some(Duration::from_secs_f64(users as f64 / spawn_rate)),
            _ => None,
        }
    }

    /// What Goose is given as its run time, which it counts once every user has started: the
    /// planned duration less the ramp, so the whole run takes `-t`.
    pub fn after_ramp(&self) -> Option<Duration> {
        Some(self.planned_duration()?.saturating_sub(self.ramp()?))
    }

    /// When callers stop listening and pausing, so the run ends on time: the planned end, or
    /// for arrivals the end of the grace their journeys in progress have to finish. (Cut at the
    /// schedule's end, every caller still in a journey would start its next turn at once: a
    /// burst the backend would queue and the figures would blame on it.)
    pub fn latest_end(&self) -> Option<Duration> {
        let planned = self.planned_duration()?;
        Some(match self.load {
            Load::Arrivals { .. } => planned + ARRIVAL_GRACE,
            _ => planned,
        })
    }

    /// The run time (None: until stopped, or iterations, or a test plan).
    pub fn run_time(&self) -> Option<Duration> {
        match self.load {
            Load::Users { run_time, .. } => run_time,
            Load::Arrivals { ref rate, .. } => Some(rate.duration()),
            Load::TestPlan => None,
        }
    }
}
