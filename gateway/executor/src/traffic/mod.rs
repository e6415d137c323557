//! Traffic to one subgraph (docs/traffic.md): its own HTTP client (so its own timeout), its
//! retries within a budget, its circuit breaker, and how often its failures are logged. The
//! decisions are pure modules (`budget.rs`, `breaker.rs`, `failure_log.rs`); this file does
//! the I/O around them and the counting.

pub mod breaker;
pub mod budget;
pub mod failure_log;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::metrics::{ExecutorMetrics, FetchErrorKind};
use crate::{ClientError, Connection, FetchError, SubgraphClient};
use breaker::Breaker;
use budget::Budget;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use weft_config::model::{RetryConfig, SubgraphPolicy};

/// Why a fetch got no usable answer.
#[derive(Debug)]
pub enum Failure {
    /// The circuit is open: nothing was sent.
    CircuitOpen,
    /// The subgraph's rate limit (`rate_limit.subgraph`) refused it: nothing was sent.
    RateLimited,
    Fetch(FetchError),
    /// A shared request (a batch across client requests) ended without an answer.
    Dropped,
    /// A batch across client requests got an answer no part of which can be used (e.g.
    /// `_entities` of the wrong length): every fetch in it fails.
    Unusable(String),
}

/// A subgraph's answer: the body (JSON, checked; read into each request's store by the
/// executor), and the headers the entity cache reads.
#[derive(Debug)]
pub struct Answer {
    pub body: Bytes,
    pub cache_control: Option<String>,
    pub age: Option<String>,
}

/// One subgraph as the executor reaches it.
pub struct Subgraph {
    subscription_transport: crate::subscription::Transport,
    name: String,
    url: String,
    client: SubgraphClient,
    /// Whether clients see this subgraph's own error messages.
    include_errors: bool,
    retry: RetryConfig,
    breaker: Option<Mutex<Breaker>>,
    budget: Mutex<Budget>,
    /// The budget counts seconds from here.
    started: Instant,
    /// Its failures since its last log line.
    failures: failure_log::FailureLog,
    /// Its rate limit, when set (`Engine::with_subgraph_rate_limits`).
    rate: std::sync::OnceLock<std::sync::Arc<crate::rate_limit::Limiter>>,
}

/// Whether a failure may be gone on the next try: the subgraph was not reached, failed (5xx)
/// or was too slow. A 4xx or an answer that is not JSON would be the same again.
fn transient(e: &FetchError) -> bool {
    match e {
        FetchError::Transport(_) => true,
        FetchError::Status { status, .. } => *status >= 500,
        FetchError::InvalidJson(_) | FetchError::Encode(_) | FetchError::TooLarge { .. } => false,
    }
}

fn kind(e: &FetchError) -> FetchErrorKind {
    match e {
        _ if e.is_timeout() => FetchErrorKind::Timeout,
        FetchError::InvalidJson(_) | FetchError::Encode(_) | FetchError::TooLarge { .. } => {
            FetchErrorKind::Invalid
        }
        FetchError::Transport(_) | FetchError::Status { .. } => FetchErrorKind::Http,
    }
}

/// The HTTP status on the fetch span (`trace::fetch_span`).
fn record_status(status: u16) {
    tracing::Span::current().record("http.response.status_code", i64::from(status));
}

/// The wait before retry number `retry` (1 for the first): `base` doubled each time (at most
/// 64 times `base`), times a random factor in [0.5, 1.5) so clients that failed together do
/// not retry together.
pub fn backoff(base: Duration, retry: u32, random_unit: f64) -> Duration {
    let doubled = base.saturating_mul(1 << retry.saturating_sub(1).min(6));
    doubled.mul_f64(0.5 + random_unit.clamp(0.0, 1.0))
}

/// A subgraph whose HTTP client could not be built (its CA file's certificates unusable, say).
#[derive(Debug, thiserror::Error)]
#[error("subgraph `{subgraph}`: {source}")]
pub struct ClientBuildError {
    pub subgraph: String,
    pub source: ClientError,
}

impl Subgraph {
    pub fn new(
        name: &str,
        url: &str,
        policy: &SubgraphPolicy,
    ) -> Result<Subgraph, ClientBuildError> {
        let timeout = Duration::from_millis(policy.timeout_ms.get());
        let connection = Connection {
            http2: policy.http2,
            ca_pem: policy.tls.ca_pem.as_deref(),
        };
        let client = SubgraphClient::connecting(timeout, connection)
            .map_err(|source| ClientBuildError {
                subgraph: name.to_owned(),
                source,
            })?
            .with_max_response_bytes(policy.max_response_bytes.get());
        let breaker = policy.circuit_breaker.enabled.then(|| {
            Mutex::new(Breaker::new(
                policy.circuit_breaker.failure_threshold.get(),
                Duration::from_millis(policy.circuit_breaker.cooldown_ms.get()),
            ))
        });
        Ok(Subgraph {
            name: name.to_owned(),
            url: url.to_owned(),
            client,
            include_errors: policy.include_errors,
            retry: policy.retry.clone(),
            breaker,
            budget: Mutex::new(Budget::new(
                policy.retry.budget_percent.get(),
                policy.retry.budget_min_per_sec.get(),
            )),
            started: Instant::now(),
            subscription_transport: policy.subscription_transport,
            failures: failure_log::FailureLog::default(),
            rate: std::sync::OnceLock::new(),
        })
    }

