//! `subgraphs:`: settings for every subgraph (`all`) and per subgraph name, each absent key of
//! a name inheriting `all`'s ([`Subgraphs::policy`]).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::values::{HttpUrl, nonzero32, nonzero64};

// `subgraphs:` holds `all` (settings for every subgraph) beside one entry per subgraph name,
// so it is read by hand: a derived struct could not mix fixed and free keys and still locate
// errors inside the entries. Its schema is [`SubgraphsSchema`]'s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subgraphs {
    pub all: AllSubgraphs,
    pub named: BTreeMap<String, SubgraphOverride>,
    /// `WEFT_SUBGRAPHS_<NAME>_URL` values by `<NAME>`; see [`env_segment`].
    pub env_urls: BTreeMap<String, HttpUrl>,
}

/// Settings for every subgraph.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AllSubgraphs {
    /// How long a request to a subgraph may take, in milliseconds.
    #[schemars(example = serde_json::json!(5000))]
    pub timeout_ms: NonZeroU64,
    pub retry: RetryConfig,
    pub circuit_breaker: BreakerConfig,
    /// The largest answer a subgraph may send, in bytes (32 MiB by default): a bigger one fails its
    /// fetch with `SUBREQUEST_RESPONSE_TOO_LARGE`, read no further.
    #[schemars(example = serde_json::json!(8388608))]
    pub max_response_bytes: NonZeroU64,
    /// Show clients the subgraphs' own error messages; `false`: each becomes "Subgraph errors
    /// redacted" (its path and code kept). Apollo Router's `include_subgraph_errors`.
    #[schemars(example = serde_json::json!(false))]
    pub include_errors: bool,
    /// The HTTP version spoken to subgraphs (docs/traffic.md#http-versions-and-tls): `off`
    /// (HTTP/1.1 only), `negotiate` (HTTP/2 when an https:// subgraph's TLS handshake picks it,
    /// else HTTP/1.1; http:// stays HTTP/1.1) or `only` (HTTP/2 only: h2c with prior knowledge
    /// over http://, `h2` alone offered over https://).
    #[schemars(example = serde_json::json!("negotiate"))]
    pub http2: Http2,
    pub tls: TlsConfig,
    /// How the gateway subscribes to a subscription field of the subgraph
    /// (docs/subscriptions.md): `sse` (GraphQL over SSE, a POST to its URL) or `websocket`
    /// (`graphql-transport-ws` at its URL as `ws://`/`wss://`).
    #[schemars(example = serde_json::json!("websocket"))]
    pub subscription_transport: SubscriptionTransport,
}

/// The protocol the gateway subscribes to subgraphs with.
// The variants' comments are `//`: see `Http2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionTransport {
    // GraphQL over SSE, distinct connections mode: a POST accepting `text/event-stream`.
    #[default]
    Sse,
    // `graphql-transport-ws` (the `graphql-ws` library's protocol) over a WebSocket.
    Websocket,
}

/// Which HTTP versions the gateway speaks to a subgraph (Apollo Router's
/// `experimental_http2: disable | enable | http2only`; Hive Router's `allow_only_http2`).
// The variants' comments are `//`, not `///`: doc comments would make the schema a `oneOf` of
// constants, where the key table and the env overrides read a plain `enum`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Http2 {
    // HTTP/1.1 only, over http:// and https:// alike.
    #[default]
    Off,
    // Over https://, ALPN offers `h2` and `http/1.1` and the subgraph picks; over http://,
    // HTTP/1.1 (no h2c upgrade: nothing would tell a cleartext subgraph's support apart).
    Negotiate,
    // HTTP/2 only: with prior knowledge over http:// (h2c), and `h2` alone offered by ALPN over
    // https://. A subgraph that does not speak HTTP/2 fails every fetch.
    Only,
}

/// TLS to subgraphs with https:// URLs. Their certificates are checked against the Mozilla root
/// store built into Weft (webpki roots; docs/decisions.md), plus `ca_file`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// A PEM file of CA certificates (a private CA's, say) trusted for subgraphs' certificates in
    /// addition to the built-in roots; relative to this file. Read when the configuration loads
    /// (start and each reload).
    #[schemars(example = serde_json::json!("certs/subgraphs-ca.pem"))]
    pub ca_file: Option<PathBuf>,
    /// `ca_file`'s contents, read by [`crate::Sources::load_text`].
    #[serde(skip)]
    pub ca_pem: Option<Arc<[u8]>>,
}

