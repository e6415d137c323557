//! Redis as a shared second level behind an in-memory store — APQ documents (`apq.redis`)
//! and entity cache entries (`entity_cache.redis`) found by every gateway sharing the Redis.
//! Redis is a help, never a dependency: each call is bounded by [`TIMEOUT`], and after a
//! failure Redis is left alone for [`PAUSE`] so a down Redis costs requests nothing.
//! Failures are logged (once per outage, naming the user's key) and counted in `M`, the
//! registry of whoever uses it (the server's metrics for APQ, [`crate::ExecutorMetrics`] for
//! the entity cache).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

/// The longest a request waits on Redis (connecting included), unless
/// [`RedisLevel::with_timeout`] says otherwise.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// How long Redis is not tried after a failure.
pub const PAUSE: Duration = Duration::from_secs(5);

pub struct RedisLevel<M: ?Sized> {
    /// The configuration key it comes from (`apq.redis`), for logs.
    label: &'static str,
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// Set after a failure: Redis is not tried before then.
    paused_until: Mutex<Option<Instant>>,
    /// Counts one failure in the metrics.
    on_error: fn(&M),
    /// The longest one call waits ([`TIMEOUT`] by default).
    timeout: Duration,
}

impl<M: ?Sized> RedisLevel<M> {
    /// The level for the Redis at `url`, if the client accepts the URL; `label` names its
    /// configuration key in logs, `on_error` counts failures.
    pub fn new(url: &str, label: &'static str, on_error: fn(&M)) -> Option<RedisLevel<M>> {
        match redis::Client::open(url) {
            Ok(client) => Some(RedisLevel {
                label,
                client,
                connection: tokio::sync::Mutex::new(None),
                paused_until: Mutex::new(None),
                on_error,
                timeout: TIMEOUT,
            }),
            Err(e) => {
                tracing::error!("{label}.url: {e}; using process memory alone");
                None
            }
        }
    }

    /// The same level, each call (connecting included) bounded by `timeout` instead of
    /// [`TIMEOUT`].
    pub fn with_timeout(self, timeout: Duration) -> RedisLevel<M> {
        RedisLevel { timeout, ..self }
    }

    /// The client, for connections of their own (a pub/sub subscriber).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    fn paused(&self) -> bool {
        let paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        paused.is_some_and(|until| Instant::now() < until)
    }

    /// Records a failure: connection dropped, Redis paused, logged when it starts an outage.
    async fn failed(&self, what: &str, metrics: &M) {
        (self.on_error)(metrics);
        *self.connection.lock().await = None;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none() {
            tracing::warn!(
                "{}: {what}; using process memory alone, trying Redis again in {}s",
                self.label,
                PAUSE.as_secs()
            );
        }
        *paused = Some(Instant::now() + PAUSE);
    }

    /// A connection, made if needed; `None` while paused or when Redis cannot be reached.
    async fn connection(&self, metrics: &M) -> Option<MultiplexedConnection> {
        if self.paused() {
            return None;
        }
        let mut slot = self.connection.lock().await;
        if let Some(c) = slot.as_ref() {
            return Some(c.clone());
        }
        let made =
            tokio::time::timeout(self.timeout, self.client.get_multiplexed_async_connection())
                .await;
        match made {
            Ok(Ok(c)) => {
                let was_paused = self
                    .paused_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .is_some();
                if was_paused {
                    tracing::info!("{}: reachable again", self.label);
                }
                *slot = Some(c.clone());
                Some(c)
            }
            Ok(Err(e)) => {
                drop(slot);
                self.failed(&format!("cannot connect: {e}"), metrics).await;
                None
            }
            Err(_) => {
                drop(slot);
                self.failed("no connection within the timeout", metrics)
                    .await;
                None
            }
        }
    }

    /// Runs `pipe` within the timeout; failures are recorded.
    pub async fn pipeline(&self, pipe: redis::Pipeline, metrics: &M) {
        let Some(mut connection) = self.connection(metrics).await else {
            return;
        };
        let sent = pipe.query_async::<redis::Value>(&mut connection);
        match tokio::time::timeout(self.timeout, sent).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => self.failed(&e.to_string(), metrics).await,
            Err(_) => self.failed("no answer within the timeout", metrics).await,
        }
    }

    /// Runs `cmd` within the timeout; `None` (failure recorded) when it fails.
    pub async fn query<T: redis::FromRedisValue>(&self, cmd: redis::Cmd, metrics: &M) -> Option<T> {
        let mut connection = self.connection(metrics).await?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                self.failed(&e.to_string(), metrics).await;
                None
            }
            Err(_) => {
                self.failed("no answer within the timeout", metrics).await;
                None
            }
        }
    }

    /// The value under `key`, if Redis has it (and answers).
    pub async fn get(&self, key: &str, metrics: &M) -> Option<String> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        self.query::<Option<String>>(cmd, metrics).await.flatten()
    }

    /// The value under `key`: `Some(None)` when Redis answered that it has none, `None` when
    /// Redis did not answer (down, slow, paused after a failure), which callers may count
    /// apart from a plain miss.
    pub async fn try_get(&self, key: &str, metrics: &M) -> Option<Option<String>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        self.query::<Option<String>>(cmd, metrics).await
    }

    /// Stores `value` under `key` for `ttl_secs` seconds.
    pub async fn set(&self, key: &str, value: &str, ttl_secs: u64, metrics: &M) {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("EX").arg(ttl_secs.max(1));
        let _ = self.query::<()>(cmd, metrics).await;
    }

    /// Publishes `message` on `channel`.
    pub async fn publish(&self, channel: &str, message: &str, metrics: &M) {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel).arg(message);
        let _ = self.query::<i64>(cmd, metrics).await;
    }
}
