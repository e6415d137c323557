//! The shape of `weft.yaml`, and [`KEYS`]: one row per key, from which the JSON Schema, the
//! environment overrides and the docs' key list are derived. A test walks the schema and feeds
//! every key back to the parser, so the two cannot drift.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::PathBuf;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub supergraph: SupergraphConfig,
    /// The address (IP and port) to listen on. A change needs a restart.
    #[schemars(example = serde_json::json!("0.0.0.0:4000"))]
    #[serde(deserialize_with = "listen")]
    #[schemars(with = "String")]
    pub listen: SocketAddr,
    pub subgraphs: Subgraphs,
    pub server: super::server::ServerConfig,
    pub query_plan: QueryPlanConfig,
    pub csrf: CsrfConfig,
    /// Answer `__schema` and `__type`. When false they get the error `INTROSPECTION_DISABLED`;
    /// `__typename` still works.
    #[schemars(example = serde_json::json!(false))]
    pub introspection: bool,
    pub playground: PlaygroundConfig,
    pub limits: Limits,
    pub batching: BatchingConfig,
    pub compression: CompressionConfig,
    pub cors: CorsConfig,
    pub apq: ApqConfig,
    pub persisted_documents: PersistedDocumentsConfig,
    pub log: LogConfig,
    pub headers: crate::headers::HeaderRules,
    pub telemetry: TelemetryConfig,
    pub auth: crate::auth::AuthConfig,
    pub entity_cache: crate::entity_cache::EntityCacheConfig,
    pub dedupe: DedupeConfig,
    pub entity_batching: EntityBatchingConfig,
    pub demand_control: DemandControlConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            supergraph: SupergraphConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            server: super::server::ServerConfig::default(),
            subgraphs: Subgraphs::default(),
            query_plan: QueryPlanConfig::default(),
            csrf: CsrfConfig::default(),
            introspection: true,
            playground: PlaygroundConfig::default(),
            limits: Limits::default(),
            batching: BatchingConfig::default(),
            compression: CompressionConfig::default(),
            cors: CorsConfig::default(),
            apq: ApqConfig::default(),
            persisted_documents: PersistedDocumentsConfig::default(),
            log: LogConfig::default(),
            headers: crate::headers::HeaderRules::default(),
            telemetry: TelemetryConfig::default(),
            auth: crate::auth::AuthConfig::default(),
            entity_cache: crate::entity_cache::EntityCacheConfig::default(),
            dedupe: DedupeConfig::default(),
            entity_batching: EntityBatchingConfig::default(),
            demand_control: DemandControlConfig::default(),
        }
    }
}

/// The supergraph to serve.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SupergraphConfig {
    /// The supergraph SDL file to serve, relative to this file. Watched: a change is served without
    /// a restart.
    #[schemars(example = serde_json::json!("supergraph.graphql"))]
    pub path: Option<PathBuf>,
}

// `subgraphs:` holds `all` (settings for every subgraph) beside one entry per subgraph name,
// so it is read by hand: a derived struct could not mix fixed and free keys and still locate
// errors inside the entries. Its schema is [`SubgraphsSchema`]'s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subgraphs {
    pub all: AllSubgraphs,
    pub named: BTreeMap<String, SubgraphOverride>,
    /// `WEFT_SUBGRAPHS_<NAME>_URL` values by `<NAME>`; see [`env_segment`].
    pub env_urls: BTreeMap<String, String>,
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
        }
    }
}

/// Settings for the subgraph with this name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphOverride {
    /// Where the gateway sends this subgraph's requests, instead of the routing URL in the
    /// supergraph.
    #[schemars(example = serde_json::json!("http://products:4002/graphql"))]
    #[serde(deserialize_with = "url")]
    pub url: Option<String>,
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
}

impl Subgraphs {
    /// The URL requests for subgraph `name` go to instead of its routing URL, if any; the
    /// environment wins over the file.
    pub fn url_for(&self, name: &str) -> Option<&str> {
        self.env_urls
            .get(&env_segment(name))
            .or_else(|| self.named.get(name).and_then(|s| s.url.as_ref()))
            .map(String::as_str)
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

/// Query plans as clients may see them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QueryPlanConfig {
    /// Let clients ask for the query plan with the `weft-query-plan: include` or `dry-run` request
    /// header. Plans describe the subgraphs behind the gateway.
    #[schemars(example = serde_json::json!(true))]
    pub expose: bool,
}

/// Headers that make a simple request acceptable: setting any of them forces a browser to
/// send a preflight (the server's `serve/csrf.rs`). The default `csrf.required_headers`.
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
    #[serde(deserialize_with = "header_names")]
    pub required_headers: Vec<String>,
}

