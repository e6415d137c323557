#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Subscriptions through `weft serve`: a subgraph `stock` whose `stockChanged` stream the test
//! scripts (a real HTTP server speaking GraphQL over SSE: it sends the events it is told, may
//! cut its stream, may be gone), beside the real products subgraph, which resolves each
//! event's `Product.name`. What a client reads over SSE and over multipart: each event in
//! order with the field of the other subgraph, the end; a cut stream opened again; the errors
//! at the end when the subgraph cannot be reached; the refusal of a client that accepts no
//! stream.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Value, json};
use support::Stack;
use weft_products::Products;

const STOCK_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Product @key(fields: "upc") { upc: String! stock: Int }
type Query { stockLevel(upc: String!): Int }
type Subscription { stockChanged(upc: String!): Product! }
"#;

/// One scripted stream: the stock levels sent as events, and how the stream ends.
type Stream = (Vec<i64>, End);

/// What the scripted subgraph does on each subscription request, in turn: send these stock
/// levels as events (for the requested upc), then complete or cut the stream.
#[derive(Clone)]
struct Script {
    /// Levels pushed to every live stream.
    live: tokio::sync::broadcast::Sender<i64>,
    streams: Arc<Mutex<Vec<Stream>>>,
    /// The requests it received (their JSON bodies).
    seen: Arc<Mutex<Vec<Value>>>,
}

#[derive(Clone, Copy)]
enum End {
    Complete,
    Cut,
    /// The stream stays open after its events (until the gateway goes away).
    Hold,
    /// The stream stays open, and every level pushed ([`Script::push`]) is sent on it.
    Live,
}

/// The scripted subgraph on an ephemeral port; its GraphQL URL.
async fn scripted(script: Script) -> String {
    let app = axum::Router::new().route(
        "/graphql",
        post(move |body: axum::body::Bytes| {
            let script = script.clone();
            async move {
                let request: Value = serde_json::from_slice(&body).unwrap();
                script.seen.lock().unwrap().push(request.clone());
                let upc = request["variables"]
                    .as_object()
                    .and_then(|v| v.values().next())
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| {
                        // An inlined argument: `stockChanged(upc: "1")`.
                        let q = request["query"].as_str().unwrap_or("");
                        q.split('"').nth(1).map(str::to_owned)
                    })
                    .unwrap();
                let (levels, end) = {
                    let mut streams = script.streams.lock().unwrap();
                    if streams.is_empty() {
                        (Vec::new(), End::Complete)
                    } else {
                        streams.remove(0)
                    }
                };
                let mut text = String::new();
                for level in levels {
                    let result = json!({ "data": { "stockChanged": {
                        "__typename": "Product", "upc": upc, "stock": level,
                    } } });
                    text.push_str(&format!(":\n\nevent: next\ndata: {result}\n\n"));
                }
                if let End::Complete = end {
                    text.push_str("event: complete\ndata:\n\n");
                }
                // A cut stream: the body ends without `complete`; a held one never ends.
                let first = futures::stream::once(async move {
                    Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(text))
                });
                let body = match end {
                    End::Hold => Body::from_stream(first.chain(futures::stream::pending())),
                    End::Live => {
                        let pushed = script.live.subscribe();
                        let upc = upc.clone();
                        let live = futures::stream::unfold(pushed, move |mut pushed| {
                            let upc = upc.clone();
                            async move {
                                let level = pushed.recv().await.ok()?;
                                let result = json!({ "data": { "stockChanged": {
                                    "__typename": "Product", "upc": upc, "stock": level,
                                } } });
                                let text = format!("event: next\ndata: {result}\n\n");
                                Some((
                                    Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(
                                        text,
                                    )),
                                    pushed,
                                ))
                            }
                        });
                        Body::from_stream(first.chain(live))
                    }
                    _ => Body::from_stream(first),
                };
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(body)
                    .unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/graphql")
}

struct Setup {
    stack: Stack,
    script: Script,
    /// The gateway's config file (rewriting it reloads the gateway).
    config: std::path::PathBuf,
}

async fn setup(streams: Vec<Stream>, stock_url: Option<&str>) -> Setup {
    setup_with(streams, stock_url, "").await
}

/// [`setup`] with `yaml` added to the gateway's config, and its files written beside it.
async fn setup_with(streams: Vec<Stream>, stock_url: Option<&str>, yaml: &str) -> Setup {
    let script = Script {
        live: tokio::sync::broadcast::channel(16).0,
        streams: Arc::new(Mutex::new(streams)),
        seen: Arc::default(),
    };
    let url = match stock_url {
        Some(url) => url.to_owned(),
        None => scripted(script.clone()).await,
    };
    let products = support::subgraph::<Products>().await;
    let inputs = vec![
        support::input("products", &products.url(), &support::sdl_of("products")),
        support::input("stock", &url, STOCK_SDL),
    ];
    let config = support::composed_config("subscriptions", &inputs, yaml);
    std::fs::write(
        config.parent().unwrap().join("keys.json"),
        support::hs256_jwks(),
    )
    .unwrap();
    let arg = config.display().to_string();
    Setup {
        stack: Stack::serve(vec![products], ["--config", arg.as_str()]),
        script,
        config,
    }
}

const OPERATION: &str =
    "subscription($upc: String!) { stockChanged(upc: $upc) { upc stock name } }";

/// Subscribes with `accept` and reads the whole response: status, content type, body text.
async fn subscribe(url: &str, accept: &str, operation: &str) -> (u16, String, String) {
    let body = json!({ "query": operation, "variables": { "upc": "1" } }).to_string();
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = tokio::time::timeout(Duration::from_secs(30), response.text())
        .await
        .expect("the stream ends")
        .unwrap();
    (status, content_type, text)
}

/// The SSE events of `text`: (name, data as JSON or null when empty). Comments skipped.
fn sse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty() && !block.starts_with(':'))
        .map(|block| {
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            let data = if data.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&data).unwrap()
            };
            (name, data)
        })
        .collect()
}

