//! CSRF prevention, on by default, with Apollo Router's rule: an operation runs only if a
//! browser would have sent a CORS preflight for the request first.
//!
//! A browser sends a "simple" request (GET or POST, no preflight) when the page sets no header
//! outside the CORS safelist and the `Content-Type`, if any, is `text/plain`,
//! `application/x-www-form-urlencoded` or `multipart/form-data`. Such a request is refused
//! unless it carries a non-empty header no browser adds by itself (`csrf.required_headers`,
//! by default `weft_config::model::CSRF_REQUIRED_HEADERS`). A `Content-Type` that is none of
//! the three (e.g. `application/json`, on a POST or a GET) means the browser preflighted, so
//! the request passes. A `Content-Type` we cannot read counts as simple: when unsure, ask for
//! the header. `csrf.enabled: false` turns the check off.

use axum::http::{HeaderMap, StatusCode, header};
use weft_config::CsrfConfig;
use weft_config::values::HeaderName;

use crate::http::request::Rejection;

/// Content types a browser sends without a preflight (the Fetch standard's CORS safelist).
const SIMPLE_CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// The code Apollo Router puts in `extensions.code` for a blocked request.
pub const CODE: weft_executor::ErrorCode = weft_executor::ErrorCode::CsrfError;

/// `Ok` if the request would have been preflighted by a browser; the 400 to answer otherwise.
pub fn check(headers: &HeaderMap, config: &CsrfConfig) -> Result<(), Rejection> {
    if !config.enabled
        || content_type_requires_preflight(headers)
        || has_required_header(headers, &config.required_headers)
    {
        return Ok(());
    }
    let headers = if config.required_headers.is_empty() {
        String::new()
    } else {
        format!(
            ", or a non-empty value for one of these headers: {}",
            config
                .required_headers
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(Rejection {
        status: StatusCode::BAD_REQUEST,
        code: CODE,
        message: format!(
            "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). \
             Send a `content-type` header other than {}{headers}.",
            SIMPLE_CONTENT_TYPES.join(", "),
        ),
    })
}

/// True when there is exactly one `Content-Type`, it parses as `type/subtype`, and it is not one
/// of the simple types. Several values, or one that does not parse, count as simple.
fn content_type_requires_preflight(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    if !is_token(kind) || !is_token(subtype) {
        return false;
    }
    !SIMPLE_CONTENT_TYPES.contains(&essence.as_str())
}

/// An HTTP token (RFC 9110 `tchar`s), as the MIME type parser of the Fetch standard requires.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn has_required_header(headers: &HeaderMap, required: &[HeaderName]) -> bool {
    required.iter().any(|name| {
        headers
            .get_all(name.as_http())
            .iter()
            .any(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn simple_requests_are_refused() {
        for h in [
            headers(&[]),
            headers(&[("content-type", "text/plain")]),
            headers(&[("content-type", "Text/Plain; charset=UTF-8")]),
            headers(&[("content-type", "application/x-www-form-urlencoded")]),
            headers(&[("content-type", "multipart/form-data; boundary=x")]),
            headers(&[("content-type", "nonsense")]),
            headers(&[("content-type", "text/plain, application/json")]),
            headers(&[
                ("content-type", "application/json"),
                ("content-type", "text/plain"),
            ]),
            headers(&[("apollo-require-preflight", "")]),
            headers(&[("accept", "application/json")]),
        ] {
            let err = check(&h, &CsrfConfig::default()).unwrap_err();
            assert_eq!(err.code, CODE, "{h:?}");
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn preflighted_requests_pass() {
        for h in [
            headers(&[("content-type", "application/json")]),
            headers(&[("content-type", "application/json; charset=utf-8")]),
            headers(&[("content-type", "application/graphql")]),
            headers(&[("apollo-require-preflight", "true")]),
            headers(&[("x-apollo-operation-name", "Me")]),
            headers(&[
                ("content-type", "text/plain"),
                ("weft-require-preflight", "1"),
            ]),
        ] {
            assert!(check(&h, &CsrfConfig::default()).is_ok(), "{h:?}");
        }
    }

    #[test]
    fn the_default_message_is_unchanged() {
        let err = check(&headers(&[]), &CsrfConfig::default()).unwrap_err();
        assert_eq!(
            err.message,
            "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). \
             Send a `content-type` header other than application/x-www-form-urlencoded, \
             multipart/form-data, text/plain, or a non-empty value for one of these headers: \
             apollo-require-preflight, x-apollo-operation-name, weft-require-preflight."
        );
    }

    #[test]
    fn the_header_list_and_the_switch_are_configurable() {
        let mine = CsrfConfig {
            enabled: true,
            required_headers: vec!["x-mine".parse().unwrap()],
        };
        assert!(check(&headers(&[("x-mine", "1")]), &mine).is_ok());
        let err = check(&headers(&[("apollo-require-preflight", "1")]), &mine).unwrap_err();
        assert!(err.message.ends_with("headers: x-mine."), "{}", err.message);
        let none = CsrfConfig {
            required_headers: Vec::new(),
            ..mine.clone()
        };
        let err = check(&headers(&[("x-mine", "1")]), &none).unwrap_err();
        assert!(err.message.ends_with("text/plain."), "{}", err.message);
        let off = CsrfConfig {
            enabled: false,
            ..mine
        };
        assert!(check(&headers(&[("content-type", "text/plain")]), &off).is_ok());
    }
}