impl Default for CsrfConfig {
    fn default() -> CsrfConfig {
        CsrfConfig {
            enabled: true,
            required_headers: CSRF_REQUIRED_HEADERS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
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

/// Request limits: operation limits (checked before planning; absent means no limit) and HTTP
/// sizes.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The deepest field nesting an operation may have (a root field is depth 1; fragments add no
    /// depth). Over it: `MAX_DEPTH_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(10))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_depth: Option<NonZeroU32>,
    /// How many aliased fields an operation may have, each fragment counted every time it is
    /// spread. Over it: `MAX_ALIASES_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(30))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_aliases: Option<NonZeroU32>,
    /// How many root fields an operation may select, fragments included, each use counted. Over it:
    /// `MAX_ROOT_FIELDS_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(20))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_root_fields: Option<NonZeroU32>,
    /// How many unique fields an operation may select: fields with the same response key in the
    /// same place count once, through fragments. Over it: `MAX_HEIGHT_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(200))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_height: Option<NonZeroU32>,
    /// How many tokens the document may have, as the GraphQL lexer counts them (names, punctuation,
    /// values, and each run of whitespace, commas or comments); parsing stops past it. Over it:
    /// `MAX_TOKENS_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(5000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_tokens: Option<NonZeroU32>,
    /// How deeply the parser may nest selection sets, lists and input objects; parsing stops past
    /// it. Over it: `MAX_RECURSION_LIMIT`. `0`: no limit (the parser's own stack guard still
    /// applies).
    #[schemars(example = serde_json::json!(100))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_recursion: Option<NonZeroU32>,
    /// How many selections (fields and fragments) the operation may have once its fragments are
    /// inlined and merged; normalization stops past it. Over it: `MAX_SELECTIONS_LIMIT`. `0`: no
    /// limit.
    #[schemars(example = serde_json::json!(10000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_selections: Option<NonZeroU32>,
    /// How many steps the query planner may take for one operation (a field planned, an alternative
    /// subgraph tried); planning stops past it. Over it: `QUERY_PLANNING_BUDGET_EXCEEDED`. `0`: no
    /// limit.
    #[schemars(example = serde_json::json!(10000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_planning_steps: Option<NonZeroU32>,
    /// The highest cost an operation may be estimated at (demand control's estimate, lists without
    /// `@listSize` assumed `demand_control.list_size` long), whatever `demand_control.mode`: a
    /// guard against answers that multiply through nested lists. Over it:
    /// `COST_ESTIMATED_TOO_EXPENSIVE`. `0`: no limit.
    #[schemars(example = serde_json::json!(100000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_estimated_cost: Option<NonZeroU32>,
    /// The largest request body, in bytes (2 MiB by default). Over it: 413 with
    /// `PAYLOAD_TOO_LARGE`.
    #[schemars(example = serde_json::json!(65536))]
    pub max_body_bytes: NonZeroU64,
    /// The most bytes of request headers (names and values together). Over it: 431 with
    /// `REQUEST_HEADER_FIELDS_TOO_LARGE`.
    #[schemars(example = serde_json::json!(8192))]
    pub max_header_bytes: NonZeroU64,
}

/// A limit's value: a whole number, `0` for none.
fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NonZeroU32>, D::Error> {
    Ok(NonZeroU32::new(u32::deserialize(d)?))
}

/// A limit's value from the environment: a whole number, `0` for none.
fn parse_limit(v: &str) -> Result<Option<NonZeroU32>, String> {
    v.trim()
        .parse::<u32>()
        .map(NonZeroU32::new)
        .map_err(|_| format!("`{v}` is not a whole number (0 switches the limit off)"))
}

const fn nonzero64(n: u64) -> NonZeroU64 {
    match NonZeroU64::new(n) {
        Some(n) => n,
        None => NonZeroU64::MIN,
    }
}

const fn nonzero32(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// 2 MiB, axum's default body limit.
pub const DEFAULT_MAX_BODY_BYTES: NonZeroU64 = nonzero64(2 * 1024 * 1024);
pub const DEFAULT_MAX_HEADER_BYTES: NonZeroU64 = nonzero64(32 * 1024);

impl Default for Limits {
    /// Far above what real operations need (the public gateways benchmark's heavy query and
    /// the README's classic query pass them many times over), low enough that no operation
    /// within them can take the process down. Apollo Router's parser limits (15,000 tokens,
    /// recursion 500) are the same; it has no default for the others.
    fn default() -> Limits {
        Limits {
            max_depth: NonZeroU32::new(DEFAULT_MAX_DEPTH),
            max_aliases: NonZeroU32::new(DEFAULT_MAX_ALIASES),
            max_root_fields: NonZeroU32::new(DEFAULT_MAX_ROOT_FIELDS),
            max_height: NonZeroU32::new(DEFAULT_MAX_HEIGHT),
            max_tokens: NonZeroU32::new(DEFAULT_MAX_TOKENS),
            max_recursion: NonZeroU32::new(DEFAULT_MAX_RECURSION),
            max_selections: NonZeroU32::new(DEFAULT_MAX_SELECTIONS),
            max_planning_steps: NonZeroU32::new(DEFAULT_MAX_PLANNING_STEPS),
            max_estimated_cost: NonZeroU32::new(DEFAULT_MAX_ESTIMATED_COST),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

impl Limits {
    /// Every operation limit off (`0` for each in a file); the body and header sizes keep
    /// their defaults. For tests and fuzzing: what "with every limit switched off" means.
    pub fn off() -> Limits {
        Limits {
            max_depth: None,
            max_aliases: None,
            max_root_fields: None,
            max_height: None,
            max_tokens: None,
            max_recursion: None,
            max_selections: None,
            max_planning_steps: None,
            max_estimated_cost: None,
            ..Limits::default()
        }
    }
}

pub const DEFAULT_MAX_DEPTH: u32 = 15;
pub const DEFAULT_MAX_ALIASES: u32 = 200;
pub const DEFAULT_MAX_ROOT_FIELDS: u32 = 200;
pub const DEFAULT_MAX_HEIGHT: u32 = 2_000;
pub const DEFAULT_MAX_TOKENS: u32 = 15_000;
pub const DEFAULT_MAX_RECURSION: u32 = 500;
pub const DEFAULT_MAX_SELECTIONS: u32 = 100_000;
pub const DEFAULT_MAX_PLANNING_STEPS: u32 = 100_000;
/// Demand control's estimate with lists assumed 10 long: the public benchmark's heavy query
/// and the README's classic query are about 25,000; lists nested seven deep are 10,000,000.
pub const DEFAULT_MAX_ESTIMATED_COST: u32 = 1_000_000;

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
    #[serde(deserialize_with = "origins")]
    pub allow_origins: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` (cookies); not with `*`.
    #[schemars(example = serde_json::json!(true))]
    pub allow_credentials: bool,
    /// Request headers a browser may send cross-origin (answered to preflights). In the
    /// environment: comma-separated.
    #[schemars(example = serde_json::json!(["content-type", "x-my-client"]))]
    #[serde(deserialize_with = "header_names")]
    pub allow_headers: Vec<String>,
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
            allow_headers: CORS_ALLOW_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            max_age_secs: None,
        }
    }
}

/// Identical requests in flight share one execution (docs/entity-cache.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DedupeConfig {
    /// Identical query requests in flight to the same subgraph (same body and headers) share one
    /// request and its answer. Mutations never do.
    #[schemars(example = serde_json::json!(false))]
    pub subgraph_requests: bool,
    /// Identical client queries in flight (same document, operation, variables, headers and token)
    /// share one execution and its answer. Mutations never do.
    #[schemars(example = serde_json::json!(true))]
    pub client_requests: bool,
}

impl Default for DedupeConfig {
    fn default() -> DedupeConfig {
        DedupeConfig {
            subgraph_requests: true,
            // On: bench/README.md shows it multiplies what identical traffic gets through
            // and costs nothing measurable when requests differ.
            client_requests: true,
        }
    }
}

/// Entity fetches of concurrent requests batched together (docs/entity-cache.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EntityBatchingConfig {
    /// Entity fetches of concurrent client requests for the same subgraph, selection and headers
    /// join one `_entities` request, sent `window_ms` after the first.
    #[schemars(example = serde_json::json!(true))]
    pub enabled: bool,
    /// How long a batch stays open for more fetches, in milliseconds.
    #[schemars(example = serde_json::json!(2))]
    pub window_ms: u64,
    /// The most representations in one batched request; a full batch is sent and the next fetch
    /// opens another.
    #[schemars(example = serde_json::json!(200))]
    pub max_size: NonZeroU32,
}

impl Default for EntityBatchingConfig {
    fn default() -> EntityBatchingConfig {
        EntityBatchingConfig {
            enabled: false,
            window_ms: 1,
            max_size: nonzero32(500),
        }
    }
}

/// Automatic persisted queries (Apollo's APQ).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ApqConfig {
    /// Automatic persisted queries: register a document by its sha256, then send only the hash.
    /// Off: hash-only requests get `PERSISTED_QUERY_NOT_SUPPORTED`.
    #[schemars(example = serde_json::json!(false))]
    pub enabled: bool,
    /// How many registered documents the in-memory store keeps (least recently used leave first).
    #[schemars(example = serde_json::json!(10000))]
    pub cache_size: NonZeroU64,
    pub redis: ApqRedisConfig,
}

impl Default for ApqConfig {
    fn default() -> ApqConfig {
        ApqConfig {
            enabled: true,
            cache_size: nonzero64(512),
            redis: ApqRedisConfig::default(),
        }
    }
}

/// Redis as a second level of the APQ store, shared by gateways (docs/http.md).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ApqRedisConfig {
    /// A Redis server behind the in-memory APQ store, shared by gateways: documents registered on
    /// one are found by the others. Unreachable: memory only, logged and counted, requests
    /// unaffected.
    #[schemars(example = serde_json::json!("redis://127.0.0.1:6379"))]
    #[serde(deserialize_with = "redis_url")]
    pub url: Option<String>,
    /// How long Redis keeps a registered document, in seconds.
    #[schemars(example = serde_json::json!(3600))]
    pub ttl_secs: NonZeroU64,
    /// Put before each document's sha256 to make its Redis key.
    #[schemars(example = serde_json::json!("gateway-eu:apq:"))]
    pub key_prefix: String,
}

impl Default for ApqRedisConfig {
    fn default() -> ApqRedisConfig {
        ApqRedisConfig {
            url: None,
            ttl_secs: nonzero64(24 * 60 * 60),
            key_prefix: "weft:apq:".to_owned(),
        }
    }
}

/// A safelist of persisted documents (trusted documents).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PersistedDocumentsConfig {
    /// A manifest of documents, relative to this file: `{ "<sha256>": "query" }` or Apollo's
    /// persisted query manifest. Its ids can be sent instead of the query.
    #[schemars(example = serde_json::json!("persisted-documents.json"))]
    pub safelist: Option<PathBuf>,
    /// Run only the safelist's documents (by id, or by exact body). Others: 400
    /// `PERSISTED_QUERY_NOT_IN_LIST`.
    #[schemars(example = serde_json::json!(true))]
    pub require: bool,
    /// The manifest's documents, read by [`super::Sources::load_text`].
    #[serde(skip)]
    pub documents: Option<Arc<Safelist>>,
}

/// A persisted-document manifest: documents by id (sha256 hex), and their bodies.
#[derive(Debug, Default, PartialEq)]
pub struct Safelist {
    pub by_id: HashMap<String, Arc<str>>,
    pub bodies: HashSet<Arc<str>>,
}

/// Logging to stderr.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `pretty`: one readable line per event; `json`: one JSON object per line. A change needs a
    /// restart.
    #[schemars(example = serde_json::json!("json"))]
    pub format: LogFormat,
    /// A level (`error`, `warn`, `info`, `debug`, `trace`) or `RUST_LOG`-style filter. When absent,
    /// `RUST_LOG`, then `info`. Applied on reload.
    #[schemars(example = serde_json::json!("weft=debug,info"))]
    #[serde(deserialize_with = "level")]
    #[schemars(extend("default" = "info"))]
    pub level: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// OpenTelemetry traces over OTLP/HTTP (docs/observability.md). A change needs a restart.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Where to send traces: the full OTLP/HTTP traces URL (JSON encoding). Absent: no traces are
    /// exported. A change needs a restart.
    #[schemars(example = serde_json::json!("http://otel-collector:4318/v1/traces"))]
    #[serde(deserialize_with = "url")]
    pub otlp_endpoint: Option<String>,
    /// The `service.name` of the traces' resource.
    #[schemars(example = serde_json::json!("gateway-eu"))]
    pub service_name: String,
    /// The share of new traces recorded, from 0 to 1. A request whose `traceparent` says sampled
    /// (or not) is followed as its parent decided.
    #[schemars(example = serde_json::json!(0.25))]
    #[serde(deserialize_with = "ratio")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub sampling_ratio: f64,
}

impl Default for TelemetryConfig {
    fn default() -> TelemetryConfig {
        TelemetryConfig {
            otlp_endpoint: None,
            service_name: "weft".to_owned(),
            sampling_ratio: 1.0,
        }
    }
}

/// Operations' estimated cost from `@cost` and `@listSize` (docs/traffic.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DemandControlConfig {
    /// Estimate each operation's cost from the supergraph's `@cost` and `@listSize`: `measure`
    /// reports it (`extensions.cost`, metrics), `enforce` also refuses operations above `max` with
    /// `COST_ESTIMATED_TOO_EXPENSIVE`. Absent: no estimate.
    #[schemars(example = serde_json::json!("enforce"))]
    pub mode: Option<CostMode>,
    /// The highest estimated cost `enforce` lets run.
    #[schemars(example = serde_json::json!(500))]
    pub max: NonZeroU64,
    /// The size assumed for a list whose field has no `@listSize` (or no value for its slicing
    /// arguments and no `assumedSize`).
    #[schemars(example = serde_json::json!(50))]
    pub list_size: NonZeroU32,
}

impl Default for DemandControlConfig {
    fn default() -> DemandControlConfig {
        DemandControlConfig {
            mode: None,
            max: nonzero64(1000),
            list_size: nonzero32(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CostMode {
    // Estimate and report (`extensions.cost`, metrics); never refuse.
    Measure,
    // Also refuse operations above `demand_control.max`.
    Enforce,
}

fn parse_cost_mode(v: &str) -> Result<CostMode, String> {
    match v.trim() {
        "measure" => Ok(CostMode::Measure),
        "enforce" => Ok(CostMode::Enforce),
        _ => Err(format!(
            "`{v}` is not a demand control mode (measure or enforce)"
        )),
    }
}

// Values checked inside the deserializer's visitor, so a bad one is reported at its own
// line:col (serde_yaml_ng locates errors raised while a scalar is visited).

pub fn parse_listen(v: &str) -> Result<SocketAddr, String> {
    v.trim().parse().map_err(|_| {
        format!("`{v}` is not an IP address and port (e.g. `0.0.0.0:4000`, `[::1]:4000`)")
    })
}

pub fn parse_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    let host = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"));
    if host.is_some_and(|rest| !rest.is_empty()) {
        Ok(v.to_owned())
    } else {
        Err(format!("`{v}` is not an http:// or https:// URL"))
    }
}

pub fn parse_header(v: &str) -> Result<String, String> {
    let v = v.trim().to_ascii_lowercase();
    http::HeaderName::from_bytes(v.as_bytes())
        .map(|_| v.clone())
        .map_err(|_| format!("`{v}` is not an HTTP header name"))
}

pub fn parse_level(v: &str) -> Result<String, String> {
    let v = v.trim();
    let hint = "e.g. `info`, or a filter such as `weft=debug,warn`";
    // A lone word is also a valid filter (a target name at every level), so `verbose` would
    // pass silently: a single directive without `=` must be a level.
    let is_level = ["off", "error", "warn", "info", "debug", "trace"]
        .contains(&v.to_ascii_lowercase().as_str());
    if !v.contains(['=', ',']) && !is_level {
        return Err(format!("`{v}` is not a log level; {hint}"));
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(v)
        .map(|_| v.to_owned())
        .map_err(|e| format!("`{v}` is not a log filter ({e}); {hint}"))
}

pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("`{v}` is not a boolean (true or false)")),
    }
}

fn parse_format(v: &str) -> Result<LogFormat, String> {
    match v.trim() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("`{v}` is not a log format (pretty or json)")),
    }
}

fn check_ratio(v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("`{v}` is not a number from 0 to 1"))
    }
}

pub fn parse_ratio(v: &str) -> Result<f64, String> {
    v.trim()
        .parse::<f64>()
        .map_err(|_| format!("`{v}` is not a number from 0 to 1"))
        .and_then(check_ratio)
}

/// A number from 0 to 1, checked while it is visited (so its error is located).
fn ratio<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct Ratio;
    impl Visitor<'_> for Ratio {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number from 0 to 1")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            check_ratio(v).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
    }
    d.deserialize_f64(Ratio)
}

fn parse_nonzero<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a whole number of at least 1"))
}

/// Runs `parse` on a string scalar while it is being visited.
fn parse_with<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct Scalar<T>(fn(&str) -> Result<T, String>);
    impl<T> Visitor<'_> for Scalar<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(Scalar(parse))
}

fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    parse_with(d, parse_listen)
}

fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_url).map(Some)
}

pub fn parse_redis_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    match v.strip_prefix("redis://") {
        Some(rest) if !rest.is_empty() => Ok(v.to_owned()),
        _ => Err(format!(
            "`{v}` is not a redis:// URL (e.g. `redis://127.0.0.1:6379`)"
        )),
    }
}

pub fn parse_amqp_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    let rest = v
        .strip_prefix("amqp://")
        .or_else(|| v.strip_prefix("amqps://"));
    match rest {
        Some(r) if !r.is_empty() => Ok(v.to_owned()),
        _ => Err(format!(
            "`{v}` is not an amqp:// URL (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`)"
        )),
    }
}

pub fn amqp_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_amqp_url).map(Some)
}

