//! The shape of `weft.yaml`, and [`KEYS`]: one row per key, from which the JSON Schema, the
//! environment overrides and the docs' key list are derived. A test walks the schema and feeds
//! every key back to the parser, so the two cannot drift.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::PathBuf;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::serve::csrf;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub supergraph: SupergraphConfig,
    #[serde(deserialize_with = "listen")]
    pub listen: SocketAddr,
    pub subgraphs: Subgraphs,
    pub query_plan: QueryPlanConfig,
    pub csrf: CsrfConfig,
    pub introspection: bool,
    pub limits: Limits,
    pub log: LogConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            supergraph: SupergraphConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            subgraphs: Subgraphs::default(),
            query_plan: QueryPlanConfig::default(),
            csrf: CsrfConfig::default(),
            introspection: true,
            limits: Limits::default(),
            log: LogConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupergraphConfig {
    /// Relative to the config file when it comes from the file.
    pub path: Option<PathBuf>,
}

/// `subgraphs:` holds `all` (settings for every subgraph) beside one entry per subgraph name,
/// so it is read by hand: a derived struct could not mix fixed and free keys and still locate
/// errors inside the entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subgraphs {
    pub all: AllSubgraphs,
    pub named: BTreeMap<String, SubgraphOverride>,
    /// `WEFT_SUBGRAPHS_<NAME>_URL` values by `<NAME>`; see [`env_segment`].
    pub env_urls: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllSubgraphs {
    pub timeout_ms: NonZeroU64,
}

const DEFAULT_TIMEOUT_MS: NonZeroU64 = match NonZeroU64::new(30_000) {
    Some(n) => n,
    None => NonZeroU64::MIN,
};

impl Default for AllSubgraphs {
    fn default() -> AllSubgraphs {
        AllSubgraphs {
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphOverride {
    #[serde(deserialize_with = "url")]
    pub url: Option<String>,
}

impl Subgraphs {
    /// The URL requests for subgraph `name` go to instead of its routing URL, if any; the
    /// environment wins over the file.
    pub fn url_for(&self, name: &str) -> Option<&str> {
        self.env_urls
            .get(&env_segment(name))
            .or_else(|| self.named.get(name).and_then(|s| s.url.as_ref()))
            .map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for Subgraphs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Subgraphs, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Subgraphs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map: `all` and subgraph names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Subgraphs, A::Error> {
                let mut out = Subgraphs::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "all" {
                        out.all = map.next_value()?;
                    } else {
                        match out.named.entry(key) {
                            Entry::Occupied(taken) => {
                                let text = format!("duplicate subgraph `{}`", taken.key());
                                return Err(de::Error::custom(text));
                            }
                            Entry::Vacant(slot) => {
                                slot.insert(map.next_value()?);
                            }
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Entries)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryPlanConfig {
    pub expose: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsrfConfig {
    pub enabled: bool,
    #[serde(deserialize_with = "header_names")]
    pub required_headers: Vec<String>,
}

impl Default for CsrfConfig {
    fn default() -> CsrfConfig {
        CsrfConfig {
            enabled: true,
            required_headers: csrf::REQUIRED_HEADERS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_depth: Option<NonZeroU32>,
    pub max_aliases: Option<NonZeroU32>,
    pub max_root_fields: Option<NonZeroU32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// When absent, `RUST_LOG`, then `info`.
    #[serde(deserialize_with = "level")]
    pub level: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

// Values checked inside the deserializer's visitor, so a bad one is reported at its own
// line:col (serde_yaml_ng locates errors raised while a scalar is visited).

pub fn parse_listen(v: &str) -> Result<SocketAddr, String> {
    v.trim().parse().map_err(|_| {
        format!("`{v}` is not an IP address and port (e.g. `0.0.0.0:4000`, `[::1]:4000`)")
    })
}

pub fn parse_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    let host = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"));
    if host.is_some_and(|rest| !rest.is_empty()) {
        Ok(v.to_owned())
    } else {
        Err(format!("`{v}` is not an http:// or https:// URL"))
    }
}

pub fn parse_header(v: &str) -> Result<String, String> {
    let v = v.trim().to_ascii_lowercase();
    axum::http::HeaderName::from_bytes(v.as_bytes())
        .map(|_| v.clone())
        .map_err(|_| format!("`{v}` is not an HTTP header name"))
}

pub fn parse_level(v: &str) -> Result<String, String> {
    let v = v.trim();
    let hint = "e.g. `info`, or a filter such as `weft=debug,warn`";
    // A lone word is also a valid filter (a target name at every level), so `verbose` would
    // pass silently: a single directive without `=` must be a level.
    let is_level = ["off", "error", "warn", "info", "debug", "trace"]
        .contains(&v.to_ascii_lowercase().as_str());
    if !v.contains(['=', ',']) && !is_level {
        return Err(format!("`{v}` is not a log level; {hint}"));
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(v)
        .map(|_| v.to_owned())
        .map_err(|e| format!("`{v}` is not a log filter ({e}); {hint}"))
}

pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("`{v}` is not a boolean (true or false)")),
    }
}

fn parse_format(v: &str) -> Result<LogFormat, String> {
    match v.trim() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("`{v}` is not a log format (pretty or json)")),
    }
}

fn parse_nonzero<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a whole number of at least 1"))
}

/// Runs `parse` on a string scalar while it is being visited.
fn parse_with<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct Scalar<T>(fn(&str) -> Result<T, String>);
    impl<T> Visitor<'_> for Scalar<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(Scalar(parse))
}

fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    parse_with(d, parse_listen)
}

fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_url).map(Some)
}

fn level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_level).map(Some)
}

