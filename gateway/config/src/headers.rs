//! `headers:` in weft.yaml: which client request headers reach each subgraph (docs/headers.md).
//! Rules for `all` subgraphs and per subgraph name, each read and checked here: header names
//! valid and never hop-by-hop, values valid (and kept out of `Debug`). The server applies them
//! to requests (`weft_executor::headers`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use http::{HeaderName, HeaderValue};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::Deserializer;

/// Which client request headers reach which subgraph (docs/headers.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HeaderRules {
    /// Header rules for every subgraph: `propagate` (`named` or `prefix`), `rename` (`from`, `to`),
    /// `insert` (`name`, `value`), `remove` (`name`). Hop-by-hop headers are never sent;
    /// `traceparent`/`tracestate` always are.
    #[schemars(example = serde_json::json!([{"propagate": {"named": "x-tenant"}}]))]
    #[schemars(extend("default" = []))]
    pub all: Vec<HeaderRule>,
    /// Header rules per subgraph name, applied after `headers.all`.
    #[schemars(with = "BTreeMap<String, SubgraphHeaderRules>")]
    pub subgraphs: BTreeMap<String, Vec<HeaderRule>>,
}

/// Header rules for the subgraph with this name, applied after `headers.all`.
#[derive(JsonSchema)]
#[schemars(example = serde_json::json!([{"insert": {"name": "x-from", "value": "weft"}}]))]
#[allow(dead_code)] // Only its schema is used.
struct SubgraphHeaderRules(Vec<HeaderRule>);

/// One rule. YAML: `- propagate: { named: x-tenant }`, `- propagate: { prefix: x-acme- }`,
/// `- rename: { from: x-user, to: x-account-user }`, `- insert: { name: x-from, value: weft }`,
/// `- remove: { name: x-debug }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "RawRule")]
pub enum HeaderRule {
    /// Send the client's header (or headers) on.
    Propagate(Propagate),
    /// Send the header `from` as `to`: the one already going out if an earlier rule
    /// propagated it, else the client's.
    Rename { from: Name, to: Name },
    /// Send `name: value` (replacing any `name` going out).
    Insert { name: Name, value: Value },
    /// Do not send `name` (undoes earlier rules; `traceparent`/`tracestate` still go out).
    Remove { name: Name },
}

/// What `propagate` matches: one header name, or every name starting with a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "RawPropagate")]
pub enum Propagate {
    Named(Name),
    Prefix(Prefix),
}

// serde_yaml_ng reads enums from YAML tags (`!propagate`) only, so each rule is read as a
// one-key mapping and checked to have exactly one key.

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
struct RawRule {
    propagate: Option<Propagate>,
    rename: Option<RawRename>,
    insert: Option<RawInsert>,
    remove: Option<RawRemove>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRename {
    from: Name,
    to: Name,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawInsert {
    name: Name,
    value: Value,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRemove {
    name: Name,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawPropagate {
    named: Option<Name>,
    prefix: Option<Prefix>,
}

/// Why a header rule, or a name, prefix or value in one, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderRuleError {
    #[error(
        "a header rule has exactly one of `propagate`, `rename`, `insert`, `remove` \
         (write several rules as several list items)"
    )]
    NotOneRule,
    #[error("`propagate` takes exactly one of `named` and `prefix`")]
    NotOneMatch,
    #[error("`{0}` is not a valid header name")]
    InvalidName(String),
    #[error(
        "`{0}` is a hop-by-hop or transport header; the gateway sets it itself and never \
         propagates it"
    )]
    HopByHop(HeaderName),
    #[error("`{0}` is not a header-name prefix (letters, digits, `-`, no spaces)")]
    InvalidPrefix(String),
    /// The value itself is left out: inserted values are often credentials.
    #[error("not a valid header value (visible ASCII, spaces and tabs only)")]
    InvalidValue,
}

impl TryFrom<RawRule> for HeaderRule {
    type Error = HeaderRuleError;

    fn try_from(raw: RawRule) -> Result<HeaderRule, HeaderRuleError> {
        let mut rules = Vec::new();
        rules.extend(raw.propagate.map(HeaderRule::Propagate));
        rules.extend(raw.rename.map(|r| HeaderRule::Rename {
            from: r.from,
            to: r.to,
        }));
        rules.extend(raw.insert.map(|r| HeaderRule::Insert {
            name: r.name,
            value: r.value,
        }));
        rules.extend(raw.remove.map(|r| HeaderRule::Remove { name: r.name }));
        match (rules.pop(), rules.is_empty()) {
            (Some(rule), true) => Ok(rule),
            _ => Err(HeaderRuleError::NotOneRule),
        }
    }
}

impl TryFrom<RawPropagate> for Propagate {
    type Error = HeaderRuleError;