/// TLS to this subgraph; absent keys are `subgraphs.all.tls`'s.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TlsOverride {
    /// `subgraphs.all.tls.ca_file` for this subgraph (replacing it, not added to it).
    #[schemars(example = serde_json::json!("certs/products-ca.pem"))]
    pub ca_file: Option<PathBuf>,
    /// `ca_file`'s contents, read by [`crate::Sources::load_text`].
    #[serde(skip)]
    pub ca_pem: Option<Arc<[u8]>>,
}

/// Retries of subgraph queries (never mutations), within a budget (docs/traffic.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts of a subgraph query in all, the first included (1: no retry). Retried on connection
    /// errors, 5xx statuses and timeouts; mutations never are.
    #[schemars(example = serde_json::json!(3))]
    pub max_attempts: NonZeroU32,
    /// The wait before the first retry, in milliseconds; doubled for each next one, with random
    /// jitter.
    #[schemars(example = serde_json::json!(100))]
    pub backoff_ms: NonZeroU64,
    /// Retries to a subgraph may add at most this percentage on top of its first attempts of the
    /// last 10 seconds (plus `budget_min_per_sec`).
    #[schemars(example = serde_json::json!(10))]
    pub budget_percent: NonZeroU32,
    /// Retries a subgraph always gets per second of the 10-second window, however few its requests.
    #[schemars(example = serde_json::json!(5))]
    pub budget_min_per_sec: NonZeroU32,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            max_attempts: nonzero32(1),
            backoff_ms: nonzero64(50),
            budget_percent: nonzero32(20),
            budget_min_per_sec: nonzero32(10),
        }
    }
}

/// A circuit breaker per subgraph: fail fast while it is down (docs/traffic.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Open a subgraph's circuit after `failure_threshold` consecutive failures: its fetches then
    /// fail at once with `SUBGRAPH_CIRCUIT_OPEN`, sending nothing.
    #[schemars(example = serde_json::json!(true))]
    pub enabled: bool,
    /// Consecutive failed requests (connection error, 5xx, timeout) that open the circuit.
    #[schemars(example = serde_json::json!(3))]
    pub failure_threshold: NonZeroU32,
    /// How long an open circuit fails fast before one request probes the subgraph (half-open); its
    /// success closes the circuit, its failure opens it again.
    #[schemars(example = serde_json::json!(2000))]
    pub cooldown_ms: NonZeroU64,
}

impl Default for BreakerConfig {
    fn default() -> BreakerConfig {
        BreakerConfig {
            enabled: false,
            failure_threshold: nonzero32(5),
            cooldown_ms: nonzero64(10_000),
        }
    }
}

/// Retries for this subgraph; absent keys are `subgraphs.all.retry`'s.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryOverride {
    /// `subgraphs.all.retry.max_attempts` for this subgraph.
    #[schemars(example = serde_json::json!(2))]
    pub max_attempts: Option<NonZeroU32>,
    /// `subgraphs.all.retry.backoff_ms` for this subgraph.
    #[schemars(example = serde_json::json!(20))]
    pub backoff_ms: Option<NonZeroU64>,
    /// `subgraphs.all.retry.budget_percent` for this subgraph.
    #[schemars(example = serde_json::json!(50))]
    pub budget_percent: Option<NonZeroU32>,
    /// `subgraphs.all.retry.budget_min_per_sec` for this subgraph.
    #[schemars(example = serde_json::json!(1))]
    pub budget_min_per_sec: Option<NonZeroU32>,
}

/// This subgraph's circuit breaker; absent keys are `subgraphs.all.circuit_breaker`'s.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerOverride {
    /// `subgraphs.all.circuit_breaker.enabled` for this subgraph.
    #[schemars(example = serde_json::json!(true))]
    pub enabled: Option<bool>,
    /// `subgraphs.all.circuit_breaker.failure_threshold` for this subgraph.
    #[schemars(example = serde_json::json!(2))]
    pub failure_threshold: Option<NonZeroU32>,
    /// `subgraphs.all.circuit_breaker.cooldown_ms` for this subgraph.
    #[schemars(example = serde_json::json!(500))]
    pub cooldown_ms: Option<NonZeroU64>,
}

