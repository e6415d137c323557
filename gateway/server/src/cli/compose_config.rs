//! The composition config (`supergraph.yaml`), in Rover's shape so existing configs work:
//!
//! ```yaml
//! subgraphs:
//!   accounts:
//!     routing_url: http://127.0.0.1:4001/graphql
//!     schema:
//!       file: accounts.graphql          # relative to this file
//!   products:
//!     routing_url: http://127.0.0.1:4002/graphql
//!     schema:
//!       subgraph_url: http://127.0.0.1:4002/graphql   # fetched with { _service { sdl } }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeConfig {
    /// Rover's `federation_version` (`=2.5.0`, `2`): composition rejects subgraphs linking a
    /// later federation version, as Rover's composition of that version does. Read through
    /// [`ComposeConfig::federation_version`].
    #[serde(default)]
    pub federation_version: Option<serde_yaml_ng::Value>,
    pub subgraphs: BTreeMap<String, SubgraphConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphConfig {
    /// Where the gateway sends this subgraph's requests.
    pub routing_url: Option<String>,
    pub schema: SchemaSource,
}

/// Where a subgraph's SDL comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaSource {
    /// A file, relative to the config file.
    pub file: Option<PathBuf>,
    /// A running subgraph, asked for `{ _service { sdl } }`.
    pub subgraph_url: Option<String>,
}

/// Why `federation_version` is refused (the text as given, if it is text or a number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationVersionError {
    /// Neither a string nor a number.
    #[error("federation_version: expected a version such as `=2.5.0` or `2`")]
    NotText,
    #[error("federation_version `{0}`: expected a version such as `=2.5.0` or `2`")]
    Malformed(String),
    /// A 2.x later than the latest Weft composes.
    #[error(
        "federation_version `{text}`: Weft composes up to Federation {}.{}, not 2.{minor}",
        latest.0,
        latest.1
    )]
    TooNew {
        text: String,
        minor: u32,
        latest: (u32, u32),
    },
    #[error(
        "federation_version `{0}`: Weft composes Federation 2 only (Federation 1 subgraphs are \
         accepted: set `federation_version: 2`)"
    )]
    Federation1(String),
}

/// A config problem, located in the config file.
#[derive(Debug)]
pub struct ConfigError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ComposeConfig {
    pub fn parse(text: &str) -> Result<ComposeConfig, ConfigError> {
        let config: ComposeConfig = serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            ConfigError {
                line,
                column,
                message: e.to_string(),
            }
        })?;
        for (name, sg) in &config.subgraphs {
            match (&sg.schema.file, &sg.schema.subgraph_url) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    let line = text
                        .lines()
                        .position(|l| l.trim_start().starts_with(&format!("{name}:")))
                        .map_or(1, |i| i + 1);
                    return Err(ConfigError {
                        line,
                        column: 1,
                        message: format!(
                            "subgraph `{name}`: give exactly one of `schema.file` or `schema.subgraph_url`"
                        ),
                    });
                }
            }
        }
        if let Err(e) = config.federation_version() {
            let line = text
                .lines()
                .position(|l| l.starts_with("federation_version"))
                .map_or(1, |i| i + 1);
            return Err(ConfigError {
                line,
                column: 1,
                message: e.to_string(),
            });
        }
        Ok(config)
    }

    /// The federation version to compose as: `federation_version`'s major and minor (`=2.5.0`,
    /// `2.5`), the latest 2.x for `2` or when absent. Federation 1 composition (`1`, `=0.x`) and
    /// versions later than Weft knows are refused.
    pub fn federation_version(&self) -> Result<(u32, u32), FederationVersionError> {
        let latest = weft_federation::compose::subgraph::LATEST_FEDERATION_VERSION;
        let text = match &self.federation_version {
            None => return Ok(latest),
            Some(serde_yaml_ng::Value::Number(n)) => n.to_string(),
            Some(serde_yaml_ng::Value::String(s)) => s.clone(),
            Some(_) => return Err(FederationVersionError::NotText),
        };
        let bad = || FederationVersionError::Malformed(text.clone());
        let mut parts = text.trim().trim_start_matches('=').split('.');
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor: Option<u32> = match parts.next() {
            None => None,
            Some(p) => Some(p.parse().map_err(|_| bad())?),
        };
        match (major, minor) {
            (2, None) => Ok(latest),
            (2, Some(minor)) if (2, minor) <= latest => Ok((2, minor)),
            (2, Some(minor)) => Err(FederationVersionError::TooNew {
                text,
                minor,
                latest,
            }),
            (0 | 1, _) => Err(FederationVersionError::Federation1(text)),
            _ => Err(bad()),
        }
    }
}

/// `file` resolved against the directory of the config file.
pub fn resolve(config_path: &Path, file: &Path) -> PathBuf {
    match config_path.parent() {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federation_version_forms() {
        let version = |v: &str| {
            ComposeConfig::parse(&format!(
                "federation_version: {v}\nsubgraphs:\n  a:\n    schema:\n      file: a.graphql\n"
            ))
            .map(|c| c.federation_version().unwrap())
            .map_err(|e| (e.line, e.message))
        };
        assert_eq!(version("=2.5.0"), Ok((2, 5)));
        assert_eq!(version("\"2.3\""), Ok((2, 3)));
        assert_eq!(version("2"), Ok((2, 14)));
        let (line, message) = version("=2.99.0").unwrap_err();
        assert_eq!(line, 1);
        assert!(message.contains("up to Federation 2.14"), "{message}");
        assert!(version("1").unwrap_err().1.contains("Federation 2 only"));
        assert!(version("=two").is_err());
    }

    #[test]
    fn rover_shape_parses() {
        let c = ComposeConfig::parse(
            "federation_version: =2.5.0\nsubgraphs:\n  a:\n    routing_url: http://a\n    schema:\n      file: a.graphql\n",
        )
        .unwrap();
        assert_eq!(c.subgraphs["a"].routing_url.as_deref(), Some("http://a"));
    }

    #[test]
    fn unknown_keys_are_located() {
        let err = ComposeConfig::parse(
            "subgraphs:\n  a:\n    routing_url: x\n    shema:\n      file: a\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 4, "{}", err.message);
        assert!(
            err.message.contains("unknown field `shema`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn exactly_one_schema_source() {
        let err = ComposeConfig::parse("subgraphs:\n  a:\n    schema: {}\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
