//! One engine thread: its calls in a slab, each call's next due time in a heap, one epoll
//! (mio) for their sockets, a timerfd for the earliest due frame, and an inbox for new calls.

use super::line::Line;
use super::phases::Phases;
use super::{Inbox, Job, Report};
use crate::call::Outcome;
use crate::clock::GATHER;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAKE: Token = Token(usize::MAX);
/// How many sockets a wake reads before it sends the frames due (a read takes a few µs).
const READS_BETWEEN_TICKS: usize = 128;
const TIMER: Token = Token(usize::MAX - 1);

/// How other threads hand this one its calls.
pub struct Handle {
    inbox: Inbox,
    waker: Arc<Waker>,
}

impl Handle {
    pub fn place(&self, job: Job) {
        self.inbox.lock().push(job);
        if let Err(e) = self.waker.wake() {
            // The thread cannot be woken: the call would wait for nothing.
            if let Some(job) = self.inbox.lock().pop() {
                let why = format!("cannot wake the frame engine: {e}");
                let failed = Outcome::Failed(voiceswarm_model::vocab::CallFailure::Connect, why);
                let _ = job.reports.send(Report::Ended(failed));
            }
        }
    }
}

/// Starts engine thread `n`.
pub fn spawn(n: usize) -> io::Result<Handle> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let timer = Timer::new()?;
    poll.registry().register(
        &mut SourceFd(&timer.fd.as_raw_fd()),
        TIMER,
        Interest::READABLE,
    )?;
    let inbox = Inbox::default();
    let mut worker = Worker {
        poll,
        timer,
        inbox: inbox.clone(),
        lines: Vec::new(),
        free: Vec::new(),
        due: BinaryHeap::new(),
        next_ticket: 0,
        armed: None,
        phases: Phases::new(Instant::now()),
    };
    std::thread::Builder::new()
        .name(format!("vs-frames-{n}"))
        .spawn(move || worker.run())?;
    Ok(Handle { inbox, waker })
}

/// How much the engine's threads ask to be preferred by the scheduler (a nice value).
const NICE: libc::c_int = -10;

/// Asks the scheduler to run this thread before the process's others when both are ready: a
/// frame due now goes before a new call's connect or Goose's bookkeeping on the same core (at
/// nice −10 the kernel gives it about nine times their share). Allowed with root or
/// `CAP_SYS_NICE`; refused, the thread runs at the process's priority, as everything else.
fn prefer_this_thread() {
    // SAFETY: plain system calls on this thread's own id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, NICE);
    }
}

/// A one-shot timer with nanosecond precision that epoll can wait on (epoll's own timeout is
/// in whole milliseconds).
struct Timer {
    fd: OwnedFd,
}

