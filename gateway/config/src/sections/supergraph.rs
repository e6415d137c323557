//! `supergraph:` in weft.yaml: where the supergraph comes from — a file, an HTTP(S) URL, or
//! the Hive CDN — and how often a remote one is asked again (docs/operations.md#supergraph-sources).

use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::values::{HttpUrl, nonzero64};

/// The supergraph to serve: one of `path`, `url` or `hive`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SupergraphConfig {
    /// The supergraph SDL file to serve, relative to this file. Watched: a change is served without
    /// a restart.
    #[schemars(example = serde_json::json!("supergraph.graphql"))]
    pub path: Option<PathBuf>,
    /// An `http://` or `https://` URL serving the supergraph SDL (an object store, a CDN, a
    /// registry). Asked again every `poll_interval_ms` with `If-None-Match`; a new supergraph that
    /// does not load, or a URL that does not answer, keeps the one in use.
    #[schemars(example = serde_json::json!("https://cdn.example.com/supergraph.graphql"))]
    pub url: Option<HttpUrl>,
    pub hive: HiveCdnConfig,
    /// Milliseconds between two requests for a remote supergraph (`url` or `hive`). Every replica
    /// serves a new supergraph within one interval of its publication.
    #[schemars(example = serde_json::json!(5000))]
    pub poll_interval_ms: NonZeroU64,
}

/// The Hive CDN (Hive Console's schema registry) as the source of the supergraph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HiveCdnConfig {
    /// The Hive CDN endpoint of your target (`https://cdn.graphql-hive.com/artifacts/v1/<target>`);
    /// the supergraph is read from its `/supergraph`.
    #[schemars(example = serde_json::json!("https://cdn.graphql-hive.com/artifacts/v1/0d6a1b2c"))]
    pub endpoint: Option<HttpUrl>,
    /// The CDN access key, sent as `X-Hive-CDN-Key`. Keep it out of the file: `${HIVE_CDN_KEY}`.
    #[schemars(example = serde_json::json!("hv2ABCD"))]
    pub key: Option<String>,
}

/// Hive Router and Apollo Uplink ask every 10 s.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 10_000;

impl Default for SupergraphConfig {
    fn default() -> SupergraphConfig {
        SupergraphConfig {
            path: None,
            url: None,
            hive: HiveCdnConfig::default(),
            poll_interval_ms: nonzero64(DEFAULT_POLL_INTERVAL_MS),
        }
    }
}

/// Where the supergraph comes from, once the configuration is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupergraphSource {
    File(PathBuf),
    Url(HttpUrl),
    /// The Hive CDN: the URL of the supergraph artifact and the access key.
    Hive {
        url: HttpUrl,
        key: String,
    },
}

/// Why `supergraph:` names no single source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceChoiceError {
    #[error("no supergraph to serve")]
    None,
    #[error("`supergraph` names more than one source: {0}")]
    Several(String),
    #[error("`supergraph.hive.endpoint` needs `supergraph.hive.key`")]
    HiveWithoutKey,
}

impl SupergraphConfig {
    /// The one source this configuration names.
    pub fn source(&self) -> Result<SupergraphSource, SourceChoiceError> {
        let mut named = Vec::new();
        if self.path.is_some() {
            named.push("`path`");
        }
        if self.url.is_some() {
            named.push("`url`");
        }
        if self.hive.endpoint.is_some() {
            named.push("`hive`");
        }
        if named.len() > 1 {
            return Err(SourceChoiceError::Several(named.join(", ")));
        }
        if let Some(path) = &self.path {
            return Ok(SupergraphSource::File(path.clone()));
        }
        if let Some(url) = &self.url {
            return Ok(SupergraphSource::Url(url.clone()));
        }
        match (&self.hive.endpoint, &self.hive.key) {
            (Some(endpoint), Some(key)) => Ok(SupergraphSource::Hive {
                url: hive_artifact(endpoint),
                key: key.clone(),
            }),
            (Some(_), None) => Err(SourceChoiceError::HiveWithoutKey),
            (None, _) => Err(SourceChoiceError::None),
        }
    }

    /// Sets the source from `--supergraph`: a URL when it starts with `http://` or
    /// `https://`, a file otherwise; the sources the file or environment named are dropped.
    pub fn set_from_flag(&mut self, value: &Path) {
        let text = value.to_string_lossy();
        self.path = None;
        self.url = None;
        self.hive = HiveCdnConfig::default();
        match text.parse::<HttpUrl>() {
            Ok(url) if text.starts_with("http://") || text.starts_with("https://") => {
                self.url = Some(url);
            }
            _ => self.path = Some(value.to_owned()),
        }
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.get())
    }
}

/// The supergraph artifact of a Hive CDN endpoint: `<endpoint>/supergraph`, unless the
/// endpoint already names it (as the Hive SDKs do).
fn hive_artifact(endpoint: &HttpUrl) -> HttpUrl {
    let base = endpoint.as_str().trim_end_matches('/');
    if base.ends_with("/supergraph") {
        return endpoint.clone();
    }
    format!("{base}/supergraph")
        .parse()
        .unwrap_or_else(|_| endpoint.clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn url(s: &str) -> HttpUrl {
        s.parse().unwrap()
    }

    #[test]
    fn one_source_is_named() {
        let mut c = SupergraphConfig::default();
        assert_eq!(c.source(), Err(SourceChoiceError::None));
        c.path = Some("s.graphql".into());
        assert_eq!(c.source(), Ok(SupergraphSource::File("s.graphql".into())));
        c.url = Some(url("http://cdn/s.graphql"));
        assert_eq!(
            c.source(),
            Err(SourceChoiceError::Several("`path`, `url`".into()))
        );
        c.set_from_flag(Path::new("https://cdn/s.graphql"));
        assert_eq!(
            c.source(),
            Ok(SupergraphSource::Url(url("https://cdn/s.graphql")))
        );
        c.set_from_flag(Path::new("local.graphql"));
        assert_eq!(
            c.source(),
            Ok(SupergraphSource::File("local.graphql".into()))
        );
        let mut h = SupergraphConfig::default();
        h.hive.endpoint = Some(url("https://cdn.graphql-hive.com/artifacts/v1/t/"));
        assert_eq!(h.source(), Err(SourceChoiceError::HiveWithoutKey));
        h.hive.key = Some("k".into());
        assert_eq!(
            h.source(),
            Ok(SupergraphSource::Hive {
                url: url("https://cdn.graphql-hive.com/artifacts/v1/t/supergraph"),
                key: "k".into()
            })
        );
        h.hive.endpoint = Some(url(
            "https://cdn.graphql-hive.com/artifacts/v1/t/supergraph",
        ));
        assert!(
            matches!(h.source(), Ok(SupergraphSource::Hive { url: u, .. }) if u.as_str().ends_with("/t/supergraph"))
        );
    }
}
