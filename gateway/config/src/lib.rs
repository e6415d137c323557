//! `weft.yaml`, the configuration of `weft serve`: read from a file (with `${VAR}` expansion),
//! then `WEFT_*` environment variables, then command-line flags, each overriding the one
//! before. Every key is in the JSON Schema derived from the types ([`schema`]) and in
//! docs/configuration.md.
//!
//! A leaf of the workspace (issue 14): the data types of every section and what it takes to
//! read them, nothing that acts on them. The server applies header rules, verifies tokens,
//! runs the caches, enforces the operation limits and reloads the file.

#![deny(unused_crate_dependencies)]

pub mod auth;
pub mod blocks;
pub mod ca_file;
pub mod entity_cache;
mod env;
pub mod error;
mod expand;
pub mod headers;
pub mod model;
pub mod override_labels;
pub mod persisted;
pub mod schema;
mod sections;
pub mod server;
pub mod subscription_sources;
pub mod values;

use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use model::{Config, CsrfConfig};

/// Flags of `weft serve` that override the configuration; `None` (or `false`) leaves it be.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub supergraph: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub subgraph_timeout_ms: Option<NonZeroU64>,
    pub expose_query_plans: bool,
}

/// Where the configuration comes from, kept so a reload reads it the same way.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub flags: Flags,
}

/// What reading a configuration came to: every error found, and the configuration as far as
/// it could be read (the parts in error left out), so checks that come after reading (the
/// files it names, the supergraph) can go on and report theirs in the same run.
#[derive(Debug)]
pub struct Checked {
    pub config: Option<Config>,
    pub errors: Vec<ConfigError>,
}

impl Sources {
    /// Reads the file (if any) and applies the environment and the flags.
    pub fn load(&self) -> Result<Config, Vec<ConfigError>> {
        let text = match &self.file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| unreadable(path, &e))?),
            None => None,
        };
        self.load_text(text.as_deref())
    }

    /// Like [`Sources::load`], with the file's contents already read.
    pub fn load_text(&self, text: Option<&str>) -> Result<Config, Vec<ConfigError>> {
        let checked = self.check_text(text);
        match checked.config {
            Some(config) if checked.errors.is_empty() => Ok(config),
            _ => Err(checked.errors),
        }
    }

    /// Like [`Sources::load_text`], going on after errors to find all of them.
    pub fn check_text(&self, text: Option<&str>) -> Checked {
        let mut errors = Vec::new();
        let file = self.file.as_deref().zip(text);
        let (config, expanded) = match file {
            Some((path, text)) => {
                let (read, found) = read_text(text, path);
                errors = found;
                match read {
                    Some((config, expanded)) => (config, Some(expanded)),
                    None => {
                        return Checked {
                            config: None,
                            errors,
                        };
                    }
                }
            }
            None => (Config::default(), None),
        };
        let mut config = match env::apply(config, expanded.as_deref(), &env::vars()) {
            Ok(config) => config,
            Err(found) => {
                errors.extend(found);
                return Checked {
                    config: None,
                    errors,
                };
            }
        };
        let flags = &self.flags;
        if let Some(path) = &flags.supergraph {
            config.supergraph.set_from_flag(path);
        }
        if let Some(listen) = flags.listen {
            config.listen = listen.into();
        }
        if let Some(ms) = flags.subgraph_timeout_ms {
            config.subgraphs.all.timeout_ms = ms;
        }
        if flags.expose_query_plans {
            config.query_plan.expose = true;
        }
        errors.extend(check_and_read(&mut config, file));
        Checked {
            config: Some(config),
            errors,
        }
    }
}