impl Timer {
    fn new() -> io::Result<Self> {
        // SAFETY: a plain system call; a non-negative result is a new descriptor we own.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just created and is owned by nothing else.
        Ok(Self {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Fires once, `after` from now (at least a nanosecond: zero would disarm it).
    fn arm(&self, after: Duration) -> io::Result<()> {
        let after = after.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: a valid timerfd and itimerspec; the old value is not asked for.
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads the expiry count, so the next expiry wakes epoll again.
    fn drain(&self) {
        let mut n = [0u8; 8];
        // SAFETY: reading 8 bytes into an 8-byte buffer from our own descriptor.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), n.as_mut_ptr().cast(), 8) };
    }
}

/// A call and the ticket of its one live entry in the heap (older entries are skipped).
struct Slot {
    line: Line,
    ticket: u64,
    /// Its phase in the frame period, once open.
    phase: Option<usize>,
}

struct Worker {
    poll: Poll,
    timer: Timer,
    inbox: Inbox,
    lines: Vec<Option<Slot>>,
    free: Vec<usize>,
    /// Each call's next due time, earliest first: (due, slot, ticket).
    due: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    next_ticket: u64,
    /// When the timer is set to fire.
    armed: Option<Instant>,
    phases: Phases,
}

impl Worker {
    fn run(&mut self) {
        prefer_this_thread();
        let mut events = Events::with_capacity(1024);
        loop {
            let wait = self.arm();
            if let Err(e) = self.poll.poll(&mut events, wait) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.refuse_all(&format!("the frame engine's epoll failed: {e}"));
                }
            }
            // Frames come first: between every few sockets read, the frames due go out, so a
            // wake that finds hundreds of the bot's messages does not hold them back.
            for (n, event) in events.iter().enumerate() {
                match event.token() {
                    WAKE => self.take_new(),
                    TIMER => {
                        self.timer.drain();
                        self.armed = None;
                    }
                    Token(i) => self.ready(i),
                }
                if n % READS_BETWEEN_TICKS == READS_BETWEEN_TICKS - 1 {
                    self.tick_due(Instant::now());
                }
            }
            self.tick_due(Instant::now());
        }
    }

    /// Sets the timer for the earliest due call, [`GATHER`] late so the calls due just after it
    /// go in the same wake. None: wait for it (or a socket); Some(zero): it is already due.
    fn arm(&mut self) -> Option<Duration> {
        let Reverse((due, _, _)) = self.due.peek().copied()?;
        let at = due + GATHER;
        let now = Instant::now();
        if at <= now {
            return Some(Duration::ZERO);
        }
        if self.armed != Some(at) {
            if let Err(e) = self.timer.arm(at - now) {
                // Without the timer, wait a millisecond at a time on epoll's own timeout.
                eprintln!(
                    "voiceswarm: the frame engine's timer failed ({e}); pacing by milliseconds"
                );
                return Some(Duration::from_millis(1));
            }
            self.armed = Some(at);
        }
        None
    }

    fn take_new(&mut self) {
        let jobs = std::mem::take(&mut *self.inbox.lock());
        for job in jobs {
            if let Some(line) = Line::start(job) {
                self.add(line);
            }
        }
    }

    fn add(&mut self, line: Line) {
        let i = self.free.pop().unwrap_or(self.lines.len());
        let fd = line.fd();
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut SourceFd(&fd), Token(i), interest)
        {
            let why = format!("the frame engine cannot watch the call's socket: {e}");
            line.end(Outcome::Failed(
                voiceswarm_model::vocab::CallFailure::Connect,
                why,
            ));
            return;
        }
        if i == self.lines.len() {
            self.lines.push(None);
        }
        self.lines[i] = Some(Slot {
            line,
            ticket: 0,
            phase: None,
        });
        self.begin_if_open(i);
        self.schedule(i);
    }

    /// Puts slot `i`'s next due time in the heap (its earlier entry, if any, goes stale).
    fn schedule(&mut self, i: usize) {
        let Some(slot) = self.lines[i].as_mut() else {
            return;
        };
        self.next_ticket += 1;
        slot.ticket = self.next_ticket;
        self.due
            .push(Reverse((slot.line.next_due(), i, slot.ticket)));
    }

    fn ready(&mut self, i: usize) {
        let Some(slot) = self.lines.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        match slot.line.ready() {
            Some(outcome) => self.remove(i, outcome),
            // The upgrade just finished: its first frame is due in its phase, not at the
            // upgrade's deadline.
            None if slot.phase.is_none() && slot.line.is_open() => {
                self.begin_if_open(i);
                self.schedule(i);
            }
            None => {}
        }
    }

    /// Gives an open call that has no phase yet the least loaded one: its first frame goes then.
    fn begin_if_open(&mut self, i: usize) {
        let Some(slot) = self.lines[i].as_mut() else {
            return;
        };
        if slot.phase.is_none() && slot.line.is_open() {
            let (at, phase) = self.phases.take(Instant::now());
            slot.line.begin_at(at);
            slot.phase = Some(phase);
        }
    }

    fn tick_due(&mut self, now: Instant) {
        while let Some(Reverse((due, i, ticket))) = self.due.peek().copied() {
            if due > now {
                return;
            }
            self.due.pop();
            let Some(slot) = self.lines.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            if slot.ticket != ticket {
                continue;
            }
            match slot.line.tick(now) {
                Some(outcome) => self.remove(i, outcome),
                None => self.schedule(i),
            }
        }
    }

    fn remove(&mut self, i: usize, outcome: Outcome) {
        if let Some(slot) = self.lines[i].take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&slot.line.fd()));
            self.free.push(i);
            if let Some(phase) = slot.phase {
                self.phases.give_back(phase);
            }
            slot.line.end(outcome);
        }
    }

    /// Ends every call with `why`, and every call placed from now on: the engine cannot go on,
    /// and no caller is left waiting for it.
    fn refuse_all(&mut self, why: &str) -> ! {
        let failed = || {
            Outcome::Failed(
                voiceswarm_model::vocab::CallFailure::ClosedEarly,
                why.into(),
            )
        };
        for i in 0..self.lines.len() {
            self.remove(i, failed());
        }
        loop {
            for job in std::mem::take(&mut *self.inbox.lock()) {
                let _ = job.reports.send(Report::Ended(failed()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The timer wakes an epoll wait at its time, to well under epoll's own millisecond.
    #[test]
    fn the_timer_wakes_epoll_on_time() {
        let timer = Timer::new().unwrap();
        let mut poll = Poll::new().unwrap();
        let fd = timer.fd.as_raw_fd();
        let registry = poll.registry();
        registry
            .register(&mut SourceFd(&fd), TIMER, Interest::READABLE)
            .unwrap();
        let mut events = Events::with_capacity(4);
        let mut late = Vec::new();
        for _ in 0..20 {
            let due = Instant::now() + Duration::from_micros(1500);
            timer.arm(due - Instant::now()).unwrap();
            poll.poll(&mut events, Some(Duration::from_secs(1)))
                .unwrap();
            let woke = Instant::now();
            assert!(
                events.iter().any(|e| e.token() == TIMER),
                "the timer woke it"
            );
            assert!(woke >= due, "{:?} early", due - woke);
            late.push(woke - due);
            timer.drain();
        }
        late.sort();
        // epoll's own timeout would round 1.5 ms up to 2: half a millisecond late at best.
        assert!(
            late[10] < Duration::from_micros(400),
            "median lateness {:?}",
            late[10]
        );
    }
}
