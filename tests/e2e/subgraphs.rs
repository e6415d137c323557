//! Each reference subgraph over real HTTP: `_service { sdl }`, `_entities`, and batching
//! (N representations, one SQL query).

use serde_json::{Value, json};
use weft_accounts::{Accounts, USERS as USERS_SEEDED, demo_user};
use weft_inventory::{Inventory, shipping_estimate};
use weft_products::{Products, demo_product};
use weft_reviews::{Reviews, demo_review};
use weft_subgraph_kit::Subgraph;
use weft_tests::{SERVICE_SDL, graphql, start};

const USERS: &str = "query($r: [_Any!]!) { _entities(representations: $r) { __typename \
    ... on User { id name username } } }";
const PRODUCTS: &str = "query($r: [_Any!]!) { _entities(representations: $r) { __typename \
    ... on Product { upc name price weight } } }";

async fn service_sdl<S: Subgraph>() {
    let sg = start::<S>().await;
    let body = graphql(&sg.url(), SERVICE_SDL, json!({})).await;
    let sdl = body["data"]["_service"]["sdl"]
        .as_str()
        .expect("sdl string");
    // async-graphql appends one newline more when serving than when printing.
    assert_eq!(
        sdl.trim_end(),
        S::sdl().trim_end(),
        "{} serves the SDL it prints",
        S::NAME
    );
    assert!(
        sdl.contains("@key(fields:"),
        "{} declares an entity",
        S::NAME
    );
}

#[tokio::test]
async fn every_subgraph_serves_its_sdl() {
    service_sdl::<Accounts>().await;
    service_sdl::<Products>().await;
    service_sdl::<Inventory>().await;
    service_sdl::<Reviews>().await;
}

#[tokio::test]
async fn accounts_resolves_100_user_representations_with_one_query() {
    let sg = start::<Accounts>().await;
    let reps: Vec<Value> = (1..=100)
        .map(|i| json!({ "__typename": "User", "id": i.to_string() }))
        .collect();
    let before = sg.db.query_count();
    let body = graphql(&sg.url(), USERS, json!({ "r": reps })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        sg.db.query_count() - before,
        1,
        "one SQL query for 100 representations"
    );
    let entities = body["data"]["_entities"].as_array().expect("list");
    assert_eq!(
        entities.len(),
        100,
        "one result per representation, in order"
    );
    for (i, entity) in entities.iter().take(USERS_SEEDED).enumerate() {
        let user = demo_user(i + 1);
        assert_eq!(entity["id"], json!(user.id));
        assert_eq!(entity["name"], json!(user.name));
        assert_eq!(entity["username"], json!(user.username));
    }
    // Only 40 users exist: unknown ids resolve to null, not to an error.
    assert!(
        entities[40].is_null() && entities[99].is_null(),
        "{}",
        entities[40]
    );
}

#[tokio::test]
async fn products_resolves_100_representations_with_one_query() {
    let sg = start::<Products>().await;
    // Repeated keys too: the loader must de-duplicate, not query twice.
    let reps: Vec<Value> = (0..100)
        .map(|i| json!({ "__typename": "Product", "upc": (i % 30 + 1).to_string() }))
        .collect();
    let before = sg.db.query_count();
    let body = graphql(&sg.url(), PRODUCTS, json!({ "r": reps })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(sg.db.query_count() - before, 1);
    let entities = body["data"]["_entities"].as_array().expect("list");
    assert_eq!(entities.len(), 100);
    for (i, entity) in entities.iter().enumerate() {
        let expected = demo_product(i % 30 + 1);
        assert_eq!(entity["upc"], expected.upc);
        assert_eq!(entity["name"], json!(expected.name));
        assert_eq!(entity["price"], json!(expected.price));
    }
}

#[tokio::test]
async fn products_top_products_defaults_to_five() {
    let sg = start::<Products>().await;
    let body = graphql(&sg.url(), "{ topProducts { upc } }", json!({})).await;
    let upcs: Vec<&str> = body["data"]["topProducts"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["upc"].as_str())
        .collect();
    assert_eq!(upcs, ["1", "2", "3", "4", "5"]);
}

#[tokio::test]
async fn inventory_computes_shipping_from_required_fields() {
    let sg = start::<Inventory>().await;
    let reps: Vec<Value> = (0..100)
        .map(|i| {
            let p = demo_product(i % 30 + 1);
            json!({ "__typename": "Product", "upc": p.upc, "price": p.price, "weight": p.weight })
        })
        .collect();
    let before = sg.db.query_count();
    let body = graphql(
        &sg.url(),
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { upc inStock shippingEstimate } } }",
        json!({ "r": reps }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(sg.db.query_count() - before, 1);
    let entities = body["data"]["_entities"].as_array().expect("list");
    for (i, entity) in entities.iter().enumerate() {
        let n = i % 30 + 1;
        let p = demo_product(n);
        let expected = shipping_estimate(p.price.unwrap(), p.weight.unwrap());
        assert_eq!(entity["shippingEstimate"], json!(expected), "upc {n}");
        assert_eq!(entity["inStock"], json!(n % 4 != 0), "upc {n}");
    }
}

#[tokio::test]
async fn reviews_batches_user_reviews_into_one_query() {
    let sg = start::<Reviews>().await;
    let reps: Vec<Value> = (0..100)
        .map(|i| json!({ "__typename": "User", "id": (i % 40 + 1).to_string() }))
        .collect();
    let before = sg.db.query_count();
    let body = graphql(
        &sg.url(),
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id reviews { id body product { upc } } } } }",
        json!({ "r": reps }),
    )
    .await;
    assert_eq!(sg.db.query_count() - before, 1, "{body}");
    let entities = body["data"]["_entities"].as_array().expect("list");
    assert_eq!(entities.len(), 100);
    // The first representation is user "1": compare against the seeded data directly.
    let expected: Vec<Value> = (1..=weft_reviews::REVIEWS)
        .map(demo_review)
        .filter(|r| r.author_id == "1")
        .map(|r| json!({ "id": r.id, "body": r.body, "product": { "upc": r.product_upc } }))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(entities[0]["reviews"], json!(expected));
}

#[tokio::test]
async fn reviews_resolves_mixed_entity_types() {
    let sg = start::<Reviews>().await;
    let body = graphql(
        &sg.url(),
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename \
           ... on Review { id author { id } } ... on Product { upc reviews { id } } } }",
        json!({ "r": [
            { "__typename": "Review", "id": "1" },
            { "__typename": "Product", "upc": "2" },
            { "__typename": "Review", "id": "999999" }
        ] }),
    )
    .await;
    let entities = &body["data"]["_entities"];
    assert_eq!(entities[0]["author"]["id"], json!(demo_review(1).author_id));
    assert_eq!(entities[1]["__typename"], "Product");
    assert!(!entities[1]["reviews"].as_array().expect("list").is_empty());
    assert!(entities[2].is_null(), "unknown review is null: {body}");
}
