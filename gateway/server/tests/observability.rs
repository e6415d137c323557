#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Observability and header propagation end to end: `weft serve` as a real process in front of
//! the real reference subgraphs (which record the headers they receive). `/metrics` after
//! queries, `/ready` and `/health`, `headers:` rules per subgraph, and W3C trace context.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};
use weft_accounts::Accounts;
use weft_inventory::Inventory;
use weft_products::Products;
use weft_subgraph_kit::Running;

mod support;

/// Touches all three subgraphs: products (root), inventory (`shippingEstimate`), accounts.
const QUERY: &str = "{ topProducts(first: 2) { name shippingEstimate } users { name } }";
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

async fn subgraphs() -> Vec<Running> {
    vec![
        support::subgraph::<Accounts>().await,
        support::subgraph::<Products>().await,
        support::subgraph::<Inventory>().await,
    ]
}

/// A fresh directory for one test's files, holding the supergraph of `subgraphs`.
fn dir(test: &str, subgraphs: &[Running]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-obs-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let supergraph = support::supergraph(&support::inputs(subgraphs));
    std::fs::write(dir.join("supergraph.graphql"), supergraph).unwrap();
    dir
}

/// `weft serve ARGS` with `envs` (and no other `WEFT_*` variable); killed when dropped.
struct Gateway {
    child: Child,
    /// `http://127.0.0.1:PORT`
    base: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Gateway {
        let mut cmd = support::weft_command();
        let mut child = cmd
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start weft serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let url = line.split_whitespace().last().unwrap_or_default();
        let Some(base) = url.strip_suffix("/graphql") else {
            let _ = child.kill();
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            panic!("weft serve did not start:\n{text}");
        };
        // Drained, so the gateway never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Gateway {
            base: base.to_owned(),
            child,
        }
    }

    async fn query(&self, query: &str, headers: &[(&str, &str)]) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .header("accept", "application/json")
            .json(&json!({ "query": query }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> (StatusCode, String, String) {
        let response = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, response.text().await.unwrap())
    }

    async fn metrics(&self) -> String {
        let (status, content_type, body) = self.get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        body
    }
}

/// The value of the sample `series` (name and labels exactly as rendered), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

fn at_least(metrics: &str, series: &str, min: f64) {
    let value = sample(metrics, series).unwrap_or_else(|| panic!("no {series} in\n{metrics}"));
    assert!(
        value >= min,
        "{series} = {value}, expected ≥ {min}\n{metrics}"
    );
}

fn assert_ok(body: &Value) {
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["topProducts"].as_array().map(Vec::len),
        Some(2)
    );
}

