//! Which journeys no user ran. Goose gives each user one journey, by weight, so a run with fewer
//! users than journeys leaves some without one; their targets have no data through no fault of
//! the system. Told from the recording: a journey none of whose own steps and metrics (those no
//! other journey has) was started or recorded, while the run recorded others, was not run.

use super::recording::Recording;
use crate::scenario::Journeys;
use crate::vocab::counter;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Why a target is skipped when the journeys `--scenarios` selects cannot record its metric.
pub const NOT_SELECTED: &str = "not recorded by the journeys --scenarios selects";
/// Why a target is skipped when no journey of the scenario file records its metric (a file of
/// one's own judged against the default targets).
pub const NOT_IN_FILE: &str = "not recorded by any journey of the scenario file";

/// Each journey's name and the metrics it records, in the scenario file's order.
pub type JourneyMetrics = Vec<(String, BTreeSet<String>)>;

/// The journeys a run gave no user, and the metrics only they record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneysNotRun {
    /// The most users the run had.
    pub users: usize,
    /// The journeys it could give users to.
    pub journeys: usize,
    /// The journeys no user ran, in the scenario file's order.
    pub names: Vec<String>,
    /// The metrics only those journeys record: their targets are not run, not failed.
    pub metrics: BTreeSet<String>,
}

/// What each of `journeys` records.
pub fn journey_metrics(journeys: &Journeys) -> JourneyMetrics {
    journeys
        .scenarios
        .iter()
        .map(|s| (s.name.clone(), Journeys::names_of(std::iter::once(s))))
        .collect()
}

/// Whether `name` (a step or a metric) shows a user ran it: a step started, or a sample.
fn ran(rec: &Recording, name: &str) -> bool {
    rec.counter(&counter::step_started(name)) > 0
        || rec.histograms.get(name).is_some_and(|h| !h.is_empty())
}

impl JourneysNotRun {
    /// The journeys of `journeys` that `users` users left without one, as `rec` shows: with
    /// fewer users than journeys and something recorded, a journey that has steps or metrics
    /// of its own and none of them started or recorded. None when every journey may have run.
    pub fn find(journeys: &JourneyMetrics, users: usize, rec: &Recording) -> Option<Self> {
        let anything = rec.histograms.values().any(|h| !h.is_empty())
            || rec
                .counters
                .keys()
                .any(|k| k.starts_with(counter::STEPS_PREFIX));
        if users >= journeys.len() || !anything {
            return None;
        }
        let own = |i: usize| -> BTreeSet<&String> {
            let others: BTreeSet<&String> = journeys
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, (_, m))| m)
                .collect();
            journeys[i]
                .1
                .iter()
                .filter(|m| !others.contains(m))
                .collect()
        };
        let not_run: Vec<usize> = (0..journeys.len())
            .filter(|&i| {
                let own = own(i);
                !own.is_empty() && !own.iter().any(|m| ran(rec, m))
            })
            .collect();
        if not_run.is_empty() {
            return None;
        }
        let ran: BTreeSet<&String> = (0..journeys.len())
            .filter(|i| !not_run.contains(i))
            .flat_map(|i| &journeys[i].1)
            .collect();
        Some(JourneysNotRun {
            users,
            journeys: journeys.len(),
            names: not_run.iter().map(|&i| journeys[i].0.clone()).collect(),
            metrics: not_run
                .iter()
                .flat_map(|&i| &journeys[i].1)
                .filter(|m| !ran.contains(m))
                .cloned()
                .collect(),
        })
    }

    /// `2 users for 6 journeys` (there are always more journeys than users).
    pub fn users_for_journeys(&self) -> String {
        let s = if self.users == 1 { "" } else { "s" };
        format!("{} user{s} for {} journeys", self.users, self.journeys)
    }

    /// Why a target of one of these journeys is not run.
    pub fn reason(&self) -> String {
        format!(
            "not run: no user ran its journey ({})",
            self.users_for_journeys()
        )
    }

    /// The journeys not run in every one of several runs, and the metrics none of them ran.
    pub fn in_all<'a>(all: impl IntoIterator<Item = Option<&'a JourneysNotRun>>) -> Option<Self> {
        let mut out: Option<JourneysNotRun> = None;
        for n in all {
            let n = n?;
            out = Some(match out {
                None => n.clone(),
                Some(o) => JourneysNotRun {
                    users: o.users.max(n.users),
                    journeys: o.journeys.max(n.journeys),
                    names: o
                        .names
                        .into_iter()
                        .filter(|j| n.names.contains(j))
                        .collect(),
                    metrics: o.metrics.intersection(&n.metrics).cloned().collect(),
                },
            });
        }
        out.filter(|o| !o.names.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Recorder;

    fn journeys() -> JourneyMetrics {
        let set = |m: &[&str]| m.iter().map(|s| s.to_string()).collect();
        vec![
            ("chat".into(), set(&["session:create", "llm:complete"])),
            ("lookup".into(), set(&["company:lookup", "search:query"])),
            ("voice".into(), set(&["session:create", "stt:transcribe"])),
            ("both".into(), set(&["session:create", "search:query"])),
        ]
    }

    fn recording(metrics: &[&str]) -> Recording {
        let r = Recorder::new(1);
        for m in metrics {
            r.record_us(0, m, 1_000);
        }
        r.snapshot()
    }

    #[test]
    fn a_journey_whose_own_metrics_recorded_nothing_was_not_run() {
        let rec = recording(&["session:create", "llm:complete"]);
        let n = JourneysNotRun::find(&journeys(), 2, &rec).expect("some not run");
        // "both" records nothing of its own: it may have run, so it is not named.
        assert_eq!(n.names, ["lookup", "voice"]);
        // search:query is also recorded by "both", which may have run: it stays judged.
        let metrics: Vec<&str> = n.metrics.iter().map(String::as_str).collect();
        assert_eq!(metrics, ["company:lookup", "stt:transcribe"]);
        assert_eq!((n.users, n.journeys), (2, 4));
    }

    #[test]
    fn a_journey_whose_steps_all_failed_still_ran() {
        let r = Recorder::new(1);
        r.record_us(0, "llm:complete", 1_000);
        r.count(0, &counter::step_started("stt:transcribe"), 3);
        let n = JourneysNotRun::find(&journeys(), 2, &r.snapshot()).expect("lookup not run");
        assert_eq!(n.names, ["lookup"]);
    }

    #[test]
    fn enough_users_or_nothing_recorded_names_no_journey() {
        let rec = recording(&["session:create", "llm:complete"]);
        assert_eq!(JourneysNotRun::find(&journeys(), 4, &rec), None);
        assert_eq!(JourneysNotRun::find(&journeys(), 1, &recording(&[])), None);
        let all = recording(&["llm:complete", "company:lookup", "stt:transcribe"]);
        assert_eq!(JourneysNotRun::find(&journeys(), 3, &all), None);
    }

    #[test]
    fn merged_runs_keep_only_what_none_of_them_ran() {
        let a = JourneysNotRun::find(&journeys(), 2, &recording(&["llm:complete"])).unwrap();
        let b = JourneysNotRun::find(&journeys(), 2, &recording(&["stt:transcribe"])).unwrap();
        let both = JourneysNotRun::in_all([Some(&a), Some(&b)]).unwrap();
        assert_eq!(both.names, ["lookup"]);
        assert_eq!(JourneysNotRun::in_all([Some(&a), None]), None);
    }
}
