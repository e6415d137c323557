#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! `@context`/`@fromContext` end to end, on the reference subgraphs: products sets the context
//! `viewer` on `User` (selection `{ currency }`) and reads it in
//! `Offer.price(currency: String @fromContext(field: "$viewer { currency }"))`; offers are
//! reached through `User.wishlist`. The gateway must fetch each user's currency and pass it to
//! products with the `_entities` request for the offers below that user: the nearest `User`
//! above an offer is the one whose currency counts.
//!
//! An offer reached under no `User` cannot be asked for: `Offer` is reachable only through
//! `User.wishlist`, and composition (Apollo's and Weft's) refuses a context argument on a path
//! that sets no context. What the subgraph does with a missing argument (US dollars) is checked
//! on the subgraph itself.

mod support;

use serde_json::{Value, json};
use support::Stack;
use weft_accounts::USERS;
use weft_products::{
    DEFAULT_CURRENCY, Products, demo_currency, demo_product, demo_wishlist, format_price,
};
use weft_reviews::{REVIEWS, demo_review};

/// `upc` priced in `currency` (`None`: what the subgraph does without one).
fn price(upc: &str, currency: Option<&str>) -> Value {
    let cents = demo_product(upc.parse().unwrap()).price.unwrap();
    json!(format_price(cents, currency).unwrap())
}

/// Demo user `i`'s wishlist, each offer priced in `currency`.
fn wishlist(i: usize, currency: &str) -> Value {
    demo_wishlist(i)
        .iter()
        .map(|upc| json!({ "upc": upc, "price": price(upc, Some(currency)) }))
        .collect()
}

/// The reference subgraphs behind `weft serve`, on a supergraph composed for them.
async fn stack() -> Stack {
    let subgraphs = support::reference_subgraphs().await;
    let dir = support::scratch("context", subgraphs[0].addr.port());
    let path = dir.join("supergraph.graphql");
    std::fs::write(&path, support::supergraph(&support::inputs(&subgraphs))).unwrap();
    let arg = path.display().to_string();
    Stack::serve(subgraphs, ["--supergraph", arg.as_str()])
}

/// Products answers `_entities` for offers with the currency it is passed as a variable (what
/// the gateway sends), and in US dollars when it is passed none; users' wishlists are the
/// seeded ones; the SDL it serves links federation v2.8 and uses both directives.
#[tokio::test]
async fn products_prices_offers_in_the_currency_it_is_passed() {
    let products = support::subgraph::<Products>().await;
    let offers = "query($r: [_Any!]!, $c: String) { _entities(representations: $r) { \
                  ... on Offer { upc price(currency: $c) product { name } } } }";
    let representations: Vec<Value> = ["1", "7", "30"]
        .iter()
        .map(|upc| json!({ "__typename": "Offer", "upc": upc }))
        .collect();
    let client = reqwest::Client::new();
    let ask = |variables: Value, query: &'static str| {
        let request = client
            .post(products.url())
            .json(&json!({ "query": query, "variables": variables }));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    for currency in ["EUR", "GBP", "USD", "JPY"] {
        let body = ask(json!({ "r": representations, "c": currency }), offers).await;
        let expected: Vec<Value> = ["1", "7", "30"]
            .iter()
            .map(|upc| {
                json!({
                    "upc": upc,
                    "price": price(upc, Some(currency)),
                    "product": { "name": demo_product(upc.parse().unwrap()).name },
                })
            })
            .collect();
        assert_eq!(
            body,
            json!({ "data": { "_entities": expected } }),
            "{currency}"
        );
    }
    // No currency (null, or no variable at all): US dollars.
    for variables in [
        json!({ "r": representations, "c": null }),
        json!({ "r": representations }),
    ] {
        let body = ask(variables, offers).await;
        assert_eq!(
            body["data"]["_entities"][1]["price"],
            price("7", Some("USD")),
            "{body}"
        );
        assert_eq!(price("7", None), price("7", Some("USD")));
    }
    // A currency without a rate is an error on that field, not a wrong price.
    let body = ask(json!({ "r": representations, "c": "XXX" }), offers).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("XXX"),
        "{body}"
    );

    // Users' currencies and wishlists, resolved from a bare representation; a user products
    // does not know pays in dollars and wishes for nothing.
    let users = "query($r: [_Any!]!) { _entities(representations: $r) { \
                 ... on User { id currency wishlist { upc } } } }";
    let body = ask(
        json!({ "r": [
            { "__typename": "User", "id": "1" },
            { "__typename": "User", "id": "2" },
            { "__typename": "User", "id": "nobody" },
        ] }),
        users,
    )
    .await;
    let upcs = |i: usize| -> Value {
        demo_wishlist(i)
            .iter()
            .map(|u| json!({ "upc": u }))
            .collect()
    };
    assert_eq!(
        body,
        json!({ "data": { "_entities": [
            { "id": "1", "currency": "EUR", "wishlist": upcs(1) },
            { "id": "2", "currency": "GBP", "wishlist": upcs(2) },
            { "id": "nobody", "currency": DEFAULT_CURRENCY, "wishlist": [] },
        ] } })
    );
    assert!(!demo_wishlist(1).is_empty() && demo_wishlist(1) != demo_wishlist(2));

    let body = ask(json!({}), "{ _service { sdl } }").await;
    let sdl = body["data"]["_service"]["sdl"].as_str().unwrap();
    assert!(
        sdl.contains("url: \"https://specs.apollo.dev/federation/v2.8\""),
        "{sdl}"
    );
    assert!(sdl.contains("@context(name: \"viewer\")"), "{sdl}");
    assert!(
        sdl.contains("price(currency: String @fromContext(field: \"$viewer { currency }\"))"),
        "{sdl}"
    );
    assert!(
        !sdl.contains("directive @context"),
        "federation defines it: {sdl}"
    );
}

