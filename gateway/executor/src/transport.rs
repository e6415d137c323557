//! Sending GraphQL requests to subgraphs: one pooled HTTP client, bodies written and read as
//! bytes, errors that say which stage failed.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;

/// A GraphQL request as sent to a subgraph.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest<'a> {
    pub query: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<&'a serde_json::Value>,
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
    /// [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn new(timeout: Duration) -> Result<SubgraphClient, FetchError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(SubgraphClient {
            http,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        })
    }

    /// The same client, taking answers of at most `limit` bytes.
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
