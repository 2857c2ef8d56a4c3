//! A fine clock for work due at a precise moment: a WebRTC call's 20 ms frames, an arrival's
//! start (WebSocket calls pace on the frame engine's own timer, `call::frame_engine`).
//! Tokio's timers tick in whole milliseconds and round a deadline up to the next tick, so work
//! would start about 1.3 ms late (median) before any load at all; this clock is one thread that
//! sleeps until the earliest due time with the OS's fine timers and wakes the tasks waiting for
//! it (measured: median lateness 0.4–0.5 ms against 1.3 ms at 400 paced calls on one core,
//! benches/README.md). It wakes in batches: everything due within [`GATHER`] of the earliest
//! sleep is woken together, so hundreds of calls cost a few thousand thread switches a second
//! instead of one per frame (at 400 calls, switching was 40 % of the generator's core).

use parking_lot::{Condvar, Mutex};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How long the clock lets the earliest sleep wait for later ones to wake with it: at most
/// this much lateness added to any frame (5 % of the 5 ms P99 bound), and at most 1/GATHER =
/// 4,000 wake-ups of the clock a second, whatever the load.
pub const GATHER: Duration = Duration::from_micros(250);

#[derive(Default)]
struct Waiting {
    /// Due times, earliest first, with the id of the sleep waiting for each.
    due: BinaryHeap<Reverse<(Instant, u64)>>,
    wakers: HashMap<u64, Waker>,
    next_id: u64,
}

struct Clock {
    waiting: Mutex<Waiting>,
    changed: Condvar,
}

/// The clock, once started; or why its thread could not start.
static CLOCK: OnceLock<Result<&'static Clock, String>> = OnceLock::new();

/// Starts the clock's thread (once per process). A run calls this before any frame or arrival
/// is due, so a clock that cannot start fails the run with this message instead of leaving
/// every call waiting for a wake that never comes.
pub fn start() -> Result<(), String> {
    let started = CLOCK.get_or_init(|| {
        let c: &'static Clock = Box::leak(Box::new(Clock {
            waiting: Mutex::new(Waiting::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("vs-frame-clock".into())
            .spawn(move || c.run())
            .map(|_| c)
            .map_err(|e| format!("cannot start the frame clock's thread: {e}"))
    });
    started.as_ref().map(|_| ()).map_err(Clone::clone)
}

fn clock() -> &'static Clock {
    match CLOCK.get() {
        Some(Ok(c)) => c,
        // Every run starts the clock before its first sleep (`start`), and stops on its error.
        _ => panic!("the frame clock is used before clock::start() succeeded"),
    }
}

impl Clock {
    /// Wakes every sleep that is due, then sleeps until the next one is [`GATHER`] late (or a
    /// new earlier one comes).
    fn run(&self) {
        let mut w = self.waiting.lock();
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(Reverse((at, id))) = w.due.peek().copied() {
                if at > now {
                    break;
                }
                w.due.pop();
                if let Some(waker) = w.wakers.remove(&id) {
                    due.push(waker);
                }
            }
            if !due.is_empty() {
                drop(w);
                due.into_iter().for_each(Waker::wake);
                w = self.waiting.lock();
                continue;
            }
            match w.due.peek().copied() {
                Some(Reverse((at, _))) => {
                    self.changed.wait_until(&mut w, at + GATHER);
                }
                None => self.changed.wait(&mut w),
            }
        }
    }
}

/// A future that completes at `due`, to the clock's precision.
pub struct SleepUntil {
    due: Instant,
    id: Option<u64>,
}

/// Sleeps until `due` on the fine clock.
pub fn sleep_until(due: Instant) -> SleepUntil {
    SleepUntil { due, id: None }
}

impl Future for SleepUntil {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.due {
            return Poll::Ready(());
        }
        let c = clock();
        let mut w = c.waiting.lock();
        match self.id {
            Some(id) if w.wakers.contains_key(&id) => {
                w.wakers.insert(id, cx.waker().clone());
            }
            _ => {
                let id = w.next_id;
                w.next_id += 1;
                let earliest = w.due.peek().is_none_or(|Reverse((at, _))| self.due < *at);
                w.due.push(Reverse((self.due, id)));
                w.wakers.insert(id, cx.waker().clone());
                self.id = Some(id);
                if earliest {
                    c.changed.notify_one();
                }
            }
        }
        Poll::Pending
    }
}

impl Drop for SleepUntil {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            // Its heap entry stays and is skipped when it comes due.
            clock().waiting.lock().wakers.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The clock is one per process: its tests take turns, so one's sleeps don't wake another's.
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[tokio::test]
    async fn wakes_on_time_in_order() {
        let _turn = TURN.lock().await;
        super::start().unwrap();
        let start = Instant::now();
        let mut late = Vec::new();
        for k in 1..=50u32 {
            let due = start + Duration::from_millis(2) * k;
            sleep_until(due).await;
            late.push(Instant::now() - due);
        }
        late.sort();
        // Well under a millisecond usually; a loaded test machine may add some.
        assert!(
            late[25] < Duration::from_millis(1),
            "median lateness {:?}",
            late[25]
        );
    }

    #[tokio::test]
    async fn a_cancelled_sleep_leaves_nothing_to_wake() {
        let _turn = TURN.lock().await;
        start().unwrap();
        let mut far = Box::pin(sleep_until(Instant::now() + Duration::from_secs(60)));
        // Polled once, it waits on the clock with its waker…
        assert!(futures::poll!(far.as_mut()).is_pending());
        let id = far.id.expect("a pending sleep has an id");
        assert!(clock().waiting.lock().wakers.contains_key(&id));
        // …and dropped, its waker is gone: nothing will be woken for it.
        drop(far);
        assert!(!clock().waiting.lock().wakers.contains_key(&id));
        sleep_until(Instant::now() + Duration::from_millis(1)).await;
    }

    #[tokio::test]
    async fn sleeps_due_close_together_wake_together() {
        let _turn = TURN.lock().await;
        start().unwrap();
        let first = Instant::now() + Duration::from_millis(5);
        let second = first + GATHER / 2;
        let woke = |due| async move {
            sleep_until(due).await;
            Instant::now()
        };
        let (a, b) = tokio::join!(woke(first), woke(second));
        // The earlier sleep waited for the later one: one wake-up of the clock for both.
        assert!(
            a >= second,
            "woke {:?} before the second was due",
            second - a
        );
        assert!(b >= second);
    }
}
