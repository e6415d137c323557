//! Harness for end-to-end tests: real subgraphs on ephemeral ports, real HTTP requests.

use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Running, Subgraph, spawn};

/// Starts subgraph `S` with a fresh in-memory database on `127.0.0.1:0`.
pub async fn start<S: Subgraph>() -> Running {
    // The batching tests assert one SQL query for N representations. DataLoader's window
    // (6 ms by default) starts at the first load; resolving 100 entities in a debug build on a
    // busy 2-core machine can take longer than that, splitting the batch. A wider window keeps
    // the property under test (batching) independent of machine load.
    weft_subgraph_kit::set_batch_window_ms(100);
    let db = open::<S>(None).await.expect("open subgraph database");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    spawn::<S>(listener, db).expect("spawn subgraph")
}

/// POSTs a GraphQL request and returns the parsed JSON response, failing on a non-200 status.
pub async fn graphql(url: &str, query: &str, variables: Value) -> Value {
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("send request");
    assert_eq!(response.status(), 200, "status for {query}");
    response.json().await.expect("JSON response")
}

/// The query every subgraph answers with its SDL.
pub const SERVICE_SDL: &str = "{ _service { sdl } }";
