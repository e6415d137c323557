//! A header name the gateway itself reads or sends (`csrf.required_headers`,
//! `cors.allow_headers`, `auth.header_name`, `auth.forward_header`). Header rules have their
//! own, stricter names (`crate::headers::Name`).

use std::str::FromStr;

use super::ValueError;
use super::text::text_value;

/// A valid HTTP header name, lower-case (as HTTP/2 sends them and `http` compares them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderName(http::HeaderName);

impl HeaderName {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The name as the `http` crate (and axum) takes it, without parsing it again.
    pub fn as_http(&self) -> &http::HeaderName {
        &self.0
    }
}

impl FromStr for HeaderName {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<HeaderName, ValueError> {
        let v = v.trim().to_ascii_lowercase();
        match http::HeaderName::from_bytes(v.as_bytes()) {
            Ok(name) => Ok(HeaderName(name)),
            Err(_) => Err(ValueError::HeaderName(v)),
        }
    }
}

/// Names known to be valid (the defaults' constants), as header names; none is dropped (a
/// test says so).
pub(crate) fn known(names: &[&str]) -> Vec<HeaderName> {
    names.iter().filter_map(|n| n.parse().ok()).collect()
}

impl From<http::HeaderName> for HeaderName {
    /// Already valid and lower-case.
    fn from(name: http::HeaderName) -> HeaderName {
        HeaderName(name)
    }
}

text_value!(HeaderName);
