//! What happens to every request before the routes, by the configuration being served (so a
//! reload applies): the header size limit (431), CORS (preflights answered, response headers
//! added), and switching compression off (`compression.enabled: false` hides `Accept-Encoding`
//! from the compression layer inside). See docs/http.md.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{And, Predicate, SizeAbove};
use weft_config::model::CorsConfig;
use weft_executor::{ErrorCode, GraphQLError};

use crate::runtime::Live;

/// Responses smaller than this are sent as they are: compressing them saves little or grows
/// them.
pub const COMPRESS_MIN_BYTES: u16 = 1024;

/// gzip and br, as `Accept-Encoding` asks (its `q` values included), for bodies of at least
/// [`COMPRESS_MIN_BYTES`], unless the response is marked [`Precompressed`].
pub fn compression() -> CompressionLayer<And<SizeAbove, NotPrecompressed>> {
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .compress_when(SizeAbove::new(COMPRESS_MIN_BYTES).and(NotPrecompressed))
}

/// A response extension: the body is sent as it is, compressed already or on purpose not
/// (the playground's files, compressed once rather than on every request).
#[derive(Clone, Copy)]
pub struct Precompressed;

/// The compression layer's predicate that leaves [`Precompressed`] responses alone.
#[derive(Clone, Copy)]
pub struct NotPrecompressed;

impl Predicate for NotPrecompressed {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        response.extensions().get::<Precompressed>().is_none()
    }
}

pub async fn edge(State(live): State<Arc<Live>>, mut request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let runtime = live.current();
    let config = runtime.config.clone();
    let limit = config.limits.max_header_bytes.get();
    let size: u64 = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().len() + value.len()) as u64)
        .sum();
    if size > limit {
        // Refused before the routes, so outside their metrics layer: a GraphQL request is
        // counted here (the other routes are not counted anyway).
        if matches!(request.uri().path(), "/" | "/graphql") {
            let metrics = &runtime.metrics;
            let status = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
            metrics.record_request(status, started.elapsed());
            metrics.record_error(ErrorCode::RequestHeaderFieldsTooLarge.as_str());
        }
        let body = GraphQLError::new(
            ErrorCode::RequestHeaderFieldsTooLarge,
            format!(
                "The request headers are {size} bytes, over the limit of {limit} bytes \
                 (`limits.max_header_bytes`)."
            ),
        )
        .into_response();
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response();
    }
    if !config.compression.enabled {
        request.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    drop(runtime);
    let cors = &config.cors;
    if cors.allow_origins.is_empty() {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.as_ref().and_then(|o| allow_origin(cors, o));
    let preflight = request.method() == Method::OPTIONS
        && origin.is_some()
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        // Answered here whatever the origin; without the CORS headers the browser stops.
        let mut r = StatusCode::NO_CONTENT.into_response();
        if allowed.is_some() {
            preflight_headers(cors, r.headers_mut());
        }
        r
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(value) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if cors.allow_credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
    response
}

/// The `Access-Control-Allow-Origin` value for this `Origin`, if it is allowed.
fn allow_origin(cors: &CorsConfig, origin: &HeaderValue) -> Option<HeaderValue> {
    let text = origin.to_str().ok()?.trim().to_ascii_lowercase();
    if cors.allow_origins.iter().any(|o| *o == *text) {
        return Some(origin.clone());
    }
    if cors.allow_origins.iter().any(|o| o.is_any()) {
        return Some(HeaderValue::from_static("*"));
    }
    None
}

fn preflight_headers(cors: &CorsConfig, headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, HEAD, OPTIONS"),
    );
    let allowed: Vec<&str> = cors.allow_headers.iter().map(|h| h.as_str()).collect();
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", "))
        && !cors.allow_headers.is_empty()
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
    }
    if let Some(secs) = cors.max_age_secs {
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(secs.get()),
        );
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u32));
}
