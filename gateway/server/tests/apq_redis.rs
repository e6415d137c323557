#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Automatic persisted queries with Redis as the shared second level (docs/http.md), end to
//! end: the real reference subgraphs, `weft serve --config` processes, and the real Redis at
//! 127.0.0.1:6379 (each test with its own key prefix).

mod support;

use serde_json::{Value, json};
use weft_products::demo_product;

/// A document no other test registers (its hash is new in Redis on every run thanks to the
/// key prefix anyway).
const QUERY: &str = "{ topProducts(first: 2) { name } }";

/// A key prefix no other run shares.
fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("weft-test:{test}:{}:{nanos}:", std::process::id())
}

/// Writes the supergraph of `subgraphs` and a config with `apq` (YAML) in a scratch folder;
/// the config's path.
fn config(subgraphs: &[weft_subgraph_kit::Running], tag: &str, apq: &str) -> String {
    support::config_file(tag, subgraphs, &format!("apq:\n{apq}"))
        .display()
        .to_string()
}

async fn post(url: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn expected() -> Value {
    json!({ "data": { "topProducts": [
        { "name": demo_product(1).name },
        { "name": demo_product(2).name },
    ] } })
}

fn hash_only(hash: &str) -> Value {
    json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
}

fn register(hash: &str) -> Value {
    json!({ "query": QUERY, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_registered_on_one_gateway_is_found_by_another() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:6379").is_ok(),
        "this test needs Redis on 127.0.0.1:6379 (.ci/run starts it): `redis-server --daemonize yes`"
    );
    let subgraphs = support::reference_subgraphs().await;
    let apq = format!(
        "  redis:\n    url: redis://127.0.0.1:6379\n    ttl_secs: 600\n    key_prefix: \"{}\"\n",
        prefix("shared")
    );
    let path = config(&subgraphs, "apq-redis-shared", &apq);
    let (_one, first) = support::serve(["--config", path.as_str()]);
    let (_two, second) = support::serve(["--config", path.as_str()]);
    let hash = support::sha256(QUERY);

    // Unknown to both at first.
    let body = post(&second, hash_only(&hash)).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );
    assert_eq!(post(&first, register(&hash)).await, expected());
    // The second gateway never saw the document: it comes from Redis.
    assert_eq!(post(&second, hash_only(&hash)).await, expected());
    assert_eq!(post(&second, hash_only(&hash)).await, expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_leaves_the_memory_store_serving() {
    let subgraphs = support::reference_subgraphs().await;
    // Port 1: nothing listens there.
    let apq = format!(
        "  redis:\n    url: redis://127.0.0.1:1\n    key_prefix: \"{}\"\n",
        prefix("down")
    );
    let path = config(&subgraphs, "apq-redis-down", &apq);
    let (_gateway, url) = support::serve(["--config", path.as_str()]);
    let hash = support::sha256(QUERY);
    assert_eq!(post(&url, register(&hash)).await, expected());
    assert_eq!(post(&url, hash_only(&hash)).await, expected());
    let metrics = support::metrics(&url).await;
    let errors: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("weft_apq_redis_errors_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no weft_apq_redis_errors_total in\n{metrics}"));
    assert!(errors >= 1.0, "{metrics}");
}