/// `OPERATION` for product 1 over SSE, its response held open to be read chunk by chunk.
async fn held_open(url: &str) -> reqwest::Response {
    let body = json!({ "query": OPERATION, "variables": { "upc": "1" } }).to_string();
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Product 1's name as products resolves it.
async fn name_of_product_1(stack: &Stack) -> Value {
    let (_, body) = support::query(&stack.url, &[], "{ topProducts(first: 1) { upc name } }").await;
    assert_eq!(body["data"]["topProducts"][0]["upc"], "1", "{body}");
    body["data"]["topProducts"][0]["name"].clone()
}

fn event(stock: i64, name: &Value) -> Value {
    json!({ "data": { "stockChanged": { "upc": "1", "stock": stock, "name": name } } })
}

#[tokio::test]
async fn sse_delivers_each_event_in_order_with_the_other_subgraphs_fields_then_completes() {
    let setup = setup(vec![(vec![7, 6, 5], End::Complete)], None).await;
    let name = name_of_product_1(&setup.stack).await;
    let (status, content_type, text) =
        subscribe(&setup.stack.url, "text/event-stream", OPERATION).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let events = sse_events(&text);
    assert_eq!(
        events,
        vec![
            ("next".to_owned(), event(7, &name)),
            ("next".to_owned(), event(6, &name)),
            ("next".to_owned(), event(5, &name)),
            ("complete".to_owned(), Value::Null),
        ],
        "{text}"
    );
    // The subgraph was asked for what the rest of the plan needs, with the client's variable.
    let seen = setup.script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let query = seen[0]["query"].as_str().unwrap();
    assert!(query.starts_with("subscription"), "{query}");
    assert!(
        query.contains("__typename") && query.contains("upc"),
        "{query}"
    );
    assert_eq!(seen[0]["variables"], json!({ "upc": "1" }));
}

#[tokio::test]
async fn multipart_delivers_each_event_as_a_payload_part() {
    let setup = setup(vec![(vec![3, 2], End::Complete)], None).await;
    let name = name_of_product_1(&setup.stack).await;
    let (status, content_type, text) = subscribe(
        &setup.stack.url,
        "multipart/mixed;subscriptionSpec=\"1.0\", application/json",
        OPERATION,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        content_type,
        "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\""
    );
    let parts: Vec<Value> = text
        .split("--graphql")
        .filter_map(|part| part.split_once("\r\n\r\n"))
        .map(|(_, json)| serde_json::from_str(json.trim()).unwrap())
        .filter(|v: &Value| v != &json!({})) // heartbeats
        .collect();
    assert_eq!(
        parts,
        vec![
            json!({ "payload": event(3, &name) }),
            json!({ "payload": event(2, &name) }),
        ],
        "{text}"
    );
    assert!(text.ends_with("--graphql--\r\n"), "{text:?}");
}

#[tokio::test]
async fn a_stream_cut_before_it_completed_is_opened_again() {
    let setup = setup(vec![(vec![9, 8], End::Cut), (vec![4], End::Complete)], None).await;
    let name = name_of_product_1(&setup.stack).await;
    let (_, _, text) = subscribe(&setup.stack.url, "text/event-stream", OPERATION).await;
    let events = sse_events(&text);
    assert_eq!(
        events,
        vec![
            ("next".to_owned(), event(9, &name)),
            ("next".to_owned(), event(8, &name)),
            ("next".to_owned(), event(4, &name)),
            ("complete".to_owned(), Value::Null),
        ],
        "{text}"
    );
    assert_eq!(setup.script.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_subgraph_ends_the_stream_with_an_error() {
    // A port nothing listens on (bound, then closed).
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/graphql", l.local_addr().unwrap())
    };
    let setup = setup(Vec::new(), Some(&closed)).await;
    let (status, _, text) = subscribe(&setup.stack.url, "text/event-stream", OPERATION).await;
    assert_eq!(status, 200);
    let events = sse_events(&text);
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0].0, "next");
    assert_eq!(
        events[0].1["errors"][0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR",
        "{text}"
    );
    assert!(events[0].1.get("data").is_none(), "{text}");
    assert_eq!(events[1], ("complete".to_owned(), Value::Null));
}

#[tokio::test]
async fn a_subscription_without_a_stream_to_answer_in_is_refused() {
    let setup = setup(Vec::new(), None).await;
    let (status, body) = support::query(
        &setup.stack.url,
        &[],
        "subscription { stockChanged(upc: \"1\") { stock } }",
    )
    .await;
    assert_eq!(status, 406, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_ACCEPTABLE");
    assert!(setup.script.seen.lock().unwrap().is_empty());
}

// ---- Real client libraries (tests/clients: graphql-ws, subscriptions-transport-ws,
// graphql-sse, meros), run by Node.

/// `tests/clients`, its packages installed once per test run (`npm ci`).
fn clients_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
        if !dir.join("node_modules/.package-lock.json").exists() {
            let status = std::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("npm (Node.js >= 20) runs the client libraries");
            assert!(status.success(), "npm ci in {}", dir.display());
        }
        dir
    })
}

