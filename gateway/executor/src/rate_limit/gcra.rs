//! The generic cell rate algorithm (GCRA): a rate of `requests` per `interval` with a burst,
//! kept as one number per key, the *theoretical arrival time* (TAT) of the next request. A
//! request at `now` is admitted when the TAT it would push forward stays within the burst's
//! tolerance of `now`; otherwise it waits until it would. The same arithmetic runs in process
//! memory (`local`) and in Redis's script (`redis`), in microseconds.

use std::time::Duration;

/// A rate in microseconds: the spacing of requests and how far ahead of `now` the TAT may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// `interval / requests`: each admitted request moves the TAT this far.
    pub emission_us: u64,
    /// `emission * burst`: how far ahead of now the TAT may be after admitting.
    pub tolerance_us: u64,
}

impl Rate {
    /// `requests` per `interval`, up to `burst` at once (at least 1). `None` when `requests` is 0
    /// (no limit).
    pub fn new(requests: u64, interval: Duration, burst: u64) -> Option<Rate> {
        if requests == 0 {
            return None;
        }
        let interval_us = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        let emission_us = (interval_us / requests).max(1);
        Some(Rate {
            emission_us,
            tolerance_us: emission_us.saturating_mul(burst.max(1)),
        })
    }
}

/// What one request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Admitted: the key's TAT is now `tat`.
    Admit { tat: u64 },
    /// Refused: try again after this many microseconds. The TAT does not move.
    Refuse { retry_after_us: u64 },
}

/// The decision for a request at `now` on a key whose TAT is `tat` (0: never seen).
pub fn decide(tat: u64, now: u64, rate: Rate) -> Decision {
    let next = tat.max(now).saturating_add(rate.emission_us);
    let ahead = next - now;
    if ahead > rate.tolerance_us {
        Decision::Refuse {
            retry_after_us: ahead - rate.tolerance_us,
        }
    } else {
        Decision::Admit { tat: next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        // 10 per second, bursts of 3: 100 ms apart, 300 ms of tolerance.
        let rate = Rate::new(10, Duration::from_secs(1), 3).unwrap();
        assert_eq!(rate.emission_us, 100_000);
        let mut tat = 0;
        let now = 1_000_000;
        for _ in 0..3 {
            match decide(tat, now, rate) {
                Decision::Admit { tat: t } => tat = t,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            decide(tat, now, rate),
            Decision::Refuse {
                retry_after_us: 100_000
            }
        );
        // 100 ms later there is room for one more, not two.
        let later = now + 100_000;
        let Decision::Admit { tat } = decide(tat, later, rate) else {
            panic!()
        };
        assert!(matches!(decide(tat, later, rate), Decision::Refuse { .. }));
        // Idle long enough, the key is as new.
        assert_eq!(
            decide(tat, later + 10_000_000, rate),
            decide(0, later + 10_000_000, rate)
        );
    }

    #[test]
    fn over_a_long_window_the_rate_holds() {
        // A client sending every millisecond from 0 to 9.999 s gets the burst, then one per
        // 20 ms: 50 + 9999 / 20.
        let rate = Rate::new(50, Duration::from_secs(1), 50).unwrap();
        let mut tat = 0;
        let mut admitted = 0;
        for ms in 0..10_000u64 {
            if let Decision::Admit { tat: t } = decide(tat, 1_000_000 + ms * 1000, rate) {
                tat = t;
                admitted += 1;
            }
        }
        assert_eq!(admitted, 50 + 499);
        assert_eq!(Rate::new(0, Duration::from_secs(1), 5), None);
    }
}
