//! One worker of a distributed run (`--worker-index I --workers N`): its share of the users and
//! of the spawn rate, the run id every worker shares, and the common start time.

use clap::Args;
use serde::Serialize;

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// This process is worker I (0-based) of --workers N; Kubernetes sets JOB_COMPLETION_INDEX
    #[arg(
        long,
        value_name = "I",
        env = "JOB_COMPLETION_INDEX",
        requires = "workers",
        help_heading = "Distributed"
    )]
    pub worker_index: Option<usize>,
    /// How many worker processes share the load (users and spawn rate are divided among them)
    #[arg(long, value_name = "N", help_heading = "Distributed")]
    pub workers: Option<usize>,
    /// The id all workers of one run share; `voiceswarm report` refuses to merge different ids
    #[arg(
        long,
        value_name = "ID",
        env = "VOICESWARM_RUN_ID",
        help_heading = "Distributed"
    )]
    pub run_id: Option<String>,
    /// Wait until this moment to start, so workers ramp together (Unix seconds or RFC 3339)
    #[arg(
        long,
        value_name = "TIME",
        env = "VOICESWARM_START_AT",
        help_heading = "Distributed"
    )]
    pub start_at: Option<String>,
}

/// What a worker is, resolved.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Worker {
    pub index: usize,
    pub workers: usize,
    pub run_id: String,
    /// Unix seconds.
    pub start_at: Option<f64>,
}

impl WorkerArgs {
    /// None when not distributed; errors name the flag.
    pub fn resolve(&self) -> Result<Option<Worker>, String> {
        let (index, workers) = match (self.worker_index, self.workers) {
            (None, None) => {
                if self.run_id.is_some() || self.start_at.is_some() {
                    return Err(
                        "--run-id and --start-at need --workers N (and --worker-index I)".into(),
                    );
                }
                return Ok(None);
            }
            (Some(i), Some(n)) => (i, n),
            (None, Some(_)) => {
                return Err("--workers: give this process's --worker-index too (0 to N-1)".into())
            }
            (Some(_), None) => return Err("--worker-index: give --workers N too".into()),
        };
        if workers == 0 || index >= workers {
            return Err(format!(
                "--worker-index {index} --workers {workers}: expected 0 <= index < workers"
            ));
        }
        let run_id = self
            .run_id
            .clone()
            .ok_or("--workers: give every worker the same --run-id (or VOICESWARM_RUN_ID)")?;
        if run_id.is_empty()
            || !run_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(format!(
                "--run-id {run_id}: letters, digits, '-', '_' and '.' only"
            ));
        }
        let start_at = match &self.start_at {
            None => None,
            Some(t) => Some(parse_moment(t).ok_or_else(|| {
                format!("--start-at {t}: expected Unix seconds or an RFC 3339 time such as 2026-11-26T16:00:00Z")
            })?),
        };
        Ok(Some(Worker {
            index,
            workers,
            run_id,
            start_at,
        }))
    }
}

fn parse_moment(t: &str) -> Option<f64> {
    if let Ok(secs) = t.trim().parse::<f64>() {
        return secs.is_finite().then_some(secs);
    }
    chrono::DateTime::parse_from_rfc3339(t.trim())
        .ok()
        .map(|d| d.timestamp_millis() as f64 / 1000.0)
}

impl Worker {
    /// This worker's share of `total` users: an even split, the remainder to the first workers.
    pub fn users(&self, total: usize) -> usize {
        total / self.workers + usize::from(self.index < total % self.workers)
    }

    /// This worker's share of a spawn rate.
    pub fn rate(&self, total: f64) -> f64 {
        total / self.workers as f64
    }

    /// How long until the common start time, if it is still ahead.
    pub fn start_delay(&self) -> Option<std::time::Duration> {
        let at = self.start_at?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        (at > now).then(|| std::time::Duration::from_secs_f64(at - now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(i: Option<usize>, n: Option<usize>, id: Option<&str>) -> WorkerArgs {
        WorkerArgs {
            worker_index: i,
            workers: n,
            run_id: id.map(String::from),
            start_at: None,
        }
    }

    #[test]
    fn users_split_evenly_and_add_up() {
        for total in [1, 7, 10, 100, 101] {
            for n in 1..6 {
                let sum: usize = (0..n)
                    .map(|i| {
                        Worker {
                            index: i,
                            workers: n,
                            run_id: "r".into(),
                            start_at: None,
                        }
                        .users(total)
                    })
                    .sum();
                assert_eq!(sum, total);
            }
        }
    }

    #[test]
    fn bad_combinations_name_the_flag() {
        assert_eq!(args(None, None, None).resolve(), Ok(None));
        assert!(args(Some(3), Some(3), Some("r"))
            .resolve()
            .unwrap_err()
            .contains("--worker-index 3"));
        assert!(args(Some(0), Some(2), None)
            .resolve()
            .unwrap_err()
            .contains("--run-id"));
        assert!(args(None, Some(2), Some("r"))
            .resolve()
            .unwrap_err()
            .contains("--worker-index"));
        assert!(args(Some(0), Some(2), Some("a b")).resolve().is_err());
        let mut a = args(Some(1), Some(2), Some("r1"));
        a.start_at = Some("2026-11-26T16:00:00Z".into());
        let expected = chrono::DateTime::parse_from_rfc3339("2026-11-26T16:00:00Z")
            .unwrap()
            .timestamp() as f64;
        assert_eq!(a.resolve().unwrap().unwrap().start_at, Some(expected));
        a.start_at = Some("1795708800.5".into());
        assert_eq!(
            a.resolve().unwrap().unwrap().start_at,
            Some(1_795_708_800.5)
        );
        a.start_at = Some("soon".into());
        assert!(a.resolve().unwrap_err().contains("--start-at soon"));
    }
}
