//! The HTTP surface of a subgraph: `POST /graphql` (single or batched JSON requests) and
//! `GET /health`.

use async_graphql::{BatchRequest, ObjectType, Schema, SubscriptionType};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The router serving `schema` at `/graphql`.
pub fn router<Q, M, S>(schema: Schema<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new()
        .route("/graphql", post(graphql::<Q, M, S>))
        .route("/health", get(|| async { "ok" }))
        .with_state(schema)
}

async fn graphql<Q, M, S>(State(schema): State<Schema<Q, M, S>>, body: Bytes) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            let body = serde_json::json!({
                "errors": [{
                    "message": format!("request body is not a GraphQL request: {err}"),
                    "extensions": { "code": "BAD_REQUEST" }
                }]
            });
            return json_response(StatusCode::BAD_REQUEST, body.to_string());
        }
    };
    let response = schema.execute_batch(request).await;
    match serde_json::to_string(&response) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(err) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "errors": [{ "message": err.to_string() }] }).to_string(),
        ),
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