pub fn redis_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_redis_url).map(Some)
}

fn level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_level).map(Some)
}

fn header_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Header(String);
    impl<'de> Deserialize<'de> for Header {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Header, D::Error> {
            parse_with(d, parse_header).map(Header)
        }
    }
    Ok(Vec::<Header>::deserialize(d)?
        .into_iter()
        .map(|h| h.0)
        .collect())
}

/// A CORS origin: `*`, or `scheme://host[:port]` with nothing after (lower-cased).
pub fn parse_origin(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v == "*" {
        return Ok(v.to_owned());
    }
    let lower = v.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(lower),
        _ => Err(format!(
            "`{v}` is not an origin (`https://app.example.com`, `http://localhost:3000`, or `*`)"
        )),
    }
}

fn origins<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Origin(String);
    impl<'de> Deserialize<'de> for Origin {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Origin, D::Error> {
            parse_with(d, parse_origin).map(Origin)
        }
    }
    Ok(Vec::<Origin>::deserialize(d)?
        .into_iter()
        .map(|o| o.0)
        .collect())
}

fn parse_origins(v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(parse_origin)
        .collect()
}

/// A comma-separated list, for environment variables.
fn parse_headers(v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(parse_header)
        .collect()
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

/// The JSON type of a key, as the JSON Schema and the docs show it.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    String,
    Boolean,
    /// At least 1.
    Integer,
    /// At least 0, where 0 switches the limit or timeout off.
    IntegerOrOff,
    Strings,
    Enum(&'static [&'static str]),
    /// A list of header rules (docs/headers.md).
    HeaderRules,
    /// A number from 0 to 1.
    Ratio,
    /// A list of `@policy` rules (docs/auth.md).
    PolicyRules,
}

