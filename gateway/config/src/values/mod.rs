//! The single values of `weft.yaml` that need more checking than their YAML type gives:
//! addresses, URLs, header names, origins, log filters, ratios. Each is a small type holding
//! a value known to be valid ([`ListenAddr`], [`HttpUrl`], [`HeaderName`], ...), read with
//! [`FromStr`](std::str::FromStr) or `TryFrom<String>` and failing with a [`ValueError`]. Their
//! `Deserialize` runs that check while the scalar is visited, so that a bad value is reported
//! at its own line:col (serde_yaml_ng locates errors raised there); their schema is the YAML
//! type they are written as. The JWT algorithm names are `auth.rs`'s
//! ([`crate::auth::JwtAlgorithm`]).

mod address;
mod client_key;
mod error;
mod header;
mod log_filter;
mod ratio;
pub(crate) mod text;
mod urls;

use std::fmt;
use std::marker::PhantomData;
use std::num::{NonZeroU32, NonZeroU64};
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};

pub use address::ListenAddr;
pub use client_key::{ClientKey, ClientKeyKind};
pub use error::ValueError;
pub use header::HeaderName;
pub(crate) use header::known as known_headers;
pub use log_filter::LogFilter;
pub use ratio::Ratio;
pub use urls::{AmqpUrl, HttpUrl, Origin, RedisUrl};

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

/// `true`/`false`/`1`/`0`, any case: a boolean as an environment variable gives it.
pub fn parse_bool(v: &str) -> Result<bool, ValueError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ValueError::Boolean(v.to_owned())),
    }
}

/// Reads a string scalar as a `T`, parsed while it is visited so that its error is located.
pub(crate) fn from_scalar<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err: fmt::Display>,
{
    struct Scalar<T>(PhantomData<T>);
    impl<T: FromStr<Err: fmt::Display>> Visitor<'_> for Scalar<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            v.parse().map_err(E::custom)
        }
    }
    d.deserialize_str(Scalar(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_keeps_its_message() {
        let message = |e: ValueError| e.to_string();
        assert_eq!(
            message("localhost".parse::<ListenAddr>().unwrap_err()),
            "`localhost` is not an IP address and port (e.g. `0.0.0.0:4000`, `[::1]:4000`)"
        );
        assert_eq!(
            message("ftp://x".parse::<HttpUrl>().unwrap_err()),
            "`ftp://x` is not an http:// or https:// URL"
        );
        assert_eq!(
            message("Bad Header".parse::<HeaderName>().unwrap_err()),
            "`bad header` is not an HTTP header name"
        );
        assert_eq!(
            message("verbose".parse::<LogFilter>().unwrap_err()),
            "`verbose` is not a log level; e.g. `info`, or a filter such as `weft=debug,warn`"
        );
        assert!(
            message("weft=loud".parse::<LogFilter>().unwrap_err())
                .starts_with("`weft=loud` is not a log filter (")
        );
        assert_eq!(
            message(parse_bool("yes").unwrap_err()),
            "`yes` is not a boolean (true or false)"
        );
        assert_eq!(
            message(Ratio::new(2.0).unwrap_err()),
            "`2` is not a number from 0 to 1"
        );
        assert_eq!(
            message("http://r".parse::<RedisUrl>().unwrap_err()),
            "`http://r` is not a redis:// URL (e.g. `redis://127.0.0.1:6379`)"
        );
        assert_eq!(
            message("amqp://".parse::<AmqpUrl>().unwrap_err()),
            "`amqp://` is not an amqp:// URL (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`)"
        );
        assert_eq!(
            message("https://a.example/x".parse::<Origin>().unwrap_err()),
            "`https://a.example/x` is not an origin (`https://app.example.com`, \
             `http://localhost:3000`, or `*`)"
        );
    }

    #[test]
    fn values_are_normalized_and_read_as_text() {
        let header: HeaderName = " X-Mine ".parse().unwrap();
        assert_eq!(header, "x-mine");
        assert_eq!(header.len(), 6);
        let origin: Origin = "HTTPS://App.Example.com".parse().unwrap();
        assert_eq!(origin.as_str(), "https://app.example.com");
        assert!("*".parse::<Origin>().unwrap().is_any());
        let url = HttpUrl::try_from(" http://p:1/graphql ".to_owned()).unwrap();
        assert_eq!(String::from(url), "http://p:1/graphql");
        assert_eq!(" info ".parse::<LogFilter>().unwrap(), "info");
        assert_eq!("[::1]:4000".parse::<ListenAddr>().unwrap().port(), 4000);
        assert_eq!(Ratio::new(0.5).map(Ratio::get), Ok(0.5));
        assert!(parse_bool(" TRUE ").unwrap() && !parse_bool("0").unwrap());
    }

    #[test]
    fn values_deserialize_and_serialize_as_their_text() {
        let urls: Vec<RedisUrl> =
            serde_yaml_ng::from_str("[redis://a:1, \" redis://b:2 \"]").unwrap();
        assert_eq!(urls, ["redis://a:1", "redis://b:2"]);
        assert_eq!(
            serde_json::to_string(&urls).unwrap(),
            r#"["redis://a:1","redis://b:2"]"#
        );
        let listen: ListenAddr = serde_yaml_ng::from_str("0.0.0.0:4000").unwrap();
        assert_eq!(serde_json::to_string(&listen).unwrap(), r#""0.0.0.0:4000""#);
        let ratio: Ratio = serde_yaml_ng::from_str("1").unwrap();
        assert_eq!(serde_json::to_string(&ratio).unwrap(), "1.0");
        let err =
            serde_yaml_ng::from_str::<Vec<Origin>>("- https://a.example\n- nope\n").unwrap_err();
        assert_eq!(err.location().map(|l| (l.line(), l.column())), Some((2, 3)));
    }
}