fn header_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Header(String);
    impl<'de> Deserialize<'de> for Header {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Header, D::Error> {
            parse_with(d, parse_header).map(Header)
        }
    }
    Ok(Vec::<Header>::deserialize(d)?
        .into_iter()
        .map(|h| h.0)
        .collect())
}

/// A comma-separated list, for environment variables.
fn parse_headers(v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(parse_header)
        .collect()
}

/// A subgraph name as it appears in `WEFT_SUBGRAPHS_<NAME>_URL`: upper-cased, anything but
/// ASCII letters and digits turned into `_` (environment variable names allow no more).
pub fn env_segment(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The JSON type of a key, as the JSON Schema and the docs show it.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    String,
    Boolean,
    /// At least 1.
    Integer,
    Strings,
    Enum(&'static [&'static str]),
}

/// Sets a key from an environment variable's value.
pub type EnvSetter = fn(&mut Config, &str) -> Result<(), String>;

/// One key of `weft.yaml`. `<name>` in a path stands for any subgraph name.
pub struct Key {
    pub path: &'static str,
    pub ty: Type,
    /// The default as JSON, if there is one.
    pub default: Option<&'static str>,
    /// A valid value as JSON: the schema's `examples`, and what the drift test feeds back.
    pub example: &'static str,
    pub doc: &'static str,
    /// `None` for keys under `<name>`, read by [`super::env`] from the variables present.
    pub env: Option<EnvSetter>,
}

/// What an object level holds, for the schema's descriptions.
pub const SECTIONS: &[(&str, &str)] = &[
    ("supergraph", "The supergraph to serve."),
    (
        "subgraphs",
        "Per-subgraph settings: `all` applies to every subgraph, any other key is a subgraph name.",
    ),
    ("subgraphs.all", "Settings for every subgraph."),
    (
        "subgraphs.<name>",
        "Settings for the subgraph with this name.",
    ),
    ("query_plan", "Query plans as clients may see them."),
    ("csrf", "CSRF prevention (docs/http.md)."),
    (
        "limits",
        "Operation limits, checked before planning; absent means no limit.",
    ),
    ("log", "Logging to stderr."),
];

