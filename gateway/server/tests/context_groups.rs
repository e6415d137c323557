//! `@fromContext` fetches whose objects get other values from their ancestors: the groups go
//! out in one request of aliased `_entities` fields (`_0`, `_1`, …, each with its own
//! `$representations_i` and context variables), at most 32 groups a request. A real HTTP
//! subgraph behind a real `weft serve`: it records every request and answers each field from
//! the representations and the context value it was sent, so the tests see what the gateway
//! sent and that each object got its own ancestor's value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Map, Value, json};

/// Each store sets the context `store`; its featured item's `tag` reads the store's currency.
const STORES: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext"])
type Query { stores(kind: String!): [Store!]! }
type Store @key(fields: "id") @context(name: "store") {
  id: ID!
  currency: String!
  featured: Item
}
type Item @key(fields: "sku") {
  sku: ID!
  tag(currency: String @fromContext(field: "$store { currency }"), suffix: String): String
}
"#;

/// How the subgraph answers `_entities` fields.
#[derive(Clone, Copy)]
enum Answer {
    Honest,
    /// An error at the first result of the field `_1` (its `tag` null).
    ErrorInSecondGroup,
    /// One result too few for the field `_0`.
    ShortFirstGroup,
}

/// The `_entities` requests the stores subgraph got since the last call.
fn entity_requests(stores: &support::Recorded) -> Vec<Value> {
    stores
        .take()
        .into_iter()
        .filter(|r| r["query"].as_str().unwrap().contains("_entities"))
        .collect()
}

/// The stores `stores(kind:)` lists: `(id, currency, featured sku)`.
fn stores_of(kind: &str) -> Vec<(String, String, String)> {
    let s =
        |id: &str, currency: &str, sku: &str| (id.to_owned(), currency.to_owned(), sku.to_owned());
    match kind {
        // Three currencies, EUR twice; item a under three stores.
        "mixed" => vec![
            s("s1", "EUR", "a"),
            s("s2", "USD", "a"),
            s("s3", "GBP", "c"),
            s("s4", "EUR", "a"),
        ],
        "same" => vec![s("s1", "EUR", "a"), s("s2", "EUR", "b")],
        // Forty currencies.
        _ => (0..40)
            .map(|i| s(&format!("s{i}"), &format!("C{i}"), &format!("i{i}")))
            .collect(),
    }
}

/// Each `_entities` field of `query`: its response key (its alias, if any), the variable of
/// its representations and the variable its `currency` argument is sent in.
fn entity_fields(query: &str) -> Vec<(String, String, String)> {
    let variable = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let marker = "_entities(representations: $";
    let mut rest = query;
    while let Some(at) = rest.find(marker) {
        let before = rest[..at].trim_end();
        let key = match before.strip_suffix(':') {
            Some(b) => b.rsplit([' ', '{']).next().unwrap().to_owned(),
            None => "_entities".to_owned(),
        };
        let after = &rest[at + marker.len()..];
        let representations = variable(after);
        let currency = after
            .find("currency: $")
            .map(|c| variable(&after[c + "currency: $".len()..]))
            .unwrap_or_default();
        out.push((key, representations, currency));
        rest = after;
    }
    out
}

async fn stores(how: Answer) -> support::Recorded {
    support::recording_subgraph(move |request| answer(request, how)).await
}

fn answer(request: &Value, how: Answer) -> Value {
    let query = request["query"].as_str().unwrap();
    let variables = request["variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if !query.contains("_entities") {
        let kind = ["mixed", "same", "many"]
            .into_iter()
            .find(|k| query.contains(&format!("\"{k}\"")))
            .unwrap();
        let stores: Vec<Value> = stores_of(kind)
            .into_iter()
            .map(|(id, currency, sku)| {
                // The gateway reads context values under a key of its own
                // (`currency_context: currency`): both keys, as a subgraph honouring the alias
                // would answer either.
                json!({ "__typename": "Store", "id": id, "currency": currency,
                        "currency_context": currency,
                        "featured": { "__typename": "Item", "sku": sku } })
            })
            .collect();
        return json!({ "data": { "stores": stores } });
    }
    let suffix = variables.get("s").and_then(Value::as_str).unwrap_or("");
    let mut data = Map::new();
    let mut errors = Vec::new();
    for (key, representations, currency) in entity_fields(query) {
        let currency = variables
            .get(&currency)
            .and_then(Value::as_str)
            .unwrap_or("none");
        let mut results: Vec<Value> = variables[&representations]
            .as_array()
            .unwrap()
            .iter()
            .map(|rep| {
                let sku = rep["sku"].as_str().unwrap();
                json!({ "__typename": "Item", "tag": format!("{sku} {currency}{suffix}") })
            })
            .collect();
        match how {
            Answer::ErrorInSecondGroup if key == "_1" => {
                results[0]["tag"] = Value::Null;
                errors.push(json!({ "message": "no tag", "path": ["_1", 0, "tag"] }));
            }
            Answer::ShortFirstGroup if key == "_0" => {
                results.pop();
            }
            _ => {}
        }
        data.insert(key, Value::Array(results));
    }
    let mut body = json!({ "data": data });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    body
}

fn gateway(tag: &str, stores: &str) -> (support::Process, String) {
    let inputs = [support::input("stores", stores, STORES)];
    let config = support::composed_config(tag, &inputs, "");
    support::serve(["--config", &config.display().to_string()])
}

