//! `entity_cache:` in weft.yaml (docs/entity-cache.md): the in-memory entity cache, the Redis
//! level shared by gateways, and the services' events that evict entries. The settings only:
//! the executor runs the caches (`weft_executor::entity_cache`: memory, `redis`,
//! `events`).

use serde::Deserialize;

use crate::model::{amqp_url, redis_url};

/// `entity_cache:` in weft.yaml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntityCacheConfig {
    pub enabled: bool,
    /// Lifetime of an entry when the subgraph's answer has no `max-age`.
    pub ttl_secs: u64,
    pub max_entries: u64,
    /// Cache root query fetches too (keyed by operation and variables).
    pub root_fields: bool,
    /// The bearer token the invalidation endpoint requires; absent: no endpoint.
    pub invalidation_token: Option<String>,
    /// A Redis shared by several gateways.
    pub redis: EntityCacheRedisConfig,
    /// The services' `EntityChanged` events.
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

/// `entity_cache.redis` in weft.yaml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntityCacheRedisConfig {
    /// `redis://[user:password@]host:port[/db]`; absent: memory only.
    #[serde(deserialize_with = "redis_url")]
    pub url: Option<String>,
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

/// `entity_cache.events` in weft.yaml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntityEventsConfig {
    /// `amqp://user:password@host:port/vhost`; absent: no events are read.
    #[serde(deserialize_with = "amqp_url")]
    pub amqp_url: Option<String>,
    /// The topic exchange the services publish their events on.
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
