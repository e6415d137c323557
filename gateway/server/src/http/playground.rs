//! The playground: GraphiQL 5 with Weft's query-plan plugin (docs/playground.md), bundled at
//! build time (`build.rs`, `gateway/server/playground/`) and embedded in the binary. A `GET`
//! of `/` or `/graphql` whose `Accept` prefers `text/html` (a browser navigating there) gets
//! the page; its script, styles, web workers and font are under `/playground/`. Everything
//! else is a GraphQL request as before. Off with `playground.enabled: false`.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::edge;
use crate::runtime::Live;

mod assets;
mod page;

/// In front of the GraphQL routes (and their metrics): a browser's navigation gets the page.
pub async fn intercept(State(live): State<Arc<Live>>, request: Request, next: Next) -> Response {
    if live.current().config.playground.enabled && wants_html(request.method(), request.headers()) {
        let body = match assets::UNBUNDLED {
            None => page::GRAPHIQL.as_bytes().to_vec(),
            Some(why) => page::unbundled(why).into_bytes(),
        };
        return with_headers(body.into_response(), "text/html; charset=utf-8", None);
    }
    next.run(request).await
}

/// `GET /playground/{file}`: a file of the bundle. Revalidated on each load (`no-cache`)
/// against an `ETag` that changes with the bundle's inputs, so a rebuilt binary's files are
/// never mixed with cached old ones and an unchanged one costs a 304.
pub async fn asset(
    State(live): State<Arc<Live>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !live.current().config.playground.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some((place, asset)) = assets::find(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", assets::VERSION);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if accepts_gzip(&headers) {
        // Compressed once for all requests, off the runtime the first time.
        let gzipped = tokio::task::spawn_blocking(assets::gzipped).await;
        match gzipped.ok().and_then(|all| all.get(place)) {
            Some(body) => {
                let mut response = body.clone().into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                response
            }
            None => asset.body.into_response(),
        }
    } else {
        asset.body.into_response()
    };
    // Sent as it is: the compression layer would compress it again on every request.
    response.extensions_mut().insert(edge::Precompressed);
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    with_headers(response, asset.media, Some(&etag))
}

/// Whether `Accept-Encoding` takes gzip (named, or `*`, with a `q` above 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn with_headers(mut response: Response, media: &'static str, etag: Option<&str>) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(page::CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// A `GET` (or `HEAD`) whose `Accept` names `text/html` with a higher `q` than either
/// GraphQL media type named exactly. Wildcards count for neither, so a browser's navigation
/// (`text/html,…,*/*;q=0.8`) gets the page and a client listing a JSON type keeps GraphQL.
pub fn wants_html(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    let mut html = 0u16;
    let mut graphql = 0u16;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1000), |(_, v)| quality(v.trim()))
                .unwrap_or(0);
            match media.as_str() {
                "text/html" => html = html.max(q),
                "application/json" | "application/graphql-response+json" => {
                    graphql = graphql.max(q);
                }
                _ => {}
            }
        }
    }
    html > 0 && html > graphql
}

/// A `q` value in thousandths (`0.8` → 800); `None` when malformed.
fn quality(value: &str) -> Option<u16> {
    let q: f32 = value.parse().ok()?;
    (0.0..=1.0)
        .contains(&q)
        .then(|| (q * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn html(method: Method, accept: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, accept.parse().unwrap());
        wants_html(&method, &h)
    }

    #[test]
    fn browsers_get_the_page_and_clients_get_graphql() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                      image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert!(html(Method::GET, chrome));
        assert!(html(Method::HEAD, "text/html"));
        assert!(!html(Method::POST, "text/html"));
        assert!(!html(Method::GET, "*/*"));
        assert!(!html(Method::GET, "application/json"));
        assert!(!html(Method::GET, "text/html, application/json"));
        assert!(!html(Method::GET, "text/html;q=0.5, application/json"));
        assert!(html(Method::GET, "text/html, application/json;q=0.9"));
        assert!(!html(Method::GET, "text/html;q=0"));
        assert!(!html(Method::GET, "text/html;q=x"));
        assert!(!html(
            Method::GET,
            "text/html, */*;q=0.1, application/graphql-response+json"
        ));
        assert!(!wants_html(&Method::GET, &HeaderMap::new()));
    }
}
