//! `listen`: the address the server binds.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;

/// An IP address and port (`0.0.0.0:4000`, `[::1]:4000`); host names are not resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenAddr(SocketAddr);

impl ListenAddr {
    pub fn get(self) -> SocketAddr {
        self.0
    }
}

impl Deref for ListenAddr {
    type Target = SocketAddr;
    fn deref(&self) -> &SocketAddr {
        &self.0
    }
}

impl From<SocketAddr> for ListenAddr {
    fn from(addr: SocketAddr) -> ListenAddr {
        ListenAddr(addr)
    }
}

impl From<ListenAddr> for SocketAddr {
    fn from(addr: ListenAddr) -> SocketAddr {
        addr.0
    }
}

impl FromStr for ListenAddr {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<ListenAddr, ValueError> {
        v.trim()
            .parse()
            .map(ListenAddr)
            .map_err(|_| ValueError::ListenAddr(v.to_owned()))
    }
}

impl TryFrom<String> for ListenAddr {
    type Error = ValueError;
    fn try_from(text: String) -> Result<ListenAddr, ValueError> {
        text.parse()
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for ListenAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ListenAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ListenAddr, D::Error> {
        super::from_scalar(d)
    }
}

impl JsonSchema for ListenAddr {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ListenAddr".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}
