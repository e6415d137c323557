//! URLs by scheme: a subgraph's or an exporter's ([`HttpUrl`]), Redis's ([`RedisUrl`]),
//! RabbitMQ's ([`AmqpUrl`]), and a browser origin ([`Origin`]). Checked for their scheme and
//! a non-empty rest only; the clients that connect report anything else.

use std::str::FromStr;

use super::ValueError;
use super::text::text_value;

/// An `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpUrl(String);

impl HttpUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for HttpUrl {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<HttpUrl, ValueError> {
        let v = v.trim();
        match after_scheme(v, &["http://", "https://"]) {
            Some(rest) if !rest.is_empty() => Ok(HttpUrl(v.to_owned())),
            _ => Err(ValueError::HttpUrl(v.to_owned())),
        }
    }
}

text_value!(HttpUrl);

/// A `redis://` URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RedisUrl(String);

impl RedisUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RedisUrl {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<RedisUrl, ValueError> {
        let v = v.trim();
        match after_scheme(v, &["redis://"]) {
            Some(rest) if !rest.is_empty() => Ok(RedisUrl(v.to_owned())),
            _ => Err(ValueError::RedisUrl(v.to_owned())),
        }
    }
}

text_value!(RedisUrl);

/// An `amqp://` or `amqps://` URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AmqpUrl(String);

impl AmqpUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AmqpUrl {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<AmqpUrl, ValueError> {
        let v = v.trim();
        match after_scheme(v, &["amqp://", "amqps://"]) {
            Some(rest) if !rest.is_empty() => Ok(AmqpUrl(v.to_owned())),
            _ => Err(ValueError::AmqpUrl(v.to_owned())),
        }
    }
}

text_value!(AmqpUrl);

/// A CORS origin: `*`, or `scheme://host[:port]` with nothing after, lower-cased (browsers
/// send it lower-case, and it is compared as text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin(String);

impl Origin {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `*`, any origin.
    pub fn is_any(&self) -> bool {
        self.0 == "*"
    }
}

impl FromStr for Origin {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<Origin, ValueError> {
        let v = v.trim();
        if v == "*" {
            return Ok(Origin(v.to_owned()));
        }
        let lower = v.to_ascii_lowercase();
        match after_scheme(&lower, &["http://", "https://"]) {
            Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => {
                Ok(Origin(lower))
            }
            _ => Err(ValueError::Origin(v.to_owned())),
        }
    }
}

text_value!(Origin);

/// What follows the first of `schemes` that `v` starts with.
fn after_scheme<'a>(v: &'a str, schemes: &[&str]) -> Option<&'a str> {
    schemes.iter().find_map(|scheme| v.strip_prefix(scheme))
}
