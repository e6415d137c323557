//! Persisted documents: Apollo's automatic persisted queries (APQ) and the safelist
//! (`persisted_documents`). A request's `extensions.persistedQuery` is
//! `{ "version": 1, "sha256Hash": "<hex>" }`; with no `query`, the hash stands for the document.
//! See docs/http.md ("Persisted queries").

use std::sync::{Arc, RwLock};

use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::pipeline::Outcome;
use super::request::GraphQLRequest;
use crate::config::Config;

/// The APQ store: sha256 hex → document, in memory, least recently used evicted. Kept across
/// reloads while `apq.cache_size` stays the same.
pub struct ApqStore(RwLock<(u64, moka::sync::Cache<String, Arc<str>>)>);

impl ApqStore {
    pub fn new(size: u64) -> ApqStore {
        ApqStore(RwLock::new((size, moka::sync::Cache::new(size))))
    }

    /// The cache for this size: a new, empty one when the size changed.
    fn cache(&self, size: u64) -> moka::sync::Cache<String, Arc<str>> {
        let current = match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if current.0 == size {
            return current.1;
        }
        let fresh = moka::sync::Cache::new(size);
        match self.0.write() {
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

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Outcome {
    Outcome {
        status,
        body: json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] }),
    }
}

fn not_in_list(what: &str) -> Outcome {
    error(
        StatusCode::BAD_REQUEST,
        "PERSISTED_QUERY_NOT_IN_LIST",
        format!(
            "{what} is not in the persisted documents safelist (`persisted_documents.require`)."
        ),
    )
}

/// Fills in `req.query` from the persisted-query extension, registers APQ documents, and
/// enforces the safelist. `Err` is the answer when the request cannot run.
pub fn resolve(config: &Config, store: &ApqStore, req: &mut GraphQLRequest) -> Result<(), Outcome> {
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
            "BAD_REQUEST",
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
            "BAD_REQUEST",
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
                    "PERSISTED_QUERY_NOT_SUPPORTED",
                    "PersistedQueryNotSupported",
                ));
            };
            match cache.get(&hash) {
                Some(body) => {
                    req.query = Some(body.to_string());
                    Ok(())
                }
                None => Err(error(
                    StatusCode::OK,
                    "PERSISTED_QUERY_NOT_FOUND",
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
                    "PERSISTED_QUERY_HASH_MISMATCH",
                    "provided sha does not match query",
                ));
            }
            if require && !safelist.is_some_and(|list| list.bodies.contains(query)) {
                return Err(not_in_list("This operation"));
            }
            if let Some(cache) = cache {
                cache.insert(hash, Arc::from(query));
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
