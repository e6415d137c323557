//! The entity cache end to end: `weft serve` with `entity_cache` on, in front of two small
//! scripted subgraphs — `catalog` (root fields and a mutation) and `stock` (Product entities,
//! whose `Cache-Control` the test sets) — that count and record what they are sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_federation::compose::SubgraphInput;

const CATALOG: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { products: [Product!]!, product(upc: ID!): Product }
type Mutation { rename(upc: ID!, name: String!): Product }
type Product @key(fields: "upc") { upc: ID! name: String! }
"#;

const STOCK: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Product @key(fields: "upc") { upc: ID! stock: Int! }
"#;

/// The scripted subgraphs' state, shared with the test.
#[derive(Default)]
struct Script {
    /// The products `catalog` lists: (upc, name).
    products: Mutex<Vec<(String, String)>>,
    catalog_requests: AtomicU64,
    /// Each `_entities` request's representations.
    stock_requests: Mutex<Vec<Vec<Value>>>,
    /// `Cache-Control` on `stock`'s answers (none when empty).
    cache_control: Mutex<String>,
    /// Added to every stock figure, so answers from different requests differ.
    generation: AtomicU64,
    /// `stock` adds an error to its answers.
    stock_errors: Mutex<bool>,
    /// How long `catalog` takes to answer, in milliseconds.
    catalog_delay_ms: AtomicU64,
}

type Shared = Arc<Script>;

async fn catalog(State(s): State<Shared>, body: String) -> axum::Json<Value> {
    s.catalog_requests.fetch_add(1, Ordering::SeqCst);
    let delay = s.catalog_delay_ms.load(Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    let request: Value = serde_json::from_str(&body).unwrap();
    let query = request["query"].as_str().unwrap();
    if query.contains("product(") {
        // The argument arrives inline or as a variable: the first run of digits either way.
        let text = format!("{}{}", request["variables"], query);
        let upc: String = text
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        return axum::Json(
            json!({ "data": { "product": { "__typename": "Product", "upc": upc, "name": "p" } } }),
        );
    }
    if query.contains("rename") {
        let vars = &request["variables"];
        // The gateway inlines or passes arguments; read either.
        let upc = vars
            .as_object()
            .and_then(|m| {
                m.values()
                    .find(|v| v.as_str().is_some_and(|s| s.len() == 1))
            })
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| "2".to_owned());
        let mut products = s.products.lock().unwrap();
        for p in products.iter_mut() {
            if p.0 == upc {
                p.1 = "renamed".to_owned();
            }
        }
        return axum::Json(
            json!({ "data": { "rename": { "__typename": "Product", "upc": upc, "name": "renamed" } } }),
        );
    }
    let list: Vec<Value> = s
        .products
        .lock()
        .unwrap()
        .iter()
        .map(|(upc, name)| json!({ "__typename": "Product", "upc": upc, "name": name }))
        .collect();
    axum::Json(json!({ "data": { "products": list } }))
}

