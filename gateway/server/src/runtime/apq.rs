//! Persisted documents: Apollo's automatic persisted queries (APQ) and the safelist
//! (`persisted_documents`). A request's `extensions.persistedQuery` is
//! `{ "version": 1, "sha256Hash": "<hex>" }`; with no `query`, the hash stands for the document.
//! See docs/http.md ("Persisted queries").

use std::sync::{Arc, RwLock};

use axum::http::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use weft_config::Config;
use weft_config::model::ApqRedisConfig;
use weft_executor::{ErrorCode, GraphQLError};

use crate::observability::metrics::Metrics;
use crate::runtime::pipeline::Outcome;
use crate::runtime::request::GraphQLRequest;
use weft_executor::redis_level::RedisLevel;

/// The APQ store: sha256 hex → document, in memory, least recently used evicted; in front of
/// Redis when `apq.redis.url` is set (`weft_executor::redis_level`). Kept across reloads while
/// `apq.cache_size` (and `apq.redis`) stay the same.
pub struct ApqStore {
    memory: RwLock<(u64, moka::sync::Cache<String, Arc<str>>)>,
    redis: RwLock<Option<(ApqRedisConfig, Arc<RedisLevel<Metrics>>)>>,
}

impl ApqStore {
    pub fn new(size: u64) -> ApqStore {
        ApqStore {
            memory: RwLock::new((size, moka::sync::Cache::new(size))),
            redis: RwLock::new(None),
        }
    }

    /// The Redis level for `config`: made again when the configuration changed.
    fn redis(&self, config: &ApqRedisConfig) -> Option<Arc<RedisLevel<Metrics>>> {
        config.url.as_ref()?;
        let current = match self.redis.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some((_, level)) = current.filter(|(c, _)| c == config) {
            return Some(level);
        }
        let url = config.url.as_deref()?;
        let fresh = RedisLevel::new(url, "apq.redis", Metrics::record_apq_redis_error)
            .map(|level| (config.clone(), Arc::new(level)));
        match self.redis.write() {
            Ok(mut g) => g.clone_from(&fresh),
            Err(poisoned) => poisoned.into_inner().clone_from(&fresh),
        }
        fresh.map(|(_, level)| level)
    }

    /// The cache for this size: a new, empty one when the size changed.
    fn cache(&self, size: u64) -> moka::sync::Cache<String, Arc<str>> {
        let current = match self.memory.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if current.0 == size {
            return current.1;
        }
        let fresh = moka::sync::Cache::new(size);
        match self.memory.write() {
            Ok(mut g) => *g = (size, fresh.clone()),
            Err(poisoned) => *poisoned.into_inner() = (size, fresh.clone()),
        }
        fresh
    }
}

/// The lowercase hex sha256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Outcome {
    Outcome {
        status,
        body: GraphQLError::new(code, message).into(),
    }
}

fn not_in_list(what: &str) -> Outcome {
    error(
        StatusCode::BAD_REQUEST,
        ErrorCode::PersistedQueryNotInList,
        format!(
            "{what} is not in the persisted documents safelist (`persisted_documents.require`)."
        ),
    )
}

/// Fills in `req.query` from the persisted-query extension, registers APQ documents, and
/// enforces the safelist. `Err` is the answer when the request cannot run.
pub async fn resolve(
    config: &Config,
    store: &ApqStore,
    metrics: &Metrics,
    req: &mut GraphQLRequest,
) -> Result<(), Outcome> {
    let safelist = config.persisted_documents.documents.as_deref();
    let require = config.persisted_documents.require;
    let extension = req
        .extensions
        .as_ref()
        .and_then(|e| e.get("persistedQuery"))
        .filter(|pq| !pq.is_null());
    let Some(pq) = extension else {
        if require
            && let Some(query) = &req.query
            && !safelist.is_some_and(|list| list.bodies.contains(query.as_str()))
        {
            return Err(not_in_list("This operation"));
        }
        return Ok(());
    };
    if pq.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "Unsupported persisted query version: `extensions.persistedQuery.version` must be 1.",
        ));
    }
    let Some(hash) = pq
        .get("sha256Hash")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
    else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "`extensions.persistedQuery.sha256Hash` must be a string.",
        ));
    };
    let listed = safelist.and_then(|list| list.by_id.get(&hash));
    let cache = config
        .apq
        .enabled
        .then(|| store.cache(config.apq.cache_size.get()));
    match req.query.as_deref().filter(|q| !q.trim().is_empty()) {
        None => {
            if let Some(body) = listed {
                req.query = Some(body.to_string());
                return Ok(());
            }
            if require {
                return Err(not_in_list(&format!("Persisted document `{hash}`")));
            }
            let Some(cache) = cache else {
                return Err(error(
                    StatusCode::OK,
                    ErrorCode::PersistedQueryNotSupported,
                    "PersistedQueryNotSupported",
                ));
            };
            if let Some(body) = cache.get(&hash) {
                req.query = Some(body.to_string());
                return Ok(());
            }
            let shared = match store.redis(&config.apq.redis) {
                Some(redis) => {
                    let key = format!("{}{hash}", config.apq.redis.key_prefix);
                    redis.get(&key, metrics).await
                }
                None => None,
            };
            // Checked like a registration: whatever wrote the key, the body must hash right.
            match shared.filter(|body| sha256_hex(body) == hash) {
                Some(body) => {
                    cache.insert(hash, Arc::from(body.as_str()));
                    req.query = Some(body);
                    Ok(())
                }
                None => Err(error(
                    StatusCode::OK,
                    ErrorCode::PersistedQueryNotFound,
                    "PersistedQueryNotFound",
                )),
            }
        }
        Some(query) => {
            // A safelisted id with its own body runs as listed; anything else must hash right.
            if listed.is_some_and(|body| **body == *query) {
                return Ok(());
            }
            if sha256_hex(query) != hash {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::PersistedQueryHashMismatch,
                    "provided sha does not match query",
                ));
            }
            if require && !safelist.is_some_and(|list| list.bodies.contains(query)) {
                return Err(not_in_list("This operation"));
            }
            if let Some(cache) = cache {
                // Written to Redis only when new here: a registration repeated on this
                // gateway was written already (or Redis was down, and memory serves).
                if !cache.contains_key(&hash) {
                    if let Some(redis) = store.redis(&config.apq.redis) {
                        let redis_config = &config.apq.redis;
                        let key = format!("{}{hash}", redis_config.key_prefix);
                        let ttl = redis_config.ttl_secs.get();
                        redis.set(&key, query, ttl, metrics).await;
                    }
                    cache.insert(hash, Arc::from(query));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_as_apollo_does() {
        // echo -n '{ __typename }' | sha256sum
        assert_eq!(
            sha256_hex("{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
    }
}
