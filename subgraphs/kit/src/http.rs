//! The HTTP surface of a subgraph: `POST /graphql` (single or batched JSON requests, or one
//! request answered as an event stream when `Accept` asks for `text/event-stream`: subscriptions,
//! see [`crate::sse`]) and `GET /health`.
//!
//! Every GraphQL response carries `Cache-Control`, computed by async-graphql from the
//! `cache_control` hints of the types and fields it resolved (the shortest `max-age` wins;
//! `no-cache` and `private` win over any `max-age`). The gateway's entity cache takes its TTL
//! from it. A response without hints, or with errors, is `no-cache`.

use std::sync::Arc;

use async_graphql::{
    BatchRequest, BatchResponse, ObjectType, SDLExportOptions, Schema, SubscriptionType, Value,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use futures::StreamExt;

use crate::sse::{self, Stopping};

/// The router serving `schema` at `/graphql`.
pub fn router<Q, M, S>(schema: Schema<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    serve(schema, None)
}

/// Like [`router`], for a subgraph whose SDL is async-graphql's passed through `rewrite`
/// (e.g. [`crate::federation::link_context`]): `_service { sdl }` answers the rewritten text,
/// the one the subgraph prints.
pub fn router_with_sdl<Q, M, S>(schema: Schema<Q, M, S>, rewrite: fn(&str) -> String) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    // What async-graphql answers to `_service { sdl }` (it prints with these options).
    let served = schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive());
    let sdl = ServedSdl {
        replacement: rewrite(&served),
        served,
    };
    serve(schema, Some(Arc::new(sdl)))
}

/// The SDL async-graphql serves and the one to serve instead.
struct ServedSdl {
    served: String,
    replacement: String,
}

impl ServedSdl {
    /// Replaces every string in `value` that is the SDL async-graphql served.
    fn replace_in(&self, value: &mut Value) {
        match value {
            Value::String(s) if *s == self.served => s.clone_from(&self.replacement),
            Value::List(items) => items.iter_mut().for_each(|v| self.replace_in(v)),
            Value::Object(fields) => fields.values_mut().for_each(|v| self.replace_in(v)),
            _ => {}
        }
    }
}

type AppState<Q, M, S> = (Schema<Q, M, S>, Option<Arc<ServedSdl>>);

fn serve<Q, M, S>(schema: Schema<Q, M, S>, sdl: Option<Arc<ServedSdl>>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new()
        .route("/graphql", post(graphql::<Q, M, S>))
        .route("/health", get(|| async { "ok" }))
        .with_state((schema, sdl))
}

async fn graphql<Q, M, S>(
    State((schema, sdl)): State<AppState<Q, M, S>>,
    stopping: Option<Extension<Stopping>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return bad_request(&format!("request body is not a GraphQL request: {err}"));
        }
    };
    // Only a request that asks for `_service` can carry the SDL: others are not walked.
    let asks_sdl = sdl.filter(|_| match &request {
        BatchRequest::Single(r) => r.query.contains("_service"),
        BatchRequest::Batch(rs) => rs.iter().any(|r| r.query.contains("_service")),
    });
    if sse::wants_event_stream(&headers) {
        let BatchRequest::Single(request) = request else {
            return bad_request("a batch cannot be answered as an event stream: send one request");
        };
        let results = schema.execute_stream(request);
        let results = match asks_sdl {
            Some(sdl) => results
                .map(move |mut r| {
                    sdl.replace_in(&mut r.data);
                    r
                })
                .boxed(),
            None => results,
        };
        return sse::response(results, stopping.map(|Extension(s)| s));
    }
    let mut response = schema.execute_batch(request).await;
    if let Some(sdl) = asks_sdl {
        match &mut response {
            BatchResponse::Single(r) => sdl.replace_in(&mut r.data),
            BatchResponse::Batch(rs) => rs.iter_mut().for_each(|r| sdl.replace_in(&mut r.data)),
        }
    }
    let cache_control = cache_control(&response);
    match serde_json::to_string(&response) {
        Ok(body) => {
            let mut response = json_response(StatusCode::OK, body);
            if let Ok(value) = header::HeaderValue::from_str(&cache_control) {
                response.headers_mut().insert(header::CACHE_CONTROL, value);
            }
            response
        }
        Err(err) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "errors": [{ "message": err.to_string() }] }).to_string(),
        ),
    }
}

/// `400` with a GraphQL error saying why the request cannot be run at all.
fn bad_request(message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": message,
            "extensions": { "code": "BAD_REQUEST" }
        }]
    });
    json_response(StatusCode::BAD_REQUEST, body.to_string())
}

/// The `Cache-Control` value for `response`.
fn cache_control(response: &BatchResponse) -> String {
    let has_errors = match response {
        BatchResponse::Single(r) => r.is_err(),
        BatchResponse::Batch(rs) => rs.iter().any(|r| r.is_err()),
    };
    if has_errors {
        return "no-cache".to_owned();
    }
    response
        .cache_control()
        .value()
        .unwrap_or_else(|| "no-cache".to_owned())
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
