//! Rate limits (docs/operations.md#rate-limits): a rate per key — the whole gateway, a client,
//! a subgraph — decided by the GCRA (`gcra`), in process memory or, with `rate_limit.redis`,
//! in a Redis every replica shares (`redis`). When Redis fails the replica decides alone, from
//! its own memory, and counts that (`weft_rate_limit_local_fallbacks_total`): limits stay on,
//! per replica, until Redis is back.
//!
//! Policy, not protection: a client over its rate gets 429 with `Retry-After`; the gateway
//! shedding load it cannot carry answers 503 (`server.max_in_flight`).

pub mod gcra;
pub mod redis;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::metrics::ExecutorMetrics;
use gcra::{Decision, Rate};

/// Keys one limiter keeps in memory at most: a client sending ever-new keys cannot grow the
/// process past this (the least recently used are forgotten, which only forgives them).
pub const MAX_LOCAL_KEYS: u64 = 100_000;

/// One rate limit: its rate, its keys' state in memory, and the shared Redis if any.
pub struct Limiter {
    /// The limit's kind, as the metrics label it: `global`, `client`, `subgraph`.
    kind: &'static str,
    rate: Rate,
    /// Each key's TAT, in microseconds from `epoch`; keyed by a hash (fixed size whatever
    /// the client's key).
    local: moka::sync::Cache<u128, Arc<Mutex<u64>>>,
    epoch: Instant,
    shared: Option<Arc<redis::Shared>>,
}

impl Limiter {
    /// A limit of `rate`; `shared` when replicas share it through Redis.
    pub fn new(kind: &'static str, rate: Rate, shared: Option<Arc<redis::Shared>>) -> Limiter {
        Limiter {
            kind,
            rate,
            local: moka::sync::Cache::builder()
                .max_capacity(MAX_LOCAL_KEYS)
                // Past the tolerance a key's TAT is behind any `now`: as new.
                .time_to_idle(Duration::from_micros(rate.tolerance_us.max(1_000_000)))
                .build(),
            epoch: Instant::now(),
            shared,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Admits one request for `key`, or says how long to wait. Counted in `metrics` when
    /// refused, and when Redis could not decide.
    pub async fn check(&self, key: &str, metrics: &dyn ExecutorMetrics) -> Result<(), Duration> {
        let hashed = hash(self.kind, key);
        let decided = match &self.shared {
            Some(shared) => {
                let decided = shared
                    .decide(&format!("{}:{hashed:032x}", self.kind), self.rate)
                    .await;
                if decided.is_none() {
                    metrics.record_rate_limit_fallback();
                }
                decided
            }
            None => None,
        };
        let wait = match decided {
            Some(wait) => wait,
            None => self.local_decision(hashed),
        };
        if wait == 0 {
            Ok(())
        } else {
            metrics.record_rate_limited(self.kind);
            Err(Duration::from_micros(wait))
        }
    }

    /// The decision from this process's memory: 0 when admitted, else microseconds to wait.
    fn local_decision(&self, key: u128) -> u64 {
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        let slot = self.local.get_with(key, || Arc::new(Mutex::new(0)));
        let mut tat = slot.lock().unwrap_or_else(PoisonError::into_inner);
        match gcra::decide(*tat, now, self.rate) {
            Decision::Admit { tat: next } => {
                *tat = next;
                0
            }
            Decision::Refuse { retry_after_us } => retry_after_us,
        }
    }
}

/// A key's fixed-size name: the first 128 bits of the sha256 of the limit's kind and the key.
fn hash(kind: &str, key: &str) -> u128 {
    let digest = Sha256::new()
        .chain_update(kind.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(first)
}

/// `Retry-After`'s whole seconds for a wait: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_micros().div_ceil(1_000_000).max(1) as u64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct Counts(Mutex<Vec<&'static str>>);
    impl ExecutorMetrics for Counts {
        fn entity_cache(&self, _: &str, _: u64, _: u64) {}
        fn record_fetch(&self, _: &str, _: Duration) {}
        fn record_fetch_error(&self, _: &str, _: crate::FetchErrorKind) {}
        fn record_entity_cache_redis_error(&self) {}
        fn record_retry(&self, _: &str) {}
        fn record_retry_refused(&self, _: &str) {}
        fn set_circuit_state(&self, _: &str, _: u64) {}
        fn record_rate_limited(&self, kind: &'static str) {
            self.0.lock().unwrap().push(kind);
        }
        fn record_rate_limit_fallback(&self) {
            self.0.lock().unwrap().push("fallback");
        }
    }

    #[tokio::test]
    async fn keys_are_limited_apart_and_a_down_redis_falls_back_to_memory() {
        let counts = Counts(Mutex::new(Vec::new()));
        let rate = Rate::new(2, Duration::from_secs(60), 2).unwrap();
        // Nothing listens on port 1: every decision is local, and counted as a fallback.
        let shared = redis::Shared::new("redis://127.0.0.1:1/", "test:").map(Arc::new);
        let limiter = Limiter::new("client", rate, shared);
        assert!(limiter.check("a", &counts).await.is_ok());
        assert!(limiter.check("a", &counts).await.is_ok());
        let wait = limiter.check("a", &counts).await.unwrap_err();
        assert!(
            wait > Duration::from_secs(29) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(retry_after_secs(wait), 30);
        assert!(limiter.check("b", &counts).await.is_ok());
        let seen = counts.0.lock().unwrap().clone();
        assert_eq!(seen.iter().filter(|k| **k == "fallback").count(), 4);
        assert_eq!(seen.iter().filter(|k| **k == "client").count(), 1);
    }
}
