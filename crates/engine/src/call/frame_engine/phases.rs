//! Where in the 20 ms frame period each call sends: the period cut into slots one clock batch
//! wide ([`GATHER`]), a new call started in the least loaded slot of the period ahead. Calls
//! placed together (Goose starts users at its spawn rate, a few per millisecond) would
//! otherwise share a phase and every wake of the engine would find hundreds of frames due at
//! once and a nearly idle period around them; staggered, each wake sends a few, and the last
//! frame of a wake leaves about as late as the first.

use crate::clock::GATHER;
use std::time::{Duration, Instant};
use voiceswarm_model::audio::speech::FRAME;

#[derive(Debug)]
pub struct Phases {
    epoch: Instant,
    /// How many calls send in each slot of the period.
    load: Vec<u32>,
}

impl Phases {
    pub fn new(epoch: Instant) -> Self {
        let slots = (FRAME.as_nanos() / GATHER.as_nanos()).max(1) as usize;
        Self {
            epoch,
            load: vec![0; slots],
        }
    }

    /// The slot boundaries passed since the epoch, at `at`.
    fn slots_since_epoch(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.epoch).as_nanos() / GATHER.as_nanos()) as u64
    }

    /// When a call opened at `now` sends its first frame — the start of the least loaded slot
    /// within the next period (the earliest of equals) — and the slot, to give back at its end.
    pub fn take(&mut self, now: Instant) -> (Instant, usize) {
        let n = self.load.len() as u64;
        let next = self.slots_since_epoch(now) + 1;
        let ahead = (0..n)
            .min_by_key(|k| self.load[((next + k) % n) as usize])
            .unwrap_or(0);
        let slot = ((next + ahead) % n) as usize;
        self.load[slot] += 1;
        let at = self.epoch + Duration::from_nanos((next + ahead) * GATHER.as_nanos() as u64);
        (at, slot)
    }

    /// A call of `slot` ended.
    pub fn give_back(&mut self, slot: usize) {
        if let Some(l) = self.load.get_mut(slot) {
            *l = l.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_opened_together_spread_over_the_period() {
        let epoch = Instant::now();
        let mut p = Phases::new(epoch);
        let slots = p.load.len();
        assert_eq!(slots, 80, "20 ms in 250 µs slots");
        let now = epoch + Duration::from_millis(7);
        let starts: Vec<(Instant, usize)> = (0..2 * slots).map(|_| p.take(now)).collect();
        assert!(p.load.iter().all(|&l| l == 2), "two calls in every slot");
        for (at, _) in &starts {
            assert!(*at > now && *at <= now + FRAME, "{:?} after now", *at - now);
        }
        // The first call goes at the next slot boundary: 7.25 ms after the epoch.
        assert_eq!(starts[0].0 - epoch, Duration::from_micros(7250));
        // A call that ends frees its slot, and the next call takes it.
        let (_, freed) = starts[5];
        p.give_back(freed);
        assert_eq!(p.take(now).1, freed);
    }
}
