//! A configuration problem, said the way the CLI says every problem: `origin:line:col: message`
//! and a hint. The origin is the config file, or the environment variable at fault.

use std::fmt;

use super::blocks;
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

    /// An error about the key at dotted `key`, placed where `file` (its path and text) writes
    /// it, or at the file's start when it does not (a key missing from the file); named by
    /// the key alone without a file.
    pub fn at_key(
        file: Option<(&std::path::Path, &str)>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        match file {
            Some((path, text)) => ConfigError {
                location: Some(blocks::locate(text, key).unwrap_or((1, 1))),
                ..ConfigError::new(&path.display().to_string(), message)
            },
            None => ConfigError::new(&format!("`{key}`"), message),
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
            None => {
                let message = match human(&detail) {
                    Some(said) if path.is_empty() => said,
                    Some(said) => format!("{path}: {said}"),
                    None => text,
                };
                (message, hint_for(&path))
            }
        };
        ConfigError {
            origin: origin.to_owned(),
            location,
            message,
            hint,
        }
    }
}

/// serde's "invalid type: integer `0`, expected a nonzero u32" in words: "must be a whole
/// number greater than 0, not `0`". `None` for other messages (kept as they are).
fn human(detail: &str) -> Option<String> {
    let rest = detail
        .strip_prefix("invalid type: ")
        .or_else(|| detail.strip_prefix("invalid value: "))?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    // serde_yaml_ng reads integers beyond u64 as u128, then has no type to give them.
    if let Some(number) = found
        .strip_prefix("integer ")
        .and_then(|n| n.strip_suffix(" as u128"))
    {
        return Some(format!("{number} is too large a number"));
    }
    let expected = match expected {
        "a nonzero u8" | "a nonzero u16" | "a nonzero u32" | "a nonzero u64"
        | "a nonzero usize" => "a whole number greater than 0".to_owned(),
        "u8" => "a whole number from 0 to 255".to_owned(),
        "u16" => "a whole number from 0 to 65535".to_owned(),
        "u32" => "a whole number from 0 to 4294967295".to_owned(),
        "u64" | "usize" => "a whole number, 0 or more".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "`true` or `false`".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a string" | "a map" | "a mapping" => expected.replace("map", "mapping"),
        _ => return None,
    };
    let found = if let Some(value) = ["integer ", "floating point ", "boolean "]
        .iter()
        .find_map(|kind| found.strip_prefix(kind))
    {
        value.to_owned()
    } else if let Some(text) = found.strip_prefix("string ") {
        format!("the text {text}")
    } else {
        match found {
            "sequence" => "a list".to_owned(),
            "map" => "a mapping".to_owned(),
            "unit value" => "empty (null)".to_owned(),
            other => other.to_owned(),
        }
    };
    Some(format!("must be {expected}, not {found}"))
}

/// The key named by serde's "unknown field `x`, expected …".
fn unknown_field(detail: &str) -> Option<&str> {
    detail
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key)
}

/// What the key at `path` holds, from the derived schema: the first sentence of its
/// description and an example (`The address (IP and port) to listen on; e.g. `0.0.0.0:4000``).
fn hint_for(path: &str) -> Option<String> {
    let generic = generic_path(path);
    let leaf = schema::leaves(schema::json_schema_cached())
        .into_iter()
        .find(|leaf| leaf.path == generic)?;
    let description = leaf.node["description"].as_str()?;
    let first = description
        .split_once(". ")
        .map_or(description, |(first, _)| first)
        .trim_end_matches('.');
    let key = generic.rsplit('.').next().unwrap_or(&generic);
    Some(match leaf.node["examples"].get(0) {
        Some(example) => format!("{first}; e.g. `{key}: {example}`"),
        None => first.to_owned(),
    })
}

/// `path` with a subgraph's name as `<name>`, as the schema has it (`subgraphs.<name>`,
/// `rate_limit.subgraphs.<name>`).
fn generic_path(path: &str) -> String {
    path.split('.')
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, seg)| {
            let under_subgraphs = (i == 1 && path.starts_with("subgraphs.") && seg != "all")
                || (i == 2 && path.starts_with("rate_limit.subgraphs."));
            if under_subgraphs { "<name>" } else { seg }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The keys valid directly under `path` (`""` for the top level), from the derived schema,
/// with any subgraph name standing for `<name>`.
pub fn keys_at(path: &str) -> Vec<String> {
    let generic = generic_path(path);
    schema::object_levels(schema::json_schema_cached())
        .into_iter()
        .find(|(at, _)| *at == generic)
        .map(|(_, keys)| keys)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn serde_type_errors_are_said_in_words() {
        for (serde, said) in [
            (
                "invalid value: integer `0`, expected a nonzero u32",
                "must be a whole number greater than 0, not `0`",
            ),
            (
                "invalid type: integer `-1`, expected u32",
                "must be a whole number from 0 to 4294967295, not `-1`",
            ),
            (
                "invalid type: string \"x\", expected a nonzero u64",
                "must be a whole number greater than 0, not the text \"x\"",
            ),
            (
                "invalid type: integer `3`, expected a boolean",
                "must be `true` or `false`, not `3`",
            ),
            (
                "invalid type: sequence, expected a string",
                "must be a string, not a list",
            ),
            (
                "invalid type: integer `99999999999999999999` as u128, expected any YAML value",
                "`99999999999999999999` is too large a number",
            ),
        ] {
            assert_eq!(human(serde).as_deref(), Some(said), "{serde}");
        }
        assert_eq!(
            human("`propagate` takes exactly one of `named` and `prefix`"),
            None
        );
    }
}
