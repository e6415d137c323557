//! Load shedding: at most `server.max_in_flight` GraphQL requests are handled at once by the
//! process; one more is refused at once (503 `SERVER_OVERLOADED`, `Retry-After: 1`) rather than
//! queued, so memory stays bounded and the requests already admitted keep their latency.
//! The count belongs to the process (like readiness): a reload changes the limit, not the count.

use std::sync::atomic::{AtomicU64, Ordering};

static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// One admitted request; the count goes down when it is dropped.
pub struct Admitted(());

impl Drop for Admitted {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Admits one request under `limit` (`None`: no limit), or `None` when `limit` are in flight.
pub fn admit(limit: Option<u64>) -> Option<Admitted> {
    let before = IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
    let admitted = Admitted(());
    match limit {
        Some(max) if before >= max => None, // `admitted` drops: the count is restored.
        _ => Some(admitted),
    }
}

/// Requests in flight now.
#[cfg(test)]
fn in_flight() -> u64 {
    IN_FLIGHT.load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_and_counts_down_on_drop() {
        // The only test touching the process-wide count.
        let base = in_flight();
        let a = admit(Some(base + 2));
        let b = admit(Some(base + 2));
        assert!(a.is_some() && b.is_some());
        assert!(admit(Some(base + 2)).is_none());
        assert_eq!(in_flight(), base + 2);
        drop(a);
        assert!(admit(Some(base + 2)).is_some());
        assert_eq!(in_flight(), base + 1);
        let many: Vec<_> = (0..10).map(|_| admit(None)).collect();
        assert!(many.iter().all(Option::is_some));
        drop(many);
        drop(b);
        assert_eq!(in_flight(), base);
    }
}
