//! The metrics' HTTP side: `GET /metrics` (the metrics in the Prometheus text format) and the
//! middleware counting every GraphQL answer. The instruments are `observability::metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::observability::metrics::{CONTENT_TYPE, ErrorCodes};
use crate::runtime::Live;

/// `GET /metrics`.
pub async fn metrics_handler(State(live): State<Arc<Live>>) -> Response {
    let body = live.current().metrics.render();
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// Middleware for the GraphQL routes: counts each answer by status and times it, and counts
/// the errors the handler listed in an [`ErrorCodes`] response extension. The extension is
/// taken off the response (nothing after this reads it): its codes become the metrics' labels
/// as they are, without a copy.
pub async fn track(State(live): State<Arc<Live>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(request).await;
    let runtime = live.current();
    let metrics = &runtime.metrics;
    metrics.record_request(response.status(), started.elapsed());
    if let Some(codes) = response.extensions_mut().remove::<ErrorCodes>() {
        codes
            .0
            .into_iter()
            .for_each(|code| metrics.record_error(code));
    }
    response
}
