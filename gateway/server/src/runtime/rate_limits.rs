//! The gateway's rate limits on client requests (`rate_limit.global`, `rate_limit.client`)
//! and the per-subgraph limiters handed to the engine (`rate_limit.subgraph`,
//! `rate_limit.subgraphs`). The decisions are `weft_executor::rate_limit`'s; this module picks
//! the key of a request and says which limit refused it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use weft_config::model::{RateConfig, RateLimitConfig};
use weft_config::values::{ClientKey, ClientKeyKind};
use weft_executor::ExecutorMetrics;
use weft_executor::rate_limit::gcra::Rate;
use weft_executor::rate_limit::{Limiter, redis::Shared};

use super::auth::Identity;

/// The client-facing limits of one configuration; kept across reloads that leave
/// `rate_limit` as it was (`reload`), so a reload does not forgive anyone.
pub struct RateLimits {
    global: Option<Limiter>,
    client: Option<(Limiter, ClientKey)>,
    /// The Redis shared by the subgraphs' limiters too.
    shared: Option<Arc<Shared>>,
}

/// A request refused: by which limit, and how long until it would be admitted.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    pub limit: &'static str,
    pub wait: Duration,
}

fn rate(config: &RateConfig) -> Option<Rate> {
    Rate::new(config.requests, config.interval(), config.burst())
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> RateLimits {
        let shared = config
            .redis
            .url
            .as_ref()
            .and_then(|url| Shared::new(url.as_str(), &config.redis.key_prefix))
            .map(Arc::new);
        RateLimits {
            global: rate(&config.global).map(|r| Limiter::new("global", r, shared.clone())),
            client: rate(&config.client.rate()).map(|r| {
                (
                    Limiter::new("client", r, shared.clone()),
                    config.client.key.clone(),
                )
            }),
            shared,
        }
    }

    /// The limiter of subgraph `name`, if it has a rate.
    pub fn subgraph(&self, config: &RateLimitConfig, name: &str) -> Option<Arc<Limiter>> {
        let configured = config.subgraphs.get(name).unwrap_or(&config.subgraph);
        rate(configured).map(|r| Arc::new(Limiter::new("subgraph", r, self.shared.clone())))
    }

    /// Admits one client request, or says which limit refused it. The client limit is
    /// checked first: a client over its own rate does not spend the gateway's.
    pub async fn admit(
        &self,
        headers: &HeaderMap,
        identity: &Identity,
        peer: Option<IpAddr>,
        metrics: &dyn ExecutorMetrics,
    ) -> Result<(), Refused> {
        if let Some((limiter, key)) = &self.client {
            let key = client_key(key, headers, identity, peer);
            limiter.check(&key, metrics).await.map_err(|wait| Refused {
                limit: limiter.kind(),
                wait,
            })?;
        }
        if let Some(limiter) = &self.global {
            limiter.check("", metrics).await.map_err(|wait| Refused {
                limit: limiter.kind(),
                wait,
            })?;
        }
        Ok(())
    }
}

/// The client's key: the header's or claim's value (prefixed, so values of different kinds
/// never meet), else the peer address.
fn client_key(
    key: &ClientKey,
    headers: &HeaderMap,
    identity: &Identity,
    peer: Option<IpAddr>,
) -> String {
    let found = match key.kind() {
        ClientKeyKind::Address => None,
        ClientKeyKind::Header(name) => headers
            .get(&name)
            .map(|v| format!("h:{}", String::from_utf8_lossy(v.as_bytes()))),
        ClientKeyKind::Claim(claim) => identity
            .claims
            .as_ref()
            .and_then(|claims| claims.get(claim))
            .map(|v| match v {
                serde_json::Value::String(s) => format!("c:{s}"),
                other => format!("c:{other}"),
            }),
    };
    found.unwrap_or_else(|| match peer {
        Some(ip) => format!("a:{ip}"),
        None => "a:unknown".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_come_from_the_header_the_claim_or_the_address() {
        let mut headers = HeaderMap::new();
        headers.insert("x-client-id", "alpha".parse().unwrap());
        let claims = serde_json::json!({"sub": "u1", "tenant": 7});
        let identity = Identity {
            claims: claims.as_object().cloned(),
        };
        let peer = Some(IpAddr::from([10, 0, 0, 1]));
        let key = |k: &str| client_key(&k.parse().unwrap(), &headers, &identity, peer);
        assert_eq!(key("header:x-client-id"), "h:alpha");
        assert_eq!(key("claim:sub"), "c:u1");
        assert_eq!(key("claim:tenant"), "c:7");
        assert_eq!(key("address"), "a:10.0.0.1");
        // Missing: the address.
        assert_eq!(key("header:x-other"), "a:10.0.0.1");
        assert_eq!(key("claim:email"), "a:10.0.0.1");
    }
}
