//! Authentication and authorization (docs/auth.md): a JWT from a header or a cookie, verified
//! against JWKS keys ([`keys`], [`token`]); its claims forwarded to subgraphs; and the
//! supergraph's `@authenticated`/`@requiresScopes`/`@policy` enforced per field ([`access`]).

pub mod access;
pub mod keys;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use weft_config::auth::AuthConfig;
use weft_executor::{ErrorCode, Forwarded, GraphQLError};
use weft_federation::Supergraph;

pub use access::{Identity, Requirements};
use keys::{KeyStore, Source};
use token::Refusal;

/// A request refused before it runs: its status and GraphQL error body.
pub struct Rejection {
    pub status: StatusCode,
    pub error: GraphQLError,
}

/// Authentication and authorization for one runtime (one supergraph and configuration).
pub struct Auth {
    pub config: AuthConfig,
    keys: Option<Arc<KeyStore>>,
    algorithms: Vec<Algorithm>,
    pub requirements: Requirements,
}

impl Auth {
    /// Reads the JWKS files now and starts polling the sources (URLs are fetched at once).
    pub fn new(config: &AuthConfig, supergraph: &Supergraph) -> Result<Auth, keys::JwksError> {
        let keys = if config.verifies_tokens() {
            let sources = config.jwks.iter().map(|s| Source::of(s)).collect();
            let store = Arc::new(KeyStore::new(sources)?);
            store.start_polling(Duration::from_secs(config.poll_interval_secs.get()));
            Some(store)
        } else {
            None
        };
        Ok(Auth {
            config: config.clone(),
            keys,
            algorithms: parsed_algorithms(config),
            requirements: Requirements::of(supergraph.schema(), supergraph.links()),
        })
    }

    /// The identity of a request: anonymous without a token, the token's claims with a valid
    /// one; an invalid token (or a missing one when `require_authentication`) is refused
    /// with 401 and `AUTH_ERROR`, whatever the operation.
    pub async fn authenticate(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<Identity, Rejection> {
        let Some(store) = &self.keys else {
            return Ok(Identity::default());
        };
        let token = token::extract(headers, &self.config).map_err(refuse)?;
        let Some(token) = token else {
            if self.config.require_authentication {
                return Err(Rejection {
                    status: StatusCode::UNAUTHORIZED,
                    error: GraphQLError::new(
                        ErrorCode::AuthError,
                        "This gateway requires authentication: send a token.",
                    ),
                });
            }
            return Ok(Identity::default());
        };
        let (kid, alg) = token::inspect(&token, &self.algorithms).map_err(refuse)?;
        let first = token::verify(&token, kid.as_deref(), alg, &store.all(), &self.config);
        let claims = match first {
            Err(Refusal::UnknownKey) => {
                // The issuer may have rotated its keys since the last poll.
                store
                    .refresh_for_unknown(kid.as_deref().unwrap_or(""))
                    .await;
                token::verify(&token, kid.as_deref(), alg, &store.all(), &self.config)
            }
            other => other,
        }
        .map_err(refuse)?;
        Ok(Identity {
            claims: Some(claims),
        })
    }

    /// The claims to forward to subgraphs, as configured.
    pub fn forwarded(&self, identity: &Identity) -> Forwarded {
        let Some(claims) = &identity.claims else {
            return Forwarded::default();
        };
        let claims = Value::Object(claims.clone());
        let header = self.config.forward_header.as_ref().and_then(|name| {
            let value = HeaderValue::from_str(&ascii_json(&claims)).ok()?;
            Some((name.as_http().clone(), value))
        });
        let extensions = self
            .config
            .forward_extensions
            .as_ref()
            .map(|key| json!({ key.as_str(): claims }));
        Forwarded { header, extensions }
    }

    /// The headers this runtime sets for subgraphs from verified data (`auth.forward_header`):
    /// removed from every client request, so that only the gateway sets them.
    pub fn owned_headers(&self) -> Vec<HeaderName> {
        self.config
            .forward_header
            .iter()
            .map(|name| name.as_http().clone())
            .collect()
    }

    /// Whether `identity` satisfies `access`, under the configured policy rules.
    pub fn allows(&self, identity: &Identity, access: &access::Access) -> bool {
        identity.allows(access, &self.config.policies)
    }
}

/// The configured algorithms, parsed (weft-config checked their names when it read the file).
fn parsed_algorithms(config: &AuthConfig) -> Vec<Algorithm> {
    config
        .algorithms
        .iter()
        .filter_map(|a| a.as_str().parse().ok())
        .collect()
}

fn refuse(refusal: Refusal) -> Rejection {
    Rejection {
        status: StatusCode::UNAUTHORIZED,
        error: GraphQLError::new(ErrorCode::AuthError, refusal.message()),
    }
}

/// JSON with every non-ASCII character escaped (`\uXXXX`), so it fits in a header value.
fn ascii_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// One `UNAUTHORIZED_FIELD_OR_TYPE` error per removed path.
pub fn unauthorized_errors(paths: &[Vec<String>]) -> Vec<GraphQLError> {
    paths
        .iter()
        .map(|path| {
            GraphQLError::new(
                ErrorCode::UnauthorizedFieldOrType,
                "Unauthorized field or type",
            )
            .at(path.iter().map(|s| Value::String(s.clone())).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configurations_algorithm_names_are_jsonwebtokens() {
        // weft-config checks `auth.algorithms` by name without jsonwebtoken: its list must be
        // exactly the algorithms jsonwebtoken verifies, each parsing to itself.
        use jsonwebtoken::AlgorithmFamily;
        let mut known: Vec<String> = [
            AlgorithmFamily::Hmac,
            AlgorithmFamily::Rsa,
            AlgorithmFamily::Ec,
            AlgorithmFamily::Ed,
        ]
        .iter()
        .flat_map(|f| f.algorithms().iter().map(|a| format!("{a:?}")))
        .collect();
        let mut listed: Vec<String> = weft_config::auth::ALGORITHMS
            .iter()
            .map(|a| (*a).to_owned())
            .collect();
        known.sort();
        listed.sort();
        assert_eq!(listed, known);
        for name in weft_config::auth::ALGORITHMS {
            let parsed: Algorithm = name.parse().unwrap();
            assert_eq!(format!("{parsed:?}"), *name);
        }
    }

    #[test]
    fn claims_json_in_a_header_is_ascii() {
        let v = json!({ "name": "Zoë", "emoji": "🦀" });
        let text = ascii_json(&v);
        assert!(text.is_ascii(), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).ok(), Some(v));
    }
}
