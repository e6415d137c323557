//! The span of each subgraph fetch, and the hook that carries its trace context to the
//! subgraph. Exporting spans (OpenTelemetry) is the server's: it gives the engine a
//! [`Propagate`] that writes the W3C headers; without one, subgraph requests carry the
//! client's trace context as the header rules pass it on.

use http::{HeaderName, HeaderValue};
use tracing::Span;

/// Puts `span`'s trace context in a subgraph request's headers (replacing the client's).
pub type Propagate = fn(&Span, &mut Vec<(HeaderName, HeaderValue)>);

/// The [`Propagate`] that changes nothing.
pub fn no_propagation(_: &Span, _: &mut Vec<(HeaderName, HeaderValue)>) {}

/// The span of one request to `subgraph` (Apollo's `subgraph` / Hive's `subgraph.execute`).
pub fn fetch_span(subgraph: &str, operation_kind: &str, url: &str) -> Span {
    tracing::info_span!(
        "subgraph.fetch",
        otel.kind = "client",
        subgraph.name = subgraph,
        graphql.operation.type = operation_kind,
        http.request.method = "POST",
        url.full = url,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
}
