//! What the HTTP endpoint accepts from browsers and clients: `query_plan:`, `csrf:`,
//! `playground:`, `batching:`, `compression:`, `cors:`.

use std::num::{NonZeroU32, NonZeroU64};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::values::{HeaderName, Origin, Ratio, RedisUrl, known_headers, nonzero32, nonzero64};

/// Query plans as clients may see them.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QueryPlanConfig {
    /// Let clients ask for the query plan with the `weft-query-plan: include` or `dry-run` request
    /// header (another value: 400 `INVALID_QUERY_PLAN_HEADER`). Plans describe the subgraphs
    /// behind the gateway.
    #[schemars(example = serde_json::json!(true))]
    pub expose: bool,
    /// Memory, in MiB, the cache of validated and planned operations may hold (estimated from
    /// each operation's selections and plan, as the process holds them); the least used go
    /// first. A quarter as much again holds
    /// the plans of operations with fields a request may not see removed.
    #[schemars(example = serde_json::json!(128))]
    pub cache_mb: NonZeroU32,
    /// The share of cached operations, most used first, validated and planned again against a
    /// new supergraph or configuration before it takes traffic, so a reload does not make the
    /// next requests plan. `0` turns the warm-up off.
    #[schemars(example = serde_json::json!(0.5))]
    pub warm_up: Ratio,
    /// Incremental delivery: an operation with `@defer` is answered in parts
    /// (`multipart/mixed; deferSpec=20220824`) to clients that accept them. When false,
    /// `@defer` is still accepted and ignored: one response with every field.
    #[schemars(example = serde_json::json!(false))]
    pub defer: bool,
    pub redis: QueryPlanRedisConfig,
}

/// The default `query_plan.cache_mb`.
pub const DEFAULT_PLAN_CACHE_MB: u32 = 32;

impl Default for QueryPlanConfig {
    fn default() -> QueryPlanConfig {
        QueryPlanConfig {
            expose: false,
            cache_mb: nonzero32(DEFAULT_PLAN_CACHE_MB),
            // As Apollo Router: the 30% most used.
            warm_up: Ratio::clamped(0.3),
            defer: true,
            redis: QueryPlanRedisConfig::default(),
        }
    }
}

/// Redis as a second level of the plan cache, shared by gateways (docs/operations.md).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QueryPlanRedisConfig {
    /// A Redis server behind the in-memory plan cache, shared by gateways: a plan made by one is
    /// used by the others serving the same supergraph, so a new replica starts warm. Documents
    /// are still parsed and validated locally; only planning is skipped. Unreachable or slow:
    /// plans are made locally, counted. Whoever can write to it decides what gateways send to
    /// subgraphs: trust it as the supergraph's source.
    #[schemars(example = serde_json::json!("redis://127.0.0.1:6379"))]
    pub url: Option<RedisUrl>,
    /// How long Redis keeps a plan, in seconds.
    #[schemars(example = serde_json::json!(86400))]
    pub ttl_secs: NonZeroU64,
    /// Put before each plan's key (a sha256 of supergraph, Weft version, document, operation
    /// name and override labels).
    #[schemars(example = serde_json::json!("gateway-eu:plan:"))]
    pub key_prefix: String,
    /// The longest a request waits for Redis's answer (connecting included), in milliseconds,
    /// before planning on its own; after a failure Redis is left alone for 5 s.
    #[schemars(example = serde_json::json!(150))]
    pub timeout_ms: NonZeroU64,
}

impl Default for QueryPlanRedisConfig {
    fn default() -> QueryPlanRedisConfig {
        QueryPlanRedisConfig {
            url: None,
            ttl_secs: nonzero64(24 * 60 * 60),
            key_prefix: "weft:plan:".to_owned(),
            // Apollo Router's fetch timeout for its Redis caches.
            timeout_ms: nonzero64(150),
        }
    }
}

/// Headers that make a simple request acceptable: setting any of them forces a browser to
/// send a preflight (the server's `http/csrf.rs`). The default `csrf.required_headers`.
pub const CSRF_REQUIRED_HEADERS: &[&str] = &[
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "weft-require-preflight",
];

