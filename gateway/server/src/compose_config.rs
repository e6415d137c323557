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
    /// Accepted for Rover compatibility; Weft always composes Federation 2 (join v0.5).
    #[allow(dead_code)]
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
        Ok(config)
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
