//! `server:` in weft.yaml: what protects the HTTP server itself, whatever the operations ask
//! (docs/http.md#server-limits). Every value is on by default; `0` switches one off.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

/// What protects the HTTP server: connection and request timeouts, the in-flight request limit, the
/// response size cap (docs/http.md). `0` switches one off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Milliseconds a client has to send a request's headers: from the connection's opening, or
    /// from the first byte of a later request on a kept-alive connection. Past it the connection is
    /// closed (no answer: the request never arrived). `0`: no limit.
    #[schemars(example = serde_json::json!(5000))]
    pub header_read_timeout_ms: u64,
    /// Milliseconds a client has to send a request's body once its headers arrived. Past it: 408
    /// `BODY_READ_TIMEOUT`, and the connection is closed. `0`: no limit.
    #[schemars(example = serde_json::json!(30000))]
    pub body_read_timeout_ms: u64,
    /// Milliseconds a kept-alive connection may stay open waiting for its next request (and, once a
    /// response is handed over, for the client to read it). Past it the connection is closed. `0`:
    /// no limit.
    #[schemars(example = serde_json::json!(120000))]
    pub idle_timeout_ms: u64,
    /// Milliseconds a GraphQL request may take from its headers to its answer (body, parsing,
    /// planning, subgraph requests). Past it: 504 `GATEWAY_TIMEOUT`, and the request's work is
    /// dropped. `0`: no limit.
    #[schemars(example = serde_json::json!(60000))]
    pub request_timeout_ms: u64,
    /// GraphQL requests handled at once (a batch counts once). More are refused at once: 503
    /// `SERVER_OVERLOADED` with `Retry-After: 1`. `/health`, `/ready` and `/metrics` are not
    /// counted. `0`: no limit.
    #[schemars(example = serde_json::json!(256))]
    pub max_in_flight: u64,
    /// The largest GraphQL response body sent, in bytes before compression (16 MiB by default).
    /// Over it the client gets 500 `RESPONSE_TOO_LARGE` instead. `0`: no limit.
    #[schemars(example = serde_json::json!(4194304))]
    pub max_response_bytes: u64,
    /// Work on GraphQL requests in a runtime of their own, apart from the one that accepts
    /// connections and answers `/health`. Off by default: parsing and planning (the CPU-heavy
    /// steps) already run on threads of their own, and the hand-over cost every request a
    /// quarter of its CPU on the public benchmark. A change needs a restart.
    #[schemars(example = serde_json::json!(true))]
    pub work_runtime: bool,
    /// Milliseconds between SIGTERM (or Ctrl-C) and closing the listener, during which `/ready`
    /// answers 503 while requests are still accepted: time for a load balancer that polls
    /// `/ready` to stop sending new ones. In Kubernetes a `preStop` sleep does the same.
    #[schemars(example = serde_json::json!(5000))]
    pub shutdown_delay_ms: u64,
    /// Milliseconds the requests in flight at shutdown have to finish once the listener is
    /// closed (each kept-alive connection's last answer says `Connection: close`). Past it the
    /// process exits anyway. `0`: no limit.
    #[schemars(example = serde_json::json!(10000))]
    pub shutdown_grace_ms: u64,
}

pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// A GraphQL request's body is small (2 MiB at most, usually a few KiB): 10 s is 200 KB/s for
/// the largest, and keeps a client that trickles its body from holding a connection long.
pub const DEFAULT_BODY_READ_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;
/// A 2-core gateway answers a few thousand requests a second; 512 at once is a backlog of
/// well over a second of work, past which waiting only grows memory and latency.
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 512;
/// Kubernetes sends SIGKILL 30 s after SIGTERM by default: requests get most of that.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 25_000;
/// 16 MiB: ten times the benchmark's heavy answer (1.4 MB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            body_read_timeout_ms: DEFAULT_BODY_READ_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            work_runtime: false,
            shutdown_delay_ms: 0,
            shutdown_grace_ms: DEFAULT_SHUTDOWN_GRACE_MS,
        }
    }
}

/// A duration in milliseconds, `None` for `0` (off).
pub fn millis(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// A limit, `None` for `0` (off).
pub fn limit(n: u64) -> Option<u64> {
    (n > 0).then_some(n)
}

impl ServerConfig {
    pub fn header_read_timeout(&self) -> Option<Duration> {
        millis(self.header_read_timeout_ms)
    }
    pub fn body_read_timeout(&self) -> Option<Duration> {
        millis(self.body_read_timeout_ms)
    }
    pub fn idle_timeout(&self) -> Option<Duration> {
        millis(self.idle_timeout_ms)
    }
    pub fn request_timeout(&self) -> Option<Duration> {
        millis(self.request_timeout_ms)
    }
    pub fn max_in_flight(&self) -> Option<u64> {
        limit(self.max_in_flight)
    }
    pub fn shutdown_delay(&self) -> Duration {
        Duration::from_millis(self.shutdown_delay_ms)
    }
    pub fn shutdown_grace(&self) -> Option<Duration> {
        millis(self.shutdown_grace_ms)
    }
    pub fn max_response_bytes(&self) -> Option<u64> {
        limit(self.max_response_bytes)
    }
}