pub const KEYS: &[Key] = &[
    Key {
        path: "supergraph.path",
        ty: Type::String,
        default: None,
        example: "\"supergraph.graphql\"",
        doc: "The supergraph SDL file to serve, relative to this file. Watched: a change is \
              served without a restart.",
        env: Some(|c, v| {
            c.supergraph.path = Some(PathBuf::from(v));
            Ok(())
        }),
    },
    Key {
        path: "listen",
        ty: Type::String,
        default: Some("\"127.0.0.1:4000\""),
        example: "\"0.0.0.0:4000\"",
        doc: "The address (IP and port) to listen on. A change needs a restart.",
        env: Some(|c, v| {
            c.listen = parse_listen(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.all.timeout_ms",
        ty: Type::Integer,
        default: Some("30000"),
        example: "5000",
        doc: "How long a request to a subgraph may take, in milliseconds.",
        env: Some(|c, v| {
            c.subgraphs.all.timeout_ms = parse_nonzero(v)?;
            Ok(())
        }),
    },
    Key {
        path: "subgraphs.<name>.url",
        ty: Type::String,
        default: None,
        example: "\"http://products:4002/graphql\"",
        doc: "Where the gateway sends this subgraph's requests, instead of the routing URL in \
              the supergraph.",
        env: None,
    },
    Key {
        path: "query_plan.expose",
        ty: Type::Boolean,
        default: Some("false"),
        example: "true",
        doc: "Let clients ask for the query plan with the `weft-query-plan: include` or \
              `dry-run` request header. Plans describe the subgraphs behind the gateway.",
        env: Some(|c, v| {
            c.query_plan.expose = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "csrf.enabled",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Refuse requests a browser would send without a CORS preflight, unless they carry \
              one of `csrf.required_headers`.",
        env: Some(|c, v| {
            c.csrf.enabled = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "csrf.required_headers",
        ty: Type::Strings,
        default: Some(
            "[\"apollo-require-preflight\", \"x-apollo-operation-name\", \"weft-require-preflight\"]",
        ),
        example: "[\"x-my-client\"]",
        doc: "Headers, any one of which (non-empty) lets a simple request through. In the \
              environment: comma-separated.",
        env: Some(|c, v| {
            c.csrf.required_headers = parse_headers(v)?;
            Ok(())
        }),
    },
    Key {
        path: "introspection",
        ty: Type::Boolean,
        default: Some("true"),
        example: "false",
        doc: "Answer `__schema` and `__type`. When false they get the error \
              `INTROSPECTION_DISABLED`; `__typename` still works.",
        env: Some(|c, v| {
            c.introspection = parse_bool(v)?;
            Ok(())
        }),
    },
    Key {
        path: "limits.max_depth",
        ty: Type::Integer,
        default: None,
        example: "15",
        doc: "The deepest field nesting an operation may have (a root field is depth 1; \
              fragments add no depth). Over it: `MAX_DEPTH_LIMIT`.",
        env: Some(|c, v| {
            c.limits.max_depth = Some(parse_nonzero(v)?);
            Ok(())
        }),
    },
    Key {
        path: "limits.max_aliases",
        ty: Type::Integer,
        default: None,
        example: "30",
        doc: "How many aliased fields an operation may have, each fragment counted every time \
              it is spread. Over it: `MAX_ALIASES_LIMIT`.",
        env: Some(|c, v| {
            c.limits.max_aliases = Some(parse_nonzero(v)?);
            Ok(())
        }),
    },
    Key {
        path: "limits.max_root_fields",
        ty: Type::Integer,
        default: None,
        example: "20",
        doc: "How many root fields an operation may select, fragments included, each use \
              counted. Over it: `MAX_ROOT_FIELDS_LIMIT`.",
        env: Some(|c, v| {
            c.limits.max_root_fields = Some(parse_nonzero(v)?);
            Ok(())
        }),
    },
    Key {
        path: "log.format",
        ty: Type::Enum(&["pretty", "json"]),
        default: Some("\"pretty\""),
        example: "\"json\"",
        doc: "`pretty`: one readable line per event; `json`: one JSON object per line. A \
              change needs a restart.",
        env: Some(|c, v| {
            c.log.format = parse_format(v)?;
            Ok(())
        }),
    },
    Key {
        path: "log.level",
        ty: Type::String,
        default: Some("\"info\""),
        example: "\"weft=debug,info\"",
        doc: "A level (`error`, `warn`, `info`, `debug`, `trace`) or `RUST_LOG`-style \
              filter. When absent, `RUST_LOG`, then `info`. Applied on reload.",
        env: Some(|c, v| {
            c.log.level = Some(parse_level(v)?);
            Ok(())
        }),
    },
];

/// `WEFT_` + the key's path upper-cased, `.` → `_` (`<name>` stays a placeholder).
pub fn env_name(path: &str) -> String {
    format!("WEFT_{}", path.replace('.', "_").to_ascii_uppercase())
}
