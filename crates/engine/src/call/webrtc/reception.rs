//! What the caller measures of the bot's RTP stream as its packets arrive: RFC 3550's
//! interarrival jitter (§6.4.1 and A.8: J += (|D| − J)/16 over consecutive arrivals, D the change
//! in transit time, in RTP clock units) and packet loss (A.3: expected from the extended highest
//! sequence number less the first, less those received).

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Reception {
    /// The RTP clock (48 kHz for Opus, 8 kHz for PCMU).
    clock: f64,
    /// Arrival times are counted from here.
    epoch: Option<Instant>,
    first_seq: u64,
    highest_seq: u64,
    pub received: u64,
    last_transit: Option<f64>,
    /// The running jitter, in RTP clock units.
    jitter: f64,
}

impl Reception {
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock: clock_rate as f64,
            epoch: None,
            first_seq: 0,
            highest_seq: 0,
            received: 0,
            last_transit: None,
            jitter: 0.0,
        }
    }

    /// A packet with extended sequence number `seq` and RTP time `time` arrived at `at`.
    pub fn packet(&mut self, at: Instant, seq: u64, time: u64) {
        let epoch = *self.epoch.get_or_insert(at);
        if self.received == 0 {
            self.first_seq = seq;
            self.highest_seq = seq;
        }
        self.first_seq = self.first_seq.min(seq);
        self.highest_seq = self.highest_seq.max(seq);
        self.received += 1;
        let arrival = at.saturating_duration_since(epoch).as_secs_f64() * self.clock;
        let transit = arrival - time as f64;
        if let Some(last) = self.last_transit {
            let d = (transit - last).abs();
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    /// The interarrival jitter now.
    pub fn jitter(&self) -> Duration {
        Duration::from_secs_f64(self.jitter / self.clock)
    }

    /// Packets the sender sent in the span received (first to highest sequence number).
    pub fn expected(&self) -> u64 {
        match self.received {
            0 => 0,
            _ => self.highest_seq - self.first_seq + 1,
        }
    }

    /// Packets of that span that never arrived (duplicates do not make it negative).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_stream_has_no_jitter_and_gaps_are_loss() {
        let t0 = Instant::now();
        let mut r = Reception::new(48_000);
        for k in 0..100u64 {
            if k % 10 == 3 {
                continue; // 10 lost
            }
            r.packet(t0 + Duration::from_millis(20 * k), 1000 + k, 960 * k);
        }
        assert!(r.jitter() < Duration::from_micros(1), "{:?}", r.jitter());
        assert_eq!((r.expected(), r.received, r.lost()), (100, 90, 10));
    }

    #[test]
    fn alternating_transit_converges_to_its_change() {
        // Transit alternates 0 and 4 ms: |D| is 4 ms every packet, so J tends to 4 ms.
        let t0 = Instant::now();
        let mut r = Reception::new(8_000);
        for k in 0..400u64 {
            let extra = if k % 2 == 1 { 4 } else { 0 };
            r.packet(t0 + Duration::from_millis(20 * k + extra), k, 160 * k);
        }
        let j = r.jitter().as_secs_f64() * 1000.0;
        assert!((j - 4.0).abs() < 0.01, "{j}");
    }
}
