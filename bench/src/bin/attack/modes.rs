//! The configurations the attacks run under: `default` (no configuration file: what a fresh
//! install serves) and `limits-off` (every integer key under `limits:` set to 0, which the
//! issue makes mean "off"). The keys come from `weft config schema` at run time, so a limit
//! added later is switched off too; a key that does not accept 0 yet is reported and left at
//! its default. Any other mode is a configuration file of your own, run with every attack.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Default,
    LimitsOff,
    /// `weft serve --config FILE`.
    File(PathBuf),
}

impl Mode {
    /// Whether `attack` runs in this mode: with limits off, only the attacks that must stay
    /// cheap by their algorithms alone.
    pub fn runs(&self, limits_off_attack: bool) -> bool {
        *self != Mode::LimitsOff || limits_off_attack
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Default => f.write_str("default"),
            Mode::LimitsOff => f.write_str("limits-off"),
            Mode::File(path) => write!(
                f,
                "{}",
                path.file_name()
                    .unwrap_or(path.as_os_str())
                    .to_string_lossy()
            ),
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "default" => Ok(Mode::Default),
            "limits-off" => Ok(Mode::LimitsOff),
            path if Path::new(path).is_file() => Ok(Mode::File(PathBuf::from(path))),
            other => Err(format!(
                "no mode `{other}`: default, limits-off, or a configuration file"
            )),
        }
    }
}

/// The `limits-off` configuration and what could not be switched off.
#[derive(Debug, Default)]
pub struct LimitsOff {
    /// The configuration file to pass to `weft serve --config`.
    pub config: PathBuf,
    /// Keys set to 0 (dotted paths, e.g. `limits.max_depth`).
    pub off: Vec<String>,
    /// Keys `weft config check` refused at 0, with its first error line.
    pub refused: Vec<(String, String)>,
    /// Keys under `limits:` that are not integers, left at their default.
    pub not_integers: Vec<String>,
}

/// The leaves under the object at `section` in a JSON Schema made of nested `properties`:
/// (integer keys, other keys), as dotted paths.
pub fn leaves_under(schema: &Value, section: &str) -> (Vec<String>, Vec<String>) {
    let mut integers = Vec::new();
    let mut others = Vec::new();
    if let Some(node) = schema.pointer(&format!("/properties/{section}")) {
        walk(node, section.to_owned(), &mut integers, &mut others);
    }
    (integers, others)
}

fn walk(node: &Value, path: String, integers: &mut Vec<String>, others: &mut Vec<String>) {
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (key, child) in props {
            walk(child, format!("{path}.{key}"), integers, others);
        }
        return;
    }
    let is_integer = match node.get("type") {
        Some(Value::String(t)) => t == "integer",
        // `["integer", "null"]` and the like.
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
        _ => false,
    };
    if is_integer {
        integers.push(path);
    } else {
        others.push(path);
    }
}

/// A configuration (JSON, which YAML reads) setting each dotted key of `keys` to 0.
pub fn zero_config(keys: &[String]) -> String {
    let mut root = Map::new();
    for key in keys {
        let mut node = &mut root;
        let mut segments = key.split('.').peekable();
        while let Some(segment) = segments.next() {
            if segments.peek().is_none() {
                node.insert(segment.to_owned(), Value::from(0));
                break;
            }
            let entry = node
                .entry(segment.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(next) = entry else { break };
            node = next;
        }
    }
    Value::Object(root).to_string()
}

/// Builds the `limits-off` configuration in `work`: asks `weft config schema` for the keys,
/// then `weft config check` whether each accepts 0 (no error names it).
pub fn limits_off(weft: &Path, work: &Path) -> Result<LimitsOff, String> {
    let output = Command::new(weft)
        .args(["config", "schema"])
        .output()
        .map_err(|e| format!("weft config schema: {e}"))?;
    let schema: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("weft config schema printed no JSON: {e}"))?;
    let (integers, others) = leaves_under(&schema, "limits");
    if integers.is_empty() {
        return Err("weft config schema lists no integer key under `limits`".into());
    }
    let mut result = LimitsOff {
        not_integers: others,
        ..LimitsOff::default()
    };
    let probe = work.join("limit-probe.yaml");
    for key in integers {
        std::fs::write(&probe, zero_config(std::slice::from_ref(&key)))
            .map_err(|e| e.to_string())?;
        let check = Command::new(weft)
            .args(["config", "check"])
            .arg(&probe)
            .output()
            .map_err(|e| format!("weft config check: {e}"))?;
        // The probe names no supergraph, which `config check` reports too: only an error
        // naming the key refuses it.
        let stderr = String::from_utf8_lossy(&check.stderr);
        let refusal = stderr
            .lines()
            .find(|l| l.starts_with("error:") && l.contains(key.as_str()));
        match refusal {
            None if check.status.code().is_some() => result.off.push(key),
            None => result
                .refused
                .push((key, "weft config check was killed".into())),
            Some(line) => result.refused.push((key, line.trim().to_owned())),
        }
    }
    result.config = work.join("limits-off.yaml");
    std::fs::write(&result.config, zero_config(&result.off)).map_err(|e| e.to_string())?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_integer_leaves_at_any_depth_under_the_section() {
        let schema = json!({ "properties": {
            "listen": { "type": "string" },
            "limits": { "type": "object", "properties": {
                "max_depth": { "type": "integer", "minimum": 1 },
                "max_tokens": { "type": ["integer", "null"] },
                "http": { "type": "object", "properties": {
                    "header_read_timeout_ms": { "type": "integer" },
                    "mode": { "type": "string" }
                } }
            } }
        } });
        let (integers, others) = leaves_under(&schema, "limits");
        assert_eq!(
            integers,
            [
                "limits.max_depth",
                "limits.max_tokens",
                "limits.http.header_read_timeout_ms"
            ]
        );
        assert_eq!(others, ["limits.http.mode"]);
        assert_eq!(leaves_under(&schema, "nothing"), (vec![], vec![]));
    }

    #[test]
    fn zero_config_nests_dotted_keys() {
        let keys = [
            "limits.max_depth".to_owned(),
            "limits.http.body_read_timeout_ms".to_owned(),
        ];
        let config: Value = serde_json::from_str(&zero_config(&keys)).unwrap();
        assert_eq!(
            config,
            json!({ "limits": { "max_depth": 0, "http": { "body_read_timeout_ms": 0 } } })
        );
        assert_eq!(zero_config(&[]), "{}");
    }

    #[test]
    fn modes_round_trip_through_their_names() {
        for mode in [Mode::Default, Mode::LimitsOff] {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
        }
        assert!("off".parse::<Mode>().is_err());
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let mode: Mode = file.parse().unwrap();
        assert_eq!(mode.to_string(), "Cargo.toml");
        assert!(mode.runs(false) && Mode::Default.runs(false));
        assert!(Mode::LimitsOff.runs(true) && !Mode::LimitsOff.runs(false));
    }
}
