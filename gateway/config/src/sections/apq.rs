//! Stored documents: `apq:` (automatic persisted queries, with Redis behind) and
//! `persisted_documents:` (the safelist).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU64;
use std::path::PathBuf;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::values::{HttpUrl, RedisUrl, nonzero64};

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
    pub url: Option<RedisUrl>,
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
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PersistedDocumentsConfig {
    /// A manifest of documents, relative to this file: `{ "<sha256>": "query" }` or Apollo's
    /// persisted query manifest. Its ids can be sent instead of the query.
    #[schemars(example = serde_json::json!("persisted-documents.json"))]
    pub safelist: Option<PathBuf>,
    /// The manifest at an `http://` or `https://` URL instead of a file (a CDN, a registry):
    /// fetched before serving, then asked again every `poll_interval_ms` with `If-None-Match`. A
    /// manifest that does not parse, or a URL that does not answer, keeps the one in use.
    #[schemars(example = serde_json::json!("https://cdn.example.com/persisted-documents.json"))]
    pub url: Option<HttpUrl>,
    /// Milliseconds between two requests for the manifest at `url`.
    #[schemars(example = serde_json::json!(30000))]
    pub poll_interval_ms: NonZeroU64,
    /// Run only the safelist's documents (by id, or by exact body). Others: 400
    /// `PERSISTED_QUERY_NOT_IN_LIST`.
    #[schemars(example = serde_json::json!(true))]
    pub require: bool,
    /// The manifest's documents, read by [`crate::Sources::load_text`] (from `safelist`) or
    /// by the server (from `url`).
    #[serde(skip)]
    pub documents: Option<Arc<Safelist>>,
}

impl Default for PersistedDocumentsConfig {
    fn default() -> PersistedDocumentsConfig {
        PersistedDocumentsConfig {
            safelist: None,
            url: None,
            poll_interval_ms: nonzero64(10_000),
            require: false,
            documents: None,
        }
    }
}

impl PersistedDocumentsConfig {
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_interval_ms.get())
    }
}

/// A persisted-document manifest: documents by id (sha256 hex), and their bodies.
#[derive(Debug, Default, PartialEq)]
pub struct Safelist {
    pub by_id: HashMap<String, Arc<str>>,
    pub bodies: HashSet<Arc<str>>,
}
