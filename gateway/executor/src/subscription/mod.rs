//! Subscriptions to subgraphs: the subscription's own operation (a plan's
//! `Subscription.primary`) sent to its subgraph over HTTP as server-sent events, the GraphQL
//! over SSE spec's distinct connections mode (`accept: text/event-stream`; each result an
//! `event: next`, then `event: complete`). A subgraph that answers with one JSON result
//! instead (it does not stream) gives that result as the only event.
//!
//! Streams have a client of their own: the subgraph client's timeout covers a whole request,
//! which a subscription outlives. This one bounds connecting, and the silence between two
//! reads ([`IDLE`]: subgraphs send heartbeats more often than that).

pub mod broker;
pub mod sse;
mod websocket;

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

/// The longest a subscription's stream may stay silent (no event, no heartbeat) before it is
/// taken as broken.
pub const IDLE: Duration = Duration::from_secs(60);
pub(super) const CONNECT: Duration = Duration::from_secs(10);

/// How subgraph streams are opened (`subgraphs.*.subscription_transport`).
pub use weft_config::model::SubscriptionTransport as Transport;

/// Why a subgraph subscription could not be opened or went wrong.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("HTTP request failed: {0}")]
    Http(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("the stream broke: {0}")]
    Sse(#[from] sse::SseError),
    #[error("an answer over {0} bytes")]
    TooLarge(usize),
}

/// The client streams are opened with.
pub fn client() -> Result<reqwest::Client, crate::ClientError> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(CONNECT)
        .read_timeout(IDLE)
        .http1_only()
        .build()
        .map_err(crate::ClientError::Build)
}

/// An open subscription on a subgraph: its results as they come, over SSE or WebSocket.
pub enum Source {
    Sse(SseSource),
    Ws(websocket::WsSource),
}

impl Source {
    /// Subscribes with `body` (the encoded GraphQL request) at `url` over `transport`.
    pub async fn open(
        client: &reqwest::Client,
        transport: Transport,
        url: &str,
        body: Vec<u8>,
        headers: &[(HeaderName, HeaderValue)],
        max_event_bytes: usize,
    ) -> Result<Source, SourceError> {
        match transport {
            Transport::Sse => SseSource::open(client, url, body, headers, max_event_bytes)
                .await
                .map(Source::Sse),
            Transport::Websocket => websocket::WsSource::open(url, &body, headers, max_event_bytes)
                .await
                .map(Source::Ws),
        }
    }

    /// The next result (an execution result's JSON text); `None` once the subgraph completed
    /// the subscription or the stream was cut (`completed` tells which).
    pub async fn next(&mut self) -> Option<Result<Bytes, SourceError>> {
        match self {
            Source::Sse(s) => s.next().await,
            Source::Ws(s) => s.next().await,
        }
    }

    /// Whether the subgraph ended the subscription (not a cut stream).
    pub fn completed(&self) -> bool {
        match self {
            Source::Sse(s) => s.completed,
            Source::Ws(s) => s.completed,
        }
    }
}

/// An open subscription over server-sent events.
pub struct SseSource {
    response: reqwest::Response,
    /// `None`: the subgraph answered with one JSON document, not a stream.
    reader: Option<sse::Reader>,
    events: VecDeque<sse::Event>,
    max_event_bytes: usize,
    pub(super) done: bool,
    /// The subgraph said the subscription is over (`complete`, or its one JSON answer was
    /// read): not a broken stream.
    pub(super) completed: bool,
}

impl SseSource {
    /// Sends `body` (the encoded GraphQL request) to `url` asking for a stream.
    pub async fn open(
        client: &reqwest::Client,
        url: &str,
        body: Vec<u8>,
        headers: &[(HeaderName, HeaderValue)],
        max_event_bytes: usize,
    ) -> Result<SseSource, SourceError> {
        let mut request = client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::ACCEPT,
                "text/event-stream, application/graphql-response+json;q=0.9, application/json;q=0.8",
            )
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SourceError::Http(e.to_string()))?;
        let streaming = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        if !response.status().is_success() && !streaming {
            // A GraphQL answer with a 4xx status still says why: read as the one result.
            let json = response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("json"));
            if !json {
                return Err(SourceError::Status(response.status().as_u16()));
            }
        }
        Ok(SseSource {
            response,
            reader: streaming.then(|| sse::Reader::new(max_event_bytes)),
            events: VecDeque::new(),
            max_event_bytes,
            done: false,
            completed: false,
        })
    }

    /// The next result (an execution result's JSON text); `None` once the subgraph completed
    /// the subscription or closed the stream.
    pub async fn next(&mut self) -> Option<Result<Bytes, SourceError>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                match event.name.as_str() {
                    "next" | "message" => return Some(Ok(Bytes::from(event.data))),
                    "complete" => {
                        self.done = true;
                        self.completed = true;
                        self.events.clear();
                        return None;
                    }
                    _ => continue,
                }
            }
            if self.done {
                return None;
            }
            let Some(reader) = self.reader.as_mut() else {
                self.done = true;
                self.completed = true;
                return Some(self.whole().await);
            };
            match self.response.chunk().await {
                Ok(Some(chunk)) => {
                    let mut out = Vec::new();
                    if let Err(e) = reader.feed(&chunk, &mut out) {
                        self.done = true;
                        return Some(Err(e.into()));
                    }
                    self.events.extend(out);
                }
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(SourceError::Http(e.to_string())));
                }
            }
        }
    }

    /// A JSON answer read whole, within the size limit.
    async fn whole(&mut self) -> Result<Bytes, SourceError> {
        let mut body = Vec::new();
        while let Some(chunk) = self
            .response
            .chunk()
            .await
            .map_err(|e| SourceError::Http(e.to_string()))?
        {
            if body.len() + chunk.len() > self.max_event_bytes {
                return Err(SourceError::TooLarge(self.max_event_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }
}
