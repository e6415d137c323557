#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Operation limits `max_height` and `max_tokens` end to end (docs/configuration.md): the real
//! reference subgraphs, `weft serve --config` as a real process; refused operations reach no
//! subgraph.

mod support;

use serde_json::{Value, json};

async fn post(url: &str, query: &str) -> (reqwest::StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn height_and_tokens_are_limited_before_any_subgraph_request() {
    let subgraphs = support::reference_subgraphs().await;
    let config = support::config_file(
        "limits",
        &subgraphs,
        "limits:\n  max_height: 3\n  max_tokens: 40\n",
    );
    let arg = config.display().to_string();
    let (_gateway, url) = support::serve(["--config", arg.as_str()]);
    let requests = || subgraphs.iter().map(|s| s.requests.count()).sum::<u64>();

    // topProducts, name, upc: 3 unique fields, the repeated `name` counted once.
    let (status, body) = post(&url, "{ topProducts(first: 2) { name upc name } }").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let before = requests();
    assert!(before > 0);

    let (status, body) = post(&url, "{ topProducts(first: 2) { name upc price } }").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "MAX_HEIGHT_LIMIT",
        "{body}"
    );
    let text = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        text.contains("is 4") && text.contains("limits.max_height"),
        "{text}"
    );
    assert!(body.get("data").is_none(), "{body}");

    // Height 2, but far more than 40 tokens.
    let long = format!("{{ topProducts(first: 2) {{ {} }} }}", "name ".repeat(30));
    let (status, body) = post(&url, &long).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "MAX_TOKENS_LIMIT",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limits.max_tokens"),
        "{body}"
    );
    assert_eq!(requests(), before, "a refused operation reached a subgraph");
}
