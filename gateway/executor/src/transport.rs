//! Sending GraphQL requests to subgraphs: one pooled HTTP client, bodies written and read as
//! bytes, errors that say which stage failed. The client speaks HTTP/1.1, HTTP/2 or both as
//! the subgraph's `http2` setting says, and TLS (rustls) trusting the built-in roots (Mozilla's,
//! from webpki-roots) plus the subgraph's CA file (docs/traffic.md#http-versions-and-tls).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use weft_config::model::Http2;

/// A GraphQL request as sent to a subgraph. `V`, the variables, is a JSON map, or anything
/// written as one (a plan's fetches add their representations as text: `exec/outgoing.rs`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest<'a, V: ?Sized = serde_json::Map<String, serde_json::Value>> {
    pub query: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<&'a V>,
    /// Request extensions (e.g. forwarded token claims).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<&'a serde_json::Value>,
}

/// A subgraph's answer: status and the raw body, parsed only when asked.
#[derive(Debug, Clone)]
pub struct SubgraphResponse {
    pub status: u16,
    pub body: Bytes,
    /// `Cache-Control` and `Age`, for the entity cache.
    pub cache_control: Option<String>,
    pub age: Option<String>,
}

impl SubgraphResponse {
    pub fn json(&self) -> Result<serde_json::Value, FetchError> {
        serde_json::from_slice(&self.body).map_err(FetchError::InvalidJson)
    }
}

/// Why a subgraph request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("could not reach the subgraph: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("the subgraph answered HTTP {status}")]
    Status { status: u16, body: Bytes },
    #[error("the subgraph's response is not JSON: {0}")]
    InvalidJson(serde_json::Error),
    #[error("could not encode the request: {0}")]
    Encode(serde_json::Error),
    /// The answer was longer than the subgraph's `max_response_bytes`; reading stopped there.
    #[error("the subgraph's response is larger than {limit} bytes")]
    TooLarge { limit: u64 },
}

impl FetchError {
    /// Whether the request (or reading its answer) ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, FetchError::Transport(e) if e.is_timeout())
    }
}

/// Why a subgraph's HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA file's PEM blocks could not be read as certificates.
    #[error("the CA file's certificates cannot be read: {0}")]
    CaCertificates(reqwest::Error),
    /// The client refused its settings (a CA certificate rustls cannot use, say).
    #[error("the HTTP client cannot be built: {0}")]
    Build(#[from] reqwest::Error),
}

/// How a client reaches its subgraph, beyond its timeout.
#[derive(Debug, Clone, Copy, Default)]
pub struct Connection<'a> {
    /// Which HTTP versions it speaks.
    pub http2: Http2,
    /// CA certificates (PEM) trusted besides the built-in roots.
    pub ca_pem: Option<&'a [u8]>,
}

/// The largest subgraph answer read by default (32 MiB; `subgraphs.all.max_response_bytes`).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// A pooled HTTP client for subgraph requests (cheap to clone; clones share the pool).
#[derive(Debug, Clone)]
pub struct SubgraphClient {
    http: reqwest::Client,
    /// Answers longer than this fail (`FetchError::TooLarge`) without being read further.
    max_response_bytes: u64,
}

