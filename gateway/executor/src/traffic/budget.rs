//! The retry budget of one subgraph (pure: time is passed in). Retries may add at most
//! `percent`% on top of the first attempts of the last [`WINDOW_SECS`] seconds, plus
//! `min_per_sec` per second of the window, so a subgraph that fails everything gets a bounded
//! trickle of retries instead of a retry storm (as Finagle's and Apollo Router's budgets do).
//! Not tower's `TpsBudget`: it rounds the percentage to 100 / n (30 % acts as 33 %, 60 % as
//! 100 %) and panics on values the config accepts (docs/decisions.md, issue 14).

/// The sliding window, in seconds, kept as one bucket per second.
pub const WINDOW_SECS: u64 = 10;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// The second this bucket counts (a bucket from an older second is stale, read as empty).
    second: u64,
    requests: u64,
    retries: u64,
}

#[derive(Debug, Clone)]
pub struct Budget {
    percent: u64,
    min_per_sec: u64,
    buckets: [Bucket; WINDOW_SECS as usize],
}

impl Budget {
    pub fn new(percent: u32, min_per_sec: u32) -> Budget {
        Budget {
            percent: u64::from(percent),
            min_per_sec: u64::from(min_per_sec),
            buckets: [Bucket::default(); WINDOW_SECS as usize],
        }
    }

    /// The bucket of `second`, emptied first when it last counted an older second.
    fn bucket(&mut self, second: u64) -> &mut Bucket {
        let slot = (second % WINDOW_SECS) as usize;
        let bucket = &mut self.buckets[slot];
        if bucket.second != second {
            *bucket = Bucket {
                second,
                ..Bucket::default()
            };
        }
        bucket
    }

    /// The window's (first attempts, retries) as of `second`.
    fn totals(&self, second: u64) -> (u64, u64) {
        self.buckets
            .iter()
            .filter(|b| b.second + WINDOW_SECS > second && b.second <= second)
            .fold((0, 0), |(r, t), b| (r + b.requests, t + b.retries))
    }

    /// A first attempt, at `second` (seconds since any fixed start).
    pub fn deposit(&mut self, second: u64) {
        self.bucket(second).requests += 1;
    }

    /// Whether a retry may go out at `second`; if so it is counted.
    pub fn withdraw(&mut self, second: u64) -> bool {
        let (requests, retries) = self.totals(second);
        let allowed = self.min_per_sec * WINDOW_SECS + requests * self.percent / 100;
        if retries >= allowed {
            return false;
        }
        self.bucket(second).retries += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_then_a_percentage_of_requests() {
        let mut b = Budget::new(50, 1);
        // 10 retries from the minimum (1 per second of a 10-second window).
        assert_eq!((0..20).filter(|_| b.withdraw(0)).count(), 10);
        // 10 requests make room for 5 more.
        (0..10).for_each(|_| b.deposit(1));
        assert_eq!((0..20).filter(|_| b.withdraw(1)).count(), 5);
    }

    #[test]
    fn the_window_slides() {
        let mut b = Budget::new(1, 1);
        assert_eq!((0..20).filter(|_| b.withdraw(3)).count(), 10);
        assert!(!b.withdraw(12));
        // Second 3 has left the window at second 13.
        assert_eq!((0..20).filter(|_| b.withdraw(13)).count(), 10);
    }
}
