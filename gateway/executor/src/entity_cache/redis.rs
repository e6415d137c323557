//! The entity cache's shared level (`entity_cache.redis`): entries in Redis, found by every
//! gateway sharing it, and evictions broadcast over Redis pub/sub so each gateway drops its
//! in-memory copies too. Like every Redis use here (`crate::redis_level`), a failure or a down
//! Redis only means process memory answers alone; it is logged and counted
//! (`weft_entity_cache_redis_errors_total`), never passed on to a client.
//!
//! Layout under the key prefix: `e:<sha256>` an entry (JSON: value, type, key fields,
//! expiry), `i:<type>:<key fields JSON>` the set of entry keys of one entity (for eviction),
//! and the channel `invalidate`.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use weft_config::entity_cache::EntityCacheConfig;

use super::{EntityCache, Identity, Key};
use crate::metrics::ExecutorMetrics;
use crate::redis_level::RedisLevel;

pub struct SharedLevel {
    redis: RedisLevel<dyn ExecutorMetrics>,
    prefix: String,
    /// This runtime's id: it ignores its own broadcasts (it evicted already).
    origin: u64,
    metrics: Arc<dyn ExecutorMetrics>,
}

/// The entity cache for `config`: in memory, with the Redis level and its subscription when
/// `entity_cache.redis.url` is set.
pub fn build(config: &EntityCacheConfig, metrics: &Arc<dyn ExecutorMetrics>) -> Arc<EntityCache> {
    let shared = config.redis.url.as_deref().and_then(|url| {
        let redis = RedisLevel::new(
            url,
            "entity_cache.redis",
            <dyn ExecutorMetrics>::record_entity_cache_redis_error,
        )?;
        Some(Arc::new(SharedLevel {
            redis,
            prefix: config.redis.key_prefix.clone(),
            origin: origin_id(),
            metrics: metrics.clone(),
        }))
    });
    let cache = Arc::new(EntityCache::new(config, shared.clone()));
    if let Some(level) = shared {
        level.subscribe(Arc::downgrade(&cache));
    }
    super::events::listen(&config.events, &cache);
    cache
}

