//! `entity_cache:` in weft.yaml (docs/entity-cache.md): the in-memory entity cache, the Redis
//! level shared by gateways, and the services' events that evict entries. The settings only:
//! the executor runs the caches (`weft_executor::entity_cache`: memory, `redis`,
//! `events`).

use schemars::JsonSchema;
use serde::Deserialize;

use crate::values::{AmqpUrl, RedisUrl};

/// The entity cache: subgraph results kept per entity (docs/entity-cache.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EntityCacheConfig {
    /// Keep `_entities` results per entity and answer later requests from them.
    #[schemars(example = serde_json::json!(true))]
    pub enabled: bool,
    /// How long an entry lives when the subgraph's answer has no `max-age`.
    #[schemars(example = serde_json::json!(300))]
    pub ttl_secs: u64,
    /// How many entries the in-memory cache holds (least recently used leave first).
    #[schemars(example = serde_json::json!(1000000))]
    pub max_entries: u64,
    /// Cache root query fetches too, by operation, variables and headers.
    #[schemars(example = serde_json::json!(true))]
    pub root_fields: bool,
    /// Serve `POST /admin/entity-cache/invalidate`, for requests with `Authorization: Bearer <this
    /// token>`. Absent: no endpoint.
    #[schemars(example = serde_json::json!("change-me"))]
    pub invalidation_token: Option<String>,
    pub redis: EntityCacheRedisConfig,
    pub events: EntityEventsConfig,
}

impl Default for EntityCacheConfig {
    fn default() -> EntityCacheConfig {
        EntityCacheConfig {
            enabled: false,
            ttl_secs: 30,
            max_entries: 100_000,
            root_fields: false,
            invalidation_token: None,
            redis: EntityCacheRedisConfig::default(),
            events: EntityEventsConfig::default(),
        }
    }
}

/// A Redis shared by gateways, behind the in-memory entity cache.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EntityCacheRedisConfig {
    /// A Redis shared by gateways behind the in-memory entity cache: entries stored by one are
    /// found by the others, and evictions reach them all (pub/sub). Unreachable: memory only,
    /// logged and counted, requests unaffected.
    #[schemars(example = serde_json::json!("redis://127.0.0.1:6379"))]
    pub url: Option<RedisUrl>,
    /// What every key (and the eviction channel) of the entity cache in Redis starts with; gateways
    /// that share entries share it.
    #[schemars(example = serde_json::json!("gateway-eu:entity:"))]
    pub key_prefix: String,
}

impl Default for EntityCacheRedisConfig {
    fn default() -> EntityCacheRedisConfig {
        EntityCacheRedisConfig {
            url: None,
            key_prefix: "weft:entity:".to_owned(),
        }
    }
}

/// The services' `EntityChanged` events (RabbitMQ), which evict what they name.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EntityEventsConfig {
    /// Listen to the services' `EntityChanged` events on RabbitMQ and evict what they name (here
    /// and, with `entity_cache.redis`, on every gateway). Absent: entries live out their lifetimes
    /// unless evicted otherwise.
    #[schemars(example = serde_json::json!("amqp://guest:guest@rabbitmq:5672/%2f"))]
    pub amqp_url: Option<AmqpUrl>,
    /// The topic exchange the services publish their events on (routing key `EntityChanged`).
    #[schemars(example = serde_json::json!("shop.events"))]
    pub exchange: String,
}

impl Default for EntityEventsConfig {
    fn default() -> EntityEventsConfig {
        EntityEventsConfig {
            amqp_url: None,
            exchange: "weft.events".to_owned(),
        }
    }
}