/// What the client library handed the application, line by line (see subscribe.mjs).
async fn client(protocol: &str, url: &str, request: Value, options: Value) -> Vec<Value> {
    let dir = clients_dir();
    let url = match protocol {
        "ws" | "legacy-ws" => url.replacen("http://", "ws://", 1),
        _ => url.to_owned(),
    };
    let script = dir.join("subscribe.mjs");
    let protocol_arg = protocol.to_owned();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([protocol_arg, url, request.to_string(), options.to_string()])
            .output()
    });
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the client ends")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn request(upc: &str) -> Value {
    json!({ "query": OPERATION, "variables": { "upc": upc } })
}

fn nexts(stocks: &[i64], name: &Value) -> Vec<Value> {
    stocks
        .iter()
        .map(|s| json!({ "next": event(*s, name) }))
        .collect()
}

#[tokio::test]
async fn each_client_library_reads_the_events_in_order_then_the_end() {
    for protocol in ["ws", "legacy-ws", "sse", "multipart"] {
        let setup = setup(vec![(vec![5, 4, 3], End::Complete)], None).await;
        let name = name_of_product_1(&setup.stack).await;
        let got = client(protocol, &setup.stack.url, request("1"), json!({})).await;
        let mut expected = nexts(&[5, 4, 3], &name);
        expected.push(json!({ "complete": true }));
        assert_eq!(got, expected, "{protocol}");
    }
}

#[tokio::test]
async fn a_client_that_stops_early_gets_no_more_and_keeps_what_it_had() {
    for protocol in ["ws", "legacy-ws", "sse", "multipart"] {
        let setup = setup(vec![(vec![5, 4, 3], End::Hold)], None).await;
        let name = name_of_product_1(&setup.stack).await;
        let got = client(
            protocol,
            &setup.stack.url,
            request("1"),
            json!({ "take": 2 }),
        )
        .await;
        let mut expected = nexts(&[5, 4], &name);
        expected.push(json!({ "stopped": true }));
        assert_eq!(got, expected, "{protocol}");
    }
}

#[tokio::test]
async fn one_socket_carries_several_subscriptions_and_queries() {
    // Each of the socket's subscriptions on a stream of its own (shared streams: below).
    let setup = setup_with(
        vec![
            (vec![1, 2], End::Complete),
            (vec![1, 2], End::Complete),
            (vec![1, 2], End::Complete),
        ],
        None,
        "dedupe:\n  subscriptions: false\n",
    )
    .await;
    let name = name_of_product_1(&setup.stack).await;
    let got = client(
        "ws",
        &setup.stack.url,
        request("1"),
        json!({ "requests": 3 }),
    )
    .await;
    for op in 0..3 {
        let mine: Vec<&Value> = got.iter().filter(|l| l["op"] == op).collect();
        assert_eq!(
            mine,
            vec![
                &json!({ "op": op, "next": event(1, &name) }),
                &json!({ "op": op, "next": event(2, &name) }),
                &json!({ "op": op, "complete": true }),
            ],
            "{got:?}"
        );
    }
    // A query and a mutation-less document over the socket: one result, then the end.
    let query = json!({ "query": "{ topProducts(first: 1) { upc name } }" });
    let got = client("ws", &setup.stack.url, query, json!({})).await;
    assert_eq!(
        got,
        vec![
            json!({ "next": { "data": { "topProducts": [{ "upc": "1", "name": name }] } } }),
            json!({ "complete": true }),
        ]
    );
    // An invalid operation is an `error` before anything runs.
    let invalid = json!({ "query": "subscription { stockChanged(upc: 1) { nope } }" });
    let got = client("ws", &setup.stack.url, invalid, json!({})).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0]["error"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn the_token_in_connection_init_is_verified_as_over_http() {
    let yaml =
        "auth:\n  jwks: [keys.json]\n  algorithms: [HS256]\n  require_authentication: true\n";
    let setup = setup_with(
        vec![(vec![8], End::Complete), (vec![8], End::Complete)],
        None,
        yaml,
    )
    .await;
    // No token: the connection is refused (4403), nothing is subscribed.
    let got = client("ws", &setup.stack.url, request("1"), json!({})).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["error"]["code"], 4403, "{got:?}");
    // A forged one: the same.
    let params = json!({ "connectionParams": { "Authorization": "Bearer not.a.token" } });
    let got = client("ws", &setup.stack.url, request("1"), params).await;
    assert_eq!(got[0]["error"]["code"], 4403, "{got:?}");
    assert!(setup.script.seen.lock().unwrap().is_empty());
    // A valid token, as graphql-ws clients send it: the events.
    let token = support::hs256_token(json!({ "sub": "1" }));
    let params = json!({ "connectionParams": { "Authorization": format!("Bearer {token}") } });
    let got = client("ws", &setup.stack.url, request("1"), params).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["next"]["data"]["stockChanged"]["stock"], 8);
    // Over SSE the token is a header, as for any request.
    let headers = json!({ "headers": { "authorization": format!("Bearer {token}") } });
    let got = client("sse", &setup.stack.url, request("1"), headers).await;
    assert_eq!(
        got[0]["next"]["data"]["stockChanged"]["stock"], 8,
        "{got:?}"
    );
}

