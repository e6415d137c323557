//! The playground: our own small GraphQL IDE for browsers (docs/playground.md), plain HTML,
//! CSS and JavaScript embedded in the binary. A `GET` of `/` or `/graphql` whose `Accept`
//! prefers `text/html` (a browser navigating there) gets the page; its script and stylesheet
//! are under `/playground/`. Everything else is a GraphQL request as before. Off with
//! `playground.enabled: false`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::runtime::Live;

const HTML: &str = include_str!("playground/index.html");
const JS: &str = include_str!("playground/playground.js");
const CSS: &str = include_str!("playground/playground.css");

/// Everything the page loads comes from the gateway itself; nothing inline but the
/// `data:` favicon (which stops the browser asking for `/favicon.ico`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// In front of the GraphQL routes (and their metrics): a browser's navigation gets the page.
pub async fn intercept(State(live): State<Arc<Live>>, request: Request, next: Next) -> Response {
    if live.current().config.playground.enabled && wants_html(request.method(), request.headers()) {
        return asset("text/html", HTML);
    }
    next.run(request).await
}

/// `GET /playground/playground.js`.
pub async fn script(State(live): State<Arc<Live>>) -> Response {
    enabled_asset(&live, "text/javascript", JS)
}

/// `GET /playground/playground.css`.
pub async fn stylesheet(State(live): State<Arc<Live>>) -> Response {
    enabled_asset(&live, "text/css", CSS)
}

fn enabled_asset(live: &Live, media: &str, body: &'static str) -> Response {
    if live.current().config.playground.enabled {
        asset(media, body)
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

fn asset(media: &str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("{media}; charset=utf-8")) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
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
