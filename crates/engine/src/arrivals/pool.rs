//! The pool of Goose users that carry arrivals, and the dispatcher that feeds it: at each
//! arrival's due time it hands a ticket to a free user — or, when none is free, queues it or
//! drops it, counting both — and it samples how many arrivals are in progress.

use parking_lot::Mutex;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::arrival::schedule::Schedule;
pub use voiceswarm_model::arrival::OnFull;
use voiceswarm_model::stats::Recorder;
use voiceswarm_model::vocab::{counter, metric};

/// An arrival handed to a user: when it was due.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    pub due: Instant,
}

/// How many arrivals were in progress, measured by the dispatcher.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Concurrency {
    pub mean: f64,
    pub max: usize,
    /// The mean of each second of the schedule.
    pub per_second: Vec<f64>,
}

pub struct Pool {
    size: usize,
    tx: Mutex<Option<flume::Sender<Ticket>>>,
    rx: flume::Receiver<Ticket>,
    idle: AtomicUsize,
    busy: AtomicUsize,
    max_busy: AtomicUsize,
    /// The run ended before the schedule (Ctrl-C, a threshold): dispatch no more.
    stop: tokio::sync::Notify,
}

/// How often the dispatcher samples the arrivals in progress.
const SAMPLE: Duration = Duration::from_millis(10);

impl Pool {
    pub fn new(size: usize) -> Arc<Self> {
        let (tx, rx) = flume::unbounded();
        Arc::new(Self {
            size,
            tx: Mutex::new(Some(tx)),
            rx,
            idle: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            max_busy: AtomicUsize::new(0),
            stop: tokio::sync::Notify::new(),
        })
    }

    /// A user waits for its next arrival; None once the schedule is over.
    pub async fn take(&self) -> Option<Ticket> {
        self.idle.fetch_add(1, Ordering::SeqCst);
        let ticket = self.rx.recv_async().await.ok();
        self.idle.fetch_sub(1, Ordering::SeqCst);
        if ticket.is_some() {
            let now = self.busy.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_busy.fetch_max(now, Ordering::Relaxed);
        }
        ticket
    }

    /// Ends the schedule early (the run is over).
    pub fn stop(&self) {
        self.stop.notify_one();
    }

    /// A user finished its arrival.
    pub fn done(&self) {
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }

    /// Users free to start an arrival now (idle, less the tickets already waiting).
    fn free(&self) -> usize {
        self.idle
            .load(Ordering::SeqCst)
            .saturating_sub(self.rx.len())
    }

    /// Waits (up to `limit`) until every user of the pool is waiting for an arrival.
    pub async fn wait_until_ready(&self, limit: Duration) {
        let until = Instant::now() + limit;
        while self.idle.load(Ordering::SeqCst) < self.size && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Arrivals queued and never started (the run ended first).
    pub fn unstarted(&self) -> usize {
        self.rx.len()
    }

    /// Waits until every arrival handed out has finished (queued ones included), or `limit`.
    pub async fn drain(&self, limit: Duration) {
        let until = Instant::now() + limit;
        while (self.busy.load(Ordering::SeqCst) > 0 || !self.rx.is_empty())
            && Instant::now() < until
            && !goose::is_killswitch_triggered()
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Runs `schedule` from now: hands out, queues or drops every arrival, counting each into
    /// `recorder`; then tells the users there are no more. Returns the concurrency it saw.
    pub async fn dispatch(
        self: Arc<Self>,
        schedule: Schedule,
        queue: bool,
        recorder: Arc<Recorder>,
    ) -> Concurrency {
        let start = Instant::now();
        let sampler = tokio::spawn(self.clone().sample(start));
        let tx = self.tx.lock().clone();
        if let Some(tx) = tx {
            let mut last: Option<Instant> = None;
            for offset in schedule {
                let due = start + offset;
                tokio::select! {
                    _ = crate::clock::sleep_until(due) => {}
                    _ = self.stop.notified() => break,
                }
                if goose::is_killswitch_triggered() {
                    break;
                }
                let now = Instant::now();
                let gap = last.map(|l| now - l);
                last = Some(now);
                let free = self.free() > 0;
                recorder.with_shard(0, |s| {
                    s.count(counter::ARRIVALS_SCHEDULED, 1);
                    if let Some(g) = gap {
                        s.record(metric::ARRIVAL_GAP, g);
                    }
                    if !free {
                        s.count(
                            if queue {
                                counter::ARRIVALS_QUEUED
                            } else {
                                counter::ARRIVALS_DROPPED
                            },
                            1,
                        );
                    }
                });
                if free || queue {
                    let _ = tx.send(Ticket { due });
                }
            }
        }
        // No more arrivals: queued ones are still served; waiting users then stop.
        self.tx.lock().take();
        let mut concurrency = sampler.await.unwrap_or_default();
        concurrency.max = self.max_busy.load(Ordering::Relaxed);
        concurrency
    }

    /// Samples the arrivals in progress every 10 ms until the schedule is over.
    async fn sample(self: Arc<Self>, start: Instant) -> Concurrency {
        let mut tick = tokio::time::interval(SAMPLE);
        let (mut all, mut second, mut per_second) = (Vec::new(), Vec::new(), Vec::new());
        while self.tx.lock().is_some() {
            tick.tick().await;
            let busy = self.busy.load(Ordering::Relaxed) as f64;
            all.push(busy);
            second.push(busy);
            if start.elapsed().as_secs() as usize > per_second.len() {
                per_second.push(second.iter().sum::<f64>() / second.len() as f64);
                second.clear();
            }
        }
        Concurrency {
            mean: if all.is_empty() {
                0.0
            } else {
                all.iter().sum::<f64>() / all.len() as f64
            },
            max: 0,
            per_second,
        }
    }
}
