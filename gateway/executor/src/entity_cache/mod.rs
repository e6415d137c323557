//! The entity cache (DESIGN §5, docs/entity-cache.md): `_entities` results kept per
//! representation, so a later request for the same entity — same subgraph, same selection, same
//! forwarded headers — is answered without a subgraph request; a partial hit sends only the
//! misses. Root query fetches may be cached too (`entity_cache.root_fields`).
//!
//! Entries live as long as the subgraph's `Cache-Control: max-age` (minus `Age`) allows, else
//! `entity_cache.ttl_secs`; `private`, `no-store` and `no-cache` answers, and answers with
//! errors, are never kept. Entries are evicted by type and key fields: from the admin endpoint,
//! and for every entity a mutation returns.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use serde_json::{Map, Value};
use weft_config::entity_cache::EntityCacheConfig;
use weft_federation::operation::{Operation, Selection, SelectionSet};

pub mod events;
pub mod redis;

use crate::store::Frozen;
use redis::SharedLevel;

/// Where an entry came from, for eviction by type and key.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub typename: String,
    /// The key fields' values (`{"upc": "1"}`); empty for root fetches.
    pub key: Map<String, Value>,
}

#[derive(Debug, Clone)]
struct Entry {
    /// The result, numbers with the subgraph's text.
    value: Arc<Frozen>,
    identity: Identity,
    ttl: Duration,
}

/// Keys are the full representation text beside a hash of the rest (subgraph, selection,
/// scope): the text makes collisions between entities impossible, the hash keeps keys short.
pub type Key = (u64, String);

struct PerEntry;

