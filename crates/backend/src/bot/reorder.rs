//! Media put back in sequence order, for protocols that number their messages and do not
//! promise their order (Telnyx): a message ahead of its turn waits for the ones before it, for
//! at most a few frames; a message that never comes is skipped, one that comes after its turn
//! has passed is dropped (a phone line does not play old audio).

use bytes::Bytes;
use std::collections::BTreeMap;

/// How many messages may wait for a missing one before it is given up (100 ms of audio).
const WINDOW: usize = 5;

#[derive(Debug, Default)]
pub struct Reorder {
    /// The sequence number due next (None before the first message).
    next: Option<u64>,
    waiting: BTreeMap<u64, Bytes>,
}

impl Reorder {
    /// Message `seq`'s audio arrived: the audio now due, in order.
    pub fn push(&mut self, seq: u64, audio: Bytes) -> Vec<Bytes> {
        let next = *self.next.get_or_insert(seq);
        if seq < next {
            return Vec::new();
        }
        self.waiting.insert(seq, audio);
        let mut out = Vec::new();
        while let Some(due) = self.next {
            if let Some(a) = self.waiting.remove(&due) {
                out.push(a);
                self.next = Some(due + 1);
            } else if self.waiting.len() > WINDOW {
                // Give the missing message up: go on from the earliest that came.
                self.next = self.waiting.keys().next().copied();
            } else {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[test]
    fn puts_messages_back_in_order_and_gives_up_on_a_lost_one() {
        let mut r = Reorder::default();
        assert_eq!(r.push(2, b(2)), vec![b(2)]);
        assert!(r.push(4, b(4)).is_empty(), "3 is missing");
        assert_eq!(r.push(3, b(3)), vec![b(3), b(4)]);
        assert!(r.push(3, b(3)).is_empty(), "a late duplicate is dropped");
        // 5 never comes: after WINDOW more, the line moves on.
        let mut out = Vec::new();
        for n in 6..=11 {
            out.extend(r.push(n, b(n as u8)));
        }
        assert_eq!(out, (6..=11).map(b).collect::<Vec<_>>());
    }
}
