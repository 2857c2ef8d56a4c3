//! The capacity search as a pure state machine: doubling steps from a start load until one
//! breaks an SLO, then bisection between the last good and the first bad load to a resolution.
//! It decides the next load from the last step's pass/fail and never runs anything itself.

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run a step at this load.
    Step(usize),
    /// Stop, and why.
    Stop(Stopped),
}

/// Why the search stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// Even the start load breaks an SLO.
    StartLoadBreaks,
    /// The maximum load held without breaking an SLO.
    MaximumHeld(usize),
    /// Good and bad are within the resolution of each other.
    Bisected { good: usize, bad: usize },
}

#[derive(Debug, Clone)]
pub struct Search {
    max: usize,
    /// Stop when bad − good is at most this share of good, in percent.
    resolution_percent: f64,
    good: Option<usize>,
    bad: Option<usize>,
    /// The load of the step being run.
    current: usize,
}

impl Search {
    /// A search from `start` up to `max` (1 <= start <= max); its first step is `start`.
    pub fn new(start: usize, max: usize, resolution_percent: f64) -> Self {
        Self {
            max,
            resolution_percent,
            good: None,
            bad: None,
            current: start,
        }
    }

    pub fn first(&self) -> usize {
        self.current
    }

    /// The highest load that held so far.
    pub fn good(&self) -> Option<usize> {
        self.good
    }

    /// The lowest load that broke so far.
    pub fn bad(&self) -> Option<usize> {
        self.bad
    }

    /// Takes the result of the step at the current load and says what comes next.
    pub fn record(&mut self, passed: bool) -> Next {
        if passed {
            self.good = Some(self.current);
        } else {
            self.bad = Some(self.current);
        }
        let next = match (self.good, self.bad) {
            (None, _) => return Next::Stop(Stopped::StartLoadBreaks),
            (Some(g), None) if g >= self.max => return Next::Stop(Stopped::MaximumHeld(g)),
            (Some(g), None) => (g * 2).min(self.max),
            (Some(g), Some(b)) => {
                let gap = b.saturating_sub(g);
                if gap <= 1 || gap as f64 <= g as f64 * self.resolution_percent / 100.0 {
                    return Next::Stop(Stopped::Bisected { good: g, bad: b });
                }
                g + gap / 2
            }
        };
        self.current = next;
        Next::Step(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search against a system that holds up to `capacity`; the loads it tried.
    fn drive(start: usize, max: usize, capacity: usize) -> (Vec<usize>, Stopped) {
        let mut s = Search::new(start, max, 10.0);
        let mut tried = vec![s.first()];
        loop {
            match s.record(*tried.last().unwrap() <= capacity) {
                Next::Step(n) => tried.push(n),
                Next::Stop(why) => return (tried, why),
            }
        }
    }

    #[test]
    fn doubles_then_bisects_to_the_resolution() {
        let (tried, why) = drive(10, 10_000, 140);
        assert_eq!(tried[..5], [10, 20, 40, 80, 160]);
        let Stopped::Bisected { good, bad } = why else {
            panic!("{why:?}")
        };
        assert!(good <= 140 && bad > 140 && (bad - good) as f64 <= good as f64 * 0.1);
        assert!(tried.len() <= 9, "{tried:?}");
    }

    #[test]
    fn start_load_that_breaks_and_a_maximum_that_holds() {
        assert_eq!(drive(100, 1000, 40), (vec![100], Stopped::StartLoadBreaks));
        let (tried, why) = drive(10, 50, 1000);
        assert_eq!(tried, [10, 20, 40, 50]);
        assert_eq!(why, Stopped::MaximumHeld(50));
    }

    #[test]
    fn always_terminates() {
        for capacity in 0..300 {
            for start in [1, 3, 10] {
                let (tried, _) = drive(start, 256, capacity);
                assert!(tried.len() < 30, "{capacity} {start}: {tried:?}");
            }
        }
    }
}