/// Every user's wishlist priced in that user's own currency, in one response: users "1" ..
/// "4" pay in EUR, GBP, USD and JPY. Asked with and without `currency` in the selection (the
/// gateway fetches it for the context either way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_context_gives_each_user_their_currency() {
    let stack = stack().await;
    let currencies: Vec<&str> = (1..=USERS).map(demo_currency).collect();
    assert_eq!(currencies[..4], ["EUR", "GBP", "USD", "JPY"]);

    let (status, body) =
        support::query(&stack.url, &[], "{ users { id wishlist { upc price } } }").await;
    let expected: Vec<Value> = (1..=USERS)
        .map(|i| json!({ "id": i.to_string(), "wishlist": wishlist(i, currencies[i - 1]) }))
        .collect();
    assert_eq!(
        (status, body),
        (200, json!({ "data": { "users": expected } }))
    );

    let (status, body) = support::query(
        &stack.url,
        &[],
        r#"{ a: user(id: "1") { currency wishlist { upc price product { name } } }
             b: user(id: "4") { wishlist { price } currency } }"#,
    )
    .await;
    let named = |i: usize| -> Value {
        demo_wishlist(i)
            .iter()
            .map(|upc| {
                json!({
                    "upc": upc,
                    "price": price(upc, Some(currencies[i - 1])),
                    "product": { "name": demo_product(upc.parse().unwrap()).name },
                })
            })
            .collect()
    };
    let prices = |i: usize| -> Value {
        demo_wishlist(i)
            .iter()
            .map(|upc| json!({ "price": price(upc, Some(currencies[i - 1])) }))
            .collect()
    };
    assert_eq!(
        (status, body),
        (
            200,
            json!({ "data": {
                "a": { "currency": "EUR", "wishlist": named(1) },
                "b": { "wishlist": prices(4), "currency": "JPY" },
            } })
        )
    );
}

/// Users nested under a user: each offer is priced in the currency of the nearest `User`
/// above it (the review's author), not in that of the signed-in user at the top (EUR).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nearest_user_sets_the_currency() {
    let stack = stack().await;
    let (status, body) = support::query(
        &stack.url,
        &[],
        "{ me { currency reviews { product { upc reviews { author { id wishlist { upc price } } } } } } }",
    )
    .await;
    let reviews = |keep: &dyn Fn(&weft_reviews::data::ReviewRow) -> bool| {
        (1..=REVIEWS)
            .map(demo_review)
            .filter(|r| keep(r))
            .collect::<Vec<_>>()
    };
    let mine: Vec<Value> = reviews(&|r| r.author_id == "1")
        .iter()
        .map(|mine| {
            let others: Vec<Value> = reviews(&|r| r.product_upc == mine.product_upc)
                .iter()
                .map(|r| {
                    let i: usize = r.author_id.parse().unwrap();
                    json!({ "author": {
                        "id": r.author_id,
                        "wishlist": wishlist(i, demo_currency(i)),
                    } })
                })
                .collect();
            json!({ "product": { "upc": mine.product_upc, "reviews": others } })
        })
        .collect();
    assert!(mine.len() > 1, "user 1 wrote several reviews");
    // Authors "1" and "21" pay in euros like the signed-in user, "11" and "31" in dollars.
    let text = json!(mine).to_string();
    assert!(
        text.contains("\"EUR ") && text.contains("\"USD "),
        "some authors pay in another currency than user 1: {text}"
    );
    assert_eq!(
        (status, body),
        (
            200,
            json!({ "data": { "me": { "currency": "EUR", "reviews": mine } } })
        )
    );
}
