//! Environment overrides: `WEFT_` + a key's path upper-cased, `.` → `_` (`listen` is
//! `WEFT_LISTEN`, `query_plan.expose` is `WEFT_QUERY_PLAN_EXPOSE`). A subgraph's URL is
//! `WEFT_SUBGRAPHS_<NAME>_URL`, its name upper-cased with other characters as `_`. They win
//! over the file; flags win over them. An empty value counts as unset, as container tools
//! often pass empty variables through.
//!
//! One walk over the derived schema's leaves finds the variables: every key outside
//! `subgraphs.<name>` whose value is a scalar or a list of scalars. A variable's text is read
//! by its key's schema type (a boolean as `true`/`false`/`1`/`0`, an integer, a number, a list
//! as comma-separated items, anything else as a string) and set in the file's document, which
//! is then deserialized like the file: validation and messages are the same as for the file.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::ConfigError;
use super::model::Config;
use super::schema::{self, Leaf};
use super::values::{HttpUrl, ValueError, parse_bool};

/// One variable that sets a key: the key's path and the value as the file would hold it.
#[derive(Debug)]
struct Override {
    name: String,
    path: String,
    value: Value,
}

/// Applies the variables to `config`, read from `file` (the file's text after `${VAR}`
/// expansion; `None` without a file): the document is read again with each variable's value
/// set in it. Paths the file gives were resolved against its directory in `config` and are
/// kept; a variable's path is taken as given.
pub fn apply(
    config: Config,
    file: Option<&str>,
    vars: &[(String, String)],
) -> Result<Config, Vec<ConfigError>> {
    let get = |name: &str| {
        vars.iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    };
    let mut errors = Vec::new();
    let mut overrides = Vec::new();
    for leaf in schema::leaves(schema::json_schema_cached()) {
        if !schema::env_settable(&leaf) {
            continue;
        }
        let name = schema::env_placeholder(&leaf.path);
        let Some(text) = get(&name) else { continue };
        let read = value_of(&leaf, text).and_then(|value| {
            // Alone in a document first, so a bad value names its variable.
            let mut alone = Value::Object(Map::new());
            set(&mut alone, &leaf.path, value.clone());
            Config::deserialize(alone)
                .map(|_| value)
                .map_err(VariableError::Refused)
        });
        match read {
            Ok(value) => overrides.push(Override {
                name,
                path: leaf.path,
                value,
            }),
            Err(e) => errors.push(ConfigError {
                hint: Some(format!("{name} sets `{}`", leaf.path)),
                ..ConfigError::new(&name, e.to_string())
            }),
        }
    }
    let mut env_urls = Vec::new();
    for (name, value) in vars {
        let Some(segment) = name
            .strip_prefix("WEFT_SUBGRAPHS_")
            .and_then(|rest| rest.strip_suffix("_URL"))
            .filter(|s| !s.is_empty() && *s != "ALL")
        else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        match value.parse::<HttpUrl>() {
            Ok(url) => env_urls.push((segment.to_owned(), url)),
            Err(e) => errors.push(ConfigError::new(name, e.to_string())),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut config = if overrides.is_empty() {
        config
    } else {
        merge(config, file, &overrides)?
    };
    config.subgraphs.env_urls.extend(env_urls);
    Ok(config)
}

/// The file's document with the overrides set, deserialized; the file's resolved paths kept.
fn merge(
    from_file: Config,
    file: Option<&str>,
    overrides: &[Override],
) -> Result<Config, Vec<ConfigError>> {
    let mut doc = match file {
        Some(text) => serde_yaml_ng::from_str::<Value>(text)
            .map_err(|e| vec![ConfigError::new("environment", e.to_string())])?,
        None => Value::Null,
    };
    if !doc.is_object() {
        doc = Value::Object(Map::new());
    }
    for o in overrides {
        set(&mut doc, &o.path, o.value.clone());
    }
    let mut config = Config::deserialize(doc).map_err(|e| {
        let names: Vec<&str> = overrides.iter().map(|o| o.name.as_str()).collect();
        vec![ConfigError {
            hint: Some(format!("set by {}", names.join(", "))),
            ..ConfigError::new("environment", e.to_string())
        }]
    })?;
    let set_by_env = |path: &str| overrides.iter().any(|o| o.path == path);
    if !set_by_env("supergraph.path") {
        config.supergraph.path = from_file.supergraph.path;
    }
    if !set_by_env("persisted_documents.safelist") {
        config.persisted_documents.safelist = from_file.persisted_documents.safelist;
    }
    if !set_by_env("auth.jwks") {
        config.auth.jwks = from_file.auth.jwks;
    }
    config.subgraphs.keep_files_of(
        &from_file.subgraphs,
        set_by_env("subgraphs.all.tls.ca_file"),
    );
    Ok(config)
}

/// Why a variable's value is refused.
#[derive(Debug, thiserror::Error)]
enum VariableError {
    /// Not a boolean.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// Not a whole number, or below the key's minimum; `off` when `0` switches the key off.
    #[error("`{text}` is not a whole number{}", whole_number_expected(*minimum, *off))]
    NotWholeNumber {
        text: String,
        minimum: u64,
        off: bool,
    },
    /// Not a finite number; `range` when the key's schema bounds it.
    #[error("`{text}` is not a number{}", number_expected(*range))]
    NotNumber {
        text: String,
        range: Option<(f64, f64)>,
    },
    /// Read as the key's type, refused by the key itself (a bad address, a ratio over 1...).
    #[error("{0}")]
    Refused(serde_json::Error),
}

fn whole_number_expected(minimum: u64, off: bool) -> String {
    match minimum {
        0 if off => " (0 switches it off)".to_owned(),
        0 => String::new(),
        _ => format!(" of at least {minimum}"),
    }
}

fn number_expected(range: Option<(f64, f64)>) -> String {
    range.map_or_else(String::new, |(min, max)| format!(" from {min} to {max}"))
}

/// A variable's text as the value of `leaf`, by its schema type.
fn value_of(leaf: &Leaf, text: &str) -> Result<Value, VariableError> {
    let node = &leaf.node;
    let trimmed = text.trim();
    match node["type"].as_str() {
        Some("boolean") => Ok(Value::Bool(parse_bool(text)?)),
        Some("integer") => {
            let minimum = node["minimum"].as_u64().unwrap_or(0);
            let off = node["description"]
                .as_str()
                .is_some_and(|doc| doc.contains("`0`"));
            trimmed
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= minimum)
                .map(Value::from)
                .ok_or_else(|| VariableError::NotWholeNumber {
                    text: text.to_owned(),
                    minimum,
                    off,
                })
        }
        Some("number") => {
            let range = node["minimum"].as_f64().zip(node["maximum"].as_f64());
            trimmed
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| VariableError::NotNumber {
                    text: text.to_owned(),
                    range,
                })
        }
        Some("array") => Ok(Value::Array(
            trimmed
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )),
        _ => Ok(Value::String(trimmed.to_owned())),
    }
}