/// What applies to one subgraph: its own keys, else `subgraphs.all`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct SubgraphPolicy {
    pub timeout_ms: NonZeroU64,
    pub retry: RetryConfig,
    pub circuit_breaker: BreakerConfig,
    pub max_response_bytes: NonZeroU64,
    pub include_errors: bool,
    pub http2: Http2,
    pub tls: TlsConfig,
    pub subscription_transport: SubscriptionTransport,
}

const DEFAULT_TIMEOUT_MS: NonZeroU64 = match NonZeroU64::new(30_000) {
    Some(n) => n,
    None => NonZeroU64::MIN,
};

impl Default for AllSubgraphs {
    fn default() -> AllSubgraphs {
        AllSubgraphs {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            retry: RetryConfig::default(),
            circuit_breaker: BreakerConfig::default(),
            max_response_bytes: nonzero64(32 * 1024 * 1024),
            include_errors: true,
            http2: Http2::Off,
            tls: TlsConfig::default(),
            subscription_transport: SubscriptionTransport::Sse,
        }
    }
}

/// A CA file the configuration names: the key naming it, its path, and where its contents go
/// once read.
pub struct CaFileSlot<'a> {
    pub key: String,
    pub path: &'a Path,
    pub pem: &'a mut Option<Arc<[u8]>>,
}

/// Settings for the subgraph with this name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphOverride {
    /// Where the gateway sends this subgraph's requests, instead of the routing URL in the
    /// supergraph.
    #[schemars(example = serde_json::json!("http://products:4002/graphql"))]
    pub url: Option<HttpUrl>,
    /// This subgraph's request timeout, in milliseconds, instead of `subgraphs.all.timeout_ms`.
    #[schemars(example = serde_json::json!(2000))]
    pub timeout_ms: Option<NonZeroU64>,
    /// `subgraphs.all.max_response_bytes` for this subgraph.
    #[schemars(example = serde_json::json!(104857600))]
    pub max_response_bytes: Option<NonZeroU64>,
    /// `subgraphs.all.include_errors` for this subgraph.
    #[schemars(example = serde_json::json!(false))]
    pub include_errors: Option<bool>,
    pub retry: RetryOverride,
    pub circuit_breaker: BreakerOverride,
    /// `subgraphs.all.http2` for this subgraph.
    #[schemars(example = serde_json::json!("only"))]
    pub http2: Option<Http2>,
    pub tls: TlsOverride,
    /// `subgraphs.all.subscription_transport` for this subgraph.
    #[schemars(example = serde_json::json!("websocket"))]
    pub subscription_transport: Option<SubscriptionTransport>,
}

impl Subgraphs {
    /// The URL requests for subgraph `name` go to instead of its routing URL, if any; the
    /// environment wins over the file.
    pub fn url_for(&self, name: &str) -> Option<&str> {
        self.env_urls
            .get(&env_segment(name))
            .or_else(|| self.named.get(name).and_then(|s| s.url.as_ref()))
            .map(HttpUrl::as_str)
    }

