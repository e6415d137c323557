//! `server:` in weft.yaml: what protects the HTTP server itself, whatever the operations ask
//! (docs/http.md#server-limits). Every value is on by default; `0` switches one off.

use std::time::Duration;

use serde::Deserialize;

/// Connection timeouts, a whole-request timeout, the in-flight request limit, the response
/// size cap, and where requests are worked on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// From a connection's opening, or from the first byte of a request on a kept-alive
    /// connection, to the end of that request's headers; past it the connection is closed.
    pub header_read_timeout_ms: u64,
    /// From the end of the headers to the end of the body; past it: 408 `BODY_READ_TIMEOUT`
    /// and the connection is closed.
    pub body_read_timeout_ms: u64,
    /// How long a kept-alive connection may wait for its next request's first byte.
    pub idle_timeout_ms: u64,
    /// The most a GraphQL request may take, body read included; past it: 504
    /// `GATEWAY_TIMEOUT` and its work is dropped.
    pub request_timeout_ms: u64,
    /// GraphQL requests handled at once; more are shed: 503 `SERVER_OVERLOADED` with
    /// `Retry-After`.
    pub max_in_flight: u64,
    /// The largest response body sent; over it: 500 `RESPONSE_TOO_LARGE` instead.
    pub max_response_bytes: u64,
    /// GraphQL requests worked on by a runtime of their own, so CPU-heavy ones cannot starve
    /// the accept loop and `/health` (read at start).
    pub work_runtime: bool,
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
            work_runtime: true,
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
    pub fn max_response_bytes(&self) -> Option<u64> {
        limit(self.max_response_bytes)
    }
}

/// A whole number, `0` included (for `server.*`: `0` is off).
pub fn parse_u64(v: &str) -> Result<u64, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a whole number (0 switches it off)"))
}