impl Expiry<Key, Arc<Entry>> for PerEntry {
    fn expire_after_create(&self, _: &Key, entry: &Arc<Entry>, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

pub struct EntityCache {
    config: EntityCacheConfig,
    /// Entries behind an `Arc`: a look-up hands out a clone of the value, and this makes it
    /// one count, not a copy of the identity. Hashed with foldhash (seeded per process, fast
    /// on short keys) rather than SipHash: every cached request looks up dozens of keys.
    entries: moka::sync::Cache<Key, Arc<Entry>, foldhash::fast::RandomState>,
    shared: Option<Arc<SharedLevel>>,
}

impl EntityCache {
    /// The in-memory cache, in front of `shared` (Redis) if given; see
    /// `redis::build`.
    pub fn new(config: &EntityCacheConfig, shared: Option<Arc<SharedLevel>>) -> EntityCache {
        EntityCache {
            shared,
            config: config.clone(),
            entries: moka::sync::Cache::builder()
                .max_capacity(config.max_entries)
                .expire_after(PerEntry)
                .support_invalidation_closures()
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    pub fn caches_root_fields(&self) -> bool {
        self.config.root_fields
    }

    pub fn get(&self, key: &Key) -> Option<Arc<Frozen>> {
        self.entries.get(key).map(|e| e.value.clone())
    }

    /// The Redis level, when configured.
    pub fn shared(&self) -> Option<&Arc<SharedLevel>> {
        self.shared.as_ref()
    }

    /// Keeps an entry here and, when configured, in Redis.
    /// `text` is the value as JSON, for Redis (asked for only when there is one).
    pub fn insert(
        &self,
        key: Key,
        value: Arc<Frozen>,
        text: impl FnOnce() -> String,
        identity: Identity,
        ttl: Duration,
    ) {
        if ttl.is_zero() {
            return;
        }
        if let Some(shared) = &self.shared {
            shared.put(&key, &text(), &identity, ttl);
        }
        self.insert_local(key, value, identity, ttl);
    }

    /// Keeps an entry in memory only (what Redis answered is there already).
    pub fn insert_local(&self, key: Key, value: Arc<Frozen>, identity: Identity, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        self.entries.insert(
            key,
            Arc::new(Entry {
                value,
                identity,
                ttl,
            }),
        );
    }

    /// The lifetime an answer with these headers allows (`None`: do not keep it).
    pub fn ttl(&self, cache_control: Option<&str>, age: Option<&str>) -> Option<Duration> {
        ttl_of(
            cache_control,
            age,
            Duration::from_secs(self.config.ttl_secs),
        )
    }

    /// Evicts every entry of `typename` whose key fields all equal those in `key` (an empty
    /// `key`: every entry of the type), here, in Redis, and on the gateways sharing it.
    pub async fn invalidate(&self, typename: &str, key: &Map<String, Value>) {
        self.invalidate_local(typename, key);
        if let Some(shared) = &self.shared {
            shared.invalidate(typename, key).await;
        }
    }

    /// Evicts from this process's memory only.
    pub fn invalidate_local(&self, typename: &str, key: &Map<String, Value>) {
        let typename = typename.to_owned();
        let key = key.clone();
        let _ = self.entries.invalidate_entries_if(move |_, entry| {
            let id = &entry.identity;
            id.typename == typename
                && (key.is_empty()
                    || (!id.key.is_empty() && id.key.iter().all(|(k, v)| key.get(k) == Some(v))))
        });
    }

    /// Runs pending evictions now (tests and the admin endpoint want them visible at once).
    pub fn flush(&self) {
        self.entries.run_pending_tasks();
    }
}

/// What a mutation's answer evicts: for every object it returned (shaped `data` of
/// `operation`), its type and its leaf fields by field name (aliases undone).
pub fn returned_entities(operation: &Operation, data: &Value) -> Vec<(String, Map<String, Value>)> {
    let mut out = Vec::new();
    if let Value::Object(map) = data {
        walk(&operation.selection_set, map, &mut out);
    }
    out
}

fn walk(
    set: &SelectionSet,
    object: &Map<String, Value>,
    out: &mut Vec<(String, Map<String, Value>)>,
) {
    for item in &set.items {
        match item {
            Selection::Field(field) => {
                let Some(sub) = &field.selection_set else {
                    continue;
                };
                let Some(value) = object.get(&field.response_key) else {
                    continue;
                };
                let declared = field.ty.inner_named_type().as_str();
                visit(sub, value, declared, out);
            }
            Selection::InlineFragment(fragment) => walk(&fragment.selection_set, object, out),
        }
    }
}

fn visit(
    set: &SelectionSet,
    value: &Value,
    declared: &str,
    out: &mut Vec<(String, Map<String, Value>)>,
) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| visit(set, v, declared, out)),
        Value::Object(object) => {
            let typename = object
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or(declared);
            let mut leaves = Map::new();
            leaf_fields(set, object, typename, &mut leaves);
            if !leaves.is_empty() {
                out.push((typename.to_owned(), leaves));
            }
            walk(set, object, out);
        }
        _ => {}
    }
}

fn leaf_fields(
    set: &SelectionSet,
    object: &Map<String, Value>,
    typename: &str,
    out: &mut Map<String, Value>,
) {
    for item in &set.items {
        match item {
            Selection::Field(f) if f.selection_set.is_none() && f.name != "__typename" => {
                if let Some(v) = object.get(&f.response_key) {
                    out.insert(f.name.clone(), v.clone());
                }
            }
            Selection::InlineFragment(fragment)
                if fragment.type_condition.is_none()
                    || fragment.possible_types.iter().any(|t| t == typename) =>
            {
                leaf_fields(&fragment.selection_set, object, typename, out);
            }
            _ => {}
        }
    }
}

/// What every entry of one fetch shares — `subgraph`, `operation`, `scope` — hashed once per
/// fetch; an entry's key is this and its representation's JSON text.
pub fn fetch_hash(subgraph: &str, operation: &str, scope: u64) -> u64 {
    let mut h = DefaultHasher::new();
    subgraph.hash(&mut h);
    operation.hash(&mut h);
    scope.hash(&mut h);
    h.finish()
}

/// The lifetime `Cache-Control` and `Age` allow: `s-maxage` or `max-age` minus `Age`;
/// `default` without either; never for `private`, `no-store` or `no-cache`.
pub fn ttl_of(
    cache_control: Option<&str>,
    age: Option<&str>,
    default: Duration,
) -> Option<Duration> {
    let Some(cc) = cache_control else {
        return Some(default).filter(|d| !d.is_zero());
    };
    let mut max_age = None;
    let mut shared_max_age = None;
    for directive in cc.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (
                n.trim().to_owned(),
                Some(v.trim().trim_matches('"').to_owned()),
            ),
            None => (directive.clone(), None),
        };
        match name.as_str() {
            "private" | "no-store" | "no-cache" => return None,
            "max-age" => max_age = value.and_then(|v| v.parse::<u64>().ok()),
            "s-maxage" => shared_max_age = value.and_then(|v| v.parse::<u64>().ok()),
            _ => {}
        }
    }
    let Some(seconds) = shared_max_age.or(max_age) else {
        return Some(default).filter(|d| !d.is_zero());
    };
    let age: u64 = age.and_then(|a| a.trim().parse().ok()).unwrap_or(0);
    let left = seconds.saturating_sub(age);
    (left > 0).then(|| Duration::from_secs(left))
}

