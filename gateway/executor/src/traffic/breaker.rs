//! A circuit breaker's state machine (pure: time is passed in). Closed: requests go out and
//! consecutive failures are counted; at the threshold it opens. Open: requests fail at once
//! until the cool-down is over. Half-open: one request probes the subgraph while the others
//! still fail fast; its success closes the circuit, its failure opens it again.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// The state as a metric value: 0 closed, 1 open, 2 half-open.
impl State {
    pub fn gauge(self) -> u64 {
        match self {
            State::Closed { .. } => 0,
            State::Open { .. } => 1,
            State::HalfOpen { .. } => 2,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: State,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            state: State::Closed { failures: 0 },
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Whether a request may go out at `now`. After the cool-down the first caller becomes
    /// the probe; a probe already out keeps everyone else out.
    pub fn admit(&mut self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen { probing: true };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen { probing: true } => false,
            State::HalfOpen { probing: false } => {
                self.state = State::HalfOpen { probing: true };
                true
            }
        }
    }

    /// The outcome of an admitted request, at `now`.
    pub fn record(&mut self, success: bool, now: Instant) {
        self.state = match (self.state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (State::Open { until }, false) => State::Open { until },
            (_, false) => State::Open {
                until: now + self.cooldown,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_at_the_threshold_half_opens_after_the_cooldown_and_closes_on_success() {
        let t0 = Instant::now();
        let cooldown = Duration::from_millis(100);
        let mut b = Breaker::new(3, cooldown);
        for _ in 0..2 {
            assert!(b.admit(t0));
            b.record(false, t0);
        }
        assert!(matches!(b.state(), State::Closed { failures: 2 }));
        // A success in between starts the count again.
        b.record(true, t0);
        for _ in 0..3 {
            assert!(b.admit(t0));
            b.record(false, t0);
        }
        assert!(matches!(b.state(), State::Open { .. }));
        assert!(!b.admit(t0 + cooldown / 2));
        // After the cool-down, one probe; others wait for it.
        assert!(b.admit(t0 + cooldown));
        assert!(!b.admit(t0 + cooldown));
        b.record(true, t0 + cooldown);
        assert_eq!(b.state(), State::Closed { failures: 0 });
    }

    #[test]
    fn a_failed_probe_opens_again() {
        let t0 = Instant::now();
        let cooldown = Duration::from_millis(100);
        let mut b = Breaker::new(1, cooldown);
        b.record(false, t0);
        let later = t0 + cooldown * 2;
        assert!(b.admit(later));
        b.record(false, later);
        assert_eq!(
            b.state(),
            State::Open {
                until: later + cooldown
            }
        );
        assert!(!b.admit(later + cooldown / 2));
    }
}
