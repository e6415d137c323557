//! Starting gateways: which Weft binary, and waiting until a gateway serves. Shared by the
//! load programs (`#[path]`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// This repository's root (the bench crate's parent).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The Weft binary to run: `WEFT_BIN`, else this workspace's release build.
pub fn weft_bin() -> PathBuf {
    std::env::var("WEFT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target/release/weft"))
}

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