/// Checks across keys, and reads the files the configuration names (the safelist, the
/// subgraphs' CA files). Errors are placed at their key in `file` (path and text) when it
/// writes the key.
fn check_and_read(config: &mut Config, file: Option<(&Path, &str)>) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let cors = &config.cors;
    if cors.allow_credentials && cors.allow_origins.iter().any(|o| o.is_any()) {
        errors.push(ConfigError {
            hint: Some("list the origins allowed to send credentials".into()),
            ..ConfigError::at_key(
                file,
                "cors.allow_credentials",
                "`allow_credentials: true` cannot be used with `allow_origins: [\"*\"]`",
            )
        });
    }
    match config.supergraph.source() {
        // Reported by whoever needs a supergraph (`weft serve`, `weft config check`), with a
        // hint saying where to name one; `weft compose` does not.
        Ok(_) | Err(model::SourceChoiceError::None) => {}
        Err(e) => errors.push(ConfigError {
            hint: Some("name one of `supergraph.path`, `supergraph.url`, `supergraph.hive`".into()),
            ..ConfigError::at_key(file, "supergraph", e.to_string())
        }),
    }
    let pd = &mut config.persisted_documents;
    if pd.safelist.is_some() && pd.url.is_some() {
        errors.push(ConfigError {
            hint: Some("keep one of them".into()),
            ..ConfigError::at_key(
                file,
                "persisted_documents.url",
                "`safelist` and `url` both name the manifest",
            )
        });
    }
    match &pd.safelist {
        Some(path) => match persisted::load(path) {
            Ok(list) => pd.documents = Some(std::sync::Arc::new(list)),
            Err(e) => errors.push(ConfigError {
                hint: Some("`persisted_documents.safelist` names this file".into()),
                ..ConfigError::at_key(
                    file,
                    "persisted_documents.safelist",
                    format!("{}: {e}", path.display()),
                )
            }),
        },
        None if pd.require && pd.url.is_none() => errors.push(ConfigError {
            hint: Some(
                "set `persisted_documents.safelist` to a manifest file (or `url` to one)".into(),
            ),
            ..ConfigError::at_key(
                file,
                "persisted_documents.require",
                "`require: true` needs a `safelist`",
            )
        }),
        None => {}
    }
    for slot in config.subgraphs.ca_files_mut() {
        match ca_file::read(slot.path) {
            Ok(read) => *slot.pem = Some(read),
            Err(e) => errors.push(ConfigError {
                hint: Some(format!("`{}` names this file", slot.key)),
                ..ConfigError::at_key(file, &slot.key, format!("{}: {e}", slot.path.display()))
            }),
        }
    }
    for rule in &config.override_labels {
        if let Some(problem) = rule.problem() {
            errors.push(ConfigError {
                hint: Some(
                    "each rule is `{ label, header, any_of }`, `{ label, claim, any_of }` or \
                     `{ label }` (always on)"
                        .into(),
                ),
                ..ConfigError::at_key(file, "override_labels", problem)
            });
        } else if rule.claim.is_some() && !config.auth.verifies_tokens() {
            errors.push(ConfigError {
                hint: Some("list JWKS URLs or files in `auth.jwks`".into()),
                ..ConfigError::at_key(
                    file,
                    "override_labels",
                    format!(
                        "the rule for label `{}` reads a claim, but no token is verified",
                        rule.label
                    ),
                )
            });
        }
    }
    if config.auth.require_authentication && !config.auth.verifies_tokens() {
        errors.push(ConfigError {
            hint: Some("list JWKS URLs or files in `auth.jwks`".into()),
            ..ConfigError::at_key(
                file,
                "auth.require_authentication",
                "`require_authentication: true` needs keys to verify tokens with",
            )
        });
    }
    errors
}

/// The error for a config file that cannot be read.
pub fn unreadable(path: &Path, err: &std::io::Error) -> Vec<ConfigError> {
    vec![ConfigError {
        hint: Some("pass --config with a readable YAML file".into()),
        ..ConfigError::new(&path.display().to_string(), err.to_string())
    }]
}

/// Parses the text of the config file at `path`: `${VAR}` expansion, then YAML. A relative
/// `supergraph.path` is resolved against the file's directory.
pub fn parse_text(text: &str, path: &Path) -> Result<Config, Vec<ConfigError>> {
    match read_text(text, path) {
        (Some((config, _)), errors) if errors.is_empty() => Ok(config),
        (_, errors) => Err(errors),
    }
}