/// Sets a key from an environment variable's value.
pub type EnvSetter = fn(&mut Config, &str) -> Result<(), String>;

/// One key of `weft.yaml`. `<name>` in a path stands for any subgraph name.
pub struct Key {
    pub path: &'static str,
    pub ty: Type,
    /// The default as JSON, if there is one.
    pub default: Option<&'static str>,
    /// A valid value as JSON: the schema's `examples`, and what the drift test feeds back.
    pub example: &'static str,
    pub doc: &'static str,
    /// `None` for keys under `<name>`, read by [`super::env`] from the variables present.
    pub env: Option<EnvSetter>,
}

/// What an object level holds, for the schema's descriptions.
pub const SECTIONS: &[(&str, &str)] = &[
    ("supergraph", "The supergraph to serve."),
    (
        "server",
        "What protects the HTTP server: connection and request timeouts, the in-flight \
         request limit, the response size cap (docs/http.md). `0` switches one off.",
    ),
    (
        "subgraphs",
        "Per-subgraph settings: `all` applies to every subgraph, any other key is a subgraph name.",
    ),
    ("subgraphs.all", "Settings for every subgraph."),
    (
        "subgraphs.<name>",
        "Settings for the subgraph with this name.",
    ),
    (
        "subgraphs.all.retry",
        "Retries of subgraph queries (never mutations), within a budget (docs/traffic.md).",
    ),
    (
        "subgraphs.all.circuit_breaker",
        "A circuit breaker per subgraph: fail fast while it is down (docs/traffic.md).",
    ),
    (
        "subgraphs.<name>.retry",
        "Retries for this subgraph; absent keys are `subgraphs.all.retry`'s.",
    ),
    (
        "subgraphs.<name>.circuit_breaker",
        "This subgraph's circuit breaker; absent keys are `subgraphs.all.circuit_breaker`'s.",
    ),
    ("query_plan", "Query plans as clients may see them."),
    ("csrf", "CSRF prevention (docs/http.md)."),
    (
        "playground",
        "The GraphQL playground for browsers (docs/playground.md).",
    ),
    (
        "limits",
        "Request limits: operation limits (checked before planning; absent means no limit) \
         and HTTP sizes.",
    ),
    (
        "batching",
        "Several operations in one POST, as a JSON array.",
    ),
    ("compression", "Response compression (gzip, br)."),
    ("cors", "Cross-origin requests from browsers (CORS)."),
    ("apq", "Automatic persisted queries (Apollo's APQ)."),
    (
        "apq.redis",
        "Redis as a second level of the APQ store, shared by gateways (docs/http.md).",
    ),
    (
        "persisted_documents",
        "A safelist of persisted documents (trusted documents).",
    ),
    ("log", "Logging to stderr."),
    (
        "headers",
        "Which client request headers reach which subgraph (docs/headers.md).",
    ),
    (
        "headers.subgraphs",
        "Header rules per subgraph name, applied after `headers.all`.",
    ),
    (
        "demand_control",
        "Operations' estimated cost from `@cost` and `@listSize` (docs/traffic.md).",
    ),
    (
        "telemetry",
        "OpenTelemetry traces over OTLP/HTTP (docs/observability.md). A change needs a restart.",
    ),
    (
        "auth",
        "JWT authentication and the `@authenticated`, `@requiresScopes` and `@policy` \
         directives (docs/auth.md).",
    ),
    (
        "entity_cache",
        "The entity cache: subgraph results kept per entity (docs/entity-cache.md).",
    ),
    (
        "entity_cache.redis",
        "A Redis shared by gateways, behind the in-memory entity cache.",
    ),
    (
        "entity_cache.events",
        "The services' `EntityChanged` events (RabbitMQ), which evict what they name.",
    ),
    (
        "dedupe",
        "Identical requests in flight share one execution (docs/entity-cache.md).",
    ),
    (
        "entity_batching",
        "Entity fetches of concurrent requests batched together (docs/entity-cache.md).",
    ),
];

