//! The shape of `weft.yaml`: [`Config`], whose fields are the sections. Each section's types
//! live in a module of their own (`sections/`, and `server`, `headers`, `auth`,
//! `entity_cache` at the crate root) and are re-exported here, where they have always been.
//! Their doc comments are the JSON Schema's descriptions (`schema.rs`).

use schemars::JsonSchema;
use serde::Deserialize;

pub use crate::sections::apq::{ApqConfig, ApqRedisConfig, PersistedDocumentsConfig, Safelist};
pub use crate::sections::http::{
    BatchingConfig, CORS_ALLOW_HEADERS, CSRF_REQUIRED_HEADERS, CompressionConfig, CorsConfig,
    CsrfConfig, PlaygroundConfig, QueryPlanConfig, QueryPlanRedisConfig,
};
pub use crate::sections::limits::{
    DEFAULT_MAX_ALIASES, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ESTIMATED_COST,
    DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEIGHT, DEFAULT_MAX_PLANNING_STEPS,
    DEFAULT_MAX_RECURSION, DEFAULT_MAX_ROOT_FIELDS, DEFAULT_MAX_SELECTIONS, DEFAULT_MAX_TOKENS,
    Limits,
};
pub use crate::sections::observability::{LogConfig, LogFormat, TelemetryConfig};
pub use crate::sections::rate_limit::{
    ClientRateConfig, RateConfig, RateLimitConfig, RateLimitRedisConfig,
};
pub use crate::sections::subgraphs::{
    AllSubgraphs, BreakerConfig, BreakerOverride, Http2, RetryConfig, RetryOverride,
    SubgraphOverride, SubgraphPolicy, Subgraphs, SubscriptionTransport, TlsConfig, TlsOverride,
    env_segment,
};
pub use crate::sections::supergraph::{
    HiveCdnConfig, SourceChoiceError, SupergraphConfig, SupergraphSource,
};
pub use crate::sections::traffic::{
    CostMode, DedupeConfig, DemandControlConfig, EntityBatchingConfig,
};
pub use crate::values::{
    AmqpUrl, ClientKey, HeaderName, HttpUrl, ListenAddr, LogFilter, Origin, Ratio, RedisUrl,
    ValueError,
};

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub supergraph: SupergraphConfig,
    /// The address (IP and port) to listen on. A change needs a restart.
    #[schemars(example = serde_json::json!("0.0.0.0:4000"))]
    pub listen: ListenAddr,
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
    pub rate_limit: RateLimitConfig,
    /// Progressive-override labels switched on per request (`@override(label:)`): rules
    /// matching a request header or a verified token's claim. A label no rule names is off,
    /// except `percent(N)`, on for N% of requests. Labels the supergraph does not use are
    /// ignored (and do not split the plan cache).
    #[schemars(example = serde_json::json!([
        {"label": "use-new-pricing", "header": "x-new-pricing", "any_of": ["on"]},
        {"label": "staff-preview", "claim": "roles", "any_of": ["staff"]}
    ]))]
    #[schemars(extend("default" = []))]
    pub override_labels: Vec<crate::override_labels::LabelRule>,
    /// `Subscription` fields fed by a broker at the gateway rather than by their subgraph
    /// (docs/subscriptions.md#event-sources).
    #[schemars(example = serde_json::json!([{
        "field": "stockChanged",
        "rabbitmq": {"url": "amqp://guest:guest@127.0.0.1:5672/%2f", "exchange": "weft.events",
                     "routing_key": "stock.changed"},
        "arguments": {"upc": "upc"}
    }]))]
    #[schemars(extend("default" = []))]
    pub subscription_sources: Vec<crate::subscription_sources::SubscriptionSource>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            supergraph: SupergraphConfig::default(),
            listen: ListenAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], 4000))),
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
            rate_limit: RateLimitConfig::default(),
            override_labels: Vec::new(),
            subscription_sources: Vec::new(),
        }
    }
}