    /// The timeout, retries and circuit breaker of subgraph `name`.
    pub fn policy(&self, name: &str) -> SubgraphPolicy {
        let all = &self.all;
        let Some(own) = self.named.get(name) else {
            return SubgraphPolicy {
                timeout_ms: all.timeout_ms,
                retry: all.retry.clone(),
                circuit_breaker: all.circuit_breaker.clone(),
                max_response_bytes: all.max_response_bytes,
                include_errors: all.include_errors,
                http2: all.http2,
                tls: all.tls.clone(),
                subscription_transport: all.subscription_transport,
            };
        };
        let (r, b) = (&own.retry, &own.circuit_breaker);
        SubgraphPolicy {
            timeout_ms: own.timeout_ms.unwrap_or(all.timeout_ms),
            retry: RetryConfig {
                max_attempts: r.max_attempts.unwrap_or(all.retry.max_attempts),
                backoff_ms: r.backoff_ms.unwrap_or(all.retry.backoff_ms),
                budget_percent: r.budget_percent.unwrap_or(all.retry.budget_percent),
                budget_min_per_sec: r.budget_min_per_sec.unwrap_or(all.retry.budget_min_per_sec),
            },
            circuit_breaker: BreakerConfig {
                enabled: b.enabled.unwrap_or(all.circuit_breaker.enabled),
                failure_threshold: b
                    .failure_threshold
                    .unwrap_or(all.circuit_breaker.failure_threshold),
                cooldown_ms: b.cooldown_ms.unwrap_or(all.circuit_breaker.cooldown_ms),
            },
            max_response_bytes: own.max_response_bytes.unwrap_or(all.max_response_bytes),
            include_errors: own.include_errors.unwrap_or(all.include_errors),
            http2: own.http2.unwrap_or(all.http2),
            subscription_transport: own
                .subscription_transport
                .unwrap_or(all.subscription_transport),
            tls: match &own.tls.ca_file {
                Some(file) => TlsConfig {
                    ca_file: Some(file.clone()),
                    ca_pem: own.tls.ca_pem.clone(),
                },
                None => all.tls.clone(),
            },
        }
    }

    /// Resolves relative CA files against `dir`, the config file's directory.
    pub fn resolve_files(&mut self, dir: &Path) {
        let resolve = |file: &mut Option<PathBuf>| {
            if let Some(path) = file.as_mut().filter(|p| p.is_relative()) {
                *path = dir.join(&*path);
            }
        };
        resolve(&mut self.all.tls.ca_file);
        for own in self.named.values_mut() {
            resolve(&mut own.tls.ca_file);
        }
    }

    /// Every CA file named, with the key that names it and where its contents go.
    pub fn ca_files_mut(&mut self) -> Vec<CaFileSlot<'_>> {
        let all = &mut self.all.tls;
        let all = all.ca_file.as_deref().map(|path| CaFileSlot {
            key: "subgraphs.all.tls.ca_file".to_owned(),
            path,
            pem: &mut all.ca_pem,
        });
        let named = self.named.iter_mut().filter_map(|(name, own)| {
            Some(CaFileSlot {
                key: format!("subgraphs.{name}.tls.ca_file"),
                path: own.tls.ca_file.as_deref()?,
                pem: &mut own.tls.ca_pem,
            })
        });
        all.into_iter().chain(named).collect()
    }

    /// Puts back the CA files of `from_file` (resolved against the file's directory) after the
    /// document was read again with environment overrides, which left them as written: every
    /// subgraph's (no variable sets those), and `all`'s unless `all_set_by_env`.
    pub fn keep_files_of(&mut self, from_file: &Subgraphs, all_set_by_env: bool) {
        if !all_set_by_env {
            self.all.tls.ca_file = from_file.all.tls.ca_file.clone();
        }
        for (name, own) in &mut self.named {
            if let Some(file) = from_file.named.get(name) {
                own.tls.ca_file = file.tls.ca_file.clone();
            }
        }
    }
}

/// Per-subgraph settings: `all` applies to every subgraph, any other key is a subgraph name.
#[derive(JsonSchema)]
#[schemars(rename = "Subgraphs")]
#[allow(dead_code)] // Only its schema is used.
struct SubgraphsSchema {
    all: AllSubgraphs,
    #[serde(flatten)]
    named: BTreeMap<String, SubgraphOverride>,
}

impl JsonSchema for Subgraphs {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        SubgraphsSchema::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        SubgraphsSchema::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for Subgraphs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Subgraphs, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Subgraphs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map: `all` and subgraph names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Subgraphs, A::Error> {
                let mut out = Subgraphs::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "all" {
                        out.all = map.next_value()?;
                    } else {
                        match out.named.entry(key) {
                            Entry::Occupied(taken) => {
                                let text = format!("duplicate subgraph `{}`", taken.key());
                                return Err(de::Error::custom(text));
                            }
                            Entry::Vacant(slot) => {
                                slot.insert(map.next_value()?);
                            }
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Entries)
    }
}

/// A subgraph name as it appears in `WEFT_SUBGRAPHS_<NAME>_URL`: upper-cased, anything but
/// ASCII letters and digits turned into `_` (environment variable names allow no more).
pub fn env_segment(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}