/// Sets `value` at the dotted `path` in `doc`, making the objects on the way.
fn set(doc: &mut Value, path: &str, value: Value) {
    let mut node = doc;
    for seg in path.split('.') {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        node = map.entry(seg).or_insert(Value::Null);
    }
    *node = value;
}

/// The process's environment, minus variables that are not UTF-8 (none of ours can be).
pub fn vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Every variable the hand-kept key table (`model::KEYS`) set before the schema was derived.
    const VARIABLES_BEFORE: &[&str] = &[
        "WEFT_SUPERGRAPH_PATH",
        "WEFT_LISTEN",
        "WEFT_SUBGRAPHS_ALL_TIMEOUT_MS",
        "WEFT_SUBGRAPHS_ALL_RETRY_MAX_ATTEMPTS",
        "WEFT_SUBGRAPHS_ALL_RETRY_BACKOFF_MS",
        "WEFT_SUBGRAPHS_ALL_RETRY_BUDGET_PERCENT",
        "WEFT_SUBGRAPHS_ALL_RETRY_BUDGET_MIN_PER_SEC",
        "WEFT_SUBGRAPHS_ALL_CIRCUIT_BREAKER_ENABLED",
        "WEFT_SUBGRAPHS_ALL_CIRCUIT_BREAKER_FAILURE_THRESHOLD",
        "WEFT_SUBGRAPHS_ALL_CIRCUIT_BREAKER_COOLDOWN_MS",
        "WEFT_SUBGRAPHS_ALL_MAX_RESPONSE_BYTES",
        "WEFT_SUBGRAPHS_ALL_INCLUDE_ERRORS",
        "WEFT_SUBGRAPHS_ALL_HTTP2",
        "WEFT_SUBGRAPHS_ALL_SUBSCRIPTION_TRANSPORT",
        "WEFT_SUBGRAPHS_ALL_TLS_CA_FILE",
        "WEFT_SERVER_HEADER_READ_TIMEOUT_MS",
        "WEFT_SERVER_BODY_READ_TIMEOUT_MS",
        "WEFT_SERVER_IDLE_TIMEOUT_MS",
        "WEFT_SERVER_REQUEST_TIMEOUT_MS",
        "WEFT_SERVER_MAX_IN_FLIGHT",
        "WEFT_SERVER_MAX_RESPONSE_BYTES",
        "WEFT_SERVER_WORK_RUNTIME",
        "WEFT_QUERY_PLAN_EXPOSE",
        "WEFT_QUERY_PLAN_CACHE_MB",
        "WEFT_QUERY_PLAN_WARM_UP",
        // Added with `@defer` (issue 17).
        "WEFT_QUERY_PLAN_DEFER",
        "WEFT_LIMITS_MAX_DEFERS",
        "WEFT_LIMITS_MAX_SUBSCRIPTIONS",
        "WEFT_LIMITS_MAX_OPERATIONS_PER_CONNECTION",
        "WEFT_QUERY_PLAN_REDIS_URL",
        "WEFT_QUERY_PLAN_REDIS_TTL_SECS",
        "WEFT_QUERY_PLAN_REDIS_KEY_PREFIX",
        "WEFT_QUERY_PLAN_REDIS_TIMEOUT_MS",
        "WEFT_CSRF_ENABLED",
        "WEFT_CSRF_REQUIRED_HEADERS",
        "WEFT_INTROSPECTION",
        "WEFT_PLAYGROUND_ENABLED",
        "WEFT_LIMITS_MAX_DEPTH",
        "WEFT_LIMITS_MAX_ALIASES",
        "WEFT_LIMITS_MAX_ROOT_FIELDS",
        "WEFT_LIMITS_MAX_HEIGHT",
        "WEFT_LIMITS_MAX_TOKENS",
        "WEFT_LIMITS_MAX_RECURSION",
        "WEFT_LIMITS_MAX_SELECTIONS",
        "WEFT_LIMITS_MAX_PLANNING_STEPS",
        "WEFT_LIMITS_MAX_ESTIMATED_COST",
        "WEFT_LIMITS_MAX_BODY_BYTES",
        "WEFT_LIMITS_MAX_HEADER_BYTES",
        "WEFT_BATCHING_ENABLED",
        "WEFT_BATCHING_MAX_SIZE",
        "WEFT_COMPRESSION_ENABLED",
        "WEFT_CORS_ALLOW_ORIGINS",
        "WEFT_CORS_ALLOW_CREDENTIALS",
        "WEFT_CORS_ALLOW_HEADERS",
        "WEFT_CORS_MAX_AGE_SECS",
        "WEFT_APQ_ENABLED",
        "WEFT_APQ_CACHE_SIZE",
        "WEFT_APQ_REDIS_URL",
        "WEFT_APQ_REDIS_TTL_SECS",
        "WEFT_APQ_REDIS_KEY_PREFIX",
        "WEFT_PERSISTED_DOCUMENTS_SAFELIST",
        "WEFT_PERSISTED_DOCUMENTS_REQUIRE",
        "WEFT_PERSISTED_DOCUMENTS_URL",
        "WEFT_PERSISTED_DOCUMENTS_POLL_INTERVAL_MS",
        "WEFT_LOG_FORMAT",
        "WEFT_LOG_LEVEL",
        "WEFT_DEMAND_CONTROL_MODE",
        "WEFT_DEMAND_CONTROL_MAX",
        "WEFT_DEMAND_CONTROL_LIST_SIZE",
        "WEFT_TELEMETRY_OTLP_ENDPOINT",
        "WEFT_TELEMETRY_SERVICE_NAME",
        "WEFT_TELEMETRY_SAMPLING_RATIO",
        "WEFT_AUTH_JWKS",
        "WEFT_AUTH_ISSUERS",
        "WEFT_AUTH_AUDIENCES",
        "WEFT_AUTH_ALGORITHMS",
        "WEFT_AUTH_HEADER_NAME",
        "WEFT_AUTH_HEADER_PREFIX",
        "WEFT_AUTH_COOKIE",
        "WEFT_AUTH_POLL_INTERVAL_SECS",
        "WEFT_AUTH_REQUIRE_AUTHENTICATION",
        "WEFT_AUTH_REJECT_UNAUTHORIZED",
        "WEFT_AUTH_FORWARD_HEADER",
        "WEFT_AUTH_FORWARD_EXTENSIONS",
        "WEFT_ENTITY_CACHE_ENABLED",
        "WEFT_ENTITY_CACHE_TTL_SECS",
        "WEFT_ENTITY_CACHE_MAX_ENTRIES",
        "WEFT_ENTITY_CACHE_ROOT_FIELDS",
        "WEFT_ENTITY_CACHE_INVALIDATION_TOKEN",
        "WEFT_ENTITY_CACHE_REDIS_URL",
        "WEFT_ENTITY_CACHE_REDIS_KEY_PREFIX",
        "WEFT_ENTITY_CACHE_EVENTS_AMQP_URL",
        "WEFT_ENTITY_CACHE_EVENTS_EXCHANGE",
        "WEFT_ENTITY_BATCHING_ENABLED",
        "WEFT_ENTITY_BATCHING_WINDOW_MS",
        "WEFT_ENTITY_BATCHING_MAX_SIZE",
        "WEFT_DEDUPE_SUBGRAPH_REQUESTS",
        "WEFT_DEDUPE_CLIENT_REQUESTS",
        "WEFT_DEDUPE_SUBSCRIPTIONS",
        "WEFT_SUPERGRAPH_URL",
        "WEFT_SUPERGRAPH_HIVE_ENDPOINT",
        "WEFT_SUPERGRAPH_HIVE_KEY",
        "WEFT_SUPERGRAPH_POLL_INTERVAL_MS",
        "WEFT_SERVER_SHUTDOWN_DELAY_MS",
        "WEFT_SERVER_SHUTDOWN_GRACE_MS",
        "WEFT_RATE_LIMIT_GLOBAL_REQUESTS",
        "WEFT_RATE_LIMIT_GLOBAL_INTERVAL_MS",
        "WEFT_RATE_LIMIT_GLOBAL_BURST",
        "WEFT_RATE_LIMIT_CLIENT_REQUESTS",
        "WEFT_RATE_LIMIT_CLIENT_INTERVAL_MS",
        "WEFT_RATE_LIMIT_CLIENT_BURST",
        "WEFT_RATE_LIMIT_SUBGRAPH_REQUESTS",
        "WEFT_RATE_LIMIT_SUBGRAPH_INTERVAL_MS",
        "WEFT_RATE_LIMIT_SUBGRAPH_BURST",
        "WEFT_RATE_LIMIT_CLIENT_KEY",
        "WEFT_RATE_LIMIT_REDIS_URL",
        "WEFT_RATE_LIMIT_REDIS_KEY_PREFIX",
    ];

    #[test]
    fn the_variables_are_the_ones_the_key_table_had() {
        let now: BTreeSet<String> = schema::leaves(schema::json_schema_cached())
            .iter()
            .filter(|leaf| schema::env_settable(leaf))
            .map(|leaf| schema::env_placeholder(&leaf.path))
            .collect();
        let before: BTreeSet<String> = VARIABLES_BEFORE.iter().map(|v| (*v).to_owned()).collect();
        assert_eq!(now, before);
    }

    #[test]
    fn variables_override_keys() {
        let c = apply(
            Config::default(),
            None,
            &vars(&[
                ("WEFT_LISTEN", "0.0.0.0:5000"),
                ("WEFT_INTROSPECTION", "false"),
                ("WEFT_QUERY_PLAN_EXPOSE", "1"),
                ("WEFT_CSRF_REQUIRED_HEADERS", "X-A, x-b"),
                ("WEFT_LIMITS_MAX_DEPTH", "7"),
                ("WEFT_LIMITS_MAX_ALIASES", "0"),
                ("WEFT_SUBGRAPHS_ALL_TIMEOUT_MS", "250"),
                ("WEFT_SUBGRAPHS_MY_PRODUCTS_URL", "http://p:1/graphql"),
                ("WEFT_TELEMETRY_SAMPLING_RATIO", "0.5"),
                ("WEFT_LOG_FORMAT", "json"),
                ("WEFT_DEMAND_CONTROL_MODE", "enforce"),
                ("WEFT_AUTH_ALGORITHMS", "RS256,HS256"),
                ("WEFT_LOG_LEVEL", ""),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:5000");
        assert!(!c.introspection && c.query_plan.expose);
        assert_eq!(c.csrf.required_headers, ["x-a", "x-b"]);
        assert_eq!(c.limits.max_depth.map(|n| n.get()), Some(7));
        assert_eq!(c.limits.max_aliases, None);
        assert_eq!(c.subgraphs.all.timeout_ms.get(), 250);
        assert_eq!(
            c.subgraphs.url_for("my-products"),
            Some("http://p:1/graphql")
        );
        assert_eq!(c.telemetry.sampling_ratio.get(), 0.5);
        assert_eq!(c.log.format, crate::model::LogFormat::Json);
        assert_eq!(c.demand_control.mode, Some(crate::model::CostMode::Enforce));
        assert_eq!(c.auth.algorithms, ["RS256", "HS256"]);
        assert_eq!(c.log.level, None);
    }

    #[test]
    fn variables_win_over_the_file_and_keep_its_other_keys() {
        let file =
            "listen: 127.0.0.1:1\ncsrf:\n  enabled: false\nsubgraphs:\n  a:\n    timeout_ms: 9\n";
        let from_file = crate::parse_text(file, std::path::Path::new("weft.yaml")).unwrap();
        let c = apply(
            from_file,
            Some(file),
            &vars(&[
                ("WEFT_CSRF_REQUIRED_HEADERS", "x-a"),
                ("WEFT_SUBGRAPHS_ALL_TIMEOUT_MS", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 1);
        assert!(!c.csrf.enabled);
        assert_eq!(c.csrf.required_headers, ["x-a"]);
        assert_eq!(c.subgraphs.policy("a").timeout_ms.get(), 9);
        assert_eq!(c.subgraphs.policy("b").timeout_ms.get(), 5);
    }

    #[test]
    fn the_files_ca_files_stay_resolved_when_variables_are_set() {
        let file = "subgraphs:\n  all:\n    tls:\n      ca_file: ca.pem\n  a:\n    tls:\n      ca_file: a.pem\n";
        let dir = std::path::Path::new("conf");
        let from_file = crate::parse_text(file, &dir.join("weft.yaml")).unwrap();
        let c = apply(
            from_file.clone(),
            Some(file),
            &vars(&[("WEFT_SUBGRAPHS_ALL_HTTP2", "only")]),
        )
        .unwrap();
        let ca = |c: &Config, name: &str| c.subgraphs.policy(name).tls.ca_file;
        assert_eq!(ca(&c, "a"), Some(dir.join("a.pem")));
        assert_eq!(ca(&c, "b"), Some(dir.join("ca.pem")));
        assert_eq!(c.subgraphs.policy("b").http2, crate::model::Http2::Only);
        // A variable's path is taken as given.
        let c = apply(
            from_file,
            Some(file),
            &vars(&[("WEFT_SUBGRAPHS_ALL_TLS_CA_FILE", "/etc/ca.pem")]),
        )
        .unwrap();
        assert_eq!(ca(&c, "a"), Some(dir.join("a.pem")));
        assert_eq!(ca(&c, "b"), Some("/etc/ca.pem".into()));
        let errs = apply(
            Config::default(),
            None,
            &vars(&[("WEFT_SUBGRAPHS_ALL_HTTP2", "h3")]),
        )
        .unwrap_err();
        let text = errs[0].to_string();
        assert!(text.starts_with("WEFT_SUBGRAPHS_ALL_HTTP2: "), "{text}");
        assert!(text.contains("`off`, `negotiate`, `only`"), "{text}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let errs = apply(
            Config::default(),
            None,
            &vars(&[
                ("WEFT_INTROSPECTION", "nah"),
                ("WEFT_LISTEN", "here"),
                ("WEFT_LIMITS_MAX_DEPTH", "-1"),
                ("WEFT_TELEMETRY_SAMPLING_RATIO", "2"),
                ("WEFT_LOG_FORMAT", "xml"),
                ("WEFT_SUBGRAPHS_A_URL", "a"),
            ]),
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert!(
            text[0].starts_with("WEFT_LISTEN: `here` is not an IP address"),
            "{text:?}"
        );
        assert!(
            text[0].ends_with("hint: WEFT_LISTEN sets `listen`"),
            "{text:?}"
        );
        assert!(text[1].starts_with("WEFT_INTROSPECTION: `nah`"), "{text:?}");
        assert!(
            text[2].starts_with("WEFT_LIMITS_MAX_DEPTH: `-1` is not a whole number"),
            "{text:?}"
        );
        assert!(text[3].starts_with("WEFT_LOG_FORMAT: "), "{text:?}");
        assert!(
            text[4].starts_with("WEFT_TELEMETRY_SAMPLING_RATIO: `2` is not a number from 0 to 1"),
            "{text:?}"
        );
        assert!(text[5].starts_with("WEFT_SUBGRAPHS_A_URL: "), "{text:?}");
    }
}
