#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Traffic to subgraphs end to end (docs/traffic.md): per-subgraph timeouts, retries of
//! queries within a budget, and the circuit breaker. The real reference subgraphs on
//! ephemeral ports, some behind a small proxy in the test that delays or fails on purpose and
//! counts what reaches it; `weft serve --config` as a real process.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_federation::compose::SubgraphInput;
use weft_products::demo_product;
use weft_subgraph_kit::Running;

/// What the proxy does with each request it receives.
#[derive(Clone, Copy)]
enum Mode {
    /// Waits this many milliseconds, then forwards.
    Delay(u64),
    /// Answers 500 to the first N requests, then forwards.
    FailFirst(u64),
    /// Answers 503 while `Fault::down` is set, else forwards.
    FailWhileDown,
}

/// A stand-in in front of a subgraph (or of nothing: every forward is then a 500).
struct Fault {
    url: String,
    requests: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    bodies: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Fault {
    async fn start(upstream: Option<String>, mode: Mode) -> Fault {
        let requests = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicBool::new(true));
        let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (r, d, b) = (requests.clone(), down.clone(), bodies.clone());
        let client = reqwest::Client::new();
        let app = axum::Router::new().route(
            "/graphql",
            axum::routing::post(move |body: Bytes| {
                let (r, d, b, client, upstream) = (
                    r.clone(),
                    d.clone(),
                    b.clone(),
                    client.clone(),
                    upstream.clone(),
                );
                async move {
                    let n = r.fetch_add(1, Ordering::SeqCst);
                    b.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&body).into_owned());
                    match mode {
                        Mode::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                        Mode::FailFirst(k) if n < k => {
                            return (StatusCode::INTERNAL_SERVER_ERROR, Bytes::from("boom"));
                        }
                        Mode::FailWhileDown if d.load(Ordering::SeqCst) => {
                            return (StatusCode::SERVICE_UNAVAILABLE, Bytes::from("down"));
                        }
                        _ => {}
                    }
                    let Some(upstream) = upstream else {
                        return (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            Bytes::from("no upstream"),
                        );
                    };
                    let answer = client
                        .post(upstream)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
                    (status, answer.bytes().await.unwrap())
                }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fault {
            url: format!("http://{addr}/graphql"),
            requests,
            down,
            bodies,
        }
    }

    fn count(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A subgraph known only by its SDL, served by a [`Fault`] with no upstream: every request
/// fails. It has a query and a mutation.
const NOTES_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { noteCount: Int }
type Mutation { addNote(text: String!): Int }
"#;

struct Stack {
    _subgraphs: Vec<Running>,
    url: String,
    _gateway: support::Process,
}

impl Stack {
    /// The reference subgraphs, some routed elsewhere (`routes`), extra SDL-only subgraphs,
    /// and `weft serve --config` with `config` (YAML, after `supergraph.path`).
    async fn start(routes: &[(&str, &str)], extra: &[(&str, &str, &str)], config: &str) -> Stack {
        let subgraphs = support::reference_subgraphs().await;
        Self::with(subgraphs, routes, extra, config)
    }

    fn with(
        subgraphs: Vec<Running>,
        routes: &[(&str, &str)],
        extra: &[(&str, &str, &str)],
        config: &str,
    ) -> Stack {
        let mut inputs = support::inputs(&subgraphs);
        for input in &mut inputs {
            if let Some((_, url)) = routes.iter().find(|(name, _)| *name == input.name) {
                input.url = (*url).to_owned();
            }
        }
        for (name, url, sdl) in extra {
            inputs.push(SubgraphInput {
                name: (*name).to_owned(),
                url: (*url).to_owned(),
                sdl: (*sdl).to_owned(),
                source: (*name).to_owned(),
            });
        }
        let dir = support::scratch("traffic", subgraphs[0].addr.port());
        std::fs::write(dir.join("supergraph.graphql"), support::supergraph(&inputs)).unwrap();
        let config_path = dir.join("weft.yaml");
        std::fs::write(
            &config_path,
            format!("supergraph:\n  path: supergraph.graphql\n{config}"),
        )
        .unwrap();
        let config_arg = config_path.display().to_string();
        let (gateway, url) = support::serve(["--config", config_arg.as_str()]);
        Stack {
            _subgraphs: subgraphs,
            url,
            _gateway: gateway,
        }
    }

    async fn query(&self, query: &str) -> Value {
        reqwest::Client::new()
            .post(&self.url)
            .header("accept", "application/json")
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn metrics(&self) -> String {
        support::metrics(&self.url).await
    }
}

fn url_of(subgraphs: &[Running], name: &str) -> String {
    subgraphs.iter().find(|s| s.name == name).unwrap().url()
}

/// The codes of the errors that have one (a non-null violation that follows a failed fetch
/// has none).
fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_subgraph_times_out_on_its_own_timeout() {
    let subgraphs = support::reference_subgraphs().await;
    // Two subgraphs equally slow; only inventory has a timeout shorter than the delay.
    let inventory = Fault::start(Some(url_of(&subgraphs, "inventory")), Mode::Delay(1500)).await;
    let accounts = Fault::start(Some(url_of(&subgraphs, "accounts")), Mode::Delay(1500)).await;
    let stack = Stack::with(
        subgraphs,
        &[("inventory", &inventory.url), ("accounts", &accounts.url)],
        &[],
        "subgraphs:\n  all:\n    timeout_ms: 10000\n  inventory:\n    timeout_ms: 300\n",
    );
    let body = stack
        .query("{ topProducts(first: 2) { name inStock } users { name } }")
        .await;
    // accounts waited out its delay and answered; inventory's fields are null, with its error.
    assert!(
        body["data"]["users"]
            .as_array()
            .is_some_and(|u| !u.is_empty()),
        "{body}"
    );
    assert_eq!(
        body["data"]["topProducts"][0]["name"],
        json!(demo_product(1).name),
        "{body}"
    );
    assert!(
        body["data"]["topProducts"][0]["inStock"].is_null(),
        "{body}"
    );
    let errors = body["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .all(|e| e["extensions"]["serviceName"] == "inventory"
                && e["message"]
                    .as_str()
                    .unwrap()
                    .contains("did not answer in time")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_fails_once_is_retried_and_answered() {
    let subgraphs = support::reference_subgraphs().await;
    let inventory = Fault::start(Some(url_of(&subgraphs, "inventory")), Mode::FailFirst(1)).await;
    let stack = Stack::with(
        subgraphs,
        &[("inventory", &inventory.url)],
        &[],
        "subgraphs:\n  all:\n    retry:\n      max_attempts: 3\n      backoff_ms: 10\n",
    );
    let body = stack
        .query("{ topProducts(first: 2) { name inStock } }")
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(
        body["data"]["topProducts"][1]["inStock"].is_boolean(),
        "{body}"
    );
    // The first attempt failed, the second answered: no third.
    assert_eq!(inventory.count(), 2);
    let metrics = stack.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"weft_subgraph_retries_total{subgraph="inventory"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_are_never_retried_queries_are_up_to_max_attempts() {
    let notes = Fault::start(None, Mode::FailWhileDown).await;
    let stack = Stack::start(
        &[],
        &[("notes", &notes.url, NOTES_SDL)],
        "subgraphs:\n  notes:\n    retry:\n      max_attempts: 3\n      backoff_ms: 5\n",
    )
    .await;
    let body = stack.query(r#"mutation { addNote(text: "hi") }"#).await;
    assert_eq!(codes(&body), ["SUBREQUEST_HTTP_ERROR"], "{body}");
    assert_eq!(notes.count(), 1, "a mutation went out more than once");
    let body = stack.query("{ noteCount }").await;
    assert_eq!(codes(&body), ["SUBREQUEST_HTTP_ERROR"], "{body}");
    assert_eq!(notes.count(), 1 + 3);
    let bodies = notes.bodies.lock().unwrap().clone();
    assert!(bodies[0].contains("addNote"), "{bodies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_stop_when_the_budget_is_spent() {
    let subgraphs = support::reference_subgraphs().await;
    // products fails everything: each query would be sent twice without a budget.
    let products = Fault::start(None, Mode::FailWhileDown).await;
    let stack = Stack::with(
        subgraphs,
        &[("products", &products.url)],
        &[],
        "subgraphs:\n  products:\n    retry:\n      max_attempts: 2\n      backoff_ms: 1\n      \
         budget_percent: 1\n      budget_min_per_sec: 1\n",
    );
    const QUERIES: u64 = 15;
    for _ in 0..QUERIES {
        let body = stack.query("{ topProducts(first: 1) { name } }").await;
        assert_eq!(codes(&body), ["SUBREQUEST_HTTP_ERROR"], "{body}");
    }
    // The budget allows 1 retry per second of its 10-second window (1% of 15 adds none):
    // 10 retries, then none.
    assert_eq!(products.count(), QUERIES + 10);
    let metrics = stack.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"weft_subgraph_retries_refused_total{subgraph="products"}"#
        ),
        Some(5.0),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_opens_fails_fast_then_half_opens_and_closes() {
    let subgraphs = support::reference_subgraphs().await;
    let products = Fault::start(Some(url_of(&subgraphs, "products")), Mode::FailWhileDown).await;
    let stack = Stack::with(
        subgraphs,
        &[("products", &products.url)],
        &[],
        "subgraphs:\n  products:\n    circuit_breaker:\n      enabled: true\n      \
         failure_threshold: 3\n      cooldown_ms: 1000\n",
    );
    const QUERY: &str = "{ topProducts(first: 1) { name } }";
    for _ in 0..3 {
        let body = stack.query(QUERY).await;
        assert_eq!(codes(&body), ["SUBREQUEST_HTTP_ERROR"], "{body}");
    }
    assert_eq!(products.count(), 3);
    // Open: answered at once, nothing sent.
    for _ in 0..3 {
        let body = stack.query(QUERY).await;
        assert_eq!(codes(&body), ["SUBGRAPH_CIRCUIT_OPEN"], "{body}");
        assert_eq!(body["errors"][0]["extensions"]["serviceName"], "products");
    }
    assert_eq!(products.count(), 3);
    let metrics = stack.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"weft_subgraph_circuit_state{subgraph="products"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    // The subgraph recovers; after the cool-down one probe goes through and closes it.
    products.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let body = stack.query(QUERY).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(products.count(), 4);
    let body = stack.query(QUERY).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(products.count(), 5);
    let metrics = stack.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"weft_subgraph_circuit_state{subgraph="products"}"#
        ),
        Some(0.0),
        "{metrics}"
    );
}
