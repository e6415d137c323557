//! `multipart/mixed` responses: the one writer for every GraphQL response sent in parts —
//! incremental delivery (`@defer`, `deferSpec=20220824`) now, multipart subscriptions
//! (`subscriptionSpec="1.0"`) next. Each payload is one JSON document; the writer frames it
//! as a part (`--graphql`, its `content-type`, the JSON) as soon as it arrives, and closes the
//! body (`--graphql--`) when the payloads end. The framing is the one Apollo Router writes
//! and Apollo Client, Relay (through `meros`) and urql read.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::Stream;

/// The boundary between parts.
const BOUNDARY: &str = "graphql";

/// What the parts carry: the value of the response's `Content-Type` says so to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec {
    /// `@defer`: an initial payload, then `incremental` ones, the last with `hasNext: false`.
    Defer,
    /// Subscriptions: one payload per event (and `{}` heartbeats).
    Subscription,
}

impl Spec {
    fn content_type(self) -> &'static str {
        match self {
            Spec::Defer => "multipart/mixed;boundary=\"graphql\";deferSpec=20220824",
            Spec::Subscription => "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\"",
        }
    }
}

/// A 200 response whose body is `payloads`, each a JSON document, written as parts of a
/// `multipart/mixed` body as they come. Dropping the body (the client left) drops `payloads`,
/// and with them the work producing them.
pub fn response<S>(spec: Spec, payloads: S) -> Response
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    let body = Body::from_stream(Framed {
        payloads: Box::pin(payloads),
        first: true,
        closed: false,
    });
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(spec.content_type()),
    );
    // Proxies must pass each part on as it comes, and so must the compression layer (an
    // encoder would hold the first part back until it had enough to compress).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response.extensions_mut().insert(super::edge::Precompressed);
    response
}

/// A payload framed as a part: its headers, a blank line, the JSON, and the delimiter after
/// it, so that a reader knows the part is whole as soon as this chunk arrives (not when the
/// next part comes). The first part also has the delimiter before it.
fn part(first: bool, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + 80);
    if first {
        out.extend_from_slice(format!("\r\n--{BOUNDARY}").as_bytes());
    }
    out.extend_from_slice(b"\r\ncontent-type: application/json; charset=utf-8\r\n\r\n");
    out.extend_from_slice(payload);
    out.extend_from_slice(format!("\r\n--{BOUNDARY}").as_bytes());
    Bytes::from(out)
}

/// What closes the body after the last part's delimiter (which it makes the close
/// delimiter); after no part at all, a whole close delimiter.
fn close(first: bool) -> Bytes {
    if first {
        Bytes::from(format!("\r\n--{BOUNDARY}--\r\n"))
    } else {
        Bytes::from_static(b"--\r\n")
    }
}

/// The body: each payload framed, then the close delimiter.
struct Framed {
    payloads: Pin<Box<dyn Stream<Item = Bytes> + Send>>,
    /// No part was written yet.
    first: bool,
    closed: bool,
}

impl Stream for Framed {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.closed {
            return Poll::Ready(None);
        }
        match self.payloads.as_mut().poll_next(cx) {
            Poll::Ready(Some(payload)) => {
                let first = std::mem::replace(&mut self.first, false);
                Poll::Ready(Some(Ok(part(first, &payload))))
            }
            Poll::Ready(None) => {
                self.closed = true;
                Poll::Ready(Some(Ok(close(self.first))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn payloads_are_framed_as_parts_then_closed() {
        let payloads = futures::stream::iter([
            Bytes::from_static(br#"{"data":{},"hasNext":true}"#),
            Bytes::from_static(br#"{"hasNext":false}"#),
        ]);
        let response = response(Spec::Defer, payloads);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "multipart/mixed;boundary=\"graphql\";deferSpec=20220824"
        );
        let mut body = response.into_body().into_data_stream();
        let mut chunks = Vec::new();
        while let Some(chunk) = body.next().await {
            chunks.push(String::from_utf8(chunk.unwrap().to_vec()).unwrap());
        }
        // Each chunk ends with the delimiter after its part: the part is whole on arrival.
        assert_eq!(
            chunks,
            [
                "\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{\"data\":{},\"hasNext\":true}\r\n--graphql",
                "\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{\"hasNext\":false}\r\n--graphql",
                "--\r\n",
            ]
        );
        let empty = response_of_nothing().await;
        assert_eq!(empty, "\r\n--graphql--\r\n");
    }

    async fn response_of_nothing() -> String {
        let response = response(Spec::Defer, futures::stream::empty());
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
