#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! OpenTelemetry traces and metrics end to end (docs/observability.md): `weft serve` as a real
//! process exporting over OTLP/HTTP (JSON) to a receiver in this test, in front of the real
//! reference subgraphs, which record the `traceparent` they get.

mod support;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_accounts::Accounts;
use weft_inventory::Inventory;
use weft_products::Products;

const CLIENT_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN: &str = "b7ad6b7169203331";

/// The bodies an OTLP/HTTP receiver got, by signal.
type Bodies = Arc<Mutex<Vec<Value>>>;

/// An OTLP/HTTP receiver: keeps every JSON body posted to it, traces and metrics apart. Its
/// traces URL is the endpoint to configure; metrics come to `/v1/metrics` beside it.
async fn receiver() -> (String, Bodies, Bodies) {
    let traces = Bodies::default();
    let metrics = Bodies::default();
    let keep = |bodies: &Bodies| {
        let kept = bodies.clone();
        axum::routing::post(move |body: Bytes| {
            let kept = kept.clone();
            async move {
                let value: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                kept.lock().unwrap().push(value);
                "{}"
            }
        })
    };
    let app = axum::Router::new()
        .route("/v1/traces", keep(&traces))
        .route("/v1/metrics", keep(&metrics));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/v1/traces"), traces, metrics)
}

/// One exported span.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    trace: String,
    id: String,
    parent: String,
    attributes: HashMap<String, Value>,
    service: String,
}

