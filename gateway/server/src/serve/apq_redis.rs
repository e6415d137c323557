//! Redis as the APQ store's second level (`apq.redis`): documents registered on one gateway
//! are found by every gateway sharing the Redis. Redis is a help, never a dependency: each
//! call is bounded by [`TIMEOUT`], and after a failure Redis is left alone for [`PAUSE`] so a
//! down Redis costs requests nothing. Failures are logged (once per outage) and counted.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use super::metrics::Metrics;
use crate::config::model::ApqRedisConfig;

/// The longest a request waits on Redis (connecting included).
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// How long Redis is not tried after a failure.
pub const PAUSE: Duration = Duration::from_secs(5);

pub struct RedisLevel {
    pub config: ApqRedisConfig,
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// Set after a failure: Redis is not tried before then.
    paused_until: Mutex<Option<Instant>>,
}

impl RedisLevel {
    /// The level for `config`, if it names a Redis whose URL the client accepts.
    pub fn new(config: &ApqRedisConfig) -> Option<RedisLevel> {
        let url = config.url.as_deref()?;
        match redis::Client::open(url) {
            Ok(client) => Some(RedisLevel {
                config: config.clone(),
                client,
                connection: tokio::sync::Mutex::new(None),
                paused_until: Mutex::new(None),
            }),
            Err(e) => {
                tracing::error!("apq.redis.url: {e}; registered documents stay in memory");
                None
            }
        }
    }

    fn key(&self, hash: &str) -> String {
        format!("{}{hash}", self.config.key_prefix)
    }

    fn paused(&self) -> bool {
        let paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        paused.is_some_and(|until| Instant::now() < until)
    }

    /// Records a failure: connection dropped, Redis paused, logged when it starts an outage.
    async fn failed(&self, what: &str, metrics: &Metrics) {
        metrics.record_apq_redis_error();
        *self.connection.lock().await = None;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none() {
            tracing::warn!(
                "apq.redis: {what}; using the in-memory store alone, trying Redis again in {}s",
                PAUSE.as_secs()
            );
        }
        *paused = Some(Instant::now() + PAUSE);
    }

    /// A connection, made if needed; `None` while paused or when Redis cannot be reached.
    async fn connection(&self, metrics: &Metrics) -> Option<MultiplexedConnection> {
        if self.paused() {
            return None;
        }
        let mut slot = self.connection.lock().await;
        if let Some(c) = slot.as_ref() {
            return Some(c.clone());
        }
        let made =
            tokio::time::timeout(TIMEOUT, self.client.get_multiplexed_async_connection()).await;
        match made {
            Ok(Ok(c)) => {
                let was_paused = self
                    .paused_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .is_some();
                if was_paused {
                    tracing::info!("apq.redis: reachable again");
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

    /// Runs `cmd` within [`TIMEOUT`]; `None` (failure recorded) when it fails.
    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd, metrics: &Metrics) -> Option<T> {
        let mut connection = self.connection(metrics).await?;
        match tokio::time::timeout(TIMEOUT, cmd.query_async::<T>(&mut connection)).await {
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

    /// The document registered under `hash`, if Redis has it.
    pub async fn get(&self, hash: &str, metrics: &Metrics) -> Option<String> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(hash));
        self.run::<Option<String>>(cmd, metrics).await.flatten()
    }

    /// Registers `document` under `hash`, for `apq.redis.ttl_secs`.
    pub async fn set(&self, hash: &str, document: &str, metrics: &Metrics) {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(hash))
            .arg(document)
            .arg("EX")
            .arg(self.config.ttl_secs.get());
        let _ = self.run::<()>(cmd, metrics).await;
    }
}
