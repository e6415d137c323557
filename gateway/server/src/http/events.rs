//! A subscription's response: its payloads (`runtime/subscriptions.rs`) written as they come,
//! as server-sent events (`text/event-stream`) or as the parts of a
//! `multipart/mixed;subscriptionSpec="1.0"` body (through the one multipart writer).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::multipart;
use crate::runtime::subscriptions::{Format, Payloads};

/// A 200 response streaming `payloads`. Dropping the body (the client left) drops the
/// payloads, which ends the subscription.
pub fn response(payloads: Payloads) -> Response {
    match payloads.format {
        Format::Multipart => multipart::response(multipart::Spec::Subscription, payloads),
        // Only a WebSocket connection asks for raw results, and never through here.
        Format::Sse | Format::Raw => {
            let mut response = (
                StatusCode::OK,
                Body::from_stream(payloads.map(Ok::<_, std::convert::Infallible>)),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            // Proxies such as nginx hold event streams back unless told not to.
            headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
            response.extensions_mut().insert(super::edge::Precompressed);
            response
        }
    }
}
