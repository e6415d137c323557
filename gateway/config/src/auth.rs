//! `auth:` in weft.yaml: where tokens come from, which keys verify them, what a valid token
//! must say, what reaches the subgraphs, and how `@authenticated`/`@requiresScopes`/`@policy`
//! are enforced (docs/auth.md). The settings only: the server fetches the keys and checks the
//! tokens (`serve/auth/`).

use std::num::NonZeroU64;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

/// Every JWT algorithm the server's verifier (jsonwebtoken) knows, by its `alg` name: what
/// `auth.algorithms` may list. Named here rather than parsed with jsonwebtoken so that reading
/// a configuration needs no crypto library; a test in the server checks the two agree.
pub const ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

/// The algorithms accepted when `auth.algorithms` is not set: every asymmetric one. HMAC
/// needs a shared secret, so it is accepted only when configured explicitly.
pub const DEFAULT_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// JWKS sources: `http(s)://` URLs, or files (relative to the config file).
    pub jwks: Vec<String>,
    /// Accepted `iss` values; empty: any (the claim is not required).
    pub issuers: Vec<String>,
    /// Accepted `aud` values; empty: not checked.
    pub audiences: Vec<String>,
    #[serde(deserialize_with = "algorithms")]
    pub algorithms: Vec<String>,
    #[serde(deserialize_with = "header_name")]
    pub header_name: String,
    pub header_prefix: String,
    pub cookie: Option<String>,
    pub poll_interval_secs: NonZeroU64,
    pub require_authentication: bool,
    pub reject_unauthorized: bool,
    #[serde(deserialize_with = "optional_header_name")]
    pub forward_header: Option<String>,
    pub forward_extensions: Option<String>,
    pub policies: Vec<PolicyRule>,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            jwks: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            algorithms: DEFAULT_ALGORITHMS.iter().map(|a| (*a).to_owned()).collect(),
            header_name: "authorization".to_owned(),
            header_prefix: "Bearer".to_owned(),
            cookie: None,
            poll_interval_secs: NonZeroU64::new(300).unwrap_or(NonZeroU64::MIN),
            require_authentication: false,
            reject_unauthorized: false,
            forward_header: None,
            forward_extensions: None,
            policies: Vec::new(),
        }
    }
}

impl AuthConfig {
    /// Whether tokens are read at all: some key source is configured.
    pub fn verifies_tokens(&self) -> bool {
        !self.jwks.is_empty()
    }

    /// Resolves file sources relative to the directory of the config file.
    pub fn resolve_files(&mut self, dir: &Path) {
        for source in &mut self.jwks {
            if !is_url(source) && Path::new(source.as_str()).is_relative() {
                *source = dir.join(source.as_str()).display().to_string();
            }
        }
    }
}

/// Whether a JWKS source is fetched over HTTP (else it is a file).
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// One `@policy` name and how a token earns it: its claim `claim` holds one of `any_of` (a
/// string compared whole, a space-separated string, or an array of strings); with `any_of`
/// empty, the claim must be present and not `false` or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    pub name: String,
    pub claim: String,
    #[serde(default)]
    pub any_of: Vec<String>,
}

pub fn parse_algorithm(v: &str) -> Result<String, String> {
    let v = v.trim();
    if ALGORITHMS.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(format!(
            "`{v}` is not a JWT algorithm ({})",
            ALGORITHMS.join(", ")
        ))
    }
}

fn algorithms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    if list.is_empty() {
        return Err(D::Error::custom("`algorithms` cannot be empty"));
    }
    list.iter()
        .map(|a| parse_algorithm(a).map_err(D::Error::custom))
        .collect()
}

fn header_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = String::deserialize(d)?;
    crate::model::parse_header(&v).map_err(D::Error::custom)
}

fn optional_header_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    header_name(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_are_checked_by_name() {
        assert_eq!(parse_algorithm(" EdDSA "), Ok("EdDSA".to_owned()));
        assert_eq!(
            parse_algorithm("none"),
            Err(
                "`none` is not a JWT algorithm (HS256, HS384, HS512, RS256, RS384, RS512, \
                 PS256, PS384, PS512, ES256, ES384, EdDSA)"
                    .to_owned()
            )
        );
        assert!(parse_algorithm("rs256").is_err());
    }
}