/// CSRF prevention (docs/http.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CsrfConfig {
    /// Refuse requests a browser would send without a CORS preflight, unless they carry one of
    /// `csrf.required_headers`.
    #[schemars(example = serde_json::json!(false))]
    pub enabled: bool,
    /// Headers, any one of which (non-empty) lets a simple request through. In the environment:
    /// comma-separated.
    #[schemars(example = serde_json::json!(["x-my-client"]))]
    pub required_headers: Vec<HeaderName>,
}

impl Default for CsrfConfig {
    fn default() -> CsrfConfig {
        CsrfConfig {
            enabled: true,
            required_headers: known_headers(CSRF_REQUIRED_HEADERS),
        }
    }
}

/// The GraphQL playground for browsers (docs/playground.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PlaygroundConfig {
    /// Serve the playground page to browsers: a GET of `/` or `/graphql` that prefers `text/html`.
    /// Off: those requests are answered as GraphQL requests.
    #[schemars(example = serde_json::json!(false))]
    pub enabled: bool,
}

impl Default for PlaygroundConfig {
    fn default() -> PlaygroundConfig {
        PlaygroundConfig { enabled: true }
    }
}

/// Several operations in one POST, as a JSON array.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BatchingConfig {
    /// Accept a JSON array of requests in one POST and answer an array of results, in order. Off:
    /// an array gets 400 `BATCHING_NOT_ENABLED`.
    #[schemars(example = serde_json::json!(true))]
    pub enabled: bool,
    /// The most requests in one batch. Over it: 400 `BATCH_LIMIT_EXCEEDED`.
    #[schemars(example = serde_json::json!(20))]
    pub max_size: NonZeroU32,
}

impl Default for BatchingConfig {
    fn default() -> BatchingConfig {
        BatchingConfig {
            enabled: false,
            max_size: nonzero32(10),
        }
    }
}

/// Response compression (gzip, br).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CompressionConfig {
    /// Compress responses (gzip or br, as `Accept-Encoding` asks) of 1 KiB or more.
    #[schemars(example = serde_json::json!(false))]
    pub enabled: bool,
}

impl Default for CompressionConfig {
    fn default() -> CompressionConfig {
        CompressionConfig { enabled: true }
    }
}

/// The default `cors.allow_headers`.
pub const CORS_ALLOW_HEADERS: &[&str] = &[
    "content-type",
    "apollo-require-preflight",
    "weft-query-plan",
    "authorization",
];

/// Cross-origin requests from browsers (CORS).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins allowed to call the gateway from a browser (`scheme://host[:port]`, or `*` for any).
    /// Empty: no CORS headers (same-origin only). In the environment: comma-separated.
    #[schemars(example = serde_json::json!(["https://app.example.com"]))]
    pub allow_origins: Vec<Origin>,
    /// Send `Access-Control-Allow-Credentials: true` (cookies); not with `*`.
    #[schemars(example = serde_json::json!(true))]
    pub allow_credentials: bool,
    /// Request headers a browser may send cross-origin (answered to preflights). In the
    /// environment: comma-separated.
    #[schemars(example = serde_json::json!(["content-type", "x-my-client"]))]
    pub allow_headers: Vec<HeaderName>,
    /// How long a browser may cache a preflight's answer (`Access-Control-Max-Age`). Absent: the
    /// browser's default.
    #[schemars(example = serde_json::json!(600))]
    pub max_age_secs: Option<NonZeroU64>,
}

impl Default for CorsConfig {
    fn default() -> CorsConfig {
        CorsConfig {
            allow_origins: Vec::new(),
            allow_credentials: false,
            allow_headers: known_headers(CORS_ALLOW_HEADERS),
            max_age_secs: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_header_names_are_all_valid() {
        assert_eq!(
            CsrfConfig::default().required_headers,
            CSRF_REQUIRED_HEADERS
        );
        assert_eq!(CorsConfig::default().allow_headers, CORS_ALLOW_HEADERS);
    }
}
