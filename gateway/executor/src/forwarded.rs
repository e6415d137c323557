//! What a request's subgraph requests carry of its identity. The server's auth builds it from
//! a verified token (`auth.forward_header`, `auth.forward_extensions`); the executor sends it
//! and counts it in the entity cache's scope.

use http::{HeaderName, HeaderValue};
use serde_json::Value;

/// The verified claims, as configured to reach subgraphs.
#[derive(Debug, Clone, Default)]
pub struct Forwarded {
    /// `auth.forward_header`: the claims as JSON.
    pub header: Option<(HeaderName, HeaderValue)>,
    /// `auth.forward_extensions`: the key and the claims, in the request's `extensions`.
    pub extensions: Option<Value>,
}