/// The key fields of a representation: its `key_fields` members.
pub fn key_fields(representation: &Value, key_fields: &[String]) -> Map<String, Value> {
    key_fields
        .iter()
        .filter_map(|k| representation.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const DEFAULT: Duration = Duration::from_secs(30);

    #[test]
    fn lifetimes_follow_cache_control() {
        let s = Duration::from_secs;
        assert_eq!(ttl_of(None, None, DEFAULT), Some(DEFAULT));
        assert_eq!(
            ttl_of(Some("public, max-age=60"), None, DEFAULT),
            Some(s(60))
        );
        assert_eq!(ttl_of(Some("max-age=60"), Some("15"), DEFAULT), Some(s(45)));
        assert_eq!(ttl_of(Some("max-age=60"), Some("90"), DEFAULT), None);
        assert_eq!(
            ttl_of(Some("max-age=60, s-maxage=5"), None, DEFAULT),
            Some(s(5))
        );
        assert_eq!(ttl_of(Some("private, max-age=60"), None, DEFAULT), None);
        assert_eq!(ttl_of(Some("no-store"), None, DEFAULT), None);
        assert_eq!(ttl_of(Some("No-Cache"), None, DEFAULT), None);
        assert_eq!(ttl_of(Some("public"), None, DEFAULT), Some(DEFAULT));
        assert_eq!(ttl_of(None, None, Duration::ZERO), None);
    }

    fn entry(cache: &EntityCache, typename: &str, key: Value) -> Key {
        let k = (fetch_hash("s", "op", 0), key.to_string());
        cache.insert(
            k.clone(),
            Arc::new(Frozen::Null),
            String::new,
            Identity {
                typename: typename.into(),
                key: key.as_object().cloned().unwrap_or_default(),
            },
            Duration::from_secs(60),
        );
        k
    }

    #[test]
    fn invalidation_by_type_and_key_fields() {
        let cache = EntityCache::new(
            &EntityCacheConfig {
                enabled: true,
                ..EntityCacheConfig::default()
            },
            None,
        );
        let p1 = entry(&cache, "Product", json!({ "upc": "1" }));
        let p2 = entry(&cache, "Product", json!({ "upc": "2" }));
        let u1 = entry(&cache, "User", json!({ "id": "1" }));
        cache.invalidate_local(
            "Product",
            json!({ "upc": "1" }).as_object().unwrap_or(&Map::new()),
        );
        cache.flush();
        assert!(cache.get(&p1).is_none());
        assert!(cache.get(&p2).is_some());
        assert!(cache.get(&u1).is_some());
        // A mutation's answer evicts what it returns, by the fields it carries.
        let fields = json!({ "id": "1", "name": "x" });
        cache.invalidate_local("User", fields.as_object().unwrap_or(&Map::new()));
        cache.flush();
        assert!(cache.get(&u1).is_none());
        assert!(cache.get(&p2).is_some());
        cache.invalidate_local("Product", &Map::new());
        cache.flush();
        assert!(cache.get(&p2).is_none());
    }
}
