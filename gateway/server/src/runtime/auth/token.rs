//! Finding a request's token (a header with a prefix, or a cookie) and verifying it against the
//! key store's keys: signature, algorithm, expiry, issuer, audience. Pure: no I/O.

use axum::http::{HeaderMap, header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::keys::Key;
use weft_config::auth::AuthConfig;

/// Why a token was refused; the message goes to the client (it names no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The header is there but not `<prefix> <token>`.
    Malformed(String),
    /// The header could not be decoded, or names an algorithm not accepted (`none` included).
    Algorithm(String),
    /// No key has the token's key id (after a refresh), or none of the right type.
    UnknownKey,
    /// Signature, expiry, issuer, audience or claims did not check out.
    Invalid(String),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Malformed(why) => format!("The request's token is malformed: {why}."),
            Refusal::Algorithm(why) => format!("The request's token is not accepted: {why}."),
            Refusal::UnknownKey => {
                "The request's token is signed with a key this gateway does not know.".to_owned()
            }
            Refusal::Invalid(why) => format!("The request's token is not valid: {why}."),
        }
    }
}

/// The token the request carries: `Ok(None)` when there is none.
pub fn extract(headers: &HeaderMap, config: &AuthConfig) -> Result<Option<String>, Refusal> {
    if let Some(value) = headers.get(config.header_name.as_str()) {
        let text = value
            .to_str()
            .map_err(|_| Refusal::Malformed("the header is not ASCII".to_owned()))?
            .trim();
        let prefix = config.header_prefix.trim();
        if prefix.is_empty() {
            return Ok(Some(text.to_owned()));
        }
        let Some((scheme, token)) = text.split_once(' ') else {
            return Err(Refusal::Malformed(format!(
                "`{}` must be `{prefix} <token>`",
                config.header_name
            )));
        };
        if !scheme.eq_ignore_ascii_case(prefix) || token.trim().is_empty() {
            return Err(Refusal::Malformed(format!(
                "`{}` must be `{prefix} <token>`",
                config.header_name
            )));
        }
        return Ok(Some(token.trim().to_owned()));
    }
    if let Some(name) = &config.cookie {
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for pair in text.split(';') {
                if let Some((k, v)) = pair.trim().split_once('=')
                    && k.trim() == name
                    && !v.trim().is_empty()
                {
                    return Ok(Some(v.trim().to_owned()));
                }
            }
        }
    }
    Ok(None)
}

/// The token's key id and algorithm, read from its header without verifying anything.
pub fn inspect(
    token: &str,
    accepted: &[Algorithm],
) -> Result<(Option<String>, Algorithm), Refusal> {
    // `alg: none` (and any name jsonwebtoken does not know) fails to decode here.
    let header = decode_header(token).map_err(|e| match e.kind() {
        ErrorKind::Json(_) | ErrorKind::InvalidAlgorithmName => {
            Refusal::Algorithm("its algorithm is not supported".to_owned())
        }
        _ => Refusal::Malformed("it is not a JWT".to_owned()),
    })?;
    if !accepted.contains(&header.alg) {
        return Err(Refusal::Algorithm(format!(
            "algorithm {:?} is not accepted here",
            header.alg
        )));
    }
    Ok((header.kid, header.alg))
}

/// Verifies `token` (already inspected: `kid`, `alg`) with the matching keys and returns its
/// claims. A token without a key id is tried with every key of the algorithm's family.
pub fn verify(
    token: &str,
    kid: Option<&str>,
    alg: Algorithm,
    keys: &[Key],
    config: &AuthConfig,
) -> Result<Map<String, Value>, Refusal> {
    let candidates: Vec<&Key> = keys
        .iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .filter(|k| k.family == alg.family() && k.alg.is_none_or(|a| a == alg))
        .collect();
    if candidates.is_empty() {
        return Err(Refusal::UnknownKey);
    }
    let mut validation = Validation::new(alg);
    if config.audiences.is_empty() {
        validation.validate_aud = false;
    } else {
        validation.set_audience(&config.audiences);
        validation.required_spec_claims.insert("aud".to_owned());
    }
    if !config.issuers.is_empty() {
        validation.set_issuer(&config.issuers);
        validation.required_spec_claims.insert("iss".to_owned());
    }
    validation.validate_nbf = true;
    let mut last = Refusal::UnknownKey;
    for key in candidates {
        match decode::<Map<String, Value>>(token, &key.key, &validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) => {
                last = match e.kind() {
                    ErrorKind::ExpiredSignature => Refusal::Invalid("it has expired".into()),
                    ErrorKind::ImmatureSignature => {
                        Refusal::Invalid("it is not valid yet (`nbf`)".into())
                    }
                    ErrorKind::InvalidIssuer => {
                        Refusal::Invalid("its issuer is not accepted".into())
                    }
                    ErrorKind::InvalidAudience => {
                        Refusal::Invalid("its audience is not accepted".into())
                    }
                    ErrorKind::MissingRequiredClaim(c) => missing_or_unreadable(token, c),
                    ErrorKind::InvalidSignature => {
                        Refusal::Invalid("its signature does not verify".into())
                    }
                    _ => Refusal::Invalid("it could not be verified".into()),
                };
                // A bad signature may just mean another key of the same id-less set; any
                // other failure is about the token itself.
                if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                    return Err(last);
                }
            }
        }
    }
    Err(last)
}

/// jsonwebtoken calls a claim it cannot read "missing" (`exp: 1e30`, a float, or
/// `exp: "soon"`): said apart from a claim that is not there. The signature has verified by
/// then (claims are checked after it), so reading the claims unverified here is safe.
fn missing_or_unreadable(token: &str, claim: &str) -> Refusal {
    let present = jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(token)
        .is_ok_and(|claims| claims.get(claim).is_some_and(|v| !v.is_null()));
    Refusal::Invalid(match (present, claim) {
        (false, _) => format!("it has no `{claim}` claim"),
        (true, "exp" | "nbf") => format!(
            "its `{claim}` claim is not a valid time (a whole number of seconds since 1970)"
        ),
        (true, _) => format!("its `{claim}` claim is not valid"),
    })
}
