//! Zero-downtime restarts (docs/operations.md#zero-downtime-restarts): on SIGTERM `/ready`
//! fails first while requests are still served (`server.shutdown_delay_ms`), then the listener
//! closes, the requests in flight finish (their kept-alive connections' last answers carry
//! `Connection: close`), and the process exits — within `server.shutdown_grace_ms`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A subgraph `slow` answering `Query.slow` after `delay`; `weft serve` in front of it with
/// `yaml` appended to its config; the process and its GraphQL URL.
async fn slow_gateway(tag: &str, delay: Duration, yaml: &str) -> (support::Process, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(move || async move {
            tokio::time::sleep(delay).await;
            axum::Json(json!({ "data": { "slow": "done" } }))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sdl = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.6\", \
               import: [\"@key\"])\ntype Query { slow: String }\n";
    let supergraph = support::supergraph(&[support::input(
        "slow",
        &format!("http://{addr}/graphql"),
        sdl,
    )]);
    let dir = support::scratch(tag, addr.port());
    std::fs::write(dir.join("supergraph.graphql"), supergraph).unwrap();
    let config = dir.join("weft.yaml");
    std::fs::write(
        &config,
        format!("supergraph:\n  path: supergraph.graphql\n{yaml}"),
    )
    .unwrap();
    let arg = config.display().to_string();
    support::serve(["--config", arg.as_str()])
}

fn address(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_owned()
}

fn terminate(process: &support::Process) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &process.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit; its exit code and when it exited.
fn exited(process: &mut support::Process, within: Duration) -> (Option<i32>, Instant) {
    let start = Instant::now();
    loop {
        if let Some(status) = process.0.try_wait().unwrap() {
            return (status.code(), Instant::now());
        }
        assert!(start.elapsed() < within, "still running after {within:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `{ slow }` on a new kept-alive connection and reads until the server closes it.
async fn slow_request(addr: String) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = r#"{"query":"{ slow }"}"#;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("the connection was not closed after its last answer")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_fails_ready_first_then_finishes_requests_in_flight() {
    let (mut gateway, url) = slow_gateway(
        "shutdown",
        Duration::from_millis(1500),
        "server:\n  shutdown_delay_ms: 600\n  shutdown_grace_ms: 10000\n",
    )
    .await;
    let addr = address(&url);
    assert_eq!(support::ready(&url).await.0, 200);
    let in_flight = tokio::spawn(slow_request(addr.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let terminated = Instant::now();
    terminate(&gateway);
    tokio::time::sleep(Duration::from_millis(150)).await;

    // During the delay: not ready, still serving.
    let (status, ready) = support::ready(&url).await;
    assert_eq!(
        (status, ready["status"].as_str()),
        (503, Some("shutting down"))
    );
    let (status, body) = support::query(&url, &[], "{ __typename }").await;
    assert_eq!(status, 200, "{body}");

    // After it: the listener is closed.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "still accepting after the delay"
    );

    // The request in flight got its answer, with `Connection: close`, and the connection
    // was closed after it.
    let answer = in_flight.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#"{"data":{"slow":"done"}}"#), "{answer}");
    let (code, at) = exited(&mut gateway, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    // Not before the request it was finishing (1.5 s from 0.2 s before the signal).
    assert!(
        at - terminated >= Duration::from_millis(1200),
        "{:?}",
        at - terminated
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_bounds_the_wait() {
    let (mut gateway, url) = slow_gateway(
        "shutdown-grace",
        Duration::from_secs(20),
        "server:\n  shutdown_grace_ms: 500\n",
    )
    .await;
    let in_flight = tokio::spawn(slow_request(address(&url)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let terminated = Instant::now();
    terminate(&gateway);
    let (code, at) = exited(&mut gateway, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    let waited = at - terminated;
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // The request past the grace period got no answer.
    let answer = in_flight.await.unwrap();
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
}