async fn stock(State(s): State<Shared>, body: String) -> (HeaderMap, axum::Json<Value>) {
    let request: Value = serde_json::from_str(&body).unwrap();
    let reps = request["variables"]["representations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    s.stock_requests.lock().unwrap().push(reps.clone());
    let generation = s.generation.fetch_add(1, Ordering::SeqCst) * 1000;
    let entities: Vec<Value> = reps
        .iter()
        .map(|r| {
            let upc: u64 = r["upc"].as_str().unwrap().parse().unwrap();
            json!({ "__typename": "Product", "upc": r["upc"], "stock": generation + upc })
        })
        .collect();
    let mut headers = HeaderMap::new();
    let cc = s.cache_control.lock().unwrap().clone();
    if !cc.is_empty() {
        headers.insert("cache-control", cc.parse().unwrap());
    }
    let mut answer = json!({ "data": { "_entities": entities } });
    if *s.stock_errors.lock().unwrap() {
        answer["errors"] = json!([{ "message": "partly broken" }]);
    }
    (headers, axum::Json(answer))
}

struct Stack {
    url: String,
    base: String,
    dir: std::path::PathBuf,
    script: Shared,
    _gateway: support::Process,
}

impl Stack {
    /// The scripted subgraphs (products 1 and 2, `public, max-age=60`) and the gateway with
    /// `extra` YAML under `entity_cache:` (after `enabled: true`).
    async fn start(extra: &str) -> Stack {
        Stack::configured(&format!("entity_cache:\n  enabled: true\n{extra}")).await
    }

    /// The scripted subgraphs and the gateway with `config` YAML (after the supergraph).
    async fn configured(config_yaml: &str) -> Stack {
        let script = Shared::default();
        *script.products.lock().unwrap() =
            vec![("1".into(), "one".into()), ("2".into(), "two".into())];
        *script.cache_control.lock().unwrap() = "public, max-age=60".into();
        let app = axum::Router::new()
            .route("/catalog", post(catalog))
            .route("/stock", post(stock))
            .with_state(script.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let input = |name: &str, sdl: &str| SubgraphInput {
            name: name.into(),
            url: format!("http://{addr}/{name}"),
            sdl: sdl.into(),
            source: format!("{name}.graphql"),
        };
        let supergraph = support::supergraph(&[input("catalog", CATALOG), input("stock", STOCK)]);
        let dir = support::scratch("entity-cache", addr.port());
        std::fs::write(dir.join("supergraph.graphql"), supergraph).unwrap();
        let config = dir.join("weft.yaml");
        std::fs::write(
            &config,
            format!("supergraph:\n  path: supergraph.graphql\n{config_yaml}"),
        )
        .unwrap();
        let arg = config.display().to_string();
        let (process, url) = support::serve(["--config", arg.as_str()]);
        let base = url.trim_end_matches("/graphql").to_owned();
        Stack {
            url,
            base,
            dir,
            script,
            _gateway: process,
        }
    }

    /// Another gateway on the same subgraphs, with `config_yaml`: its process and URL.
    fn another(&self, name: &str, config_yaml: &str) -> (support::Process, String) {
        let config = self.dir.join(format!("{name}.yaml"));
        std::fs::write(
            &config,
            format!("supergraph:\n  path: supergraph.graphql\n{config_yaml}"),
        )
        .unwrap();
        let arg = config.display().to_string();
        support::serve(["--config", arg.as_str()])
    }

    async fn query(&self, query: &str) -> Value {
        query_at(&self.url, query).await
    }

    async fn query_owned(&self, query: String) -> Value {
        self.query(&query).await
    }

    /// The representations of each `_entities` request so far.
    fn stock_requests(&self) -> Vec<Vec<Value>> {
        self.script.stock_requests.lock().unwrap().clone()
    }

    fn last_upcs(&self) -> Vec<String> {
        self.stock_requests()
            .last()
            .unwrap()
            .iter()
            .map(|r| r["upc"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// POSTs `query` to the gateway at `url`; the JSON answer (status 200).
async fn query_at(url: &str, query: &str) -> Value {
    let (status, body) = support::query(url, &[], query).await;
    assert_eq!(status, 200);
    body
}

const STOCKS: &str = "{ products { upc stock } }";

#[tokio::test]
async fn a_hit_sends_no_subgraph_request_and_a_partial_hit_only_the_misses() {
    let stack = Stack::start("").await;
    let first = stack.query(STOCKS).await;
    assert_eq!(
        first,
        json!({ "data": { "products": [{ "upc": "1", "stock": 1 }, { "upc": "2", "stock": 2 }] } })
    );
    assert_eq!(stack.stock_requests().len(), 1);
    // The same entities again: answered from the cache, the same figures.
    let second = stack.query(STOCKS).await;
    assert_eq!(second, first);
    assert_eq!(
        stack.stock_requests().len(),
        1,
        "a hit sends nothing to `stock`"
    );
    // A third product: only it is sent.
    stack
        .script
        .products
        .lock()
        .unwrap()
        .push(("3".into(), "three".into()));
    let third = stack.query(STOCKS).await;
    assert_eq!(stack.stock_requests().len(), 2);
    assert_eq!(stack.last_upcs(), vec!["3"]);
    assert_eq!(
        third["data"]["products"],
        json!([{ "upc": "1", "stock": 1 }, { "upc": "2", "stock": 2 }, { "upc": "3", "stock": 1003 }])
    );
    // The metrics count hits and misses.
    let metrics = support::metrics(&stack.url).await;
    assert!(
        metrics.contains("weft_entity_cache_lookups_total{subgraph=\"stock\",result=\"hit\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("weft_entity_cache_lookups_total{subgraph=\"stock\",result=\"miss\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn private_no_store_and_errors_are_never_kept() {
    let stack = Stack::start("").await;
    for cc in ["private, max-age=60", "no-store", "max-age=0"] {
        *stack.script.cache_control.lock().unwrap() = cc.to_owned();
        let before = stack.stock_requests().len();
        let a = stack.query(STOCKS).await;
        let b = stack.query(STOCKS).await;
        assert_eq!(
            stack.stock_requests().len(),
            before + 2,
            "{cc}: both went to `stock`"
        );
        assert_ne!(
            a, b,
            "{cc}: the second user got a fresh answer, not the first one's"
        );
    }
    // A public answer with errors is not kept either.
    *stack.script.cache_control.lock().unwrap() = "public, max-age=60".to_owned();
    *stack.script.stock_errors.lock().unwrap() = true;
    let before = stack.stock_requests().len();
    stack.query(STOCKS).await;
    *stack.script.stock_errors.lock().unwrap() = false;
    stack.query(STOCKS).await;
    assert_eq!(stack.stock_requests().len(), before + 2);
    // ... while a clean public one is.
    stack.query(STOCKS).await;
    assert_eq!(stack.stock_requests().len(), before + 2);
}

#[tokio::test]
async fn the_admin_endpoint_and_mutations_evict_by_type_and_key() {
    let stack = Stack::start("  invalidation_token: s3cret\n").await;
    stack.query(STOCKS).await;
    stack.query(STOCKS).await;
    assert_eq!(stack.stock_requests().len(), 1);
    let endpoint = format!("{}/admin/entity-cache/invalidate", stack.base);
    let http = reqwest::Client::new();
    let body = json!({ "type": "Product", "key": { "upc": "1" } }).to_string();
    let refused = http
        .post(&endpoint)
        .header("authorization", "Bearer wrong")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let done = http
        .post(&endpoint)
        .header("authorization", "Bearer s3cret")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    stack.query(STOCKS).await;
    assert_eq!(stack.stock_requests().len(), 2);
    assert_eq!(
        stack.last_upcs(),
        vec!["1"],
        "only the evicted entity is fetched again"
    );

    // A mutation returning Product 2 evicts it.
    let renamed = stack
        .query("mutation { rename(upc: \"2\", name: \"renamed\") { upc name } }")
        .await;
    assert_eq!(renamed["data"]["rename"]["upc"], "2", "{renamed}");
    stack.query(STOCKS).await;
    assert_eq!(stack.stock_requests().len(), 3);
    assert_eq!(stack.last_upcs(), vec!["2"]);
}

#[tokio::test]
async fn root_fields_are_cached_when_configured() {
    let stack = Stack::start("  root_fields: true\n").await;
    let first = stack.query(STOCKS).await;
    let catalog = stack.script.catalog_requests.load(Ordering::SeqCst);
    let second = stack.query(STOCKS).await;
    assert_eq!(first, second);
    assert_eq!(
        stack.script.catalog_requests.load(Ordering::SeqCst),
        catalog
    );
    assert_eq!(stack.stock_requests().len(), 1);
}

/// Ten identical queries at once against a slow `catalog`: how many requests it got, and
/// whether every client got the same answer.
async fn ten_at_once(stack: &Stack) -> (u64, bool) {
    stack.script.catalog_delay_ms.store(300, Ordering::SeqCst);
    let before = stack.script.catalog_requests.load(Ordering::SeqCst);
    let answers = futures::future::join_all((0..10).map(|_| stack.query(STOCKS))).await;
    let sent = stack.script.catalog_requests.load(Ordering::SeqCst) - before;
    // `stock` numbers each answer it gives: requests that shared its answer show the same
    // figures; the products (from the shared `catalog` answer) are the same for all.
    let upcs = |a: &Value| {
        a["data"]["products"]
            .as_array()
            .map(|l| l.iter().map(|p| p["upc"].clone()).collect::<Vec<_>>())
    };
    assert!(answers.iter().all(|a| a.get("errors").is_none()
        && upcs(a) == upcs(&answers[0])
        && upcs(a).is_some_and(|l| l.len() == 2)));
    let same = answers.iter().all(|a| a == &answers[0]);
    (sent, same)
}

#[tokio::test]
async fn identical_queries_in_flight_share_subgraph_requests() {
    // The default: identical subgraph requests in flight share one.
    let stack = Stack::configured("").await;
    let (sent, _) = ten_at_once(&stack).await;
    assert_eq!(
        sent, 1,
        "ten concurrent identical queries, one `catalog` request"
    );
    // Off: each query sends its own.
    // (`stock` numbers each of its answers differently, so these differ.)
    let stack =
        Stack::configured("dedupe:\n  subgraph_requests: false\n  client_requests: false\n").await;
    let (sent, same) = ten_at_once(&stack).await;
    assert!(!same);
    assert_eq!(sent, 10);
    // Client-level sharing alone also sends one.
    let stack =
        Stack::configured("dedupe:\n  subgraph_requests: false\n  client_requests: true\n").await;
    let (sent, same) = ten_at_once(&stack).await;
    assert!(same);
    assert_eq!(sent, 1);
    // Mutations are never shared.
    stack.script.catalog_delay_ms.store(200, Ordering::SeqCst);
    let before = stack.script.catalog_requests.load(Ordering::SeqCst);
    let m = "mutation { rename(upc: \"1\", name: \"x\") { upc } }";
    futures::future::join_all((0..3).map(|_| stack.query(m))).await;
    assert_eq!(
        stack.script.catalog_requests.load(Ordering::SeqCst) - before,
        3
    );
}

/// Eight different single-product queries at once: `stock`'s requests, and the answers.
async fn eight_products(stack: &Stack) -> (usize, Vec<Value>) {
    let before = stack.stock_requests().len();
    let answers = futures::future::join_all(
        (1..=8).map(|n| stack.query_owned(format!("{{ product(upc: \"{n}\") {{ upc stock }} }}"))),
    )
    .await;
    (stack.stock_requests().len() - before, answers)
}

#[tokio::test]
async fn entity_fetches_of_concurrent_requests_are_batched() {
    let stack = Stack::configured("entity_batching:\n  enabled: true\n  window_ms: 200\n").await;
    let (sent, answers) = eight_products(&stack).await;
    assert_eq!(
        sent, 1,
        "eight requests' entity fetches, one `_entities` request"
    );
    assert_eq!(stack.stock_requests()[0].len(), 8);
    for (n, answer) in (1..=8).zip(&answers) {
        // One batch: one generation, so each stock figure is its upc.
        assert_eq!(
            answer,
            &json!({ "data": { "product": { "upc": n.to_string(), "stock": n } } })
        );
    }
    // Without batching: one `_entities` request per client request, the same data.
    let stack = Stack::configured("").await;
    let (sent, answers) = eight_products(&stack).await;
    assert_eq!(sent, 8);
    for (n, answer) in (1..=8u64).zip(&answers) {
        assert_eq!(answer["data"]["product"]["upc"], n.to_string());
        assert_eq!(
            answer["data"]["product"]["stock"].as_u64().unwrap() % 1000,
            n
        );
    }
}

/// A Redis key prefix of this test run's own.
fn prefix(test: &str) -> String {
    format!("weft-test-{}-{test}:", std::process::id())
}

#[tokio::test]
async fn gateways_sharing_redis_share_entries_and_evictions() {
    let shared = format!(
        "entity_cache:\n  enabled: true\n  invalidation_token: t0ken\n  redis:\n    url: redis://127.0.0.1:6379\n    key_prefix: \"{}\"\n",
        prefix("shared")
    );
    let stack = Stack::configured(&shared).await;
    let (_b, b_url) = stack.another("b", &shared);
    // Gateway A fetches and stores; gateway B finds the entries in Redis.
    let first = stack.query(STOCKS).await;
    assert_eq!(stack.stock_requests().len(), 1);
    // The store is written in the background: give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let from_b = query_at(&b_url, STOCKS).await;
    assert_eq!(from_b, first);
    assert_eq!(stack.stock_requests().len(), 1, "B answered from Redis");
    // An eviction on A reaches B (its memory and Redis): B fetches that entity again.
    let done = reqwest::Client::new()
        .post(format!("{}/admin/entity-cache/invalidate", stack.base))
        .header("authorization", "Bearer t0ken")
        .body(json!({ "type": "Product", "key": { "upc": "2" } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    query_at(&b_url, STOCKS).await;
    assert_eq!(stack.stock_requests().len(), 2);
    assert_eq!(stack.last_upcs(), vec!["2"], "only the evicted entity");
}

#[tokio::test]
async fn with_redis_down_no_request_fails_and_memory_still_caches() {
    // Nothing listens on port 1.
    let stack = Stack::configured(
        "entity_cache:\n  enabled: true\n  redis:\n    url: redis://127.0.0.1:1\n",
    )
    .await;
    let first = stack.query(STOCKS).await;
    assert!(first.get("errors").is_none(), "{first}");
    let second = stack.query(STOCKS).await;
    assert_eq!(second, first);
    assert_eq!(
        stack.stock_requests().len(),
        1,
        "memory answered the second"
    );
    let metrics = support::metrics(&stack.url).await;
    let errors = metrics
        .lines()
        .find_map(|l| l.strip_prefix("weft_entity_cache_redis_errors_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(errors >= 1.0, "{metrics}");
}
