//! What identifies a client to its rate limit (`rate_limit.client.key`): `address` (the
//! connection's peer), `header:<name>` (a header's value), or `claim:<name>` (a claim of the
//! verified JWT).

use std::str::FromStr;

use super::ValueError;
use super::text::text_value;

/// `address`, `header:<name>` or `claim:<name>`, as written (header names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

/// A [`ClientKey`] taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeyKind<'a> {
    Address,
    Header(http::HeaderName),
    Claim(&'a str),
}

impl ClientKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> ClientKeyKind<'_> {
        if let Some(name) = self.0.strip_prefix("header:")
            && let Ok(name) = http::HeaderName::from_bytes(name.as_bytes())
        {
            return ClientKeyKind::Header(name);
        }
        match self.0.strip_prefix("claim:") {
            Some(claim) => ClientKeyKind::Claim(claim),
            // Checked when read: nothing else gets here.
            None => ClientKeyKind::Address,
        }
    }
}

impl Default for ClientKey {
    fn default() -> ClientKey {
        ClientKey("address".to_owned())
    }
}

impl FromStr for ClientKey {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<ClientKey, ValueError> {
        let v = v.trim();
        if v == "address" {
            return Ok(ClientKey::default());
        }
        if let Some(name) = v.strip_prefix("header:") {
            let name = name.trim().to_ascii_lowercase();
            if http::HeaderName::from_bytes(name.as_bytes()).is_ok() {
                return Ok(ClientKey(format!("header:{name}")));
            }
        }
        if let Some(claim) = v.strip_prefix("claim:").map(str::trim)
            && !claim.is_empty()
        {
            return Ok(ClientKey(format!("claim:{claim}")));
        }
        Err(ValueError::ClientKey(v.to_owned()))
    }
}

text_value!(ClientKey);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_read_and_refused() {
        let k: ClientKey = "header:X-Client-Id".parse().unwrap();
        assert_eq!(k.as_str(), "header:x-client-id");
        assert_eq!(
            k.kind(),
            ClientKeyKind::Header(http::HeaderName::from_static("x-client-id"))
        );
        assert_eq!(
            "claim:sub".parse::<ClientKey>().unwrap().kind(),
            ClientKeyKind::Claim("sub")
        );
        assert_eq!(ClientKey::default().kind(), ClientKeyKind::Address);
        for bad in ["ip", "header:", "header:a b", "claim:"] {
            assert!(bad.parse::<ClientKey>().is_err(), "{bad}");
        }
    }
}