fn origin_id() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl SharedLevel {
    fn entry_key(&self, key: &Key) -> String {
        let mut h = Sha256::new();
        h.update(key.0.to_le_bytes());
        h.update(key.1.as_bytes());
        let digest = h.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}e:{hex}", self.prefix)
    }

    fn index_key(&self, typename: &str, key: &Map<String, Value>) -> String {
        format!("{}i:{typename}:{}", self.prefix, Value::Object(key.clone()))
    }

    fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }

    /// The entries Redis has for `keys`, with their remaining lifetimes (one round trip).
    pub async fn get_many(&self, keys: &[Key]) -> Vec<Option<(String, Identity, Duration)>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(self.entry_key(k));
        }
        let Some(found) = self
            .redis
            .query::<Vec<Option<String>>>(cmd, self.metrics.as_ref())
            .await
        else {
            return vec![None; keys.len()];
        };
        let now = now_secs();
        found
            .into_iter()
            .map(|text| {
                let entry: Value = serde_json::from_str(&text?).ok()?;
                let expires = entry.get("x").and_then(Value::as_u64)?;
                let left = expires.checked_sub(now).filter(|s| *s > 0)?;
                let identity = Identity {
                    typename: entry.get("t")?.as_str()?.to_owned(),
                    key: entry.get("k")?.as_object()?.clone(),
                };
                // The result as text (a JSON string): numbers keep the subgraph's text.
                let value = entry.get("v")?.as_str()?.to_owned();
                Some((value, identity, Duration::from_secs(left)))
            })
            .collect()
    }

    /// Stores an entry in the background (the response does not wait for Redis).
    pub fn put(self: &Arc<Self>, key: &Key, value: &str, identity: &Identity, ttl: Duration) {
        let secs = ttl.as_secs().max(1);
        let entry = json!({
            "v": value,
            "t": identity.typename,
            "k": identity.key,
            "x": now_secs() + secs,
        })
        .to_string();
        let entry_key = self.entry_key(key);
        let index =
            (!identity.key.is_empty()).then(|| self.index_key(&identity.typename, &identity.key));
        let level = self.clone();
        tokio::spawn(async move {
            let mut pipe = redis::pipe();
            pipe.cmd("SET")
                .arg(&entry_key)
                .arg(entry)
                .arg("EX")
                .arg(secs);
            if let Some(index) = index {
                pipe.cmd("SADD").arg(&index).arg(&entry_key);
                pipe.cmd("EXPIRE").arg(&index).arg(secs);
            }
            level.redis.pipeline(pipe, level.metrics.as_ref()).await;
        });
    }

    /// Deletes the matching entries from Redis and tells the other gateways to drop theirs.
    pub async fn invalidate(&self, typename: &str, key: &Map<String, Value>) {
        // The entity's own index when the key is whole; else every index of the type.
        let pattern = format!("{}i:{typename}:*", self.prefix);
        let exact = self.index_key(typename, key);
        let mut scan = redis::cmd("KEYS");
        scan.arg(&pattern);
        let indexes = self
            .redis
            .query::<Vec<String>>(scan, self.metrics.as_ref())
            .await
            .unwrap_or_default();
        for index in indexes {
            let matches = key.is_empty() || index == exact || {
                // `i:<type>:<json>`: compare the fields the eviction names.
                let fields = index
                    .strip_prefix(&format!("{}i:{typename}:", self.prefix))
                    .and_then(|j| serde_json::from_str::<Map<String, Value>>(j).ok())
                    .unwrap_or_default();
                !fields.is_empty() && fields.iter().all(|(k, v)| key.get(k) == Some(v))
            };
            if !matches {
                continue;
            }
            let mut members = redis::cmd("SMEMBERS");
            members.arg(&index);
            let entries = self
                .redis
                .query::<Vec<String>>(members, self.metrics.as_ref())
                .await
                .unwrap_or_default();
            let mut del = redis::cmd("DEL");
            del.arg(&index);
            for e in entries {
                del.arg(e);
            }
            let _ = self.redis.query::<i64>(del, self.metrics.as_ref()).await;
        }
        let message = json!({ "origin": self.origin, "type": typename, "key": key }).to_string();
        self.redis
            .publish(&self.channel(), &message, self.metrics.as_ref())
            .await;
    }

    /// Listens for other gateways' evictions for as long as `cache` lives, reconnecting
    /// after failures.
    fn subscribe(self: &Arc<Self>, cache: Weak<EntityCache>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let level = Arc::downgrade(self);
        handle.spawn(async move {
            loop {
                let Some(me) = level.upgrade() else { return };
                let channel = me.channel();
                let origin = me.origin;
                let client = me.redis.client().clone();
                let metrics = me.metrics.clone();
                drop(me);
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if pubsub.subscribe(&channel).await.is_ok() {
                            let mut messages = pubsub.on_message();
                            while let Some(msg) = messages.next().await {
                                let Some(cache) = cache.upgrade() else { return };
                                let Ok(text) = msg.get_payload::<String>() else {
                                    continue;
                                };
                                apply(&cache, &text, origin);
                            }
                        }
                    }
                    Err(_) => metrics.record_entity_cache_redis_error(),
                }
                if cache.upgrade().is_none() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// Applies an eviction broadcast by another gateway.
fn apply(cache: &EntityCache, text: &str, origin: u64) {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if message.get("origin").and_then(Value::as_u64) == Some(origin) {
        return;
    }
    let (Some(typename), Some(key)) = (
        message.get("type").and_then(Value::as_str),
        message.get("key").and_then(Value::as_object),
    ) else {
        return;
    };
    cache.invalidate_local(typename, key);
    cache.flush();
}
