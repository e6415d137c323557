//! What the executor reports: the server's metrics registry implements [`ExecutorMetrics`]
//! (gateway/server/src/observability/metrics.rs names and renders the series), so the executor
//! counts without knowing how the counts are exposed. One registry lives as long as the
//! process serves and is shared, as `Arc<dyn ExecutorMetrics>`, by every engine built on
//! reload.

use std::time::Duration;

/// Why a subgraph fetch failed, as the `kind` label of `weft_subgraph_fetch_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchErrorKind {
    /// Not reached, connection failed, or a non-2xx status.
    Http,
    /// No complete answer within `subgraphs.all.timeout_ms`.
    Timeout,
    /// An answer the gateway cannot use: not JSON, no `data`, wrong `_entities`.
    Invalid,
}

impl FetchErrorKind {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchErrorKind::Http => "http",
            FetchErrorKind::Timeout => "timeout",
            FetchErrorKind::Invalid => "invalid",
        }
    }
}

/// The counts the executor keeps, per subgraph where they have one.
pub trait ExecutorMetrics: Send + Sync {
    /// The entity cache look-ups of one fetch to `subgraph` (entities, or a root fetch):
    /// counted per fetch, not per look-up, as a fetch may look up hundreds of entities.
    fn entity_cache(&self, subgraph: &str, hits: u64, misses: u64);

    /// One request to `subgraph`, answered or not, and how long it took.
    fn record_fetch(&self, subgraph: &str, duration: Duration);

    /// One failed request to `subgraph`.
    fn record_fetch_error(&self, subgraph: &str, kind: FetchErrorKind);

    /// One failed use of the entity cache's Redis (not reached, timed out, refused).
    fn record_entity_cache_redis_error(&self);

    /// One retry sent to `subgraph`.
    fn record_retry(&self, subgraph: &str);

    /// One retry to `subgraph` not sent: the retry budget was spent.
    fn record_retry_refused(&self, subgraph: &str);

    /// The state of `subgraph`'s circuit breaker: 0 closed, 1 open, 2 half-open.
    fn set_circuit_state(&self, subgraph: &str, state: u64);

    /// One request refused by a rate limit of kind `limit` (`global`, `client`, `subgraph`).
    fn record_rate_limited(&self, _limit: &'static str) {}

    /// One rate limit decision made by this process alone: the shared Redis failed.
    fn record_rate_limit_fallback(&self) {}
}
