//! One monotonic clock for the subgraph that stamps events and the clients that read them
//! (both in this process), in microseconds since it was first read.

use std::sync::OnceLock;
use std::time::Instant;

static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// Microseconds since the first call.
pub fn micros() -> u64 {
    let origin = ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_micros()).unwrap_or(u64::MAX)
}