#[tokio::test]
async fn the_gateways_subscriptions_are_limited_and_counted() {
    let setup = setup_with(
        vec![
            (vec![1], End::Hold),
            (vec![2], End::Complete),
            (vec![3], End::Complete),
        ],
        None,
        "limits:\n  max_subscriptions: 1\n",
    )
    .await;
    let url = setup.stack.url.clone();
    // The first holds the only place while its client reads.
    let mut held = held_open(&url).await;
    let first = held.chunk().await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("event: next"),
        "{first:?}"
    );
    let metrics = support::metrics(&url).await;
    assert_eq!(
        support::sample(&metrics, "weft_subscriptions_active"),
        1.0,
        "{metrics}"
    );
    // A second is refused, over HTTP and over a socket.
    let (status, _, text) = subscribe(&url, "text/event-stream", OPERATION).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("MAX_SUBSCRIPTIONS_LIMIT"), "{text}");
    let got = client("ws", &url, request("1"), json!({})).await;
    assert_eq!(
        got[0]["error"][0]["extensions"]["code"], "MAX_SUBSCRIPTIONS_LIMIT",
        "{got:?}"
    );
    // The first one's client leaves: its place is free again.
    drop(held);
    support::until_subscriptions(&url, 0).await;
    let (status, _, text) = subscribe(&url, "text/event-stream", OPERATION).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        sse_events(&text)[0].1["data"]["stockChanged"]["stock"],
        2,
        "{text}"
    );
    let metrics = support::metrics(&url).await;
    let events = |direction: &str| {
        support::sample(
            &metrics,
            &format!(
                "weft_subscription_events_total{{subgraph=\"stock\",direction=\"{direction}\"}}"
            ),
        )
    };
    assert_eq!((events("in"), events("out")), (2.0, 2.0), "{metrics}");
}

#[tokio::test]
async fn a_socket_runs_at_most_its_limit_of_operations() {
    let setup = setup_with(
        vec![
            (vec![1], End::Hold),
            (vec![1], End::Hold),
            (vec![1], End::Hold),
        ],
        None,
        "limits:\n  max_operations_per_connection: 2\ndedupe:\n  subscriptions: false\n",
    )
    .await;
    let got = client(
        "ws",
        &setup.stack.url,
        request("1"),
        json!({ "requests": 3, "take": 1 }),
    )
    .await;
    let refused: Vec<&Value> = got.iter().filter(|l| l.get("error").is_some()).collect();
    assert_eq!(refused.len(), 1, "{got:?}");
    assert_eq!(
        refused[0]["error"][0]["extensions"]["code"],
        "MAX_SUBSCRIPTIONS_LIMIT"
    );
    let served = got.iter().filter(|l| l.get("next").is_some()).count();
    assert_eq!(served, 2, "{got:?}");
}

#[tokio::test]
async fn a_reload_ends_running_subscriptions_with_a_reason_and_serves_new_ones() {
    let setup = setup(vec![(vec![1], End::Hold), (vec![2], End::Complete)], None).await;
    let url = setup.stack.url.clone();
    let mut held = held_open(&url).await;
    let mut text = String::from_utf8_lossy(&held.chunk().await.unwrap().unwrap()).into_owned();
    assert!(text.contains("event: next"), "{text}");
    // A configuration change: the gateway reloads.
    let mut yaml = std::fs::read_to_string(&setup.config).unwrap();
    yaml.push_str("introspection: false\n");
    std::fs::write(&setup.config, yaml).unwrap();
    let rest = tokio::time::timeout(Duration::from_secs(20), async {
        let mut rest = String::new();
        while let Some(chunk) = held.chunk().await.unwrap() {
            rest.push_str(&String::from_utf8_lossy(&chunk));
        }
        rest
    })
    .await
    .expect("the held subscription ends on reload");
    text.push_str(&rest);
    let events = sse_events(&text);
    assert_eq!(events.len(), 3, "{text}");
    assert_eq!(
        events[1].1["errors"][0]["extensions"]["code"], "SUBSCRIPTION_SCHEMA_RELOAD",
        "{text}"
    );
    assert_eq!(events[2], ("complete".to_owned(), Value::Null));
    // The gateway goes on serving: a new subscription runs on the new runtime.
    let name = name_of_product_1(&setup.stack).await;
    let (status, _, text) = subscribe(&url, "text/event-stream", OPERATION).await;
    assert_eq!(status, 200);
    assert_eq!(
        sse_events(&text),
        vec![
            ("next".to_owned(), event(2, &name)),
            ("complete".to_owned(), Value::Null),
        ]
    );
}

