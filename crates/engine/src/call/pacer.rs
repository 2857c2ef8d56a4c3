//! Pacing from a schedule: frame k of a call is due at start + 20 ms·k, whenever the previous
//! one left, so lateness never accumulates; each frame's lateness (sent − due) is measured.

use std::time::{Duration, Instant};
use voiceswarm_model::audio::speech::FRAME;

#[derive(Debug)]
pub struct Pacer {
    start: Instant,
    sent: u64,
}

impl Pacer {
    pub fn new(start: Instant) -> Self {
        Self { start, sent: 0 }
    }

    /// When frame 0 was due.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// When the next frame is due.
    pub fn next_due(&self) -> Instant {
        self.start + FRAME * self.sent as u32
    }

    /// Takes the next frame if it is due at `now`: its index and how late it leaves.
    /// Called until it returns None, a late sender catches up frame by frame.
    pub fn take_due(&mut self, now: Instant) -> Option<(u64, Duration)> {
        let due = self.next_due();
        if due > now {
            return None;
        }
        let k = self.sent;
        self.sent += 1;
        Some((k, now - due))
    }

    /// Milliseconds from the start to frame `k`'s due time (Twilio's media timestamp).
    pub fn timestamp_ms(k: u64) -> u64 {
        k * FRAME.as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_wake_sends_every_due_frame_and_does_not_drift() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert_eq!(p.take_due(t0), Some((0, Duration::ZERO)));
        assert_eq!(p.take_due(t0), None);
        // Woken at 65 ms: frames 1, 2 and 3 are due (at 20, 40 and 60 ms) and leave 45, 25 and
        // 5 ms late; frame 4 (at 80 ms) is not due yet.
        let late = t0 + Duration::from_millis(65);
        assert_eq!(p.take_due(late), Some((1, Duration::from_millis(45))));
        assert_eq!(p.take_due(late), Some((2, Duration::from_millis(25))));
        assert_eq!(p.take_due(late), Some((3, Duration::from_millis(5))));
        assert_eq!(p.take_due(late), None);
        assert_eq!(
            p.next_due(),
            t0 + Duration::from_millis(80),
            "the schedule stands"
        );
        assert_eq!(Pacer::timestamp_ms(3), 60);
    }
}