fn spans(bodies: &[Value]) -> Vec<Span> {
    let mut out = Vec::new();
    for body in bodies {
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            let service = rs["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "service.name")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .unwrap_or_default()
                .to_owned();
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let attributes = s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| (a["key"].as_str().unwrap().to_owned(), a["value"].clone()))
                        .collect();
                    out.push(Span {
                        name: s["name"].as_str().unwrap().to_owned(),
                        trace: s["traceId"].as_str().unwrap().to_lowercase(),
                        id: s["spanId"].as_str().unwrap().to_lowercase(),
                        parent: s["parentSpanId"]
                            .as_str()
                            .unwrap_or_default()
                            .to_lowercase(),
                        attributes,
                        service: service.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Waits (at most 20 s) until the spans of trace `trace` include `fetches` subgraph fetches.
async fn trace_of(bodies: &Bodies, trace: &str, fetches: usize) -> Vec<Span> {
    let started = Instant::now();
    loop {
        let all: Vec<Span> = spans(&bodies.lock().unwrap())
            .into_iter()
            .filter(|s| s.trace == trace)
            .collect();
        if all.iter().filter(|s| s.name == "subgraph.fetch").count() >= fetches
            && all.iter().any(|s| s.name == "graphql.request")
        {
            return all;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no complete trace {trace} exported: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn one<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "{name}: {spans:#?}");
    found[0]
}

/// The (trace id, parent span id) of the `traceparent`s a subgraph received.
fn traceparents(subgraph: &weft_subgraph_kit::Running) -> Vec<(String, String)> {
    subgraph
        .requests
        .headers()
        .iter()
        .filter_map(|h| h.get("traceparent"))
        .map(|v| {
            let parts: Vec<&str> = v.to_str().unwrap().split('-').collect();
            (parts[1].to_owned(), parts[2].to_owned())
        })
        .collect()
}

/// `weft serve --config config` with the OpenTelemetry SDK's variable `env` set, its log
/// dropped; the process and its GraphQL URL.
fn serve_exporting(config: &Path, env: (&str, &str)) -> (support::Process, String) {
    let mut command = support::weft_command();
    command.env(env.0, env.1).stderr(Stdio::null());
    support::serve_with(command, [OsStr::new("--config"), config.as_os_str()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_and_subgraphs_get_the_fetch_span_context() {
    let (endpoint, bodies, _metrics) = receiver().await;
    let subgraphs = vec![
        support::subgraph::<Accounts>().await,
        support::subgraph::<Products>().await,
        support::subgraph::<Inventory>().await,
    ];
    let config = support::config_file(
        "telemetry",
        &subgraphs,
        &format!(
            "telemetry:\n  otlp_endpoint: {endpoint}\n  service_name: weft-under-test\nlog:\n  \
             level: warn\n"
        ),
    );
    // The SDK's batch delay, so spans leave within a fraction of a second.
    let (_gateway, url) = serve_exporting(&config, ("OTEL_BSP_SCHEDULE_DELAY", "100"));

    let post = |traceparent: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(&url)
            .header("accept", "application/json")
            .json(&json!({ "query": "{ topProducts(first: 2) { name inStock } }" }));
        if let Some(tp) = traceparent {
            request = request.header("traceparent", tp);
        }
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            assert!(body.get("errors").is_none(), "{body}");
        }
    };

    // A client in a trace: the gateway's spans join it (the log level, `warn`, filters log
    // lines, not spans).
    post(Some(&format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"))).await;
    let trace = trace_of(&bodies, CLIENT_TRACE, 2).await;
    let request = one(&trace, "graphql.request");
    assert_eq!(request.parent, CLIENT_SPAN);
    assert_eq!(request.service, "weft-under-test");
    for stage in [
        "graphql.parse",
        "graphql.validate",
        "graphql.plan",
        "graphql.execute",
    ] {
        assert_eq!(one(&trace, stage).parent, request.id, "{stage}");
    }
    let execute = one(&trace, "graphql.execute");
    assert_eq!(
        execute.attributes["graphql.operation.type"]["stringValue"],
        "query"
    );
    let fetches: Vec<&Span> = trace
        .iter()
        .filter(|s| s.name == "subgraph.fetch")
        .collect();
    let mut names: Vec<&str> = fetches
        .iter()
        .map(|s| {
            s.attributes["subgraph.name"]["stringValue"]
                .as_str()
                .unwrap()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["inventory", "products"]);
    for fetch in &fetches {
        assert_eq!(fetch.parent, execute.id);
        assert_eq!(
            fetch.attributes["http.response.status_code"]["intValue"],
            json!("200"),
            "{fetch:?}"
        );
    }
    // Each subgraph got the context of its own fetch span, in the client's trace.
    for subgraph in &subgraphs[1..] {
        let fetch = fetches
            .iter()
            .find(|s| s.attributes["subgraph.name"]["stringValue"] == subgraph.name)
            .unwrap();
        assert_eq!(
            traceparents(subgraph),
            [(CLIENT_TRACE.to_owned(), fetch.id.clone())],
            "{}",
            subgraph.name
        );
    }

    // Without a client trace, the gateway starts one, and the subgraph is in it.
    post(None).await;
    let (trace_id, parent) = traceparents(&subgraphs[1]).pop().unwrap();
    assert_ne!(trace_id, CLIENT_TRACE);
    let trace = trace_of(&bodies, &trace_id, 2).await;
    assert_eq!(one(&trace, "graphql.request").parent, "");
    let fetch = trace
        .iter()
        .find(|s| s.id == parent)
        .expect("the fetch span");
    assert_eq!(fetch.name, "subgraph.fetch");
    assert_eq!(fetch.attributes["subgraph.name"]["stringValue"], "products");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_level_filters_log_lines_and_applies_on_reload() {
    let (endpoint, _bodies, _metrics) = receiver().await;
    let subgraphs = vec![support::subgraph::<Products>().await];
    let dir = support::scratch("telemetry-level", subgraphs[0].addr.port());
    std::fs::write(
        dir.join("supergraph.graphql"),
        support::supergraph(&support::inputs(&subgraphs)),
    )
    .unwrap();
    let config = dir.join("weft.yaml");
    let write = |level: &str| {
        std::fs::write(
            &config,
            format!(
                "supergraph:\n  path: supergraph.graphql\ntelemetry:\n  otlp_endpoint: \
                 {endpoint}\nlog:\n  level: {level}\n"
            ),
        )
        .unwrap();
    };
    write("warn");
    let stderr_path = dir.join("stderr.log");
    let mut command = support::weft_command();
    command.stderr(std::fs::File::create(&stderr_path).unwrap());
    let (_gateway, _url) =
        support::serve_with(command, [OsStr::new("--config"), config.as_os_str()]);
    let log = || std::fs::read_to_string(&stderr_path).unwrap();
    // `info` lines are filtered out at `warn`.
    assert!(!log().contains("weft gateway ready"), "{}", log());
    // The file watch compares modification times at one-second granularity on some systems.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    write("info");
    let started = Instant::now();
    while !log().contains("configuration applied") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the new level was not applied:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An OTLP number: JSON bodies carry 64-bit integers as strings.
fn number(value: &Value) -> f64 {
    match value {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_f64().unwrap(),
    }
}

/// The metric `name` in the last export that has it, and its resource's `service.name`.
fn exported(bodies: &[Value], name: &str) -> Option<(Value, String)> {
    bodies.iter().rev().find_map(|body| {
        body["resourceMetrics"].as_array()?.iter().find_map(|rm| {
            let service = rm["resource"]["attributes"]
                .as_array()?
                .iter()
                .find(|a| a["key"] == "service.name")?["value"]["stringValue"]
                .as_str()?
                .to_owned();
            rm["scopeMetrics"]
                .as_array()?
                .iter()
                .flat_map(|sm| sm["metrics"].as_array().into_iter().flatten())
                .find(|m| m["name"] == name)
                .map(|m| (m.clone(), service))
        })
    })
}

/// The data point of `metric` (a sum or a histogram) whose attribute `key` is `value`.
fn point<'a>(metric: &'a Value, key: &str, value: &Value) -> Option<&'a Value> {
    let points = metric["sum"]["dataPoints"]
        .as_array()
        .or_else(|| metric["histogram"]["dataPoints"].as_array())?;
    points.iter().find(|p| {
        p["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["key"] == key && a["value"] == *value)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_exported_over_otlp_beside_the_traces() {
    let (endpoint, _traces, bodies) = receiver().await;
    let subgraphs = vec![
        support::subgraph::<Products>().await,
        support::subgraph::<Inventory>().await,
    ];
    let config = support::config_file(
        "telemetry-metrics",
        &subgraphs,
        &format!(
            "telemetry:\n  otlp_endpoint: {endpoint}\n  service_name: weft-metered\nlog:\n  \
             level: warn\n"
        ),
    );
    // The SDK's export interval, so metrics leave within a fraction of a second.
    let (_gateway, url) = serve_exporting(&config, ("OTEL_METRIC_EXPORT_INTERVAL", "200"));
    for _ in 0..2 {
        let body: Value = reqwest::Client::new()
            .post(&url)
            .header("accept", "application/json")
            .json(&json!({ "query": "{ topProducts(first: 2) { name inStock } }" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body.get("errors").is_none(), "{body}");
    }

    // The counter arrives under its `/metrics` name, with its help text, by status.
    let status = json!({ "intValue": "200" });
    let started = Instant::now();
    let (requests, service) = loop {
        let found = exported(&bodies.lock().unwrap(), "weft_http_requests_total");
        if let Some((metric, service)) = found
            && point(&metric, "status", &status).is_some_and(|p| number(&p["asInt"]) >= 2.0)
        {
            break (metric, service);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no weft_http_requests_total{{status=200}} of 2 exported: {:#}",
            Value::Array(bodies.lock().unwrap().clone())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(service, "weft-metered");
    assert_eq!(
        requests["description"],
        "GraphQL HTTP requests answered, by status code."
    );
    assert_eq!(requests["sum"]["isMonotonic"], true);
    // Cumulative (2), like the counters `/metrics` shows.
    assert_eq!(requests["sum"]["aggregationTemporality"], 2);

    // A subgraph's fetch durations: a histogram with the buckets of `/metrics`.
    let (fetches, _) = exported(
        &bodies.lock().unwrap(),
        "weft_subgraph_fetch_duration_seconds",
    )
    .expect("fetch durations exported with the requests");
    let products = point(&fetches, "subgraph", &json!({ "stringValue": "products" }))
        .expect("a products series");
    assert!(number(&products["count"]) >= 2.0, "{products}");
    let bounds: Vec<f64> = products["explicitBounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    assert_eq!(
        bounds,
        [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
        ]
    );
    assert_eq!(fetches["unit"], "s");

    // `/metrics` reads the same instruments.
    let text = support::metrics(&url).await;
    let line = text
        .lines()
        .find(|l| l.starts_with(r#"weft_http_requests_total{status="200"} "#))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with(" 2"), "{line}");
}
