#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Demand control end to end (docs/traffic.md): a supergraph composed from a subgraph whose
//! SDL carries `@cost` and `@listSize`, served by a small subgraph in this test that counts
//! its requests; `weft serve --config` as a real process in `measure` and `enforce` modes.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_federation::compose::SubgraphInput;

const BOOKS_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])
type Query {
  books(first: Int!): [Book!]! @listSize(slicingArguments: ["first"])
  bestseller: Book @cost(weight: 7)
}
type Book @key(fields: "id") { id: ID! title: String! author: Author }
type Author @cost(weight: 3) { name: String }
"#;

/// The books subgraph: any query gets five books with their authors; requests are counted.
async fn books() -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let seen = count.clone();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                let books: Vec<Value> = (1..=5)
                    .map(|i| json!({ "title": format!("Book {i}"), "author": { "name": "A" } }))
                    .collect();
                axum::Json(json!({ "data": { "books": books, "bestseller": books[0] } }))
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/graphql"), count)
}

async fn gateway(url: &str, mode: &str) -> (support::Process, String) {
    let supergraph = support::supergraph(&[SubgraphInput {
        name: "books".to_owned(),
        url: url.to_owned(),
        sdl: BOOKS_SDL.to_owned(),
        source: "books".to_owned(),
    }]);
    let port = url.rsplit(':').next().unwrap().trim_end_matches("/graphql");
    let dir = support::scratch(&format!("cost-{mode}"), port.parse().unwrap());
    std::fs::write(dir.join("supergraph.graphql"), supergraph).unwrap();
    let config = dir.join("weft.yaml");
    std::fs::write(
        &config,
        format!(
            "supergraph:\n  path: supergraph.graphql\ndemand_control:\n  mode: {mode}\n  \
             max: 100\n  list_size: 10\n"
        ),
    )
    .unwrap();
    let arg = config.display().to_string();
    support::serve(["--config", arg.as_str()])
}

async fn post(url: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .header("accept", "application/json")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const QUERY: &str = "query($n: Int!) { books(first: $n) { title author { name } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_refuses_operations_over_the_max_before_any_subgraph_request() {
    let (url, requests) = books().await;
    let (_gateway, gw) = gateway(&url, "enforce").await;

    // 5 books × (1 for the book + 3 for its author) = 20.
    let body = post(&gw, QUERY, json!({ "n": 5 })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["extensions"]["cost"]["estimated"], 20, "{body}");
    assert_eq!(body["data"]["books"].as_array().map(Vec::len), Some(5));
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // The slicing argument from the variables: 50 × 4 = 200, over 100.
    let body = post(&gw, QUERY, json!({ "n": 50 })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "COST_ESTIMATED_TOO_EXPENSIVE",
        "{body}"
    );
    assert_eq!(body["extensions"]["cost"]["estimated"], 200, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "a refused operation was sent"
    );

    // `@cost` on the field wins over its type's default.
    let body = post(&gw, "{ bestseller { title } }", json!({})).await;
    assert_eq!(body["extensions"]["cost"]["estimated"], 7, "{body}");

    // Without variables the estimate is kept with the cached operation: the second request
    // of each document is judged as the first was.
    let before = requests.load(Ordering::SeqCst);
    for _ in 0..2 {
        let body = post(
            &gw,
            "{ books(first: 50) { title author { name } } }",
            json!({}),
        )
        .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "COST_ESTIMATED_TOO_EXPENSIVE",
            "{body}"
        );
        assert_eq!(body["extensions"]["cost"]["estimated"], 200, "{body}");
        let body = post(
            &gw,
            "{ books(first: 5) { title author { name } } }",
            json!({}),
        )
        .await;
        assert_eq!(body["extensions"]["cost"]["estimated"], 20, "{body}");
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        before + 2,
        "only the allowed ones were sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_reports_the_estimate_and_refuses_nothing() {
    let (url, requests) = books().await;
    let (_gateway, gw) = gateway(&url, "measure").await;
    let body = post(&gw, QUERY, json!({ "n": 50 })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["extensions"]["cost"]["estimated"], 200, "{body}");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    let metrics = support::metrics(&gw).await;
    assert!(
        metrics.contains("weft_operation_cost_estimated_total 200"),
        "{metrics}"
    );
}