impl SubgraphClient {
    /// A client whose requests time out after `timeout`, taking answers of at most
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], speaking HTTP/1.1 and trusting the built-in roots.
    pub fn new(timeout: Duration) -> Result<SubgraphClient, ClientError> {
        SubgraphClient::connecting(timeout, Connection::default())
    }

    /// Like [`SubgraphClient::new`], reaching the subgraph as `connection` says.
    pub fn connecting(
        timeout: Duration,
        connection: Connection<'_>,
    ) -> Result<SubgraphClient, ClientError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60));
        builder = match connection.http2 {
            // Without this, ALPN would offer `h2` to https:// subgraphs.
            Http2::Off => builder.http1_only(),
            // reqwest's default: `h2` and `http/1.1` offered over TLS, HTTP/1.1 in cleartext.
            Http2::Negotiate => builder,
            // h2c with prior knowledge in cleartext, `h2` alone offered over TLS.
            Http2::Only => builder.http2_prior_knowledge(),
        };
        // Over HTTP/2, subgraphs may send frames of up to 1 MiB, not hyper's 16 KiB: an answer of
        // 1.4 MB is then 2 frames rather than ~90, which cost the subgraph's server and the
        // gateway a frame each (bench/README.md, "HTTP/2 to subgraphs"). No effect on HTTP/1.1.
        builder = builder.http2_max_frame_size(1 << 20);
        if let Some(pem) = connection.ca_pem {
            let certificates =
                reqwest::Certificate::from_pem_bundle(pem).map_err(ClientError::CaCertificates)?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Ok(SubgraphClient {
            http: builder.build()?,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        })
    }

    /// The same client, taking answers of at most `limit` bytes.
    /// The largest answer read.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    pub fn with_max_response_bytes(mut self, limit: u64) -> SubgraphClient {
        self.max_response_bytes = limit;
        self
    }

    /// POSTs `request` to `url`; a non-2xx status is an error carrying the body.
    pub async fn post(
        &self,
        url: &str,
        request: &GraphQLRequest<'_>,
    ) -> Result<SubgraphResponse, FetchError> {
        self.post_with_headers(url, request, &[]).await
    }

    /// Like [`SubgraphClient::post`], with extra request headers (a name may repeat). The
    /// caller keeps `content-type`, `accept` and other transport headers out of `headers`:
    /// the client sets those itself.
    pub async fn post_with_headers(
        &self,
        url: &str,
        request: &GraphQLRequest<'_>,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<SubgraphResponse, FetchError> {
        let body = serde_json::to_vec(request).map_err(FetchError::Encode)?;
        self.post_raw(url, body, headers).await
    }

    /// Like [`SubgraphClient::post_with_headers`], with the request already encoded.
    pub async fn post_raw(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<SubgraphResponse, FetchError> {
        let mut builder = self.http.post(url);
        for (name, value) in headers {
            builder = builder.header(name.clone(), value.clone());
        }
        let response = builder
            .header("content-type", "application/json")
            .header(
                "accept",
                "application/graphql-response+json, application/json",
            )
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let cache_control = header("cache-control");
        let age = header("age");
        let body = read_body(response, self.max_response_bytes).await?;
        if !(200..300).contains(&status) {
            return Err(FetchError::Status { status, body });
        }
        Ok(SubgraphResponse {
            status,
            body,
            cache_control,
            age,
        })
    }
}

/// The body, read chunk by chunk as it arrives and abandoned (the connection dropped) as soon
/// as it passes `limit`: a subgraph cannot make the gateway hold more than that per fetch.
/// Chunks are kept as they came and joined once at the end: a growing buffer would be
/// reallocated again and again, and a big answer would cost several times its size.
async fn read_body(mut response: reqwest::Response, limit: u64) -> Result<Bytes, FetchError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { limit });
    }
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total: u64 = 0;
    while let Some(chunk) = response.chunk().await? {
        total += chunk.len() as u64;
        if total > limit {
            return Err(FetchError::TooLarge { limit });
        }
        chunks.push(chunk);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        // Most answers come in one chunk: no copy.
        1 => chunks.swap_remove(0),
        _ => {
            let mut body = Vec::with_capacity(total as usize);
            for chunk in chunks {
                body.extend_from_slice(&chunk);
            }
            body.into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(1);

    #[test]
    fn every_http_version_setting_builds_a_client() {
        for http2 in [Http2::Off, Http2::Negotiate, Http2::Only] {
            let connection = Connection {
                http2,
                ca_pem: None,
            };
            assert!(SubgraphClient::connecting(TIMEOUT, connection).is_ok());
        }
    }

    #[test]
    fn ca_certificates_that_cannot_be_used_are_refused() {
        let client = |pem: &[u8]| {
            SubgraphClient::connecting(
                TIMEOUT,
                Connection {
                    http2: Http2::Off,
                    ca_pem: Some(pem),
                },
            )
        };
        let not_base64 = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            client(not_base64),
            Err(ClientError::CaCertificates(_))
        ));
        // Well-framed, but "not a certificate" inside.
        let not_x509 =
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        assert!(matches!(client(not_x509), Err(ClientError::Build(_))));
    }
}