async fn ask(url: &str, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let headers = [("content-type", "application/json")];
    let res = support::send(url, reqwest::Method::POST, "", &headers, Some(body)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The featured tags of the stores in `body`, in order.
fn tags(body: &Value) -> Vec<Value> {
    body["data"]["stores"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|s| s["featured"]["tag"].clone())
        .collect()
}

/// The skus in a representation list.
fn skus(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["sku"].as_str().unwrap())
        .collect()
}

/// Four stores with three currencies (EUR twice): one `_entities` request with three
/// aliased fields, one per currency, each with its own representations and value; every item
/// gets its own store's currency, the same item under other stores included. The client's
/// variable is defined once and sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_context_values_are_one_request_with_three_aliases() {
    let stores = stores(Answer::Honest).await;
    let (_gw, url) = gateway("context-three", &stores.url);
    let query =
        "query Q($s: String) { stores(kind: \"mixed\") { id featured { tag(suffix: $s) } } }";
    let body = ask(&url, query, json!({ "s": "!" })).await;
    assert_eq!(body.get("errors"), None, "{body}");
    assert_eq!(
        tags(&body),
        ["a EUR!", "a USD!", "c GBP!", "a EUR!"],
        "{body}"
    );
    let sent = entity_requests(&stores);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let request = &sent[0];
    let text = request["query"].as_str().unwrap();
    let fields = entity_fields(text);
    let keys: Vec<&str> = fields.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(keys, ["_0", "_1", "_2"], "{text}");
    assert_eq!(text.matches("$s:").count(), 1, "{text}");
    let variables = request["variables"].as_object().unwrap();
    let mut currencies = Vec::new();
    for (i, (_, representations, currency)) in fields.iter().enumerate() {
        assert_eq!(representations, &format!("representations_{i}"), "{text}");
        assert!(currency.ends_with(&format!("_{i}")), "{text}");
        currencies.push(variables[currency].clone());
    }
    assert_eq!(currencies, ["EUR", "USD", "GBP"], "{request}");
    // Each group's representations once: item a under both EUR stores is sent once.
    assert_eq!(skus(&variables["representations_0"]), ["a"]);
    assert_eq!(skus(&variables["representations_1"]), ["a"]);
    assert_eq!(skus(&variables["representations_2"]), ["c"]);
    assert_eq!(variables["s"], "!");
    // `representations_0..2`, three currency variables, `s`.
    assert_eq!(variables.len(), 7, "{request}");

    // One group: the fetch as planned, not aliased.
    let body = ask(
        &url,
        "{ stores(kind: \"same\") { featured { tag } } }",
        json!({}),
    )
    .await;
    assert_eq!(tags(&body), ["a EUR", "b EUR"], "{body}");
    let sent = entity_requests(&stores);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let text = sent[0]["query"].as_str().unwrap();
    assert!(
        text.contains("{ _entities(representations: $representations) {")
            && !text.contains("_0: _entities"),
        "{text}"
    );
    assert_eq!(skus(&sent[0]["variables"]["representations"]), ["a", "b"]);
}

/// Forty currencies: two requests, of 32 and 8 aliased fields; every item still gets its own
/// store's currency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_context_values_are_two_requests() {
    let stores = stores(Answer::Honest).await;
    let (_gw, url) = gateway("context-forty", &stores.url);
    let body = ask(
        &url,
        "{ stores(kind: \"many\") { featured { tag } } }",
        json!({}),
    )
    .await;
    assert_eq!(body.get("errors"), None, "{body}");
    let expected: Vec<String> = (0..40).map(|i| format!("i{i} C{i}")).collect();
    assert_eq!(tags(&body), expected, "{body}");
    let sent = entity_requests(&stores);
    let mut sizes: Vec<usize> = sent
        .iter()
        .map(|r| entity_fields(r["query"].as_str().unwrap()).len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [8, 32], "{sent:#?}");
}

/// The featured tags of the "mixed" stores through a gateway whose stores subgraph answers
/// `how`: the subgraph, the gateway (alive while kept) and the client's response.
async fn mixed_stores_tags(how: Answer, tag: &str) -> (support::Recorded, support::Process, Value) {
    let stores = stores(how).await;
    let (gw, url) = gateway(tag, &stores.url);
    let body = ask(
        &url,
        "{ stores(kind: \"mixed\") { featured { tag } } }",
        json!({}),
    )
    .await;
    (stores, gw, body)
}

/// An error at `["_1", 0, "tag"]` is the second group's (USD: the second store's item), at
/// that item's place in the client's response; the other groups' results are all there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_in_an_alias_lands_at_its_own_groups_object() {
    let (stores, _gw, body) = mixed_stores_tags(Answer::ErrorInSecondGroup, "context-error").await;
    assert_eq!(
        tags(&body),
        [json!("a EUR"), Value::Null, json!("c GBP"), json!("a EUR")],
        "{body}"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["message"], "no tag");
    assert_eq!(
        errors[0]["path"],
        json!(["stores", 1, "featured", "tag"]),
        "{body}"
    );
    assert_eq!(errors[0]["extensions"]["serviceName"], "stores", "{body}");
    assert_eq!(entity_requests(&stores).len(), 1);
}

/// A list of the wrong length under `_0` makes only the first group's objects (the EUR
/// stores' items) unusable, with one error at the group's first object; the other groups'
/// results are merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_length_list_fails_only_its_own_group() {
    let (_stores, _gw, body) = mixed_stores_tags(Answer::ShortFirstGroup, "context-short").await;
    assert_eq!(
        tags(&body),
        [Value::Null, json!("a USD"), json!("c GBP"), Value::Null],
        "{body}"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
    assert_eq!(
        errors[0]["path"],
        json!(["stores", 0, "featured"]),
        "{body}"
    );
}
