#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Conditions on variables end to end: a field skipped by `@skip`/`@include` on a variable
//! sends no subgraph request for itself or its requirements (the plan's `Condition` nodes),
//! counted at the real reference subgraphs behind `weft serve`.

mod support;

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_field_sends_no_fetch_for_itself_or_its_requirements() {
    let subgraphs = support::reference_subgraphs().await;
    let config = support::config_file("conditions", &subgraphs, "");
    let arg = config.display().to_string();
    let stack = support::Stack::serve(subgraphs, ["--config", arg.as_str()]);
    let count = |name: &str| {
        let s = stack.subgraphs.iter().find(|s| s.name == name).unwrap();
        s.requests.count()
    };
    // shippingEstimate needs price and weight from products, then inventory.
    let query = "query Q($v: Boolean!) { user(id: \"1\") { reviews { product { shippingEstimate @include(if: $v) } } } }";
    let ask = |v: bool| {
        let body = json!({ "query": query, "variables": { "v": v } }).to_string();
        let url = stack.url.clone();
        async move {
            let res = support::send(
                &url,
                reqwest::Method::POST,
                "",
                &[("content-type", "application/json")],
                Some(body),
            )
            .await;
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    let (products, inventory) = (count("products"), count("inventory"));
    let skipped = ask(false).await;
    assert!(skipped.get("errors").is_none(), "{skipped}");
    let reviews = skipped["data"]["user"]["reviews"].as_array().unwrap();
    assert!(!reviews.is_empty());
    assert!(
        reviews.iter().all(|r| r["product"] == json!({})),
        "{skipped}"
    );
    assert_eq!(
        count("products"),
        products,
        "no requirement fetch for a skipped field"
    );
    assert_eq!(
        count("inventory"),
        inventory,
        "no fetch for a skipped field"
    );

    let included = ask(true).await;
    let reviews = included["data"]["user"]["reviews"].as_array().unwrap();
    assert!(
        reviews
            .iter()
            .all(|r| r["product"]["shippingEstimate"].is_number()),
        "{included}"
    );
    assert_eq!(count("products"), products + 1);
    assert_eq!(count("inventory"), inventory + 1);
}