    /// Limits the requests sent to this subgraph to `limiter`'s rate (once; later calls do
    /// nothing).
    pub fn limit_rate(&self, limiter: std::sync::Arc<crate::rate_limit::Limiter>) {
        let _ = self.rate.set(limiter);
    }

    /// The subgraph's name, as the supergraph's `join__Graph` gives it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether to log a failure now (`Some`, with the failures not logged since the last
    /// line) or only count it: at most one line per [`failure_log::WINDOW`].
    pub fn log_failure_now(&self) -> Option<u64> {
        self.failures.admit(Instant::now())
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The largest answer read from this subgraph (`max_response_bytes`): also the largest
    /// event of a subscription.
    pub fn max_response_bytes(&self) -> u64 {
        self.client.max_response_bytes()
    }

    /// How this subgraph's subscriptions are opened.
    pub fn subscription_transport(&self) -> crate::subscription::Transport {
        self.subscription_transport
    }

    pub fn include_errors(&self) -> bool {
        self.include_errors
    }

    fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Whether the circuit lets a request out now (always, without a breaker).
    fn admit(&self, metrics: &dyn ExecutorMetrics) -> bool {
        let Some(breaker) = &self.breaker else {
            return true;
        };
        let mut b = breaker.lock().unwrap_or_else(PoisonError::into_inner);
        let admitted = b.admit(Instant::now());
        metrics.set_circuit_state(&self.name, b.state().gauge());
        admitted
    }

    fn record(&self, success: bool, metrics: &dyn ExecutorMetrics) {
        let Some(breaker) = &self.breaker else {
            return;
        };
        let mut b = breaker.lock().unwrap_or_else(PoisonError::into_inner);
        b.record(success, Instant::now());
        metrics.set_circuit_state(&self.name, b.state().gauge());
    }

    /// Sends `body` (an encoded GraphQL request) with `headers`, retrying when `idempotent` (a query) and the failure is
    /// transient, as the budget allows; each attempt is timed and counted in `metrics`.
    pub async fn send(
        &self,
        body: &[u8],
        headers: &[(HeaderName, HeaderValue)],
        idempotent: bool,
        metrics: &dyn ExecutorMetrics,
    ) -> Result<Answer, Failure> {
        if let Some(limiter) = self.rate.get()
            && limiter.check(&self.name, metrics).await.is_err()
        {
            return Err(Failure::RateLimited);
        }
        self.budget
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .deposit(self.second());
        let mut attempt = 1;
        loop {
            if !self.admit(metrics) {
                return Err(Failure::CircuitOpen);
            }
            let started = Instant::now();
            let answer = self
                .client
                .post_raw(&self.url, body.to_vec(), headers)
                .await
                .inspect(|response| record_status(response.status))
                .inspect_err(|e| {
                    if let FetchError::Status { status, .. } = e {
                        record_status(*status);
                    }
                    tracing::Span::current().record("otel.status_code", "ERROR");
                })
                // Read once, by the executor, into its store: an answer that is not JSON is
                // found and counted there.
                .map(|response| Answer {
                    body: response.body,
                    cache_control: response.cache_control,
                    age: response.age,
                });
            metrics.record_fetch(&self.name, started.elapsed());
            let error = match answer {
                Ok(value) => {
                    self.record(true, metrics);
                    return Ok(value);
                }
                Err(e) => e,
            };
            metrics.record_fetch_error(&self.name, kind(&error));
            let retry = transient(&error);
            // Only transient failures say the subgraph is unwell; a bad answer says nothing
            // about the next one's chances.
            self.record(!retry, metrics);
            if !retry || !idempotent || attempt >= self.retry.max_attempts.get() {
                return Err(Failure::Fetch(error));
            }
            let allowed = self
                .budget
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .withdraw(self.second());
            if !allowed {
                metrics.record_retry_refused(&self.name);
                return Err(Failure::Fetch(error));
            }
            metrics.record_retry(&self.name);
            let base = Duration::from_millis(self.retry.backoff_ms.get());
            tokio::time::sleep(backoff(base, attempt, random_unit())).await;
            attempt += 1;
        }
    }
}

/// A uniform number in [0, 1) from a per-thread xorshift generator (no crypto needed): the
/// jitter of retries, and the server's `percent(N)` override labels.
pub fn random_unit() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9E37_79B9_7F4A_7C15)
                | 1,
        );
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 1, 0.5), base);
        assert_eq!(backoff(base, 3, 0.5), base * 4);
        assert_eq!(backoff(base, 1, 0.0), base / 2);
        assert_eq!(backoff(base, 40, 0.5), base * 64);
    }
}
