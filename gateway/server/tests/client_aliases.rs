#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! A client's aliases never take the place of the fields the planner adds: key fields and
//! `@requires` fields share each object with the client's fields, and a client may use their
//! names for other values (`id: username`, `price: weight`). Each aliased operation is
//! answered as the same operation without aliases would be, renamed: what the client
//! aliased is the client's value, and what the planner needed still reaches the next
//! subgraph (the entity's own reviews, a shipping estimate from the real price and weight).

mod support;

use serde_json::{Value, json};
use support::Stack;

async fn stack() -> Stack {
    let subgraphs = support::reference_subgraphs().await;
    let dir = support::scratch("client-aliases", subgraphs[0].addr.port());
    let path = dir.join("supergraph.graphql");
    std::fs::write(&path, support::supergraph(&support::inputs(&subgraphs))).unwrap();
    let arg = path.display().to_string();
    Stack::serve(subgraphs, ["--supergraph", arg.as_str()])
}

async fn data(stack: &Stack, query: &str) -> Value {
    let (status, body) = support::query(&stack.url, &[], query).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// `{ me { id: username reviews { body } } }`: the key `id` reviews is entered by is fetched
/// under a key of its own; the client's `id` is the username.
#[tokio::test]
async fn a_key_fields_name_aliased_to_another_field_keeps_both_values() {
    let stack = stack().await;
    let plain = data(&stack, "{ me { id username reviews { body } } }").await;
    assert!(
        !plain["me"]["reviews"].as_array().unwrap().is_empty(),
        "{plain}"
    );
    let aliased = data(&stack, "{ me { id: username reviews { body } } }").await;
    assert_eq!(
        aliased,
        json!({ "me": { "id": plain["me"]["username"], "reviews": plain["me"]["reviews"] } })
    );
    // The other way round too, and with the key asked plainly beside the alias.
    let swapped = data(
        &stack,
        "{ me { username: id id: username reviews { body } } }",
    )
    .await;
    assert_eq!(
        swapped,
        json!({ "me": {
            "username": plain["me"]["id"],
            "id": plain["me"]["username"],
            "reviews": plain["me"]["reviews"],
        } })
    );
}

/// `shippingEstimate` requires `price` and `weight`; the client names `weight` `price` and
/// `name` `upc` (the key inventory is entered by). The estimate is still computed from the
/// real price and weight, and the client gets what it aliased.
#[tokio::test]
async fn required_fields_named_by_client_aliases_still_reach_the_subgraph() {
    let stack = stack().await;
    let plain = data(&stack, "{ topProducts { name weight shippingEstimate } }").await;
    let expected: Vec<Value> = plain["topProducts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            json!({ "upc": p["name"], "price": p["weight"], "shippingEstimate": p["shippingEstimate"] })
        })
        .collect();
    // Some estimate is not zero: a representation without the price would give another.
    assert!(
        expected.iter().any(|p| p["shippingEstimate"] != json!(0)),
        "{plain}"
    );
    let aliased = data(
        &stack,
        "{ topProducts { upc: name price: weight shippingEstimate } }",
    )
    .await;
    assert_eq!(aliased, json!({ "topProducts": expected }));
    // A client alias equal to the key the planner would pick moves the planner's key on.
    let taken = data(
        &stack,
        "{ topProducts { price__key: name price: weight shippingEstimate } }",
    )
    .await;
    let expected: Vec<Value> = plain["topProducts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            json!({ "price__key": p["name"], "price": p["weight"], "shippingEstimate": p["shippingEstimate"] })
        })
        .collect();
    assert_eq!(taken, json!({ "topProducts": expected }));
}

/// `__typename` is how the gateway tells an object's type: a client value under that key is
/// refused with a validation error at the alias, before any subgraph request.
#[tokio::test]
async fn another_field_aliased_typename_is_refused_where_it_is_written() {
    let stack = stack().await;
    let before = stack.requests();
    let (status, body) = support::query(
        &stack.url,
        &[("accept", "application/graphql-response+json")],
        "{ me {\n  __typename: username\n  reviews { body } } }",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(
        body["errors"][0]["locations"],
        json!([{ "line": 2, "column": 3 }])
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`username`")
    );
    assert_eq!(stack.requests(), before);
    // `__typename` under its own name, or aliased, is as ever.
    let typed = data(&stack, "{ me { t: __typename __typename: __typename } }").await;
    assert_eq!(
        typed,
        json!({ "me": { "t": "User", "__typename": "User" } })
    );
}