    fn try_from(raw: RawPropagate) -> Result<Propagate, HeaderRuleError> {
        match (raw.named, raw.prefix) {
            (Some(name), None) => Ok(Propagate::Named(name)),
            (None, Some(prefix)) => Ok(Propagate::Prefix(prefix)),
            _ => Err(HeaderRuleError::NotOneMatch),
        }
    }
}

/// A header name from the configuration: valid, lower-case, and not a hop-by-hop or transport
/// header (those are never propagated, so naming one is a mistake worth reporting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(pub HeaderName);

impl JsonSchema for Name {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Name".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

impl FromStr for Name {
    type Err = HeaderRuleError;
    fn from_str(text: &str) -> Result<Name, HeaderRuleError> {
        let name = HeaderName::from_bytes(text.trim().as_bytes())
            .map_err(|_| HeaderRuleError::InvalidName(text.to_owned()))?;
        if is_hop_by_hop(&name) {
            return Err(HeaderRuleError::HopByHop(name));
        }
        Ok(Name(name))
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        crate::values::from_scalar(d)
    }
}

/// A non-empty header-name prefix, lower-case (names are compared lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(pub String);

impl JsonSchema for Prefix {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Prefix".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

impl FromStr for Prefix {
    type Err = HeaderRuleError;
    fn from_str(text: &str) -> Result<Prefix, HeaderRuleError> {
        let prefix = text.trim().to_ascii_lowercase();
        if prefix.is_empty() || HeaderName::from_bytes(prefix.as_bytes()).is_err() {
            return Err(HeaderRuleError::InvalidPrefix(text.to_owned()));
        }
        Ok(Prefix(prefix))
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Prefix, D::Error> {
        crate::values::from_scalar(d)
    }
}

/// A header value from the configuration. Marked sensitive: inserted values are often
/// credentials, and a sensitive value is not printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Value(pub HeaderValue);

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Value(..)")
    }
}

impl JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

impl FromStr for Value {
    type Err = HeaderRuleError;
    fn from_str(text: &str) -> Result<Value, HeaderRuleError> {
        let mut value = HeaderValue::from_str(text).map_err(|_| HeaderRuleError::InvalidValue)?;
        value.set_sensitive(true);
        Ok(Value(value))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        crate::values::from_scalar(d)
    }
}

/// Headers that describe one connection or one message body, not the request: never
/// propagated, whatever the rules say (RFC 9110 §7.6.1, plus those the gateway sets itself).
/// Here because the configuration refuses rules that name them; the server skips them too.
const HOP_BY_HOP: [&str; 12] = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-type",
    "accept",
    "accept-encoding",
];

/// Whether `name` is never propagated: the fixed list and every `proxy-*` header.
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    let name = name.as_str();
    HOP_BY_HOP.contains(&name) || name.starts_with("proxy-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(yaml: &str) -> HeaderRules {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn configuration_errors_are_refused() {
        for (yaml, expected) in [
            ("all:\n  - propagate: { named: host }\n", "hop-by-hop"),
            (
                "all:\n  - propagate: { named: Proxy-Authorization }\n",
                "hop-by-hop",
            ),
            (
                "all:\n  - insert: { name: content-type, value: x }\n",
                "hop-by-hop",
            ),
            (
                "all:\n  - rename: { from: x-a, to: connection }\n",
                "hop-by-hop",
            ),
            (
                "all:\n  - propagate: { named: \"bad name\" }\n",
                "not a valid header name",
            ),
            (
                "all:\n  - propagate: { prefix: \"\" }\n",
                "not a header-name prefix",
            ),
            (
                "all:\n  - insert: { name: x-a, value: \"a\\nb\" }\n",
                "not a valid header value",
            ),
            (
                "all:\n  - propagate: { named: x-a, prefix: x- }\n",
                "exactly one of `named` and `prefix`",
            ),
            (
                "all:\n  - propagate: { named: x-a }\n    remove: { name: x-b }\n",
                "exactly one of `propagate`",
            ),
            ("all:\n  - {}\n", "exactly one of `propagate`"),
            ("all:\n  - copy: { name: x-a }\n", "unknown field `copy`"),
            (
                "all:\n  - remove: { name: x-a, value: b }\n",
                "unknown field",
            ),
            ("everything: []\n", "unknown field"),
        ] {
            let err = serde_yaml_ng::from_str::<HeaderRules>(yaml)
                .map(|r| format!("{r:?}"))
                .expect_err(yaml)
                .to_string();
            assert!(err.contains(expected), "{yaml}: {err}");
        }
    }

    #[test]
    fn inserted_values_are_not_printed() {
        let r = rules("all:\n  - insert: { name: authorization, value: Bearer s3cret }\n");
        assert!(!format!("{r:?}").contains("s3cret"));
    }
}
