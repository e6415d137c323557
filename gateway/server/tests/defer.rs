#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! `@defer` end to end (docs/http.md#incremental-delivery-defer): the reference subgraphs on
//! ephemeral ports (inventory's `shippingEstimate` made slow, as `weft demo --slow-field-ms`
//! does), `weft serve` as a real process, and the `multipart/mixed` stream read part by part
//! with a parser written here from the incremental delivery spec (`deferSpec=20220824`), as
//! each chunk arrives.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_inventory::Inventory;
use weft_products::demo_product;
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Env, Running, spawn_env};

/// How long the slow field waits: the primary part must come before it ends.
const SLOW: Duration = Duration::from_millis(1500);
const MULTIPART: &str = "multipart/mixed;deferSpec=20220824,application/json";
const DEFERRED: &str =
    "{ topProducts(first: 2) { name ... @defer(label: \"ship\") { shippingEstimate } } }";

/// Inventory with its `shippingEstimate` answering after `slow`.
async fn slow_inventory(slow: Duration) -> Running {
    let db = open::<Inventory>(None).await.expect("db");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut env = Env::alone(db);
    env.slow_field = Some(slow);
    spawn_env::<Inventory>(listener, env, true).expect("spawn")
}

/// The reference subgraphs (inventory slow) and `weft serve` with `yaml` as its config.
async fn stack(yaml: &str) -> support::Stack {
    let subgraphs = vec![
        support::subgraph::<weft_accounts::Accounts>().await,
        support::subgraph::<weft_products::Products>().await,
        slow_inventory(SLOW).await,
        support::subgraph::<weft_reviews::Reviews>().await,
    ];
    let config = support::config_file("defer", &subgraphs, yaml);
    let arg = config.display().to_string();
    support::Stack::serve(subgraphs, ["--config", arg.as_str()])
}

/// A response read as it arrives: its content type, and each payload with when it was
/// complete (for a `multipart/mixed` body; a JSON body is one payload).
struct Received {
    content_type: String,
    payloads: Vec<(Value, Duration)>,
}

/// Posts `query` (and `variables`) with `accept`, reading the body chunk by chunk.
async fn post(url: &str, accept: &str, query: &str, variables: Value) -> Received {
    let started = Instant::now();
    let body = json!({ "query": query, "variables": variables }).to_string();
    let mut res = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body)
        .send()
        .await
        .unwrap();
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let mut parser = Multipart::default();
    let mut payloads = Vec::new();
    let mut whole = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(20), res.chunk())
        .await
        .expect("the stream goes on")
        .unwrap()
    {
        whole.extend_from_slice(&chunk);
        for payload in parser.feed(&chunk) {
            payloads.push((payload, started.elapsed()));
        }
    }
    if !content_type.starts_with("multipart/mixed") {
        payloads.push((serde_json::from_slice(&whole).unwrap(), started.elapsed()));
    } else {
        assert!(parser.closed, "the body ends with the close delimiter");
    }
    Received {
        content_type,
        payloads,
    }
}

/// A `multipart/mixed` reader (RFC 2046 as the incremental delivery spec uses it, boundary
/// `graphql`): bytes in as they come, each complete part's JSON body out.
#[derive(Default)]
struct Multipart {
    buffer: Vec<u8>,
    closed: bool,
}

impl Multipart {
    const DELIMITER: &'static [u8] = b"\r\n--graphql";

