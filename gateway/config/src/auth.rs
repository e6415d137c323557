//! `auth:` in weft.yaml: where tokens come from, which keys verify them, what a valid token
//! must say, what reaches the subgraphs, and how `@authenticated`/`@requiresScopes`/`@policy`
//! are enforced (docs/auth.md). The settings only: the server fetches the keys and checks the
//! tokens (the server's `runtime/auth/`).

use std::num::NonZeroU64;
use std::path::Path;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

use crate::values::text::text_value;
use crate::values::{HeaderName, ValueError};

/// Every JWT algorithm the server's verifier (jsonwebtoken) knows, by its `alg` name: what
/// `auth.algorithms` may list. Named here rather than parsed with jsonwebtoken so that reading
/// a configuration needs no crypto library; a test in the server checks the two agree.
pub const ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

/// The algorithms accepted when `auth.algorithms` is not set: every asymmetric one. HMAC
/// needs a shared secret, so it is accepted only when configured explicitly.
pub const DEFAULT_ALGORITHMS: &[JwtAlgorithm] = &[
    JwtAlgorithm("RS256"),
    JwtAlgorithm("RS384"),
    JwtAlgorithm("RS512"),
    JwtAlgorithm("PS256"),
    JwtAlgorithm("PS384"),
    JwtAlgorithm("PS512"),
    JwtAlgorithm("ES256"),
    JwtAlgorithm("ES384"),
    JwtAlgorithm("EdDSA"),
];

/// One of [`ALGORITHMS`], by its `alg` name (case-sensitive, as tokens write it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JwtAlgorithm(&'static str);

impl JwtAlgorithm {
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl FromStr for JwtAlgorithm {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<JwtAlgorithm, ValueError> {
        let v = v.trim();
        ALGORITHMS
            .iter()
            .copied()
            .find(|known| *known == v)
            .map(JwtAlgorithm)
            .ok_or_else(|| ValueError::JwtAlgorithm(v.to_owned()))
    }
}

text_value!(JwtAlgorithm);

/// JWT authentication and the `@authenticated`, `@requiresScopes` and `@policy` directives
/// (docs/auth.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Where the keys that verify tokens come from: JWKS URLs (`http(s)://`) or files (relative to
    /// this file), re-read every `poll_interval_secs` and when a token names an unknown key id.
    /// Empty: tokens are not read. In the environment: comma-separated.
    #[schemars(example = serde_json::json!(["https://issuer.example.com/.well-known/jwks.json"]))]
    pub jwks: Vec<String>,
    /// Accepted `iss` claims; a token must carry one of them. Empty: not checked. In the
    /// environment: comma-separated.
    #[schemars(example = serde_json::json!(["https://issuer.example.com/"]))]
    pub issuers: Vec<String>,
    /// Accepted `aud` claims; a token must carry one of them. Empty: not checked. In the
    /// environment: comma-separated.
    #[schemars(example = serde_json::json!(["weft"]))]
    pub audiences: Vec<String>,
    /// Accepted signing algorithms (`none` never is). HMAC (`HS256`...) only when listed, with an
    /// `oct` key in the JWKS. In the environment: comma-separated.
    #[schemars(example = serde_json::json!(["RS256", "HS256"]))]
    #[serde(deserialize_with = "algorithms")]
    pub algorithms: Vec<JwtAlgorithm>,
    /// The request header that carries the token.
    #[schemars(example = serde_json::json!("x-token"))]
    pub header_name: HeaderName,
    /// The scheme before the token in that header (compared without case). Empty: the whole value
    /// is the token.
    #[schemars(example = serde_json::json!(""))]
    pub header_prefix: String,
    /// A cookie that carries the token when the header is absent.
    #[schemars(example = serde_json::json!("session"))]
    pub cookie: Option<String>,
    /// How often the JWKS sources are re-read, in seconds.
    #[schemars(example = serde_json::json!(60))]
    pub poll_interval_secs: NonZeroU64,
    /// Refuse requests without a token (401 `AUTH_ERROR`). Off: they run anonymously and only the
    /// directives restrict them. An invalid token is always refused.
    #[schemars(example = serde_json::json!(true))]
    pub require_authentication: bool,
    /// When an operation selects fields the request may not see: refuse it whole (403, no data).
    /// Off: run the rest, those fields `null` with an `UNAUTHORIZED_FIELD_OR_TYPE` error each.
    #[schemars(example = serde_json::json!(true))]
    pub reject_unauthorized: bool,
    /// Send a verified token's claims to every subgraph in this header, as JSON (non-ASCII
    /// escaped).
    #[schemars(example = serde_json::json!("x-weft-claims"))]
    pub forward_header: Option<HeaderName>,
    /// Send a verified token's claims to every subgraph in the request's `extensions`, under this
    /// key.
    #[schemars(example = serde_json::json!("jwt"))]
    pub forward_extensions: Option<String>,
    /// What earns each `@policy` name: the token's claim `claim` holds one of `any_of` (a string,
    /// space-separated words, or a list); with `any_of` empty, the claim is present and not false.
    /// A policy without a rule is never granted.
    #[schemars(example = serde_json::json!([{"name": "admin", "claim": "roles", "any_of": ["admin"]}]))]
    #[schemars(extend("default" = []))]
    pub policies: Vec<PolicyRule>,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            jwks: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            header_name: HeaderName::from(http::header::AUTHORIZATION),
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    pub name: String,
    pub claim: String,
    #[serde(default)]
    pub any_of: Vec<String>,
}

/// A list of algorithms, not empty: a verifier accepting none would refuse every token.
fn algorithms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<JwtAlgorithm>, D::Error> {
    let list = Vec::<JwtAlgorithm>::deserialize(d)?;
    if list.is_empty() {
        return Err(D::Error::custom("`algorithms` cannot be empty"));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_are_checked_by_name() {
        assert_eq!(
            " EdDSA ".parse::<JwtAlgorithm>().map(|a| a.as_str()),
            Ok("EdDSA")
        );
        assert_eq!(
            "none".parse::<JwtAlgorithm>().map_err(|e| e.to_string()),
            Err(
                "`none` is not a JWT algorithm (HS256, HS384, HS512, RS256, RS384, RS512, \
                 PS256, PS384, PS512, ES256, ES384, EdDSA)"
                    .to_owned()
            )
        );
        assert!("rs256".parse::<JwtAlgorithm>().is_err());
    }
}
