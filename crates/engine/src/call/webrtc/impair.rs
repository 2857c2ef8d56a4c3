//! A bad network on purpose, in process (no root, no `tc`): one delay line per direction that
//! drops each datagram with the step's chance and holds the others for the latency plus a
//! uniformly random 0 to `jitter` more — so with jitter above the 20 ms spacing, packets also
//! arrive out of order, as on a weak mobile link.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use voiceswarm_model::scenario::webrtc::Impair;

/// A datagram on its way: the far end and the bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Datagram {
    pub peer: SocketAddr,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
pub struct Line {
    impair: Impair,
    /// Datagrams by release time (and arrival order among equals).
    held: BTreeMap<(Instant, u64), Datagram>,
    n: u64,
    pub dropped: u64,
}

impl Line {
    pub fn new(impair: Impair) -> Self {
        Self {
            impair,
            held: BTreeMap::new(),
            n: 0,
            dropped: 0,
        }
    }

    /// Whether datagrams go through this line at all (otherwise they pass at once).
    pub fn active(&self) -> bool {
        !self.impair.is_none()
    }

    /// A datagram entering the line at `now`: dropped, or held until its release.
    pub fn push(&mut self, now: Instant, d: Datagram) {
        if self.impair.loss > 0.0 && rand::random::<f64>() < self.impair.loss {
            self.dropped += 1;
            return;
        }
        let jitter = self.impair.jitter.mul_f64(rand::random::<f64>());
        self.n += 1;
        self.held
            .insert((now + self.impair.latency + jitter, self.n), d);
    }

    /// When the next datagram is released.
    pub fn next(&self) -> Option<Instant> {
        self.held.keys().next().map(|(at, _)| *at)
    }

    /// The next datagram due by `now`, with its release time (its arrival at the line's end).
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, Datagram)> {
        match self.next() {
            Some(at) if at <= now => self.held.pop_first().map(|((at, _), d)| (at, d)),
            _ => None,
        }
    }

    /// How much is held (for tests).
    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

/// The earlier of `a` and `b` (`b` may be absent).
pub fn earliest(a: Instant, b: Option<Instant>) -> Instant {
    b.map_or(a, |b| a.min(b))
}

/// The added delay's mean for a knob (latency + jitter/2): what a turn's voice-to-voice gains
/// per direction.
pub fn mean_delay(i: &Impair) -> Duration {
    i.latency + i.jitter / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Datagram {
        Datagram {
            peer: "127.0.0.1:9".parse().unwrap(),
            bytes: vec![n],
        }
    }

    #[test]
    fn loss_latency_and_jitter_as_asked() {
        let t0 = Instant::now();
        let mut line = Line::new(Impair {
            loss: 0.02,
            jitter: Duration::from_millis(30),
            latency: Duration::from_millis(80),
        });
        for _ in 0..20_000 {
            line.push(t0, d(1));
        }
        let loss = line.dropped as f64 / 20_000.0;
        assert!((0.015..0.025).contains(&loss), "{loss}");
        assert!(line.pop_due(t0 + Duration::from_millis(79)).is_none());
        let first = line.next().unwrap() - t0;
        assert!(first >= Duration::from_millis(80) && first < Duration::from_millis(81));
        let last = line.held.keys().last().unwrap().0 - t0;
        assert!(last > Duration::from_millis(109) && last <= Duration::from_millis(110));
        let mut n = 0;
        while line.pop_due(t0 + Duration::from_millis(110)).is_some() {
            n += 1;
        }
        assert_eq!(n as u64 + line.dropped, 20_000);
        assert!(line.is_empty());
    }

    #[test]
    fn no_knob_no_line() {
        assert!(!Line::new(Impair::default()).active());
    }
}
