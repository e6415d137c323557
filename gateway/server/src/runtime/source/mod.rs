//! Where the supergraph comes from (docs/operations.md#supergraph-sources): a file (`file`),
//! an HTTP(S) URL polled with `If-None-Match` (`http`), or the Hive CDN (the same, with its
//! key header). Each is a [`SupergraphSource`]: `weft serve` reads the first supergraph from
//! it, and `reload` asks it again every interval; a source that fails, or a supergraph that
//! does not load, keeps the one in use. [`SupergraphVersion`] is what `/ready` says is live.
//! The persisted-document manifest at `persisted_documents.url` is polled the same way
//! ([`safelist`]).

pub(crate) mod file;
pub(crate) mod http;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use weft_config::model::SupergraphSource as Configured;
use weft_federation::{Supergraph, SupergraphError};

/// A place the supergraph (or another document: the persisted-document manifest) is read
/// from, again and again.
pub trait SupergraphSource: Send + Sync {
    /// Where it reads from (a path or a URL; never a key), for logs and `/ready`.
    fn describe(&self) -> &str;
    /// How long to wait between two polls.
    fn interval(&self) -> Duration;
    /// The supergraph's text when it changed since the last poll (the first poll always has
    /// one); `None` when it did not.
    fn poll(&mut self) -> BoxFuture<'_, Result<Option<String>, SourceError>>;
}

/// Why a source gave no supergraph.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{url}: {source}")]
    Request { url: String, source: reqwest::Error },
    #[error("{url}: answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the supergraph is over {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: the supergraph is not UTF-8")]
    NotUtf8 { url: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// The largest supergraph read from a URL: far above real ones (a few MB for hundreds of
/// subgraphs), so a misbehaving server cannot fill memory.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The persisted-document manifest at `url`, polled every `interval`.
pub fn safelist(url: &str, interval: Duration) -> Result<Box<dyn SupergraphSource>, SourceError> {
    Ok(Box::new(http::UrlSource::new(url, None, interval)?))
}

/// `config` with the manifest `text` as its safelist, or why the text is no manifest.
pub fn with_safelist(
    config: &weft_config::Config,
    text: &str,
) -> Result<weft_config::Config, weft_config::persisted::SafelistError> {
    let list = weft_config::persisted::parse(text)?;
    let mut config = config.clone();
    config.persisted_documents.documents = Some(Arc::new(list));
    Ok(config)
}

/// The source the configuration names.
pub fn open(
    configured: &Configured,
    poll_interval: Duration,
) -> Result<Box<dyn SupergraphSource>, SourceError> {
    Ok(match configured {
        Configured::File(path) => Box::new(file::FileSource::new(path.clone())),
        Configured::Url(url) => Box::new(http::UrlSource::new(url.as_str(), None, poll_interval)?),
        Configured::Hive { url, key } => Box::new(http::UrlSource::new(
            url.as_str(),
            Some(("x-hive-cdn-key", key.as_str())),
            poll_interval,
        )?),
    })
}

/// Parses and checks a supergraph's text (off the async threads: a large one takes a while);
/// one needing features Weft does not execute is refused like a malformed one.
pub async fn load(text: String, label: String) -> Result<Arc<Supergraph>, LoadError> {
    tokio::task::spawn_blocking(move || {
        Supergraph::parse(&text, &label)
            .and_then(|s| s.check_executable(&label).map(|()| Arc::new(s)))
    })
    .await
    .map_err(|e| LoadError::Failed(e.to_string()))?
    .map_err(LoadError::Invalid)
}

/// Why a supergraph's text did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Invalid(SupergraphError),
    #[error("loading failed: {0}")]
    Failed(String),
}

/// The supergraph being served: its text's sha256, when it was loaded, and where from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupergraphVersion {
    pub sha256: String,
    pub loaded_at: SystemTime,
    pub source: String,
}

impl SupergraphVersion {
    pub fn of(text: &str, source: &str) -> SupergraphVersion {
        SupergraphVersion {
            sha256: sha256_hex(text),
            loaded_at: SystemTime::now(),
            source: source.to_owned(),
        }
    }

    /// As `/ready` shows it.
    pub fn to_json(&self) -> serde_json::Value {
        let secs = self
            .loaded_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        serde_json::json!({
            "sha256": self.sha256,
            "loadedAt": rfc3339(secs),
            "source": self.source,
        })
    }
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC): the civil date from the day
/// number by Howard Hinnant's `civil_from_days`, so no date crate is needed for one format.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_651_188), "2026-12-07T13:46:28Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
