#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The executor on its own: a plan for the demo supergraph run against the reference
//! subgraphs on ephemeral ports, no HTTP server in front, the shaped answer checked.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use weft_config::headers::HeaderRules;
use weft_config::model::Subgraphs;
use weft_executor::{Engine, Execution, ExecutorMetrics, FetchErrorKind, Forwarded};
use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::{Operation, normalize};
use weft_federation::plan::model::QueryPlan;
use weft_federation::plan::plan;
use weft_inventory::Inventory;
use weft_inventory::data::demo_in_stock;
use weft_products::{Products, demo_product};
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Running, Subgraph, spawn};

const SUPERGRAPH: &str = include_str!("../../../schema/supergraph.graphql");

/// Counts what the executor reports.
#[derive(Default)]
struct Counts {
    fetches: Mutex<Vec<String>>,
    errors: Mutex<Vec<(String, FetchErrorKind)>>,
}

impl ExecutorMetrics for Counts {
    fn entity_cache(&self, _: &str, _: u64, _: u64) {}
    fn record_fetch(&self, subgraph: &str, _: Duration) {
        self.fetches.lock().unwrap().push(subgraph.to_owned());
    }
    fn record_fetch_error(&self, subgraph: &str, kind: FetchErrorKind) {
        self.errors
            .lock()
            .unwrap()
            .push((subgraph.to_owned(), kind));
    }
    fn record_entity_cache_redis_error(&self) {}
    fn record_retry(&self, _: &str) {}
    fn record_retry_refused(&self, _: &str) {}
    fn set_circuit_state(&self, _: &str, _: u64) {}
}

async fn start<S: Subgraph>() -> Running {
    let db = open::<S>(None).await.expect("db");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    spawn::<S>(listener, db).expect("spawn")
}

/// The supergraph, an operation on its API schema and the operation's plan.
fn planned(query: &str) -> (Supergraph, Operation, QueryPlan) {
    let supergraph = Supergraph::parse(SUPERGRAPH, "supergraph.graphql").expect("supergraph");
    let document = apollo_compiler::ExecutableDocument::parse_and_validate(
        supergraph.api_schema(),
        query,
        "query.graphql",
    )
    .expect("valid operation");
    let operation = normalize(supergraph.api_schema(), &document, None).expect("normalized");
    let graph = QueryGraph::new(Arc::new(supergraph.clone()));
    let plan = plan(&graph, &operation, &BTreeSet::new()).expect("planned");
    (supergraph, operation, plan)
}

fn engine(urls: &[(&str, String)], metrics: Arc<Counts>) -> Engine {
    // In the supergraph's order, as the engine indexes them by `SubgraphId`.
    let supergraph = Supergraph::parse(SUPERGRAPH, "supergraph.graphql").expect("supergraph");
    let urls: Vec<(String, String)> = supergraph
        .subgraphs()
        .iter()
        .map(|s| {
            let url = urls
                .iter()
                .find(|(name, _)| *name == s.name)
                .map_or_else(|| s.url.clone(), |(_, url)| url.clone());
            (s.name.clone(), url)
        })
        .collect();
    Engine::build(
        &urls,
        &Subgraphs::default(),
        metrics,
        HeaderRules::default(),
        None,
        false,
        None,
    )
    .expect("engine")
}

async fn run(engine: &Engine, query: &str) -> Value {
    let (supergraph, operation, plan) = planned(query);
    let (data, errors) = engine
        .execute(Execution {
            plan: &plan,
            operation: &operation,
            variables: &Map::new(),
            api: supergraph.api_schema(),
            headers: &HeaderMap::new(),
            forwarded: &Forwarded::default(),
            max_bytes: None,
        })
        .await;
    let data: Value = serde_json::from_slice(&data).expect("data is JSON");
    json!({ "data": data, "errors": errors })
}

const QUERY: &str = "{ topProducts(first: 2) { upc name inStock } }";

/// A root fetch to products, then an entity fetch to inventory, merged and shaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_across_two_subgraphs_is_run_and_shaped() {
    let products = start::<Products>().await;
    let inventory = start::<Inventory>().await;
    let metrics = Arc::new(Counts::default());
    let engine = engine(
        &[("products", products.url()), ("inventory", inventory.url())],
        metrics.clone(),
    );
    let answer = run(&engine, QUERY).await;
    let expected: Vec<Value> = (1..=2)
        .map(|i| {
            let p = demo_product(i);
            json!({ "upc": p.upc, "name": p.name, "inStock": demo_in_stock(i) })
        })
        .collect();
    assert_eq!(
        answer,
        json!({ "data": { "topProducts": expected }, "errors": [] })
    );
    let mut fetches = metrics.fetches.lock().unwrap().clone();
    fetches.sort();
    assert_eq!(fetches, ["inventory", "products"]);
    assert!(metrics.errors.lock().unwrap().is_empty());
}

/// A subgraph that cannot be reached nulls only what it was to provide, with an error naming
/// it, and the failure is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subgraph_down_leaves_partial_data_and_an_error() {
    let products = start::<Products>().await;
    // A port nothing listens on: bound, then released.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let down = format!("http://{}/graphql", closed.local_addr().expect("addr"));
    drop(closed);
    let metrics = Arc::new(Counts::default());
    let engine = engine(
        &[("products", products.url()), ("inventory", down)],
        metrics.clone(),
    );
    let answer = run(&engine, QUERY).await;
    assert_eq!(
        answer["data"]["topProducts"][0]["name"],
        json!(demo_product(1).name),
        "{answer}"
    );
    assert!(
        answer["data"]["topProducts"][0]["inStock"].is_null(),
        "{answer}"
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["serviceName"], "inventory",
        "{answer}"
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR",
        "{answer}"
    );
    assert!(
        metrics
            .errors
            .lock()
            .unwrap()
            .iter()
            .any(|(s, k)| s == "inventory" && *k == FetchErrorKind::Http),
        "{:?}",
        metrics.errors.lock().unwrap()
    );
}
