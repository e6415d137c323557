//! Supergraph sources beyond a file (docs/operations.md#supergraph-sources): a URL polled with
//! `If-None-Match`, the Hive CDN with its key header; a new supergraph is served within an
//! interval, a broken one or a failing source keeps the one in use (logged, counted), and
//! `/ready` says which one is live.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use support::SupergraphHost;

const REVIEWS: &str = r#"{ topProducts(first: 1) { name reviews { body } } }"#;
const NAMES: &str = r#"{ topProducts(first: 1) { name } }"#;

fn config(tag: &str, yaml: &str) -> String {
    let dir = support::scratch(tag, 0);
    let path = dir.join("weft.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

/// Waits until `/ready` says `sha256` is live; how long that took.
async fn until_live(url: &str, sha256: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let (_, ready) = support::ready(url).await;
        if ready["supergraph"]["sha256"] == sha256 {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "not live within {within:?}: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supergraph_at_a_url_is_polled_and_a_bad_one_refused() {
    let (_subgraphs, v1, v2) = support::supergraph_versions().await;
    let host = SupergraphHost::start(&v1).await;
    let cfg = config(
        "source-url",
        &format!(
            "supergraph:\n  url: {}\n  poll_interval_ms: 300\n",
            host.url
        ),
    );
    let (_gateway, url) = support::serve(["--config", cfg.as_str()]);

    let (status, ready) = support::ready(&url).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["supergraph"]["sha256"], support::sha256(&v1));
    assert_eq!(ready["supergraph"]["source"], host.url.as_str());
    assert!(
        ready["supergraph"]["loadedAt"]
            .as_str()
            .is_some_and(|t| t.len() == 20 && t.ends_with('Z')),
        "{ready}"
    );
    let (_, body) = support::query(&url, &[], REVIEWS).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "v1 has no reviews: {body}"
    );

    // Unchanged: asked with the ETag, answered 304 without a body.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let not_modified = host
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(inm, _, status)| inm.is_some() && *status == 304)
        .count();
    assert!(not_modified >= 1, "{:?}", host.requests.lock().unwrap());

    // A new supergraph is live within an interval (and the time to load it).
    host.publish(&v2);
    let took = until_live(&url, &support::sha256(&v2), Duration::from_secs(3)).await;
    assert!(took < Duration::from_millis(300 + 1000), "{took:?}");
    let (status, body) = support::query(&url, &[], REVIEWS).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["topProducts"][0]["reviews"].is_array(),
        "{body}"
    );

    // A broken one is refused: v2 stays live and keeps serving.
    host.publish("type Query { this is not a supergraph");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (_, ready) = support::ready(&url).await;
    assert_eq!(
        ready["supergraph"]["sha256"],
        support::sha256(&v2),
        "{ready}"
    );
    let (status, body) = support::query(&url, &[], REVIEWS).await;
    assert_eq!(status, 200, "{body}");

    // A failing source too.
    host.failing.store(503, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (status, _) = support::query(&url, &[], NAMES).await;
    assert_eq!(status, 200);
    let metrics = support::metrics(&url).await;
    assert!(
        support::sample(
            &metrics,
            r#"weft_supergraph_updates_total{outcome="loaded"}"#
        ) >= 1.0,
        "{metrics}"
    );
    assert!(
        support::sample(
            &metrics,
            r#"weft_supergraph_updates_total{outcome="invalid"}"#
        ) >= 1.0,
        "{metrics}"
    );
    assert!(
        support::sample(
            &metrics,
            r#"weft_supergraph_updates_total{outcome="unreachable"}"#
        ) >= 1.0,
        "{metrics}"
    );

    // Back, with the first one again.
    host.failing.store(0, Ordering::SeqCst);
    host.publish(&v1);
    until_live(&url, &support::sha256(&v1), Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hive_cdn_is_read_with_its_key() {
    let (_subgraphs, v1, _) = support::supergraph_versions().await;
    let host = SupergraphHost::start(&v1).await;
    let hive = |key: &str| {
        format!(
            "supergraph:\n  hive:\n    endpoint: {}/artifacts/v1/target\n    key: {key}\n",
            host.base()
        )
    };
    let cfg = config("source-hive", &hive("k3y"));
    let (_gateway, url) = support::serve(["--config", cfg.as_str()]);
    let (_, ready) = support::ready(&url).await;
    assert_eq!(
        ready["supergraph"]["sha256"],
        support::sha256(&v1),
        "{ready}"
    );
    let (status, _) = support::query(&url, &[], NAMES).await;
    assert_eq!(status, 200);
    assert!(
        host.requests
            .lock()
            .unwrap()
            .iter()
            .all(|(_, key, _)| key.as_deref() == Some("k3y"))
    );

    // `--supergraph URL` reads a URL source too.
    let (_flagged, flagged) = support::serve(["--supergraph", host.url.as_str()]);
    let (_, ready) = support::ready(&flagged).await;
    assert_eq!(ready["supergraph"]["source"], host.url.as_str(), "{ready}");

    // A wrong key: the CDN refuses, and so does `weft serve`, saying why.
    let cfg = config("source-hive-bad", &hive("wrong"));
    let out = support::weft_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--config", cfg.as_str()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/artifacts/v1/target/supergraph: answered 403"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

/// A manifest of `queries`, as `{ "<sha256>": "query" }`.
fn manifest(queries: &[&str]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = queries
        .iter()
        .map(|q| (support::sha256(q), serde_json::Value::from(*q)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_safelist_can_come_from_a_url() {
    let subgraphs = support::reference_subgraphs().await;
    let one = "{ topProducts(first: 1) { name } }";
    let two = "{ topProducts(first: 2) { name } }";
    let host = SupergraphHost::start(&manifest(&[one])).await;
    let cfg = support::config_file(
        "safelist-url",
        &subgraphs,
        &format!(
            "persisted_documents:\n  url: {}\n  poll_interval_ms: 300\n  require: true\n",
            host.url
        ),
    );
    let cfg = cfg.display().to_string();
    let (_gateway, url) = support::serve(["--config", cfg.as_str()]);
    let (status, body) = support::query(&url, &[], one).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = support::query(&url, &[], two).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_IN_LIST"
    );

    // Published with the second query: allowed within an interval or so.
    host.publish(&manifest(&[one, two]));
    let start = Instant::now();
    while support::query(&url, &[], two).await.0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(3), "not reloaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A manifest that does not parse keeps the one in use.
    host.publish("not a manifest");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(support::query(&url, &[], two).await.0, 200);
    assert_eq!(support::query(&url, &[], one).await.0, 200);
}