pub const KEYS: &[Key] = &[
    Key {
        path: "supergraph.path",
        ty: Type::String,
        default: None,
        example: "\"supergraph.graphql\"",
        doc: "The supergraph SDL file to serve, relative to this file. Watched: a change is \
              served without a restart.",
        env: Some(|c, v| {
            c.supergraph.path = Some(PathBuf::from(v));
            Ok(())
        }),
    },
    Key {
        path: "listen",
        ty: Type::String,
        default: Some("\"127.0.0.1:4000\""),
        example: "\"0.0.0.0:4000\"",
        doc: "The address (IP and port) to listen on. A change needs a restart.",
        env: Some(|c, v| {
            c.listen = parse_listen(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.timeout_ms",
        ty: Type::Integer,
        default: Some("30000"),
        example: "5000",
        doc: "How long a request to a subgraph may take, in milliseconds.",
        env: Some(|c, v| {
            c.subgraphs.all.timeout_ms = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.<name>.url",
        ty: Type::String,
        default: None,
        example: "\"http://products:4002/graphql\"",
        doc: "Where the gateway sends this subgraph's requests, instead of the routing URL in \
              the supergraph.",
        env: None,
    },
    Key {
        path: "subgraphs.all.retry.max_attempts",
        ty: Type::Integer,
        default: Some("1"),
        example: "3",
        doc: "Attempts of a subgraph query in all, the first included (1: no retry). Retried \
              on connection errors, 5xx statuses and timeouts; mutations never are.",
        env: Some(|c, v| {
            c.subgraphs.all.retry.max_attempts = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.retry.backoff_ms",
        ty: Type::Integer,
        default: Some("50"),
        example: "100",
        doc: "The wait before the first retry, in milliseconds; doubled for each next one, \
              with random jitter.",
        env: Some(|c, v| {
            c.subgraphs.all.retry.backoff_ms = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.retry.budget_percent",
        ty: Type::Integer,
        default: Some("20"),
        example: "10",
        doc: "Retries to a subgraph may add at most this percentage on top of its first \
              attempts of the last 10 seconds (plus `budget_min_per_sec`).",
        env: Some(|c, v| {
            c.subgraphs.all.retry.budget_percent = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.retry.budget_min_per_sec",
        ty: Type::Integer,
        default: Some("10"),
        example: "5",
        doc: "Retries a subgraph always gets per second of the 10-second window, however few \
              its requests.",
        env: Some(|c, v| {
            c.subgraphs.all.retry.budget_min_per_sec = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.circuit_breaker.enabled",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Open a subgraph's circuit after `failure_threshold` consecutive failures: its \
              fetches then fail at once with `SUBGRAPH_CIRCUIT_OPEN`, sending nothing.",
        env: Some(|c, v| {
            c.subgraphs.all.circuit_breaker.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.circuit_breaker.failure_threshold",
        ty: Type::Integer,
        default: Some("5"),
        example: "3",
        doc: "Consecutive failed requests (connection error, 5xx, timeout) that open the \
              circuit.",
        env: Some(|c, v| {
            c.subgraphs.all.circuit_breaker.failure_threshold = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.circuit_breaker.cooldown_ms",
        ty: Type::Integer,
        default: Some("10000"),
        example: "2000",
        doc: "How long an open circuit fails fast before one request probes the subgraph \
              (half-open); its success closes the circuit, its failure opens it again.",
        env: Some(|c, v| {
            c.subgraphs.all.circuit_breaker.cooldown_ms = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.<name>.timeout_ms",
        ty: Type::Integer,
        default: None,
        example: "2000",
        doc: "This subgraph's request timeout, in milliseconds, instead of \
              `subgraphs.all.timeout_ms`.",
        env: None,
    },
    Key {
        path: "subgraphs.all.max_response_bytes",
        ty: Type::Integer,
        default: Some("33554432"),
        example: "8388608",
        doc: "The largest answer a subgraph may send, in bytes (32 MiB by default): a bigger \
              one fails its fetch with `SUBREQUEST_RESPONSE_TOO_LARGE`, read no further.",
        env: Some(|c, v| {
            c.subgraphs.all.max_response_bytes = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.include_errors",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Show clients the subgraphs' own error messages; `false`: each becomes \
              \"Subgraph errors redacted\" (its path and code kept). Apollo Router's \
              `include_subgraph_errors`.",
        env: Some(|c, v| {
            c.subgraphs.all.include_errors = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.<name>.max_response_bytes",
        ty: Type::Integer,
        default: None,
        example: "104857600",
        doc: "`subgraphs.all.max_response_bytes` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.include_errors",
        ty: Type::Boolean,
        default: None,
        example: "false",
        doc: "`subgraphs.all.include_errors` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.retry.max_attempts",
        ty: Type::Integer,
        default: None,
        example: "2",
        doc: "`subgraphs.all.retry.max_attempts` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.retry.backoff_ms",
        ty: Type::Integer,
        default: None,
        example: "20",
        doc: "`subgraphs.all.retry.backoff_ms` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.retry.budget_percent",
        ty: Type::Integer,
        default: None,
        example: "50",
        doc: "`subgraphs.all.retry.budget_percent` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.retry.budget_min_per_sec",
        ty: Type::Integer,
        default: None,
        example: "1",
        doc: "`subgraphs.all.retry.budget_min_per_sec` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.circuit_breaker.enabled",
        ty: Type::Boolean,
        default: None,
        example: "true",
        doc: "`subgraphs.all.circuit_breaker.enabled` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.circuit_breaker.failure_threshold",
        ty: Type::Integer,
        default: None,
        example: "2",
        doc: "`subgraphs.all.circuit_breaker.failure_threshold` for this subgraph.",
        env: None,
    },
    Key {
        path: "subgraphs.<name>.circuit_breaker.cooldown_ms",
        ty: Type::Integer,
        default: None,
        example: "500",
        doc: "`subgraphs.all.circuit_breaker.cooldown_ms` for this subgraph.",
        env: None,
    },
    Key {
        path: "server.header_read_timeout_ms",
        ty: Type::IntegerOrOff,
        default: Some("10000"),
        example: "5000",
        doc: "Milliseconds a client has to send a request's headers: from the connection's \
              opening, or from the first byte of a later request on a kept-alive connection. \
              Past it the connection is closed (no answer: the request never arrived). `0`: \
              no limit.",
        env: Some(|c, v| {
            c.server.header_read_timeout_ms = super::server::parse_u64(v)?;
            Ok(())
        }),
    },
    Key {
        path: "server.body_read_timeout_ms",
        ty: Type::IntegerOrOff,
        default: Some("10000"),
        example: "30000",
        doc: "Milliseconds a client has to send a request's body once its headers arrived. \
              Past it: 408 `BODY_READ_TIMEOUT`, and the connection is closed. `0`: no limit.",
        env: Some(|c, v| {
            c.server.body_read_timeout_ms = super::server::parse_u64(v)?;
            Ok(())
        }),
    },
    Key {
        path: "server.idle_timeout_ms",
        ty: Type::IntegerOrOff,
        default: Some("60000"),
        example: "120000",
        doc: "Milliseconds a kept-alive connection may stay open waiting for its next request \
              (and, once a response is handed over, for the client to read it). Past it the \
              connection is closed. `0`: no limit.",
        env: Some(|c, v| {
            c.server.idle_timeout_ms = super::server::parse_u64(v)?;
            Ok(())
        }),
    },
    Key {
        path: "server.request_timeout_ms",
        ty: Type::IntegerOrOff,
        default: Some("30000"),
        example: "60000",
        doc: "Milliseconds a GraphQL request may take from its headers to its answer (body, \
              parsing, planning, subgraph requests). Past it: 504 `GATEWAY_TIMEOUT`, and the \
              request's work is dropped. `0`: no limit.",
        env: Some(|c, v| {
            c.server.request_timeout_ms = super::server::parse_u64(v)?;
            Ok(())
        }),
    },
    Key {
        path: "server.max_in_flight",
        ty: Type::IntegerOrOff,
        default: Some("512"),
        example: "256",
        doc: "GraphQL requests handled at once (a batch counts once). More are refused at \
              once: 503 `SERVER_OVERLOADED` with `Retry-After: 1`. `/health`, `/ready` and \
              `/metrics` are not counted. `0`: no limit.",
        env: Some(|c, v| {
            c.server.max_in_flight = super::server::parse_u64(v)?;
            Ok(())
        }),
    },
    Key {
        path: "server.max_response_bytes",
        ty: Type::IntegerOrOff,
        default: Some("16777216"),
        example: "4194304",
        doc: "The largest GraphQL response body sent, in bytes before compression (16 MiB by \
              default). Over it the client gets 500 `RESPONSE_TOO_LARGE` instead. `0`: no \
              limit.",
        env: Some(|c, v| {
            c.server.max_response_bytes = super::server::parse_u64(v)?;
            Ok(())
        }),
    },
    Key {
        path: "server.work_runtime",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Work on GraphQL requests in a runtime of their own, apart from the one that \
              accepts connections and answers `/health`: CPU-heavy requests then cannot \
              starve those. Off: one runtime, a little less CPU per request. A change needs \
              a restart.",
        env: Some(|c, v| {
            c.server.work_runtime = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "query_plan.expose",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Let clients ask for the query plan with the `weft-query-plan: include` or \
              `dry-run` request header. Plans describe the subgraphs behind the gateway.",
        env: Some(|c, v| {
            c.query_plan.expose = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "csrf.enabled",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Refuse requests a browser would send without a CORS preflight, unless they carry \
              one of `csrf.required_headers`.",
        env: Some(|c, v| {
            c.csrf.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "csrf.required_headers",
        ty: Type::Strings,
        default: Some(
            "[\"apollo-require-preflight\", \"x-apollo-operation-name\", \"weft-require-preflight\"]",
        ),
        example: "[\"x-my-client\"]",
        doc: "Headers, any one of which (non-empty) lets a simple request through. In the \
              environment: comma-separated.",
        env: Some(|c, v| {
            c.csrf.required_headers = parse_headers(v)?;
            Ok(())
        }),
    },
    Key {
        path: "introspection",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Answer `__schema` and `__type`. When false they get the error \
              `INTROSPECTION_DISABLED`; `__typename` still works.",
        env: Some(|c, v| {
            c.introspection = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "playground.enabled",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Serve the playground page to browsers: a GET of `/` or `/graphql` that prefers \
              `text/html`. Off: those requests are answered as GraphQL requests.",
        env: Some(|c, v| {
            c.playground.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_depth",
        ty: Type::IntegerOrOff,
        default: Some("15"),
        example: "10",
        doc: "The deepest field nesting an operation may have (a root field is depth 1; \
              fragments add no depth). Over it: `MAX_DEPTH_LIMIT`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_depth = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_aliases",
        ty: Type::IntegerOrOff,
        default: Some("200"),
        example: "30",
        doc: "How many aliased fields an operation may have, each fragment counted every time \
              it is spread. Over it: `MAX_ALIASES_LIMIT`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_aliases = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_root_fields",
        ty: Type::IntegerOrOff,
        default: Some("200"),
        example: "20",
        doc: "How many root fields an operation may select, fragments included, each use \
              counted. Over it: `MAX_ROOT_FIELDS_LIMIT`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_root_fields = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_height",
        ty: Type::IntegerOrOff,
        default: Some("2000"),
        example: "200",
        doc: "How many unique fields an operation may select: fields with the same response \
              key in the same place count once, through fragments. Over it: \
              `MAX_HEIGHT_LIMIT`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_height = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_tokens",
        ty: Type::IntegerOrOff,
        default: Some("15000"),
        example: "5000",
        doc: "How many tokens the document may have, as the GraphQL lexer counts them (names, \
              punctuation, values, and each run of whitespace, commas or comments); parsing \
              stops past it. Over it: `MAX_TOKENS_LIMIT`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_tokens = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_recursion",
        ty: Type::IntegerOrOff,
        default: Some("500"),
        example: "100",
        doc: "How deeply the parser may nest selection sets, lists and input objects; parsing \
              stops past it. Over it: `MAX_RECURSION_LIMIT`. `0`: no limit (the parser's own \
              stack guard still applies).",
        env: Some(|c, v| {
            c.limits.max_recursion = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_selections",
        ty: Type::IntegerOrOff,
        default: Some("100000"),
        example: "10000",
        doc: "How many selections (fields and fragments) the operation may have once its \
              fragments are inlined and merged; normalization stops past it. Over it: \
              `MAX_SELECTIONS_LIMIT`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_selections = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_planning_steps",
        ty: Type::IntegerOrOff,
        default: Some("100000"),
        example: "10000",
        doc: "How many steps the query planner may take for one operation (a field \
              planned, an alternative subgraph tried); planning stops past it. Over it: \
              `QUERY_PLANNING_BUDGET_EXCEEDED`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_planning_steps = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_estimated_cost",
        ty: Type::IntegerOrOff,
        default: Some("1000000"),
        example: "100000",
        doc: "The highest cost an operation may be estimated at (demand control's estimate, \
              lists without `@listSize` assumed `demand_control.list_size` long), whatever \
              `demand_control.mode`: a guard against answers that multiply through nested \
              lists. Over it: `COST_ESTIMATED_TOO_EXPENSIVE`. `0`: no limit.",
        env: Some(|c, v| {
            c.limits.max_estimated_cost = parse_limit(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_body_bytes",
        ty: Type::Integer,
        default: Some("2097152"),
        example: "65536",
        doc: "The largest request body, in bytes (2 MiB by default). Over it: 413 with \
              `PAYLOAD_TOO_LARGE`.",
        env: Some(|c, v| {
            c.limits.max_body_bytes = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_header_bytes",
        ty: Type::Integer,
        default: Some("32768"),
        example: "8192",
        doc: "The most bytes of request headers (names and values together). Over it: 431 \
              with `REQUEST_HEADER_FIELDS_TOO_LARGE`.",
        env: Some(|c, v| {
            c.limits.max_header_bytes = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "batching.enabled",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Accept a JSON array of requests in one POST and answer an array of results, in \
              order. Off: an array gets 400 `BATCHING_NOT_ENABLED`.",
        env: Some(|c, v| {
            c.batching.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "batching.max_size",
        ty: Type::Integer,
        default: Some("10"),
        example: "20",
        doc: "The most requests in one batch. Over it: 400 `BATCH_LIMIT_EXCEEDED`.",
        env: Some(|c, v| {
            c.batching.max_size = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "compression.enabled",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Compress responses (gzip or br, as `Accept-Encoding` asks) of 1 KiB or more.",
        env: Some(|c, v| {
            c.compression.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "cors.allow_origins",
        ty: Type::Strings,
        default: Some("[]"),
        example: "[\"https://app.example.com\"]",
        doc: "Origins allowed to call the gateway from a browser (`scheme://host[:port]`, or \
              `*` for any). Empty: no CORS headers (same-origin only). In the environment: \
              comma-separated.",
        env: Some(|c, v| {
            c.cors.allow_origins = parse_origins(v)?;
            Ok(())
        }),
    },
    Key {
        path: "cors.allow_credentials",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Send `Access-Control-Allow-Credentials: true` (cookies); not with `*`.",
        env: Some(|c, v| {
            c.cors.allow_credentials = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "cors.allow_headers",
        ty: Type::Strings,
        default: Some(
            "[\"content-type\", \"apollo-require-preflight\", \"weft-query-plan\", \"authorization\"]",
        ),
        example: "[\"content-type\", \"x-my-client\"]",
        doc: "Request headers a browser may send cross-origin (answered to preflights). In the \
              environment: comma-separated.",
        env: Some(|c, v| {
            c.cors.allow_headers = parse_headers(v)?;
            Ok(())
        }),
    },
    Key {
        path: "cors.max_age_secs",
        ty: Type::Integer,
        default: None,
        example: "600",
        doc: "How long a browser may cache a preflight's answer (`Access-Control-Max-Age`). \
              Absent: the browser's default.",
        env: Some(|c, v| {
            c.cors.max_age_secs = Some(parse_nonzero(v)?);
            Ok(())
        }),
    },
    Key {
        path: "apq.enabled",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Automatic persisted queries: register a document by its sha256, then send only \
              the hash. Off: hash-only requests get `PERSISTED_QUERY_NOT_SUPPORTED`.",
        env: Some(|c, v| {
            c.apq.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "apq.cache_size",
        ty: Type::Integer,
        default: Some("512"),
        example: "10000",
        doc: "How many registered documents the in-memory store keeps (least recently used \
              leave first).",
        env: Some(|c, v| {
            c.apq.cache_size = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "apq.redis.url",
        ty: Type::String,
        default: None,
        example: "\"redis://127.0.0.1:6379\"",
        doc: "A Redis server behind the in-memory APQ store, shared by gateways: documents \
              registered on one are found by the others. Unreachable: memory only, logged \
              and counted, requests unaffected.",
        env: Some(|c, v| {
            c.apq.redis.url = Some(parse_redis_url(v)?);
            Ok(())
        }),
    },
    Key {
        path: "apq.redis.ttl_secs",
        ty: Type::Integer,
        default: Some("86400"),
        example: "3600",
        doc: "How long Redis keeps a registered document, in seconds.",
        env: Some(|c, v| {
            c.apq.redis.ttl_secs = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "apq.redis.key_prefix",
        ty: Type::String,
        default: Some("\"weft:apq:\""),
        example: "\"gateway-eu:apq:\"",
        doc: "Put before each document's sha256 to make its Redis key.",
        env: Some(|c, v| {
            c.apq.redis.key_prefix = v.to_owned();
            Ok(())
        }),
    },
    Key {
        path: "persisted_documents.safelist",
        ty: Type::String,
        default: None,
        example: "\"persisted-documents.json\"",
        doc: "A manifest of documents, relative to this file: `{ \"<sha256>\": \"query\" }` or \
              Apollo's persisted query manifest. Its ids can be sent instead of the query.",
        env: Some(|c, v| {
            c.persisted_documents.safelist = Some(PathBuf::from(v));
            Ok(())
        }),
    },
    Key {
        path: "persisted_documents.require",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Run only the safelist's documents (by id, or by exact body). Others: 400 \
              `PERSISTED_QUERY_NOT_IN_LIST`.",
        env: Some(|c, v| {
            c.persisted_documents.require = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "log.format",
        ty: Type::Enum(&["pretty", "json"]),
        default: Some("\"pretty\""),
        example: "\"json\"",
        doc: "`pretty`: one readable line per event; `json`: one JSON object per line. A \
              change needs a restart.",
        env: Some(|c, v| {
            c.log.format = parse_format(v)?;
            Ok(())
        }),
    },
    Key {
        path: "log.level",
        ty: Type::String,
        default: Some("\"info\""),
        example: "\"weft=debug,info\"",
        doc: "A level (`error`, `warn`, `info`, `debug`, `trace`) or `RUST_LOG`-style \
              filter. When absent, `RUST_LOG`, then `info`. Applied on reload.",
        env: Some(|c, v| {
            c.log.level = Some(parse_level(v)?);
            Ok(())
        }),
    },
    Key {
        path: "headers.all",
        ty: Type::HeaderRules,
        default: Some("[]"),
        example: "[{\"propagate\": {\"named\": \"x-tenant\"}}]",
        doc: "Header rules for every subgraph: `propagate` (`named` or `prefix`), `rename` \
              (`from`, `to`), `insert` (`name`, `value`), `remove` (`name`). Hop-by-hop headers \
              are never sent; `traceparent`/`tracestate` always are.",
        env: None,
    },
    Key {
        path: "headers.subgraphs.<name>",
        ty: Type::HeaderRules,
        default: None,
        example: "[{\"insert\": {\"name\": \"x-from\", \"value\": \"weft\"}}]",
        doc: "Header rules for the subgraph with this name, applied after `headers.all`.",
        env: None,
    },
    Key {
        path: "demand_control.mode",
        ty: Type::Enum(&["measure", "enforce"]),
        default: None,
        example: "\"enforce\"",
        doc: "Estimate each operation's cost from the supergraph's `@cost` and `@listSize`: \
              `measure` reports it (`extensions.cost`, metrics), `enforce` also refuses \
              operations above `max` with `COST_ESTIMATED_TOO_EXPENSIVE`. Absent: no estimate.",
        env: Some(|c, v| {
            c.demand_control.mode = Some(parse_cost_mode(v)?);
            Ok(())
        }),
    },
    Key {
        path: "demand_control.max",
        ty: Type::Integer,
        default: Some("1000"),
        example: "500",
        doc: "The highest estimated cost `enforce` lets run.",
        env: Some(|c, v| {
            c.demand_control.max = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "demand_control.list_size",
        ty: Type::Integer,
        default: Some("10"),
        example: "50",
        doc: "The size assumed for a list whose field has no `@listSize` (or no value for its \
              slicing arguments and no `assumedSize`).",
        env: Some(|c, v| {
            c.demand_control.list_size = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "telemetry.otlp_endpoint",
        ty: Type::String,
        default: None,
        example: "\"http://otel-collector:4318/v1/traces\"",
        doc: "Where to send traces: the full OTLP/HTTP traces URL (JSON encoding). Absent: no \
              traces are exported. A change needs a restart.",
        env: Some(|c, v| {
            c.telemetry.otlp_endpoint = Some(parse_url(v)?);
            Ok(())
        }),
    },
    Key {
        path: "telemetry.service_name",
        ty: Type::String,
        default: Some("\"weft\""),
        example: "\"gateway-eu\"",
        doc: "The `service.name` of the traces' resource.",
        env: Some(|c, v| {
            c.telemetry.service_name = v.trim().to_owned();
            Ok(())
        }),
    },
    Key {
        path: "telemetry.sampling_ratio",
        ty: Type::Ratio,
        default: Some("1.0"),
        example: "0.25",
        doc: "The share of new traces recorded, from 0 to 1. A request whose `traceparent` \
              says sampled (or not) is followed as its parent decided.",
        env: Some(|c, v| {
            c.telemetry.sampling_ratio = parse_ratio(v)?;
            Ok(())
        }),
    },
    Key {
        path: "auth.jwks",
        ty: Type::Strings,
        default: Some("[]"),
        example: "[\"https://issuer.example.com/.well-known/jwks.json\"]",
        doc: "Where the keys that verify tokens come from: JWKS URLs (`http(s)://`) or files \
              (relative to this file), re-read every `poll_interval_secs` and when a token \
              names an unknown key id. Empty: tokens are not read. In the environment: \
              comma-separated.",
        env: Some(|c, v| {
            c.auth.jwks = split_list(v);
            Ok(())
        }),
    },
    Key {
        path: "auth.issuers",
        ty: Type::Strings,
        default: Some("[]"),
        example: "[\"https://issuer.example.com/\"]",
        doc: "Accepted `iss` claims; a token must carry one of them. Empty: not checked. In \
              the environment: comma-separated.",
        env: Some(|c, v| {
            c.auth.issuers = split_list(v);
            Ok(())
        }),
    },
    Key {
        path: "auth.audiences",
        ty: Type::Strings,
        default: Some("[]"),
        example: "[\"weft\"]",
        doc: "Accepted `aud` claims; a token must carry one of them. Empty: not checked. In \
              the environment: comma-separated.",
        env: Some(|c, v| {
            c.auth.audiences = split_list(v);
            Ok(())
        }),
    },
    Key {
        path: "auth.algorithms",
        ty: Type::Strings,
        default: Some(
            "[\"RS256\", \"RS384\", \"RS512\", \"PS256\", \"PS384\", \"PS512\", \"ES256\", \"ES384\", \"EdDSA\"]",
        ),
        example: "[\"RS256\", \"HS256\"]",
        doc: "Accepted signing algorithms (`none` never is). HMAC (`HS256`...) only when \
              listed, with an `oct` key in the JWKS. In the environment: comma-separated.",
        env: Some(|c, v| {
            c.auth.algorithms = split_list(v)
                .iter()
                .map(|a| crate::auth::parse_algorithm(a))
                .collect::<Result<_, _>>()?;
            Ok(())
        }),
    },
    Key {
        path: "auth.header_name",
        ty: Type::String,
        default: Some("\"authorization\""),
        example: "\"x-token\"",
        doc: "The request header that carries the token.",
        env: Some(|c, v| {
            c.auth.header_name = parse_header(v)?;
            Ok(())
        }),
    },
    Key {
        path: "auth.header_prefix",
        ty: Type::String,
        default: Some("\"Bearer\""),
        example: "\"\"",
        doc: "The scheme before the token in that header (compared without case). Empty: \
              the whole value is the token.",
        env: Some(|c, v| {
            c.auth.header_prefix = v.trim().to_owned();
            Ok(())
        }),
    },
    Key {
        path: "auth.cookie",
        ty: Type::String,
        default: None,
        example: "\"session\"",
        doc: "A cookie that carries the token when the header is absent.",
        env: Some(|c, v| {
            c.auth.cookie = Some(v.trim().to_owned());
            Ok(())
        }),
    },
    Key {
        path: "auth.poll_interval_secs",
        ty: Type::Integer,
        default: Some("300"),
        example: "60",
        doc: "How often the JWKS sources are re-read, in seconds.",
        env: Some(|c, v| {
            c.auth.poll_interval_secs = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "auth.require_authentication",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Refuse requests without a token (401 `AUTH_ERROR`). Off: they run anonymously \
              and only the directives restrict them. An invalid token is always refused.",
        env: Some(|c, v| {
            c.auth.require_authentication = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "auth.reject_unauthorized",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "When an operation selects fields the request may not see: refuse it whole (403, \
              no data). Off: run the rest, those fields `null` with an \
              `UNAUTHORIZED_FIELD_OR_TYPE` error each.",
        env: Some(|c, v| {
            c.auth.reject_unauthorized = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "auth.forward_header",
        ty: Type::String,
        default: None,
        example: "\"x-weft-claims\"",
        doc: "Send a verified token's claims to every subgraph in this header, as JSON \
              (non-ASCII escaped).",
        env: Some(|c, v| {
            c.auth.forward_header = Some(parse_header(v)?);
            Ok(())
        }),
    },
    Key {
        path: "auth.forward_extensions",
        ty: Type::String,
        default: None,
        example: "\"jwt\"",
        doc: "Send a verified token's claims to every subgraph in the request's `extensions`, \
              under this key.",
        env: Some(|c, v| {
            c.auth.forward_extensions = Some(v.trim().to_owned());
            Ok(())
        }),
    },
    Key {
        path: "auth.policies",
        ty: Type::PolicyRules,
        default: Some("[]"),
        example: "[{\"name\": \"admin\", \"claim\": \"roles\", \"any_of\": [\"admin\"]}]",
        doc: "What earns each `@policy` name: the token's claim `claim` holds one of `any_of` \
              (a string, space-separated words, or a list); with `any_of` empty, the claim is \
              present and not false. A policy without a rule is never granted.",
        env: None,
    },
    Key {
        path: "entity_cache.enabled",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Keep `_entities` results per entity and answer later requests from them.",
        env: Some(|c, v| {
            c.entity_cache.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.ttl_secs",
        ty: Type::Integer,
        default: Some("30"),
        example: "300",
        doc: "How long an entry lives when the subgraph's answer has no `max-age`.",
        env: Some(|c, v| {
            c.entity_cache.ttl_secs = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.max_entries",
        ty: Type::Integer,
        default: Some("100000"),
        example: "1000000",
        doc: "How many entries the in-memory cache holds (least recently used leave first).",
        env: Some(|c, v| {
            c.entity_cache.max_entries = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.root_fields",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Cache root query fetches too, by operation, variables and headers.",
        env: Some(|c, v| {
            c.entity_cache.root_fields = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.invalidation_token",
        ty: Type::String,
        default: None,
        example: "\"change-me\"",
        doc: "Serve `POST /admin/entity-cache/invalidate`, for requests with \
              `Authorization: Bearer <this token>`. Absent: no endpoint.",
        env: Some(|c, v| {
            c.entity_cache.invalidation_token = Some(v.trim().to_owned());
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.redis.url",
        ty: Type::String,
        default: None,
        example: "\"redis://127.0.0.1:6379\"",
        doc: "A Redis shared by gateways behind the in-memory entity cache: entries stored by \
              one are found by the others, and evictions reach them all (pub/sub). \
              Unreachable: memory only, logged and counted, requests unaffected.",
        env: Some(|c, v| {
            c.entity_cache.redis.url = Some(parse_redis_url(v)?);
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.redis.key_prefix",
        ty: Type::String,
        default: Some("\"weft:entity:\""),
        example: "\"gateway-eu:entity:\"",
        doc: "What every key (and the eviction channel) of the entity cache in Redis starts \
              with; gateways that share entries share it.",
        env: Some(|c, v| {
            c.entity_cache.redis.key_prefix = v.to_owned();
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.events.amqp_url",
        ty: Type::String,
        default: None,
        example: "\"amqp://guest:guest@rabbitmq:5672/%2f\"",
        doc: "Listen to the services' `EntityChanged` events on RabbitMQ and evict what they \
              name (here and, with `entity_cache.redis`, on every gateway). Absent: entries \
              live out their lifetimes unless evicted otherwise.",
        env: Some(|c, v| {
            c.entity_cache.events.amqp_url = Some(parse_amqp_url(v)?);
            Ok(())
        }),
    },
    Key {
        path: "entity_cache.events.exchange",
        ty: Type::String,
        default: Some("\"weft.events\""),
        example: "\"shop.events\"",
        doc: "The topic exchange the services publish their events on (routing key \
              `EntityChanged`).",
        env: Some(|c, v| {
            c.entity_cache.events.exchange = v.trim().to_owned();
            Ok(())
        }),
    },
    Key {
        path: "entity_batching.enabled",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Entity fetches of concurrent client requests for the same subgraph, selection \
              and headers join one `_entities` request, sent `window_ms` after the first.",
        env: Some(|c, v| {
            c.entity_batching.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "entity_batching.window_ms",
        ty: Type::Integer,
        default: Some("1"),
        example: "2",
        doc: "How long a batch stays open for more fetches, in milliseconds.",
        env: Some(|c, v| {
            c.entity_batching.window_ms = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "entity_batching.max_size",
        ty: Type::Integer,
        default: Some("500"),
        example: "200",
        doc: "The most representations in one batched request; a full batch is sent and the \
              next fetch opens another.",
        env: Some(|c, v| {
            c.entity_batching.max_size = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "dedupe.subgraph_requests",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Identical query requests in flight to the same subgraph (same body and \
              headers) share one request and its answer. Mutations never do.",
        env: Some(|c, v| {
            c.dedupe.subgraph_requests = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "dedupe.client_requests",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Identical client queries in flight (same document, operation, variables, \
              headers and token) share one execution and its answer. Mutations never do.",
        env: Some(|c, v| {
            c.dedupe.client_requests = parse_bool(v)?;
            Ok(())
        }),
    },
];

/// A comma-separated list, for environment variables.
fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `WEFT_` + the key's path upper-cased, `.` → `_` (`<name>` stays a placeholder).
pub fn env_name(path: &str) -> String {
    format!("WEFT_{}", path.replace('.', "_").to_ascii_uppercase())
}