/// The values of `name` in each request `subgraph` received.
fn received(subgraph: &Running, name: &str) -> Vec<Vec<String>> {
    let all = subgraph.requests.headers();
    assert!(!all.is_empty(), "{} got no request", subgraph.name);
    all.iter()
        .map(|h| {
            h.get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_errors_plans_and_every_subgraph_fetch() {
    let subgraphs = subgraphs().await;
    let dir = dir("metrics", &subgraphs);
    let supergraph = dir.join("supergraph.graphql");
    let gw = Gateway::start(&["--supergraph", supergraph.to_str().unwrap()], &[]);

    assert_eq!(gw.get("/health").await.0, StatusCode::OK);
    let (status, _, body) = gw.get("/ready").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["status"], "ready", "{body}");
    // Which supergraph is live: the file's sha256 (from coreutils, not the gateway's code).
    let text = std::fs::read_to_string(&supergraph).unwrap();
    assert_eq!(
        ready["supergraph"]["sha256"],
        support::sha256(&text),
        "{body}"
    );

    assert_ok(&gw.query(QUERY, &[]).await);
    assert_ok(&gw.query(QUERY, &[]).await);
    let parse_error = gw.query("{", &[]).await;
    assert_eq!(
        parse_error["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );

    let metrics = gw.metrics().await;
    at_least(&metrics, r#"weft_http_requests_total{status="200"}"#, 3.0);
    at_least(&metrics, "weft_http_request_duration_seconds_count", 3.0);
    at_least(
        &metrics,
        r#"weft_http_request_duration_seconds_bucket{le="+Inf"}"#,
        3.0,
    );
    at_least(
        &metrics,
        r#"weft_graphql_errors_total{code="GRAPHQL_PARSE_FAILED"}"#,
        1.0,
    );
    // The first run of QUERY missed the plan cache, the second hit it.
    at_least(&metrics, "weft_query_plan_cache_misses_total", 1.0);
    at_least(&metrics, "weft_query_plan_cache_hits_total", 1.0);
    for s in &subgraphs {
        let name = s.name;
        let count = format!(r#"weft_subgraph_fetch_duration_seconds_count{{subgraph="{name}"}}"#);
        // Two queries: at least two fetches each, and no more than the subgraph received.
        at_least(&metrics, &count, 2.0);
        assert!(sample(&metrics, &count).unwrap() <= s.requests.count() as f64);
        at_least(
            &metrics,
            &format!(
                r#"weft_subgraph_fetch_duration_seconds_bucket{{subgraph="{name}",le="+Inf"}}"#
            ),
            2.0,
        );
        assert!(
            metrics.contains(&format!(
                r#"weft_subgraph_fetch_duration_seconds_sum{{subgraph="{name}"}} "#
            )),
            "{metrics}"
        );
    }
    assert!(
        !metrics.contains("weft_subgraph_fetch_errors_total{"),
        "{metrics}"
    );
    // Scraping is not a GraphQL request.
    let again = gw.metrics().await;
    assert_eq!(
        sample(&again, r#"weft_http_requests_total{status="200"}"#),
        sample(&metrics, r#"weft_http_requests_total{status="200"}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_subgraph_fetch_is_counted_by_kind() {
    let subgraphs = subgraphs().await;
    let dir = dir("fetch-errors", &subgraphs);
    let supergraph = dir.join("supergraph.graphql");
    let gw = Gateway::start(
        &["--supergraph", supergraph.to_str().unwrap()],
        &[("WEFT_SUBGRAPHS_INVENTORY_URL", "http://127.0.0.1:9/graphql")],
    );
    let body = gw.query(QUERY, &[]).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR",
        "{body}"
    );
    let metrics = gw.metrics().await;
    at_least(
        &metrics,
        r#"weft_subgraph_fetch_errors_total{subgraph="inventory",kind="http"}"#,
        1.0,
    );
    at_least(
        &metrics,
        r#"weft_subgraph_fetch_duration_seconds_count{subgraph="inventory"}"#,
        1.0,
    );
    assert_eq!(
        sample(
            &metrics,
            r#"weft_subgraph_fetch_errors_total{subgraph="products",kind="http"}"#
        ),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_rules_choose_what_each_subgraph_receives() {
    let subgraphs = subgraphs().await;
    let dir = dir("headers", &subgraphs);
    let config = dir.join("weft.yaml");
    std::fs::write(
        &config,
        "supergraph:\n  path: supergraph.graphql\nheaders:\n  all:\n    - propagate: { prefix: x-all- }\n    - insert: { name: x-gateway, value: weft }\n  subgraphs:\n    accounts:\n      - propagate: { named: x-tenant }\n",
    )
    .unwrap();
    let gw = Gateway::start(&["--config", config.to_str().unwrap()], &[]);
    let body = gw
        .query(
            QUERY,
            &[
                ("x-tenant", "acme"),
                ("x-all-flag", "on"),
                ("x-secret", "do-not-forward"),
                ("traceparent", TRACEPARENT),
                ("tracestate", TRACESTATE),
            ],
        )
        .await;
    assert_ok(&body);
    for s in &subgraphs {
        let tenant = received(s, "x-tenant");
        if s.name == "accounts" {
            assert!(tenant.iter().all(|v| v == &["acme"]), "{tenant:?}");
        } else {
            assert!(tenant.iter().all(Vec::is_empty), "{}: {tenant:?}", s.name);
        }
        for (name, expected) in [
            ("x-all-flag", "on"),
            ("x-gateway", "weft"),
            ("traceparent", TRACEPARENT),
            ("tracestate", TRACESTATE),
        ] {
            let got = received(s, name);
            assert!(
                got.iter().all(|v| v == &[expected]),
                "{}: {name}: {got:?}",
                s.name
            );
        }
        assert!(received(s, "x-secret").iter().all(Vec::is_empty));
        // The gateway's own content type, once: the client's is never copied.
        let content_type = received(s, "content-type");
        assert!(
            content_type.iter().all(|v| v == &["application/json"]),
            "{content_type:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_context_reaches_every_subgraph_without_rules() {
    let subgraphs = subgraphs().await;
    let dir = dir("traceparent", &subgraphs);
    let supergraph = dir.join("supergraph.graphql");
    let gw = Gateway::start(&["--supergraph", supergraph.to_str().unwrap()], &[]);
    let body = gw
        .query(
            QUERY,
            &[
                ("traceparent", TRACEPARENT),
                ("tracestate", TRACESTATE),
                ("x-tenant", "acme"),
            ],
        )
        .await;
    assert_ok(&body);
    for s in &subgraphs {
        let got = received(s, "traceparent");
        assert!(
            got.iter().all(|v| v == &[TRACEPARENT]),
            "{}: {got:?}",
            s.name
        );
        let got = received(s, "tracestate");
        assert!(
            got.iter().all(|v| v == &[TRACESTATE]),
            "{}: {got:?}",
            s.name
        );
        // Without rules nothing else is propagated.
        assert!(received(s, "x-tenant").iter().all(Vec::is_empty));
    }
    // A request without trace context sends none.
    let before: usize = subgraphs.iter().map(|s| s.requests.headers().len()).sum();
    assert_ok(&gw.query(QUERY, &[]).await);
    let all: Vec<_> = subgraphs
        .iter()
        .flat_map(|s| s.requests.headers())
        .collect();
    assert!(all.len() > before);
    let traced = all.iter().filter(|h| h.contains_key("traceparent")).count();
    assert_eq!(traced, before, "only the first query's requests carry it");
}
