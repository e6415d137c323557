//! The keys tokens are verified with: JWKS documents from files and URLs, re-read every
//! `auth.poll_interval_secs` and when a token names a key id the store does not know (the
//! issuer rotated its keys). A source that fails to load keeps its previous keys.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use weft_config::auth::is_url;

/// A JWKS source as the key store reads it (one of `auth.jwks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Url(String),
    File(PathBuf),
}

impl Source {
    pub fn of(text: &str) -> Source {
        if is_url(text) {
            Source::Url(text.to_owned())
        } else {
            Source::File(PathBuf::from(text))
        }
    }
}

/// One verification key.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    /// The algorithm the JWK pins (`alg`), if it does.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
    pub family: jsonwebtoken::AlgorithmFamily,
}

/// Why keys could not be loaded from a source.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("cannot read JWKS file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("JWKS file {}: {source}", path.display())]
    InvalidFile { path: PathBuf, source: NotAJwks },
    /// A URL source's answer is not a JWKS.
    #[error(transparent)]
    Invalid(#[from] NotAJwks),
    /// The request for a URL source failed (reqwest's message names the URL).
    #[error("{0}")]
    Request(reqwest::Error),
    #[error("{url} answered HTTP {status}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    /// The HTTP client for URL sources could not be built.
    #[error("{0}")]
    Client(reqwest::Error),
}

/// A document that does not parse as a JWKS.
#[derive(Debug, thiserror::Error)]
#[error("not a JWKS: {0}")]
pub struct NotAJwks(#[from] serde_json::Error);

/// On-demand refreshes (unknown key id) are at most this frequent, so tokens with made-up key
/// ids cannot make the gateway hammer the issuer.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

pub struct KeyStore {
    sources: Vec<Source>,
    /// The keys of each source, in source order.
    keys: RwLock<Vec<Arc<Vec<Key>>>>,
    last_refresh: Mutex<Option<Instant>>,
    /// One refresh at a time; a token waiting on one reuses its result.
    refreshing: tokio::sync::Mutex<()>,
    http: reqwest::Client,
}

impl KeyStore {
    /// A store for `sources`; files are read now (an unreadable or invalid file is an error),
    /// URLs by [`KeyStore::refresh`].
    pub fn new(sources: Vec<Source>) -> Result<KeyStore, JwksError> {
        let mut keys = Vec::with_capacity(sources.len());
        for source in &sources {
            match source {
                Source::File(path) => keys.push(Arc::new(read_file(path)?)),
                Source::Url(_) => keys.push(Arc::new(Vec::new())),
            }
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(JwksError::Client)?;
        Ok(KeyStore {
            sources,
            keys: RwLock::new(keys),
            last_refresh: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            http,
        })
    }

    /// Every key, from every source.
    pub fn all(&self) -> Vec<Key> {
        let guard = match self.keys.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.iter().flat_map(|k| k.iter().cloned()).collect()
    }

    /// Whether some key has id `kid`.
    pub fn knows(&self, kid: &str) -> bool {
        self.all().iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Re-reads every source now. Failures are logged and keep the source's previous keys.
    pub async fn refresh(&self) {
        let _one_at_a_time = self.refreshing.lock().await;
        self.load_all().await;
    }

    /// Refreshes because a token named key `kid` the store lacks, unless another refresh ran
    /// within [`MIN_REFRESH_INTERVAL`] (or one finished while this one waited and found it).
    pub async fn refresh_for_unknown(&self, kid: &str) {
        let _one_at_a_time = self.refreshing.lock().await;
        if self.knows(kid) {
            return;
        }
        let recent = self
            .last_refresh
            .lock()
            .map(|t| t.is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL))
            .unwrap_or(false);
        if !recent {
            tracing::info!(
                kid,
                "token signed with an unknown key id: refreshing the JWKS"
            );
            self.load_all().await;
        }
    }

    async fn load_all(&self) {
        for (i, source) in self.sources.iter().enumerate() {
            let loaded = match source {
                Source::File(path) => read_file(path),
                Source::Url(url) => self.fetch(url).await,
            };
            match loaded {
                Ok(keys) => {
                    let mut guard = match self.keys.write() {
                        Ok(g) => g,
                        Err(poisoned) => poisoned.into_inner(),
                    };
                    if let Some(slot) = guard.get_mut(i) {
                        *slot = Arc::new(keys);
                    }
                }
                Err(e) => tracing::warn!(source = ?source, "JWKS not refreshed: {e}"),
            }
        }
        if let Ok(mut t) = self.last_refresh.lock() {
            *t = Some(Instant::now());
        }
    }

    async fn fetch(&self, url: &str) -> Result<Vec<Key>, JwksError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(JwksError::Request)?;
        if !response.status().is_success() {
            return Err(JwksError::Status {
                url: url.to_owned(),
                status: response.status(),
            });
        }
        let text = response.text().await.map_err(JwksError::Request)?;
        Ok(parse_set(&text)?)
    }

    /// Loads the URL sources now and every `every` after, for as long as the store lives
    /// (the task holds a weak reference and ends with the runtime that owns the store).
    pub fn start_polling(self: &Arc<Self>, every: Duration) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<KeyStore> = Arc::downgrade(self);
        handle.spawn(async move {
            loop {
                match weak.upgrade() {
                    Some(store) => store.refresh().await,
                    None => return,
                }
                tokio::time::sleep(every).await;
            }
        });
    }
}

/// The keys of the JWKS file at `path`.
pub fn read_file(path: &std::path::Path) -> Result<Vec<Key>, JwksError> {
    let text = std::fs::read_to_string(path).map_err(|source| JwksError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    parse_set(&text).map_err(|source| JwksError::InvalidFile {
        path: path.to_owned(),
        source,
    })
}

/// The usable keys of a JWKS document. Keys of unsupported types, or meant for encryption
/// (`use: enc`), are skipped.
pub fn parse_set(text: &str) -> Result<Vec<Key>, NotAJwks> {
    let set: JwkSet = serde_json::from_str(text)?;
    Ok(set.keys.iter().filter_map(key_of).collect())
}

fn key_of(jwk: &Jwk) -> Option<Key> {
    if matches!(
        jwk.common.public_key_use,
        Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
    ) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    let alg = jwk
        .common
        .key_algorithm
        .and_then(|a| a.to_string().parse::<Algorithm>().ok());
    Some(Key {
        kid: jwk.common.key_id.clone(),
        alg,
        family: key.family(),
        key,
    })
}
