//! The shape of `weft.yaml`: every section's types, their doc comments (the JSON Schema's
//! descriptions, `schema.rs`) and the validators their deserializers run.

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

fn check_ratio(v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("`{v}` is not a number from 0 to 1"))
    }
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
