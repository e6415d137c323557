//! `persisted_documents.safelist`: a manifest of persisted documents, read when the
//! configuration is loaded (and reloaded). Two formats:
//!
//! - a JSON object `{ "<sha256 hex>": "query text", … }`;
//! - Apollo's persisted query manifest:
//!   `{ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id", "body", … }] }`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::model::Safelist;

/// Why a manifest cannot be read. The file it is in is said by whoever reports it.
#[derive(Debug, thiserror::Error)]
pub enum SafelistError {
    #[error("{0}")]
    Unreadable(#[from] std::io::Error),
    #[error("not a JSON manifest: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("the manifest must be a JSON object")]
    NotAnObject,
    /// `format` is absent or not Apollo's (what it is, if a string).
    #[error("unknown manifest format {0:?}: expected `apollo-persisted-query-manifest`")]
    UnknownFormat(Option<String>),
    #[error("`operations` must be an array")]
    OperationsNotAList,
    /// The operation at this index lacks a string `id` or `body`.
    #[error("operations[{0}] needs a string `id` and `body`")]
    IncompleteOperation(usize),
    /// The plain format's document under this id is not a string.
    #[error("the document for `{0}` is not a string")]
    DocumentNotText(String),
}

/// Reads and parses the manifest at `path`.
pub fn load(path: &Path) -> Result<Safelist, SafelistError> {
    let text = std::fs::read_to_string(path)?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Safelist, SafelistError> {
    let value: Value = serde_json::from_str(text)?;
    let Value::Object(map) = value else {
        return Err(SafelistError::NotAnObject);
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if map.contains_key("format") || map.contains_key("operations") {
        match map.get("format").and_then(Value::as_str) {
            Some("apollo-persisted-query-manifest") => {}
            other => return Err(SafelistError::UnknownFormat(other.map(str::to_owned))),
        }
        let Some(ops) = map.get("operations").and_then(Value::as_array) else {
            return Err(SafelistError::OperationsNotAList);
        };
        for (i, op) in ops.iter().enumerate() {
            let id = op.get("id").and_then(Value::as_str);
            let body = op.get("body").and_then(Value::as_str);
            match (id, body) {
                (Some(id), Some(body)) => pairs.push((id.to_owned(), body.to_owned())),
                _ => return Err(SafelistError::IncompleteOperation(i)),
            }
        }
    } else {
        for (id, body) in map {
            match body {
                Value::String(body) => pairs.push((id, body)),
                _ => return Err(SafelistError::DocumentNotText(id)),
            }
        }
    }
    let mut by_id = HashMap::new();
    let mut bodies = HashSet::new();
    for (id, body) in pairs {
        let body: Arc<str> = Arc::from(body);
        bodies.insert(body.clone());
        by_id.insert(id.to_ascii_lowercase(), body);
    }
    Ok(Safelist { by_id, bodies })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats() {
        let plain = parse(r#"{"ABC": "{ a }", "def": "{ b }"}"#).unwrap();
        assert_eq!(plain.by_id.get("abc").map(|b| &**b), Some("{ a }"));
        assert!(plain.bodies.contains("{ b }"));
        let apollo = parse(
            r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"x1","name":"A","type":"query","body":"{ a }"}]}"#,
        )
        .unwrap();
        assert_eq!(apollo.by_id.get("x1").map(|b| &**b), Some("{ a }"));
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"a": 1}"#).is_err());
        assert!(parse(r#"{"format":"other","operations":[]}"#).is_err());
        assert!(
            parse(r#"{"format":"apollo-persisted-query-manifest","operations":[{"id":"x"}]}"#)
                .is_err()
        );
    }
}
