//! The validators of single values (addresses, URLs, header names, origins, log filters,
//! ratios) and the deserializers that run them while a scalar is visited, so that a bad value
//! is reported at its own line:col.

use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

pub(crate) const fn nonzero64(n: u64) -> NonZeroU64 {
    match NonZeroU64::new(n) {
        Some(n) => n,
        None => NonZeroU64::MIN,
    }
}

pub(crate) const fn nonzero32(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
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
    http::HeaderName::from_bytes(v.as_bytes())
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

pub(crate) fn check_ratio(v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("`{v}` is not a number from 0 to 1"))
    }
}

/// A number from 0 to 1, checked while it is visited (so its error is located).
pub(crate) fn ratio<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct Ratio;
    impl Visitor<'_> for Ratio {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number from 0 to 1")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            check_ratio(v).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
    }
    d.deserialize_f64(Ratio)
}

/// Runs `parse` on a string scalar while it is being visited.
pub(crate) fn parse_with<'de, D: Deserializer<'de>, T>(
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

pub(crate) fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    parse_with(d, parse_listen)
}

pub(crate) fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_url).map(Some)
}

pub fn parse_redis_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    match v.strip_prefix("redis://") {
        Some(rest) if !rest.is_empty() => Ok(v.to_owned()),
        _ => Err(format!(
            "`{v}` is not a redis:// URL (e.g. `redis://127.0.0.1:6379`)"
        )),
    }
}

pub fn parse_amqp_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    let rest = v
        .strip_prefix("amqp://")
        .or_else(|| v.strip_prefix("amqps://"));
    match rest {
        Some(r) if !r.is_empty() => Ok(v.to_owned()),
        _ => Err(format!(
            "`{v}` is not an amqp:// URL (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`)"
        )),
    }
}

pub fn amqp_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_amqp_url).map(Some)
}

pub fn redis_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_redis_url).map(Some)
}

pub(crate) fn level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parse_with(d, parse_level).map(Some)
}

pub(crate) fn header_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
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

/// A CORS origin: `*`, or `scheme://host[:port]` with nothing after (lower-cased).
pub fn parse_origin(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v == "*" {
        return Ok(v.to_owned());
    }
    let lower = v.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(lower),
        _ => Err(format!(
            "`{v}` is not an origin (`https://app.example.com`, `http://localhost:3000`, or `*`)"
        )),
    }
}

pub(crate) fn origins<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Origin(String);
    impl<'de> Deserialize<'de> for Origin {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Origin, D::Error> {
            parse_with(d, parse_origin).map(Origin)
        }
    }
    Ok(Vec::<Origin>::deserialize(d)?
        .into_iter()
        .map(|o| o.0)
        .collect())
}