#[tokio::test]
async fn shutdown_tells_subscribers_and_does_not_wait_for_them() {
    let setup = setup_with(
        vec![(vec![1], End::Hold), (vec![1], End::Hold)],
        None,
        "server:\n  shutdown_delay_ms: 0\n",
    )
    .await;
    let url = setup.stack.url.clone();
    // A socket's subscription, running in the background.
    let ws = tokio::spawn({
        let url = url.clone();
        async move { client("ws", &url, request("1"), json!({})).await }
    });
    let mut held = held_open(&url).await;
    let mut text = String::from_utf8_lossy(&held.chunk().await.unwrap().unwrap()).into_owned();
    // Both are subscribed.
    support::until_subscriptions(&url, 2).await;
    let pid = setup.stack.pid().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        let mut rest = String::new();
        while let Ok(Some(chunk)) = held.chunk().await {
            rest.push_str(&String::from_utf8_lossy(&chunk));
        }
        rest
    })
    .await
    .expect("the stream ends at shutdown");
    text.push_str(&rest);
    let events = sse_events(&text);
    assert_eq!(
        events[1].1["errors"][0]["extensions"]["code"], "SUBSCRIPTION_SERVER_SHUTDOWN",
        "{text}"
    );
    assert_eq!(events.last().unwrap().0, "complete", "{text}");
    // The socket's subscription is told why and ended, or the socket closed as "going away"
    // first (whichever reaches the client first): either way clients reconnect.
    let got = tokio::time::timeout(Duration::from_secs(20), ws)
        .await
        .unwrap()
        .unwrap();
    let told = got
        .iter()
        .any(|l| l["next"]["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_SERVER_SHUTDOWN");
    let closed = got.last().unwrap()["error"]["code"] == 1001;
    assert!(told || closed, "{got:?}");
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let yaml = "auth:\n  jwks: [keys.json]\n  algorithms: [HS256]\n";
    let setup = setup_with(vec![(vec![6], End::Hold)], None, yaml).await;
    let token = support::hs256_token_for(json!({ "sub": "1" }), 2);
    let body = json!({ "query": OPERATION, "variables": { "upc": "1" } }).to_string();
    let started = std::time::Instant::now();
    let response = reqwest::Client::new()
        .post(&setup.stack.url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .header("authorization", format!("Bearer {token}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(15), response.text())
        .await
        .expect("the stream ends when the token expires")
        .unwrap();
    let events = sse_events(&text);
    assert_eq!(events[0].1["data"]["stockChanged"]["stock"], 6, "{text}");
    assert_eq!(
        events[1].1["errors"][0]["extensions"]["code"], "AUTH_ERROR",
        "{text}"
    );
    assert_eq!(events[2].0, "complete", "{text}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "not before it expired"
    );
}

/// `count` identical subscriptions over SSE, all established (the gateway counts them).
async fn subscribers(url: &str, count: usize) -> Vec<support::Events> {
    let mut all = Vec::new();
    for _ in 0..count {
        all.push(support::Events::open(url, OPERATION, json!({ "upc": "1" }), false).await);
    }
    support::until_subscriptions(url, count).await;
    all
}

#[tokio::test]
async fn identical_subscriptions_share_one_subgraph_stream() {
    let setup = setup(vec![(Vec::new(), End::Live)], None).await;
    let name = name_of_product_1(&setup.stack).await;
    let mut watchers = subscribers(&setup.stack.url, 3).await;
    // One stream to the subgraph for the three (its script had only one to give).
    for _ in 0..100 {
        if setup.script.live.receiver_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(setup.script.seen.lock().unwrap().len(), 1);
    assert_eq!(setup.script.live.receiver_count(), 1);
    for level in [7, 6] {
        setup.script.live.send(level).unwrap();
        for watcher in &mut watchers {
            let got = watcher.next_within(Duration::from_secs(10)).await;
            assert_eq!(got, Some(event(level, &name)));
        }
    }
    // The last subscriber gone, the subgraph stream is closed too.
    drop(watchers);
    for _ in 0..200 {
        if setup.script.live.receiver_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        setup.script.live.receiver_count(),
        0,
        "the subgraph stream was closed"
    );
}

#[tokio::test]
async fn without_dedupe_each_subscription_has_its_own_stream() {
    let setup = setup_with(
        vec![(Vec::new(), End::Live), (Vec::new(), End::Live)],
        None,
        "dedupe:\n  subscriptions: false\n",
    )
    .await;
    let _watchers = subscribers(&setup.stack.url, 2).await;
    for _ in 0..100 {
        if setup.script.live.receiver_count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(setup.script.seen.lock().unwrap().len(), 2);
}

// ---- Subgraphs subscribed to over WebSocket (`subscription_transport: websocket`).

/// What the scripted WebSocket subgraph does on each connection, in turn: after
/// `connection_ack` and `subscribe`, send these levels as `next`, then `complete`, close the
/// socket without it (`Cut`), or answer `error` instead of any event (`Refuse`).
#[derive(Clone, Copy)]
enum WsEnd {
    Complete,
    Cut,
    Refuse,
}

type WsScript = Arc<Mutex<Vec<(Vec<i64>, WsEnd)>>>;

/// The scripted subgraph speaking `graphql-transport-ws` at `/graphql`; its HTTP URL, and the
/// messages it received (each connection's, in order).
async fn scripted_ws(script: WsScript) -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let received = seen.clone();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::get(move |ws: WebSocketUpgrade| {
            let script = script.clone();
            let seen = seen.clone();
            async move {
                ws.protocols(["graphql-transport-ws"])
                    .on_upgrade(move |mut socket| async move {
                        let (levels, end) = {
                            let mut s = script.lock().unwrap();
                            if s.is_empty() {
                                (Vec::new(), WsEnd::Complete)
                            } else {
                                s.remove(0)
                            }
                        };
                        while let Some(Ok(Message::Text(text))) = socket.recv().await {
                            let message: Value = serde_json::from_str(text.as_str()).unwrap();
                            seen.lock().unwrap().push(message.clone());
                            match message["type"].as_str() {
                                Some("connection_init") => {
                                    let ack = json!({ "type": "connection_ack" }).to_string();
                                    socket.send(Message::Text(ack.into())).await.unwrap();
                                }
                                Some("subscribe") => {
                                    let id = message["id"].clone();
                                    let upc = message["payload"]["variables"]
                                        .as_object()
                                        .and_then(|v| v.values().next().cloned())
                                        .unwrap_or(json!("1"));
                                    if let WsEnd::Refuse = end {
                                        let error = json!({ "id": id, "type": "error",
                                            "payload": [{ "message": "no such product" }] });
                                        let _ = socket
                                            .send(Message::Text(error.to_string().into()))
                                            .await;
                                        continue;
                                    }
                                    for level in &levels {
                                        let next = json!({ "id": id, "type": "next", "payload": {
                                            "data": { "stockChanged": {
                                                "__typename": "Product", "upc": upc, "stock": level,
                                            } } } });
                                        socket
                                            .send(Message::Text(next.to_string().into()))
                                            .await
                                            .unwrap();
                                    }
                                    match end {
                                        WsEnd::Complete => {
                                            let done = json!({ "id": id, "type": "complete" });
                                            let _ = socket
                                                .send(Message::Text(done.to_string().into()))
                                                .await;
                                        }
                                        _ => return, // cut: the socket is dropped
                                    }
                                }
                                _ => {}
                            }
                        }
                    })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/graphql"), received)
}

async fn ws_setup(script: Vec<(Vec<i64>, WsEnd)>) -> (Setup, Arc<Mutex<Vec<Value>>>) {
    let (url, seen) = scripted_ws(Arc::new(Mutex::new(script))).await;
    let yaml = "subgraphs:\n  stock:\n    subscription_transport: websocket\n";
    (setup_with(Vec::new(), Some(&url), yaml).await, seen)
}

#[tokio::test]
async fn a_subgraph_is_subscribed_to_over_websocket_when_configured() {
    let (setup, seen) = ws_setup(vec![(vec![4, 3], WsEnd::Complete)]).await;
    let name = name_of_product_1(&setup.stack).await;
    let (_, _, text) = subscribe(&setup.stack.url, "text/event-stream", OPERATION).await;
    assert_eq!(
        sse_events(&text),
        vec![
            ("next".to_owned(), event(4, &name)),
            ("next".to_owned(), event(3, &name)),
            ("complete".to_owned(), Value::Null),
        ],
        "{text}"
    );
    // What the gateway said: connection_init, then the subscription with the variables.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0]["type"], "connection_init", "{seen:?}");
    assert_eq!(seen[1]["type"], "subscribe", "{seen:?}");
    assert!(
        seen[1]["payload"]["query"]
            .as_str()
            .unwrap()
            .starts_with("subscription"),
        "{seen:?}"
    );
    assert_eq!(seen[1]["payload"]["variables"], json!({ "upc": "1" }));
}

#[tokio::test]
async fn a_subgraph_socket_that_drops_is_reconnected_and_an_error_ends_the_stream() {
    let (setup, seen) = ws_setup(vec![
        (vec![9], WsEnd::Cut),
        (vec![8], WsEnd::Complete),
        (Vec::new(), WsEnd::Refuse),
    ])
    .await;
    let name = name_of_product_1(&setup.stack).await;
    let (_, _, text) = subscribe(&setup.stack.url, "text/event-stream", OPERATION).await;
    assert_eq!(
        sse_events(&text),
        vec![
            ("next".to_owned(), event(9, &name)),
            ("next".to_owned(), event(8, &name)),
            ("complete".to_owned(), Value::Null),
        ],
        "{text}"
    );
    let inits = |seen: &[Value]| {
        seen.iter()
            .filter(|m| m["type"] == "connection_init")
            .count()
    };
    assert_eq!(inits(&seen.lock().unwrap()), 2);
    // The subgraph refuses the next one: its errors, then the end.
    let (_, _, text) = subscribe(&setup.stack.url, "text/event-stream", OPERATION).await;
    let events = sse_events(&text);
    assert_eq!(
        events[0].1["errors"][0]["message"], "no such product",
        "{text}"
    );
    assert_eq!(events[1].0, "complete", "{text}");
}

// ---- A subscription field fed by RabbitMQ at the gateway (`subscription_sources`).

fn amqp_url() -> String {
    std::env::var("WEFT_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

#[tokio::test]
async fn a_subscription_field_fed_by_rabbitmq_gets_its_fields_from_the_subgraphs() {
    let subgraphs = support::reference_subgraphs().await;
    let exchange = format!("weft.test.sources.{}", std::process::id());
    let yaml = format!(
        "subscription_sources:\n  - field: stockChanged\n    rabbitmq:\n      url: \"{}\"\n      \
         exchange: {exchange}\n      routing_key: StockCounted\n    key: {{ upc: key }}\n    \
         arguments: {{ upc: key }}\n",
        amqp_url()
    );
    let config = support::config_file("sources", &subgraphs, &yaml);
    let arg = config.display().to_string();
    let stack = Stack::serve(subgraphs, ["--config", arg.as_str()]);
    let (_, body) = support::query(
        &stack.url,
        &[],
        "{ topProducts(first: 2) { upc name stock } }",
    )
    .await;
    let products = body["data"]["topProducts"].clone();
    let query = "subscription($upc: ID!) { stockChanged(upc: $upc) { upc stock name } }";
    let mut watch = support::Events::open(&stack.url, query, json!({ "upc": "1" }), false).await;
    support::until_subscriptions(&stack.url, 1).await;
    // The gateway's queue is bound once its consumer started: publish until one arrives.
    let bus = weft_subgraph_kit::Bus::rabbit(&amqp_url(), &exchange)
        .await
        .expect("RabbitMQ (start it with `rabbitmq-server -detached`)");
    let publish = |upc: &str| weft_subgraph_kit::Event::new("StockCounted", upc, json!({}));
    let mut first = None;
    for _ in 0..50 {
        // Another product's event first: never delivered to this subscription.
        bus.publish(&publish("2")).await.unwrap();
        bus.publish(&publish("1")).await.unwrap();
        if let Ok(event) = tokio::time::timeout(
            Duration::from_millis(200),
            watch.next_within(Duration::from_secs(5)),
        )
        .await
        {
            first = event;
            break;
        }
    }
    let expected = json!({ "data": { "stockChanged": {
        "upc": "1", "stock": products[0]["stock"], "name": products[0]["name"],
    } } });
    assert_eq!(first, Some(expected.clone()));
    // Each later message for product 1 is an event; product 2's are not.
    bus.publish(&publish("2")).await.unwrap();
    bus.publish(&publish("1")).await.unwrap();
    // (Messages published before the first arrived may still be queued: all product 1's.)
    let next = watch.next_within(Duration::from_secs(10)).await;
    assert_eq!(next, Some(expected));
    // The subgraph was never subscribed to: inventory's stream is not where events come from.
    let subscribed = stack
        .subgraphs
        .iter()
        .flat_map(|s| s.requests.headers())
        .any(|h| {
            h.get("accept")
                .is_some_and(|a| a.to_str().unwrap_or("").contains("text/event-stream"))
        });
    assert!(!subscribed);
}

#[tokio::test]
async fn a_source_that_does_not_fit_the_supergraph_stops_the_gateway_saying_why() {
    let subgraphs = support::reference_subgraphs().await;
    let yaml = "subscription_sources:\n  - field: stockChanged\n    rabbitmq: { url: \"amqp://x\", \
                exchange: e, routing_key: k }\n    arguments: { sku: key }\n";
    let config = support::config_file("sources-bad", &subgraphs, yaml);
    let output = support::weft_command()
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("subscription_sources: `stockChanged` has no argument `sku`"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_subscription_field_fed_by_nats_gets_its_fields_from_the_subgraphs() {
    let url =
        std::env::var("WEFT_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let subgraphs = support::reference_subgraphs().await;
    let subject = format!("weft.test.{}.stock", std::process::id());
    let yaml = format!(
        "subscription_sources:\n  - field: stockChanged\n    nats:\n      url: \"{url}\"\n      \
         subject: \"{subject}.*\"\n    key: {{ upc: product.upc }}\n    \
         arguments: {{ upc: product.upc }}\n"
    );
    let config = support::config_file("sources-nats", &subgraphs, &yaml);
    let arg = config.display().to_string();
    let stack = Stack::serve(subgraphs, ["--config", arg.as_str()]);
    let (_, body) = support::query(
        &stack.url,
        &[],
        "{ topProducts(first: 1) { upc name stock } }",
    )
    .await;
    let product = body["data"]["topProducts"][0].clone();
    let query = "subscription($upc: ID!) { stockChanged(upc: $upc) { upc stock name } }";
    let mut watch = support::Events::open(&stack.url, query, json!({ "upc": "1" }), false).await;
    let nats = async_nats::connect(&url)
        .await
        .expect("NATS (start it with `nats-server -a 127.0.0.1 -p 4222 -js &`)");
    let message = |upc: &str| {
        axum::body::Bytes::from(json!({ "product": { "upc": upc }, "stock": 0 }).to_string())
    };
    // Core NATS keeps nothing for a subscriber not there yet: publish until one arrives.
    let mut first = None;
    for _ in 0..50 {
        nats.publish(format!("{subject}.counted"), message("2"))
            .await
            .unwrap();
        nats.publish(format!("{subject}.counted"), message("1"))
            .await
            .unwrap();
        nats.flush().await.unwrap();
        if let Ok(event) = tokio::time::timeout(
            Duration::from_millis(200),
            watch.next_within(Duration::from_secs(5)),
        )
        .await
        {
            first = event;
            break;
        }
    }
    let expected = json!({ "data": { "stockChanged": {
        "upc": "1", "stock": product["stock"], "name": product["name"],
    } } });
    assert_eq!(first, Some(expected.clone()));
    nats.publish(format!("{subject}.counted"), message("2"))
        .await
        .unwrap();
    nats.publish(format!("{subject}.counted"), message("1"))
        .await
        .unwrap();
    nats.flush().await.unwrap();
    assert_eq!(
        watch.next_within(Duration::from_secs(10)).await,
        Some(expected)
    );
}

#[tokio::test]
async fn a_quiet_subscription_outlives_the_connection_idle_timeout() {
    let setup = setup_with(
        vec![(Vec::new(), End::Live)],
        None,
        "server:\n  idle_timeout_ms: 300\n",
    )
    .await;
    let name = name_of_product_1(&setup.stack).await;
    let mut watchers = subscribers(&setup.stack.url, 1).await;
    // Quiet for over three idle timeouts: the stream is being written, not idle.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    setup.script.live.send(5).unwrap();
    let got = watchers[0].next_within(Duration::from_secs(10)).await;
    assert_eq!(got, Some(event(5, &name)));
}

#[tokio::test]
async fn socket_operations_pass_the_same_admission_and_size_checks_as_http() {
    // One request a minute for the whole gateway, and answers of at most 60 bytes.
    let yaml = "rate_limit:\n  global:\n    requests: 1\n    interval_ms: 60000\nserver:\n  \
                max_response_bytes: 60\n";
    let setup = setup_with(vec![(vec![1], End::Complete)], None, yaml).await;
    let query = json!({ "query": "{ topProducts(first: 5) { upc name } }" });
    let got = client("ws", &setup.stack.url, query, json!({ "requests": 2 })).await;
    let codes: Vec<&Value> = got
        .iter()
        .filter_map(|l| {
            l.get("error")
                .map(|e| &e[0]["extensions"]["code"])
                .or_else(|| l.get("next").map(|n| &n["errors"][0]["extensions"]["code"]))
        })
        .collect();
    // One is rate limited; the other ran, and its answer was too large to send.
    assert!(codes.contains(&&json!("REQUEST_RATE_LIMITED")), "{got:?}");
    assert!(codes.contains(&&json!("RESPONSE_TOO_LARGE")), "{got:?}");
}

/// A WebSocket upgrade of the GraphQL path from `origin`: its status.
async fn upgrade_from(url: &str, origin: &str) -> u16 {
    reqwest::Client::new()
        .get(url)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "graphql-transport-ws")
        .header("origin", origin)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_browser_socket_from_another_origin_is_refused_even_with_a_cors_wildcard() {
    let yaml = "cors:\n  allow_origins: [\"*\", \"https://app.example.com\"]\n";
    let setup = setup_with(Vec::new(), None, yaml).await;
    let url = &setup.stack.url;
    assert_eq!(upgrade_from(url, "https://evil.example").await, 403);
    assert_eq!(upgrade_from(url, "https://app.example.com").await, 101);
    // The gateway's own origin (the playground's page).
    let own = url.trim_end_matches("/graphql");
    assert_eq!(upgrade_from(url, own).await, 101);
}

// ---- The client libraries against the reference subgraphs.

/// Each client library, subscribed to `stockChanged` through the gateway over the reference
/// subgraphs, gets the event a stock reservation in inventory causes (as the checkout saga
/// makes them), with products' `name`.
#[tokio::test]
async fn each_client_library_gets_a_reference_subgraphs_event_with_fields_of_another() {
    let subgraphs = support::reference_subgraphs().await;
    let inventory = subgraphs
        .iter()
        .find(|s| s.name == "inventory")
        .unwrap()
        .url();
    let config = support::config_file("clients-reference", &subgraphs, "");
    let arg = config.display().to_string();
    let stack = Stack::serve(subgraphs, ["--config", arg.as_str()]);
    let query = "subscription($upc: ID!) { stockChanged(upc: $upc) { upc stock name } }";
    for (n, protocol) in ["ws", "legacy-ws", "sse", "multipart"]
        .into_iter()
        .enumerate()
    {
        let (_, body) =
            support::query(&stack.url, &[], "{ product(upc: \"1\") { name stock } }").await;
        let before = body["data"]["product"].clone();
        let url = stack.url.clone();
        let request = json!({ "query": query, "variables": { "upc": "1" } });
        let reading =
            tokio::spawn(
                async move { client(protocol, &url, request, json!({ "take": 1 })).await },
            );
        support::until_subscriptions(&stack.url, 1).await;
        // Inventory's stream is opened once the gateway subscribed: give it a moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let reserve = "mutation($id: ID!, $items: [StockItemInput!]!) { \
                       reserveStock(orderId: $id, items: $items) { reserved } }";
        let variables =
            json!({ "id": format!("order-{n}"), "items": [{ "upc": "1", "quantity": 1 }] });
        let (_, reserved) = support::query_with(&inventory, reserve, variables).await;
        assert_eq!(
            reserved["data"]["reserveStock"]["reserved"], true,
            "{reserved}"
        );
        let got = tokio::time::timeout(Duration::from_secs(30), reading)
            .await
            .unwrap()
            .unwrap();
        let stock = before["stock"].as_i64().unwrap() - 1;
        assert_eq!(
            got,
            vec![
                json!({ "next": { "data": { "stockChanged": {
                    "upc": "1", "stock": stock, "name": before["name"],
                } } } }),
                json!({ "stopped": true }),
            ],
            "{protocol}"
        );
        support::until_subscriptions(&stack.url, 0).await;
    }
}

/// An event whose entity fetch fails (products unreachable) is still delivered: with what
/// could be had and the error at its path, not dropped.
#[tokio::test]
async fn an_event_whose_entity_fetch_fails_is_delivered_with_its_error() {
    let yaml = "subgraphs:\n  products:\n    url: http://127.0.0.1:9/graphql\n    retry:\n      \
                max_attempts: 1\n";
    let setup = setup_with(vec![(vec![3], End::Complete)], None, yaml).await;
    let (_, _, text) = subscribe(&setup.stack.url, "text/event-stream", OPERATION).await;
    let events = sse_events(&text);
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0].0, "next");
    let error = &events[0].1["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "SUBREQUEST_HTTP_ERROR",
        "{text}"
    );
    assert_eq!(error["path"][0], "stockChanged", "{text}");
    assert_eq!(events[1].0, "complete");
}