    fn feed(&mut self, bytes: &[u8]) -> Vec<Value> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        // A part is complete when the next delimiter has arrived.
        while let Some(start) = find(&self.buffer, Self::DELIMITER) {
            let after = start + Self::DELIMITER.len();
            let Some(next) = find(&self.buffer[after..], Self::DELIMITER).map(|n| n + after) else {
                if self.buffer[after..].starts_with(b"--") {
                    self.closed = true;
                    self.buffer.clear();
                }
                break;
            };
            let part = &self.buffer[after..next];
            // The rest of the delimiter line, headers, a blank line, the body.
            let text = std::str::from_utf8(part).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").expect("headers then body");
            assert!(
                head.to_ascii_lowercase()
                    .contains("content-type: application/json"),
                "{head}"
            );
            out.push(serde_json::from_str(body).unwrap());
            self.buffer.drain(..next);
        }
        out
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn names(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| json!({ "name": demo_product(i).name }))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_slow_field_comes_in_a_later_part_after_the_primary_one() {
    let stack = stack("").await;
    let got = post(&stack.url, MULTIPART, DEFERRED, json!({})).await;
    assert_eq!(
        got.content_type,
        "multipart/mixed;boundary=\"graphql\";deferSpec=20220824"
    );
    assert_eq!(got.payloads.len(), 2, "{:?}", got.payloads);
    let (primary, primary_at) = &got.payloads[0];
    assert_eq!(
        primary,
        &json!({ "data": { "topProducts": names(2) }, "hasNext": true })
    );
    // The primary part did not wait for the slow field: it came before the field could answer.
    assert!(*primary_at < SLOW, "primary part after {primary_at:?}");
    let (deferred, deferred_at) = &got.payloads[1];
    assert!(*deferred_at >= SLOW, "deferred part after {deferred_at:?}");
    let estimate = |i: usize| {
        let p = demo_product(i);
        weft_inventory::shipping_estimate(p.price.unwrap(), p.weight.unwrap())
    };
    assert_eq!(
        deferred,
        &json!({
            "incremental": [
                { "data": { "shippingEstimate": estimate(1) }, "path": ["topProducts", 0], "label": "ship" },
                { "data": { "shippingEstimate": estimate(2) }, "path": ["topProducts", 1], "label": "ship" },
            ],
            "hasNext": false,
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_ask_gets_one_response_with_every_field() {
    let stack = stack("").await;
    let plain = post(
        &stack.url,
        "application/json",
        "{ topProducts(first: 2) { name shippingEstimate } }",
        json!({}),
    )
    .await;
    for accept in [
        "application/json",
        "application/graphql-response+json",
        // Another deferSpec than the one Weft writes is not an incremental response.
        "multipart/mixed;deferSpec=19990101,application/json",
        "multipart/mixed;deferSpec=20220824;q=0,application/json",
    ] {
        let got = post(&stack.url, accept, DEFERRED, json!({})).await;
        assert!(
            !got.content_type.starts_with("multipart"),
            "{accept}: {}",
            got.content_type
        );
        assert_eq!(got.payloads.len(), 1);
        assert_eq!(got.payloads[0].0, plain.payloads[0].0, "{accept}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defer_if_false_is_no_defer() {
    let stack = stack("").await;
    let query = "query Q($d: Boolean!) { topProducts(first: 1) { name ... @defer(if: $d) { shippingEstimate } } }";
    let p = demo_product(1);
    let estimate = weft_inventory::shipping_estimate(p.price.unwrap(), p.weight.unwrap());
    let all = json!({ "topProducts": [{ "name": p.name, "shippingEstimate": estimate }] });
    let got = post(&stack.url, MULTIPART, query, json!({ "d": false })).await;
    assert_eq!(got.payloads.len(), 1, "{:?}", got.payloads);
    assert_eq!(got.payloads[0].0, json!({ "data": all, "hasNext": false }));
    let got = post(&stack.url, MULTIPART, query, json!({ "d": true })).await;
    assert_eq!(got.payloads.len(), 2, "{:?}", got.payloads);
    assert_eq!(
        got.payloads[0].0,
        json!({ "data": { "topProducts": names(1) }, "hasNext": true })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_must_be_unique_and_static() {
    let stack = stack("").await;
    for (query, says) in [
        (
            "{ topProducts { ... @defer(label: \"a\") { name } ... @defer(label: \"a\") { price } } }",
            "label `a` is not unique",
        ),
        (
            "query Q($l: String) { topProducts { ... @defer(label: $l) { name } } }",
            "static String",
        ),
    ] {
        let (status, body) = support::query(
            &stack.url,
            &[("accept", "application/graphql-response+json")],
            query,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        assert!(error["message"].as_str().unwrap().contains(says), "{error}");
        assert!(error["locations"][0]["line"].is_number(), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_in_a_deferred_part_null_only_its_fields() {
    let mut stack = stack("").await;
    // Inventory gone: the deferred field cannot be fetched; the primary part does not need it.
    let inventory = stack.subgraphs.remove(2);
    assert_eq!(inventory.name, "inventory");
    inventory.stop().await;
    let got = post(&stack.url, MULTIPART, DEFERRED, json!({})).await;
    assert_eq!(got.payloads.len(), 2, "{:?}", got.payloads);
    assert_eq!(
        got.payloads[0].0,
        json!({ "data": { "topProducts": names(2) }, "hasNext": true })
    );
    let deferred = &got.payloads[1].0;
    assert_eq!(deferred["hasNext"], false);
    let items = deferred["incremental"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{deferred}");
    for (i, item) in items.iter().enumerate() {
        assert_eq!(
            item["data"],
            json!({ "shippingEstimate": null }),
            "{deferred}"
        );
        assert_eq!(item["path"], json!(["topProducts", i]));
    }
    let errors = items[0]["errors"].as_array().expect("the part's errors");
    assert!(!errors.is_empty());
    assert_eq!(
        errors[0]["extensions"]["serviceName"], "inventory",
        "{deferred}"
    );
    assert_eq!(errors[0]["path"][0], "topProducts", "{deferred}");

    // In one response, the same: every part's data, the deferred part's errors.
    let whole = post(&stack.url, "application/json", DEFERRED, json!({})).await;
    let whole = &whole.payloads[0].0;
    let nulled = |i: usize| json!({ "name": demo_product(i).name, "shippingEstimate": null });
    assert_eq!(
        whole["data"],
        json!({ "topProducts": [nulled(1), nulled(2)] })
    );
    assert_eq!(
        whole["errors"][0]["extensions"]["serviceName"], "inventory",
        "{whole}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_defer_switched_off_the_directive_is_ignored() {
    let stack = stack("query_plan:\n  defer: false\n").await;
    let got = post(&stack.url, MULTIPART, DEFERRED, json!({})).await;
    assert!(
        got.content_type.starts_with("application/json"),
        "{}",
        got.content_type
    );
    let p = |i: usize| {
        let p = demo_product(i);
        let estimate = weft_inventory::shipping_estimate(p.price.unwrap(), p.weight.unwrap());
        json!({ "name": p.name, "shippingEstimate": estimate })
    };
    assert_eq!(
        got.payloads[0].0,
        json!({ "data": { "topProducts": [p(1), p(2)] } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_fetches_start_when_their_inputs_exist_and_a_fast_part_does_not_wait_for_a_slow_one()
 {
    let stack = stack("").await;
    let reviews = &stack.subgraphs[3];
    assert_eq!(reviews.name, "reviews");
    let before = reviews.requests.count();
    // The primary part waits for the slow field; the deferred reviews only need the products
    // fetch, the first of the primary part's.
    let query = "{ topProducts(first: 2) { name shippingEstimate ... @defer(label: \"reviews\") { reviews { body } } } }";
    let started = Instant::now();
    let url = stack.url.clone();
    let answer = tokio::spawn(async move { post(&url, MULTIPART, query, json!({})).await });
    let mut reviews_asked = None;
    while reviews_asked.is_none() && started.elapsed() < Duration::from_secs(10) {
        if reviews.requests.count() > before {
            reviews_asked = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let reviews_asked = reviews_asked.expect("reviews was asked");
    // Asked before the slow field could answer: it did not wait for the primary part.
    assert!(
        reviews_asked < SLOW,
        "reviews asked after {reviews_asked:?}"
    );
    let got = answer.await.unwrap();
    assert_eq!(got.payloads.len(), 2, "{:?}", got.payloads);
    assert!(got.payloads[0].0["data"]["topProducts"][0]["shippingEstimate"].is_number());
    assert_eq!(got.payloads[1].0["incremental"][0]["label"], "reviews");

    // Two deferred fragments: the fast one comes first, before the slow field answers.
    let query = "{ topProducts(first: 1) { name ... @defer(label: \"slow\") { shippingEstimate } ... @defer(label: \"fast\") { reviews { body } } } }";
    let got = post(&stack.url, MULTIPART, query, json!({})).await;
    let labels: Vec<&Value> = got
        .payloads
        .iter()
        .map(|(p, _)| &p["incremental"][0]["label"])
        .collect();
    assert_eq!(labels, [&Value::Null, &json!("fast"), &json!("slow")]);
    let (fast, fast_at) = &got.payloads[1];
    assert!(*fast_at < SLOW, "the fast part after {fast_at:?}");
    assert_eq!(fast["hasNext"], true);
    assert_eq!(got.payloads[2].0["hasNext"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_fragment_inside_another_comes_after_it() {
    let stack = stack("").await;
    let query = "{ topProducts(first: 1) { name ... @defer(label: \"outer\") { reviews { body ... @defer(label: \"inner\") { author { name } } } } } }";
    let got = post(&stack.url, MULTIPART, query, json!({})).await;
    assert_eq!(got.payloads.len(), 3, "{:?}", got.payloads);
    let outer = &got.payloads[1].0;
    assert_eq!(outer["hasNext"], true);
    let item = &outer["incremental"][0];
    assert_eq!(item["label"], "outer");
    assert_eq!(item["path"], json!(["topProducts", 0]));
    let reviews = item["data"]["reviews"].as_array().unwrap();
    assert!(!reviews.is_empty());
    assert!(
        reviews
            .iter()
            .all(|r| r["body"].is_string() && r.get("author").is_none())
    );
    let inner = &got.payloads[2].0;
    assert_eq!(inner["hasNext"], false);
    let items = inner["incremental"].as_array().unwrap();
    assert_eq!(items.len(), reviews.len());
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["label"], "inner");
        assert_eq!(item["path"], json!(["topProducts", 0, "reviews", i]));
        assert!(item["data"]["author"]["name"].is_string(), "{item}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_timeout_and_the_response_cap_cover_the_whole_stream() {
    // The slow field takes longer than the request may: the primary part comes, then a last
    // payload with the timeout's error.
    let timed = stack("server:\n  request_timeout_ms: 700\n").await;
    let got = post(&timed.url, MULTIPART, DEFERRED, json!({})).await;
    assert_eq!(got.payloads.len(), 2, "{:?}", got.payloads);
    assert_eq!(
        got.payloads[0].0,
        json!({ "data": { "topProducts": names(2) }, "hasNext": true })
    );
    let last = &got.payloads[1].0;
    assert_eq!(last["hasNext"], false, "{last}");
    assert_eq!(
        last["errors"][0]["extensions"]["code"], "GATEWAY_TIMEOUT",
        "{last}"
    );
    assert!(
        got.payloads[1].1 < SLOW,
        "ended after {:?}",
        got.payloads[1].1
    );

    // All parts together are over the cap: the primary part fits, the deferred one does not.
    let primary_len = json!({ "topProducts": names(40) }).to_string().len();
    let yaml = format!("server:\n  max_response_bytes: {}\n", primary_len + 20);
    let capped = stack(&yaml).await;
    let query = "{ topProducts(first: 40) { name ... @defer { n: name } } }";
    let got = post(&capped.url, MULTIPART, query, json!({})).await;
    assert_eq!(got.payloads.len(), 2, "{:?}", got.payloads);
    assert_eq!(got.payloads[0].0["hasNext"], true);
    let last = &got.payloads[1].0;
    assert_eq!(last["hasNext"], false, "{last}");
    assert_eq!(
        last["errors"][0]["extensions"]["code"], "RESPONSE_TOO_LARGE",
        "{last}"
    );
    assert!(last.get("incremental").is_none(), "{last}");
}

#[test]
fn weft_plan_shows_the_defer_node() {
    let supergraph = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/supergraph.graphql"
    );
    let out = support::weft_command()
        .args(["plan", "--supergraph", supergraph, DEFERRED])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Defer {\n    Primary {"), "{text}");
    assert!(
        text.contains("Deferred(id: 0, depends: [0], path: \"topProducts/@\", label: \"ship\")"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_holds_its_in_flight_slot_until_its_last_part() {
    let stack = stack("server:\n  max_in_flight: 1\n").await;
    let body = json!({ "query": DEFERRED }).to_string();
    let mut streaming = reqwest::Client::new()
        .post(&stack.url)
        .header("content-type", "application/json")
        .header("accept", MULTIPART)
        .body(body)
        .send()
        .await
        .unwrap();
    // The primary part is in; the deferred one is still coming.
    let mut parser = Multipart::default();
    while parser
        .feed(&streaming.chunk().await.unwrap().unwrap())
        .is_empty()
    {}
    let (status, refused) =
        support::query(&stack.url, &[], "{ topProducts(first: 1) { name } }").await;
    assert_eq!(status, 503, "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "SERVER_OVERLOADED"
    );
    while streaming.chunk().await.unwrap().is_some() {}
    let (status, answer) =
        support::query(&stack.url, &[], "{ topProducts(first: 1) { name } }").await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_fragments_are_limited() {
    let stack = stack("limits:\n  max_defers: 2\n").await;
    // A fragment spread at two places with `@defer` is two deferred fragments.
    let query = "{ topProducts(first: 1) { ...P @defer ... @defer { price } } product(upc: \"1\") { ...P @defer } } fragment P on Product { name }";
    let (status, body) = support::query(
        &stack.url,
        &[("accept", "application/graphql-response+json")],
        query,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_DEFERS_LIMIT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 deferred fragments"),
        "{body}"
    );
    let two = "{ topProducts(first: 1) { ...P @defer } product(upc: \"1\") { ...P @defer } } fragment P on Product { name }";
    let got = post(&stack.url, MULTIPART, two, json!({})).await;
    assert_eq!(got.payloads.len(), 3, "{:?}", got.payloads);
}
