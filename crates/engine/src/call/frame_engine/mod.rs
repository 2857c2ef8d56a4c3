//! The frame engine: the process's WebSocket calls run on a few engine threads (one per core
//! the process may use), each owning its calls' sockets. A thread waits on one epoll for all of
//! them and on one fine timer for the earliest frame due, and at each wake sends every frame
//! that is due — one wake per tick for hundreds of calls, where a task per call woke once per
//! frame (its clock entry, its task's poll, a thread switch: a fifth of the generator's core at
//! 1,250 calls). The Goose user that placed a call waits for what the call measured — a few
//! reports a turn — and for its end.

mod line;
mod outbox;
mod phases;
mod worker;

use super::conversation::Event;
use super::Outcome;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::Connector;
use voiceswarm_model::protocol::CallIds;
use voiceswarm_model::scenario::CallPlan;
use voiceswarm_model::stats::recorder::Recorder;

/// Everything one call needs from the caller that placed it.
pub struct Job {
    /// The bot's WebSocket URL, for messages.
    pub url: String,
    /// The connected TCP socket (the engine upgrades it), and the upgrade's request and TLS.
    pub tcp: Option<std::net::TcpStream>,
    pub request: Option<Request>,
    pub connector: Option<Connector>,
    pub plan: Arc<CallPlan>,
    pub ids: CallIds,
    pub custom: BTreeMap<String, String>,
    /// When the TCP connect began: `call:connect` counts from here to the upgrade's end.
    pub connecting: Instant,
    pub recorder: Arc<Recorder>,
    /// The caller's user index (the recorder's shard).
    pub hint: usize,
    /// The run's planned end: the call hangs up then, cut short.
    pub deadline: Option<Instant>,
    pub reports: UnboundedSender<Report>,
}

/// What the engine tells the caller that placed a call.
#[derive(Debug)]
pub enum Report {
    /// What the conversation measured (turns, endpointing, barge-ins), for Goose's reports and
    /// the call log.
    Measured(Vec<Event>),
    /// The call is over and hung up.
    Ended(Outcome),
}

/// The engine's threads, once started; or why they could not start.
static ENGINE: OnceLock<Result<Vec<worker::Handle>, String>> = OnceLock::new();

/// Starts the engine's threads (once per process), one per core the process may run on. A run
/// calls this before its first call, so an engine that cannot start fails the run with this
/// message.
pub fn start() -> Result<(), String> {
    let started = ENGINE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (0..cores)
            .map(|n| {
                worker::spawn(n)
                    .map_err(|e| format!("cannot start the frame engine's thread {n}: {e}"))
            })
            .collect()
    });
    started.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// Hands a call to the engine (its threads in turn); its reports come on the returned receiver.
pub fn place(build: impl FnOnce(UnboundedSender<Report>) -> Job) -> UnboundedReceiver<Report> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let job = build(tx);
    match ENGINE.get() {
        Some(Ok(threads)) => {
            let n = NEXT.fetch_add(1, Ordering::Relaxed) % threads.len();
            threads[n].place(job);
        }
        _ => {
            let why = "the frame engine is not running (frame_engine::start was not called)";
            let failed = Outcome::Failed(
                voiceswarm_model::vocab::CallFailure::Connect,
                why.to_string(),
            );
            let _ = job.reports.send(Report::Ended(failed));
        }
    }
    rx
}

/// New calls for one engine thread, taken at its next wake.
type Inbox = Arc<Mutex<Vec<Job>>>;
