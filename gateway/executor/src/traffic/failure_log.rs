//! How often a subgraph's failures reach the log: a down subgraph under load fails every
//! request, and a line for each would bury everything else. The first failure in a window is
//! logged, with how many were not since the previous line; the rest of the window only count
//! (`weft_subgraph_fetch_errors_total` and the fetch spans still see every one).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most one failure line per subgraph per this long.
pub const WINDOW: Duration = Duration::from_secs(10);

/// One subgraph's failures since its last log line.
#[derive(Debug, Default)]
pub struct FailureLog(Mutex<Window>);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Window {
    /// When the last line was written.
    logged: Option<Instant>,
    /// Failures since then that were not logged.
    held: u64,
}

impl FailureLog {
    /// Whether to log a failure seen `now`: `Some(n)` with the `n` failures held back since
    /// the previous line, or `None` (counted, to be reported with the next line).
    pub fn admit(&self, now: Instant) -> Option<u64> {
        let mut window = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, logged) = admit(*window, now);
        *window = next;
        logged
    }
}

fn admit(window: Window, now: Instant) -> (Window, Option<u64>) {
    match window.logged {
        Some(at) if now.saturating_duration_since(at) < WINDOW => (
            Window {
                held: window.held + 1,
                ..window
            },
            None,
        ),
        _ => (
            Window {
                logged: Some(now),
                held: 0,
            },
            Some(window.held),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_window_with_the_count_held_back() {
        let log = FailureLog::default();
        let start = Instant::now();
        assert_eq!(log.admit(start), Some(0));
        for i in 1..=99 {
            assert_eq!(log.admit(start + Duration::from_millis(i * 10)), None);
        }
        // The next window's first failure says how many were not logged.
        assert_eq!(log.admit(start + WINDOW), Some(99));
        assert_eq!(log.admit(start + WINDOW + Duration::from_secs(1)), None);
        assert_eq!(log.admit(start + WINDOW * 3), Some(1));
    }
}
