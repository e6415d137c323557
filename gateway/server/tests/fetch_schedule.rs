//! Fetches start when the data they read is merged, not when their whole plan level is done
//! (docs/decisions.md, "Fetches start when their data is there"). Real HTTP subgraphs behind
//! a real `weft serve`: one subgraph is slow and nothing after it needs its answer; the fetch
//! that does not wait for it goes out while it is still working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
type Query { users: [User] }
type User @key(fields: "id") { id: ID! name: String }
"#;

const REVIEWS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
type User @key(fields: "id") { id: ID! reviews: [Review] }
type Review { body: String product: Product }
type Product @key(fields: "upc") { upc: String! }
"#;

const PRODUCTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
type Product @key(fields: "upc") { upc: String! name: String }
"#;

const RANKS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
type User @key(fields: "id") { id: ID! rank: Int }
"#;

/// How long the ranks subgraph takes, and the products subgraph.
const RANKS_TAKE: Duration = Duration::from_millis(1000);
const PRODUCTS_TAKE: Duration = Duration::from_millis(600);

/// Answers each representation of `representations` with `item(representation)`.
fn entities(
    request: &serde_json::Value,
    item: impl Fn(&serde_json::Value) -> serde_json::Value,
) -> serde_json::Value {
    let list = request["variables"]["representations"].as_array().unwrap();
    json!({ "data": { "_entities": list.iter().map(item).collect::<Vec<_>>() } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_does_not_wait_for_a_slow_sibling_it_does_not_read_from() {
    let accounts = support::recording_subgraph(|_| {
        json!({ "data": { "users": [
            { "__typename": "User", "id": "1", "name": "Ada" },
            { "__typename": "User", "id": "2", "name": "Alan" },
        ] } })
    })
    .await;
    let reviews = support::recording_subgraph(|request| {
        entities(request, |rep| {
            let id = rep["id"].as_str().unwrap();
            json!({ "__typename": "User", "reviews": [
                { "body": format!("by {id}"), "product": { "__typename": "Product", "upc": format!("p{id}") } },
            ] })
        })
    })
    .await;
    let products = support::recording_subgraph_after(PRODUCTS_TAKE, |request| {
        entities(request, |rep| {
            let upc = rep["upc"].as_str().unwrap();
            json!({ "__typename": "Product", "name": format!("name of {upc}") })
        })
    })
    .await;
    let ranks = support::recording_subgraph_after(RANKS_TAKE, |request| {
        entities(request, |rep| {
            let id: i64 = rep["id"].as_str().unwrap().parse().unwrap();
            json!({ "__typename": "User", "rank": id * 10 })
        })
    })
    .await;
    let inputs = [
        support::input("accounts", &accounts.url, ACCOUNTS),
        support::input("reviews", &reviews.url, REVIEWS),
        support::input("products", &products.url, PRODUCTS),
        support::input("ranks", &ranks.url, RANKS),
    ];
    let config = support::composed_config("fetch-schedule", &inputs, "");
    let (_gw, url) = support::serve(["--config", &config.display().to_string()]);
    let query = "{ users { name rank reviews { body product { name } } } }";
    // Plan: users; then reviews and ranks side by side; then the reviews' products. The
    // products fetch reads what reviews wrote, not the ranks.
    let started = Instant::now();
    let (status, body) = support::query(&url, &[], query).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "data": { "users": [
            { "name": "Ada", "rank": 10, "reviews": [{ "body": "by 1", "product": { "name": "name of p1" } }] },
            { "name": "Alan", "rank": 20, "reviews": [{ "body": "by 2", "product": { "name": "name of p2" } }] },
        ] } })
    );
    // Level by level it would take ranks' time and then products' (1.6 s); the products
    // fetch went out while ranks was still working.
    assert!(took >= RANKS_TAKE, "{took:?}");
    assert!(
        took < RANKS_TAKE + PRODUCTS_TAKE - Duration::from_millis(200),
        "the products fetch waited for ranks: {took:?}"
    );
    for subgraph in [&accounts, &reviews, &products, &ranks] {
        assert_eq!(subgraph.take().len(), 1);
    }
}
