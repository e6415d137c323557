//! Waiting for a gateway to serve. Shared by the load programs (`#[path]`).

use std::time::{Duration, Instant};

/// Whether the gateway at `url` answered `{ __typename }` with a 200 within 60 s.
/// Asynchronous: a gateway may send that query to a subgraph (Hive Router does), and the
/// subgraphs or the counting forwarder run on the caller's single-threaded runtime, so
/// blocking it here would hold that subgraph request until the probe gave up.
pub async fn answers(url: &str) -> bool {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let answer = http
            .post(url)
            .header("content-type", "application/json")
            .body("{\"query\":\"{ __typename }\"}")
            .send()
            .await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}
