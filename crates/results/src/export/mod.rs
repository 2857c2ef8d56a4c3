//! Sending a run's figures where teams already watch them: Prometheus (scraped live from
//! `--prometheus-listen`, pushed to a Pushgateway at the end) and CloudWatch (EMF lines). The
//! exporter follows a run: started before it, given the judged figures at its end, closed
//! last — after lingering long enough for a scrape to collect the final figures.

pub mod cloudwatch;
pub mod listen;
pub mod prometheus;
pub mod push;

use crate::render::{Judged, Renderer};
use anyhow::Context;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
pub use voiceswarm_model::plan::exports::ExportPlan;
use voiceswarm_model::plan::{Labels, RunPlan};
use voiceswarm_model::stats::{Recorder, Recording, Summary, Targets, Verdict};

/// How long `/metrics` stays up after a run by default: one default Prometheus scrape
/// interval, so the final figures are scraped.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(15);

/// What a run's series and dimensions are labelled with: its profile (the run folder's label),
/// the system under test (`built-in` for the reference backend, whose port changes every run),
/// and its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub profile: String,
    pub host: String,
    pub labels: Labels,
}

impl Identity {
    pub fn of(plan: &RunPlan) -> Self {
        Identity {
            profile: plan.label.clone(),
            host: plan.host.clone().unwrap_or_else(|| "built-in".into()),
            labels: plan.labels.clone(),
        }
    }
}

/// A judged run's figures.
#[derive(Debug)]
pub struct Final {
    pub recording: Recording,
    pub verdicts: Vec<Verdict>,
    pub users: usize,
}

/// The exports of one `voiceswarm run`.
pub struct Exporter {
    plan: ExportPlan,
    id: Identity,
    limits: Vec<prometheus::Limit>,
    live: Option<listen::Listening>,
    pushes: parking_lot::Mutex<Vec<JoinHandle<Result<(), String>>>>,
}

impl Exporter {
    /// Starts serving `/metrics` when the plan asks for it (the address is printed).
    pub async fn start(
        plan: &RunPlan,
        recorder: Arc<Recorder>,
        users: Arc<AtomicUsize>,
        targets: &Targets,
    ) -> anyhow::Result<Self> {
        let id = Identity::of(plan);
        let limits = prometheus::limits(targets);
        let live = match plan.export.prometheus_listen {
            Some(addr) => {
                let live = listen::Live::new(recorder, users, limits.clone());
                let l = listen::serve(addr, live, &id).await?;
                println!("Prometheus metrics: http://{}/metrics", l.addr);
                Some(l)
            }
            None => None,
        };
        Ok(Exporter {
            plan: plan.export.clone(),
            id,
            limits,
            live,
            pushes: Default::default(),
        })
    }

    /// A new run begins (the web UI): `/metrics` follows it live again.
    pub fn run_started(&self) {
        if let Some(l) = &self.live {
            l.live.clear_final();
        }
    }

    /// The run is judged: `/metrics` shows its final figures and verdicts, the EMF file is
    /// written (its renderer, `cloudwatch::Emf`), the push starts.
    pub fn finished(
        &self,
        summary: &Summary,
        recording: Recording,
        users: usize,
    ) -> anyhow::Result<()> {
        let fin = Arc::new(Final {
            recording,
            verdicts: summary.verdicts.clone(),
            users,
        });
        if let Some(path) = &self.plan.cloudwatch_emf {
            let emf = cloudwatch::Emf {
                id: self.id.clone(),
                timestamp_ms: chrono::Utc::now().timestamp_millis(),
                path: path.clone(),
            };
            let run = Judged {
                summary,
                recording: &fin.recording,
            };
            emf.write(&run, Path::new("."))
                .with_context(|| format!("--cloudwatch-emf {}: cannot write", path.display()))?;
        }
        if let Some(l) = &self.live {
            l.live.set_final(fin.clone());
        }
        if let Some(url) = &self.plan.prometheus_push {
            let push = push::push(url.clone(), self.id.clone(), fin, self.limits.clone());
            self.pushes.lock().push(tokio::spawn(push));
        }
        Ok(())
    }

    /// Waits for the pushes, then keeps `/metrics` up for the linger time; a failed push is an
    /// error naming the flag (the run folder is complete either way).
    pub async fn close(self) -> anyhow::Result<()> {
        let pushes: Vec<_> = std::mem::take(&mut *self.pushes.lock());
        let mut failed = None;
        for p in pushes {
            match p.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failed = Some(e),
                Err(e) => failed = Some(e.to_string()),
            }
        }
        if let Some(url) = self
            .plan
            .prometheus_push
            .as_deref()
            .filter(|_| failed.is_none())
        {
            println!("Pushed the final figures to {}", push::shown(url));
        }
        if let Some(l) = self.live {
            let linger = self.plan.prometheus_linger;
            if !linger.is_zero() {
                println!(
                    "Serving the final figures at http://{}/metrics for {} more (--prometheus-linger)",
                    l.addr,
                    voiceswarm_model::units::format_duration(linger)
                );
                tokio::time::sleep(linger).await;
            }
            l.stop().await;
        }
        match failed {
            Some(e) => Err(anyhow::anyhow!("--prometheus-push: {e}")),
            None => Ok(()),
        }
    }
}
