//! A configuration problem, said the way the CLI says every problem: `origin:line:col: message`
//! and a hint. The origin is the config file, or the environment variable at fault.

use std::fmt;

use super::expand::Expanded;
use super::schema;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, or the environment variable.
    pub origin: String,
    /// 1-based line and column in the file as written (before `${VAR}` expansion).
    pub location: Option<(usize, usize)>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some((line, column)) => write!(f, "{}:{line}:{column}: ", self.origin)?,
            None => write!(f, "{}: ", self.origin)?,
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(origin: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: origin.to_owned(),
            location: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A YAML or shape error from serde_yaml_ng, located in the file as written. An unknown
    /// key is reworded, with the keys valid at its level as the hint.
    pub fn from_yaml(origin: &str, err: &serde_yaml_ng::Error, expanded: &Expanded) -> ConfigError {
        let location = err
            .location()
            .map(|l| expanded.original_location(l.line(), l.column()));
        let text = err.to_string();
        // serde_yaml_ng appends " at line L column C"; the location is given in front instead.
        let text = match text.rsplit_once(" at line ") {
            Some((before, after)) if after.contains(" column ") => before.to_owned(),
            _ => text,
        };
        // Errors inside a value are prefixed with its path (`csrf: …`); "." is the root.
        let (path, detail) = match text.split_once(": ") {
            Some((path, detail)) if !path.contains(' ') => (path.to_owned(), detail.to_owned()),
            _ => (String::new(), text.clone()),
        };
        let (message, hint) = match unknown_field(&detail) {
            Some(key) => {
                let level = if path.is_empty() {
                    "the top level".to_owned()
                } else {
                    format!("`{path}`")
                };
                (
                    format!("unknown key `{key}` at {level}"),
                    Some(format!(
                        "valid keys at {level}: {}",
                        keys_at(&path).join(", ")
                    )),
                )
            }
            None => (text, None),
        };
        ConfigError {
            origin: origin.to_owned(),
            location,
            message,
            hint,
        }
    }
}

/// The key named by serde's "unknown field `x`, expected …".
fn unknown_field(detail: &str) -> Option<&str> {
    detail
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key)
}

/// The keys valid directly under `path` (`""` for the top level), from the derived schema,
/// with any subgraph name standing for `<name>`.
pub fn keys_at(path: &str) -> Vec<String> {
    let generic: Vec<&str> = path
        .split('.')
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, seg)| {
            let under_subgraphs = i == 1 && path.starts_with("subgraphs.");
            if under_subgraphs && seg != "all" {
                "<name>"
            } else {
                seg
            }
        })
        .collect();
    let generic = generic.join(".");
    schema::object_levels(schema::json_schema_cached())
        .into_iter()
        .find(|(at, _)| *at == generic)
        .map(|(_, keys)| keys)
        .unwrap_or_default()
}
