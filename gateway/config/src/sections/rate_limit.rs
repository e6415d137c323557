//! `rate_limit:` in weft.yaml (docs/operations.md#rate-limits): how many requests the gateway
//! as a whole, each client, and each subgraph may get per interval. Policy, opt-in as at Apollo
//! Router and Hive Router: every limit is off (`requests: 0`) until set. With `redis.url` the
//! replicas sharing the Redis share every limit.

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::values::{ClientKey, RedisUrl, nonzero64};

/// The rate limits; each one off until its `requests` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub global: RateConfig,
    pub client: ClientRateConfig,
    pub subgraph: RateConfig,
    /// A rate of their own for some subgraphs, by name, instead of `rate_limit.subgraph`.
    pub subgraphs: BTreeMap<String, RateConfig>,
    pub redis: RateLimitRedisConfig,
}

/// A rate: `requests` per `interval_ms`, up to `burst` at once (GCRA: spaced evenly, a burst
/// allowed after a quiet spell).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RateConfig {
    /// Requests allowed per interval. Over it: 429 `REQUEST_RATE_LIMITED` with `Retry-After` (for
    /// a subgraph: its fetches fail with that code). `0`: no limit.
    #[schemars(example = serde_json::json!(100))]
    pub requests: u64,
    /// The interval `requests` are counted over, in milliseconds.
    #[schemars(example = serde_json::json!(60000))]
    pub interval_ms: NonZeroU64,
    /// Requests allowed at once after a quiet spell. `0`: as many as `requests`.
    #[schemars(example = serde_json::json!(10))]
    pub burst: u64,
}

impl Default for RateConfig {
    fn default() -> RateConfig {
        RateConfig {
            requests: 0,
            interval_ms: nonzero64(1000),
            burst: 0,
        }
    }
}

impl RateConfig {
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.get())
    }

    /// The burst, `requests` when not set.
    pub fn burst(&self) -> u64 {
        if self.burst == 0 {
            self.requests
        } else {
            self.burst
        }
    }
}

/// A rate per client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ClientRateConfig {
    /// Requests each client may send per interval. Over it: 429 `REQUEST_RATE_LIMITED` with
    /// `Retry-After`. `0`: no limit.
    #[schemars(example = serde_json::json!(100))]
    pub requests: u64,
    /// The interval `requests` are counted over, in milliseconds.
    #[schemars(example = serde_json::json!(60000))]
    pub interval_ms: NonZeroU64,
    /// Requests a client may send at once after a quiet spell. `0`: as many as `requests`.
    #[schemars(example = serde_json::json!(10))]
    pub burst: u64,
    /// What tells clients apart: `address` (the connection's peer address), `header:<name>` (the
    /// value of a header), or `claim:<name>` (a claim of the verified JWT). A request without
    /// the header or claim is keyed by its address.
    #[schemars(example = serde_json::json!("header:x-client-id"))]
    pub key: ClientKey,
}

impl Default for ClientRateConfig {
    fn default() -> ClientRateConfig {
        ClientRateConfig {
            requests: 0,
            interval_ms: nonzero64(1000),
            burst: 0,
            key: ClientKey::default(),
        }
    }
}

impl ClientRateConfig {
    pub fn rate(&self) -> RateConfig {
        RateConfig {
            requests: self.requests,
            interval_ms: self.interval_ms,
            burst: self.burst,
        }
    }
}

/// A Redis shared by the replicas: every limit counts the requests of all of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitRedisConfig {
    /// A Redis the replicas share: each decision is one script run there (atomic, one round
    /// trip), so a limit holds across all of them. Unreachable: each replica limits on its own,
    /// logged and counted (`weft_rate_limit_local_fallbacks_total`).
    #[schemars(example = serde_json::json!("redis://127.0.0.1:6379"))]
    pub url: Option<RedisUrl>,
    /// What every rate limit key in Redis starts with; replicas sharing limits share it.
    #[schemars(example = serde_json::json!("gateway-eu:rate:"))]
    pub key_prefix: String,
}

impl Default for RateLimitRedisConfig {
    fn default() -> RateLimitRedisConfig {
        RateLimitRedisConfig {
            url: None,
            key_prefix: "weft:rate:".to_owned(),
        }
    }
}