/// [`parse_text`], finding every error: the configuration from the parts without errors and
/// its text after `${VAR}` expansion (the document variables are set in), and the errors.
fn read_text(text: &str, path: &Path) -> (Option<(Config, String)>, Vec<ConfigError>) {
    let origin = path.display().to_string();
    let expanded = match expand::expand(text, &origin, |name| std::env::var(name).ok()) {
        Ok(expanded) => expanded,
        Err(errors) => return (None, errors),
    };
    // Not YAML at all: the one syntax error (parts of it alone would not be YAML either).
    if let Err(err) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&expanded.text) {
        return (None, vec![ConfigError::from_yaml(&origin, &err, &expanded)]);
    }
    let parse = |text: &str| -> Option<blocks::Failure<ConfigError>> {
        // An empty file (or only comments) is the default configuration; YAML calls it null.
        let blank = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if blank {
            return None;
        }
        let err = serde_yaml_ng::from_str::<Config>(text).err()?;
        let error = ConfigError::from_yaml(&origin, &err, &expanded);
        // A part that alone is not YAML was cut badly: not an error of its own (no line).
        let syntax = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).is_err();
        Some(blocks::Failure {
            line: err.location().filter(|_| !syntax).map(|l| l.line()),
            needs_context: err.to_string().contains("missing field `"),
            error,
        })
    };
    let (errors, rest) = blocks::every_error(&expanded.text, parse);
    let Some(rest) = rest else {
        return (None, errors);
    };
    let blank = rest
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    let parsed = if blank {
        Ok(Config::default())
    } else {
        serde_yaml_ng::from_str::<Config>(&rest)
    };
    let Ok(mut config) = parsed else {
        return (None, errors);
    };
    if let (Some(file), Some(dir)) = (&config.supergraph.path, path.parent())
        && file.is_relative()
    {
        config.supergraph.path = Some(dir.join(file));
    }
    if let (Some(file), Some(dir)) = (&config.persisted_documents.safelist, path.parent())
        && file.is_relative()
    {
        config.persisted_documents.safelist = Some(dir.join(file));
    }
    if let Some(dir) = path.parent() {
        config.auth.resolve_files(dir);
        config.subgraphs.resolve_files(dir);
    }
    (Some((config, rest)), errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Vec<ConfigError>> {
        parse_text(text, Path::new("conf/weft.yaml"))
    }

    /// The errors reading `text` gives, as the CLI prints them (one after the other).
    fn errors(text: &str) -> String {
        parse(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn defaults_and_a_full_file() {
        assert_eq!(parse("# nothing\n").unwrap(), Config::default());
        let c = parse(
            "supergraph:\n  path: sg.graphql\nlisten: 0.0.0.0:4100\nsubgraphs:\n  all:\n    timeout_ms: 100\n  products:\n    url: http://p:4002/graphql\ncsrf:\n  required_headers: [X-Mine]\nlimits:\n  max_depth: 3\nlog:\n  format: json\n  level: debug\n",
        )
        .unwrap();
        assert_eq!(
            c.supergraph.path.as_deref(),
            Some(Path::new("conf/sg.graphql"))
        );
        assert_eq!(c.listen.port(), 4100);
        assert_eq!(c.subgraphs.all.timeout_ms.get(), 100);
        assert_eq!(
            c.subgraphs.url_for("products"),
            Some("http://p:4002/graphql")
        );
        assert_eq!(c.csrf.required_headers, ["x-mine"]);
        assert!(c.csrf.enabled && c.introspection);
    }

    #[test]
    fn http2_and_ca_files_per_subgraph_inherit_all() {
        use crate::model::Http2;
        let c = parse(
            "subgraphs:\n  all:\n    http2: negotiate\n    tls:\n      ca_file: ca.pem\n  products:\n    http2: only\n    tls:\n      ca_file: /etc/p.pem\n  reviews:\n    http2: off\n",
        )
        .unwrap();
        let (products, reviews, other) = (
            c.subgraphs.policy("products"),
            c.subgraphs.policy("reviews"),
            c.subgraphs.policy("other"),
        );
        assert_eq!(
            (products.http2, reviews.http2, other.http2),
            (Http2::Only, Http2::Off, Http2::Negotiate)
        );
        assert_eq!(products.tls.ca_file, Some("/etc/p.pem".into()));
        assert_eq!(reviews.tls.ca_file, Some("conf/ca.pem".into()));
        assert_eq!(Config::default().subgraphs.policy("x").http2, Http2::Off);
        let err = errors("subgraphs:\n  all:\n    http2: yes\n");
        assert!(err.starts_with("conf/weft.yaml:3:12: "), "{err}");
        assert!(err.contains("`off`, `negotiate`, `only`"), "{err}");
    }

    #[test]
    fn ca_files_are_read_with_the_configuration() {
        let dir = std::env::temp_dir().join(format!("weft-config-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        std::fs::write(dir.join("ca.pem"), pem).unwrap();
        let sources = Sources {
            file: Some(dir.join("weft.yaml")),
            flags: Flags::default(),
        };
        let c = sources
            .load_text(Some(
                "subgraphs:\n  all:\n    tls:\n      ca_file: ca.pem\n",
            ))
            .unwrap();
        let read = c.subgraphs.policy("any").tls.ca_pem.unwrap();
        assert_eq!(&*read, pem.as_bytes());
        let errs = sources
            .load_text(Some(
                "subgraphs:\n  a:\n    tls:\n      ca_file: none.pem\n",
            ))
            .unwrap_err();
        let text = errs[0].to_string();
        assert!(text.contains("none.pem"), "{text}");
        assert!(
            text.contains("hint: `subgraphs.a.tls.ca_file` names this file"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_keys_are_located_with_the_valid_keys() {
        let err = errors("listen: 127.0.0.1:1\ncsrf:\n  enabled: true\n  enable: false\n");
        assert!(
            err.starts_with("conf/weft.yaml:4:3: unknown key `enable` at `csrf`"),
            "{err}"
        );
        assert!(
            err.contains("hint: valid keys at `csrf`: enabled, required_headers"),
            "{err}"
        );
        let err = errors("introspection: true\nlisten_on: x\n");
        assert!(
            err.starts_with("conf/weft.yaml:2:1: unknown key `listen_on` at the top level"),
            "{err}"
        );
        assert!(err.contains("supergraph, listen, subgraphs"), "{err}");
        let err = errors("subgraphs:\n  products:\n    timeout: 5\n");
        assert!(
            err.starts_with("conf/weft.yaml:3:5: unknown key `timeout` at `subgraphs.products`"),
            "{err}"
        );
        assert!(
            err.contains(
                "valid keys at `subgraphs.products`: url, timeout_ms, max_response_bytes, include_errors, retry, circuit_breaker"
            ),
            "{err}"
        );
    }

    #[test]
    fn override_label_rules_are_checked_where_written() {
        let sources = Sources {
            file: Some("conf/weft.yaml".into()),
            flags: Flags::default(),
        };
        let check = |text: &str| {
            let checked = sources.check_text(Some(text));
            let said: Vec<String> = checked.errors.iter().map(ToString::to_string).collect();
            (checked.config, said.join("\n"))
        };
        let (ok, err) = check(
            "auth:\n  jwks: [k.json]\noverride_labels:\n  - { label: beta, header: X-Beta, any_of: [\"on\"] }\n  - { label: staff, claim: roles }\n  - { label: percent(5) }\n",
        );
        assert_eq!(err, "");
        let ok = ok.unwrap();
        assert_eq!(ok.override_labels.len(), 3);
        assert_eq!(
            ok.override_labels[0].header.as_ref().map(|h| h.as_str()),
            Some("x-beta")
        );
        let (_, err) = check(
            "introspection: true\noverride_labels:\n  - { label: beta, header: x-beta, claim: roles }\n",
        );
        assert!(
            err.starts_with(
                "conf/weft.yaml:2:1: the rule for label `beta` names both a `header` and a `claim`"
            ),
            "{err}"
        );
        assert!(err.contains("hint: each rule is"), "{err}");
        let (_, err) = check("override_labels:\n  - { label: 9lives }\n");
        assert!(err.contains("`9lives` is not an override label"), "{err}");
        // A claim needs verified tokens.
        let (_, err) = check("override_labels:\n  - { label: staff, claim: roles }\n");
        assert!(
            err.contains("reads a claim, but no token is verified"),
            "{err}"
        );
        assert!(
            err.contains("hint: list JWKS URLs or files in `auth.jwks`"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_located() {
        for (text, at) in [
            ("listen: localhost\n", "1:9"),
            ("subgraphs:\n  a:\n    url: ftp://x\n", "3:10"),
            ("csrf:\n  required_headers: [ok, \"bad header\"]\n", "2:26"),
            ("log:\n  level: verbose\n", "2:10"),
            ("log:\n  format: xml\n", "2:11"),
            ("limits:\n  max_depth: -1\n", "2:14"),
            ("introspection: yes\n", "1:16"),
            ("auth:\n  algorithms: [RS256, nope]\n", "2:23"),
            (
                "headers:\n  all:\n    - propagate: { named: host }\n",
                "3:27",
            ),
            ("cors:\n  allow_origins: [\"https://a/b\"]\n", "2:19"),
        ] {
            let err = errors(text);
            assert!(
                err.starts_with(&format!("conf/weft.yaml:{at}: ")),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn every_error_of_a_file_is_reported_at_once() {
        let text = "listen: localhost\nsubgraphs:\n  all:\n    timeout_ms: 0\n  a:\n    url: ftp://x\n    retry:\n      bogus: 1\ncsrf:\n  enable: false\nintrospection: true\ncors:\n  allow_origins: [\"*\"]\n  allow_credentials: true\n";
        let sources = Sources {
            file: Some("conf/weft.yaml".into()),
            flags: Flags::default(),
        };
        let checked = sources.check_text(Some(text));
        let said: Vec<String> = checked.errors.iter().map(ToString::to_string).collect();
        let places: Vec<&str> = said
            .iter()
            .map(|e| e.split(": ").next().unwrap_or(""))
            .collect();
        assert_eq!(
            places,
            [
                "conf/weft.yaml:1:9",
                "conf/weft.yaml:4:17",
                "conf/weft.yaml:6:10",
                "conf/weft.yaml:8:7",
                "conf/weft.yaml:10:3",
                // Checked across keys, on what could be read, in the same run.
                "conf/weft.yaml:14:3",
            ],
            "{said:#?}"
        );
        assert!(
            said[1].contains("must be a whole number greater than 0, not `0`"),
            "{}",
            said[1]
        );
        // What had no error was read.
        let config = checked.config.unwrap();
        assert!(config.introspection);
        assert!(config.cors.allow_credentials);
    }

    #[test]
    fn null_leaves_an_optional_checked_key_absent() {
        let c = parse("telemetry:\n  otlp_endpoint: ~\nauth:\n  forward_header: null\n").unwrap();
        assert_eq!(c.telemetry.otlp_endpoint, None);
        assert_eq!(c.auth.forward_header, None);
    }

    #[test]
    fn variables_expand_before_parsing() {
        // A variable nobody sets, so the defaults apply and the bare reference fails.
        let name = "WEFT_TEST_CONFIG_EXPAND_PORT";
        let c = parse(&format!(
            "listen: 127.0.0.1:${{{name}:-4321}}\nintrospection: ${{{name}_BOOL:-false}}\n"
        ))
        .unwrap();
        assert_eq!(c.listen.port(), 4321);
        assert!(!c.introspection);
        let err = errors(&format!("log:\n  level: ${{{name}_UNSET}}\n"));
        assert!(
            err.starts_with(&format!(
                "conf/weft.yaml:2:10: environment variable `{name}_UNSET` is not set"
            )),
            "{err}"
        );
    }
}
