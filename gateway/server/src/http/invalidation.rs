//! `POST /admin/entity-cache/invalidate` (docs/entity-cache.md): evicts entity cache entries
//! by type and key fields. Served only when `entity_cache.invalidation_token` is set, to
//! requests carrying it as a bearer token.
//!
//! Body: `{"type": "Product", "key": {"upc": "1"}}` (without `key`: every entry of the type),
//! or a list of those.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::runtime::Live;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    #[serde(rename = "type")]
    typename: String,
    #[serde(default)]
    key: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    One(Target),
    Many(Vec<Target>),
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Compares without stopping at the first difference, so timing does not reveal a prefix.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn invalidate(
    State(live): State<Arc<Live>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let runtime = live.current();
    let (Some(token), Some(cache)) = (
        runtime.config.entity_cache.invalidation_token.as_deref(),
        runtime.engine.entity_cache(),
    ) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same(presented.trim().as_bytes(), token.as_bytes()) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "send `Authorization: Bearer <entity_cache.invalidation_token>`" }),
        );
    }
    let targets = match serde_json::from_slice::<Body>(&body) {
        Ok(Body::One(t)) => vec![t],
        Ok(Body::Many(list)) => list,
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("expected {{\"type\": \"T\", \"key\": {{...}}}} or a list of them: {e}") }),
            );
        }
    };
    for t in &targets {
        cache.invalidate(&t.typename, &t.key).await;
    }
    cache.flush();
    answer(StatusCode::OK, json!({ "invalidated": targets.len() }))
}
