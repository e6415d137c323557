//! Rate limits (docs/operations.md#rate-limits): a client over its rate gets 429 with
//! `Retry-After` and `REQUEST_RATE_LIMITED`; a subgraph over its rate gets no request; gateways
//! sharing a Redis share the limits, and without Redis each one limits alone (and says so).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};

const QUERY: &str = "{ topProducts(first: 1) { name inStock } }";

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// POSTs QUERY with `x-client-id: key` (none when empty): status, `Retry-After`, body.
async fn ask(url: &str, key: &str) -> (u16, Option<String>, Value) {
    let mut headers = vec![("content-type", "application/json")];
    if !key.is_empty() {
        headers.push(("x-client-id", key));
    }
    let body = serde_json::json!({ "query": QUERY }).to_string();
    let res = support::send(url, reqwest::Method::POST, "", &headers, Some(body)).await;
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_and_subgraphs_over_their_rate_are_refused() {
    let subgraphs = support::reference_subgraphs().await;
    let cfg = support::config_file(
        "rate-limits",
        &subgraphs,
        "rate_limit:\n  client:\n    requests: 3\n    interval_ms: 60000\n    key: header:x-client-id\n  \
         subgraphs:\n    inventory:\n      requests: 4\n      interval_ms: 60000\n",
    );
    let cfg = cfg.display().to_string();
    let (_gateway, url) = support::serve(["--config", cfg.as_str()]);
    for _ in 0..3 {
        let (status, _, body) = ask(&url, "alpha").await;
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{body}");
    }
    let (status, retry, body) = ask(&url, "alpha").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(code(&body), "REQUEST_RATE_LIMITED", "{body}");
    assert!(body["data"].is_null());
    // Three per minute: the next one in 20 s.
    assert_eq!(retry.as_deref(), Some("20"));
    // Another client has its own rate; one without the header is keyed by its address.
    let (status, _, body) = ask(&url, "beta").await;
    assert_eq!(status, 200, "{body}");

    // Inventory has had 4 requests (one per client request admitted): the next fetch is
    // refused without being sent, and only its fields are null.
    let before = subgraphs[2].requests.count();
    let (status, _, body) = ask(&url, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "REQUEST_RATE_LIMITED", "{body}");
    assert!(body["data"]["topProducts"][0]["name"].is_string(), "{body}");
    assert_eq!(
        subgraphs[2].requests.count(),
        before,
        "inventory got a request"
    );

    // The global limit counts every client together.
    let global = support::composed_config(
        "rate-global",
        &support::inputs(&subgraphs),
        "rate_limit:\n  global:\n    requests: 2\n    interval_ms: 60000\n",
    )
    .display()
    .to_string();
    let (_g, g) = support::serve(["--config", global.as_str()]);
    assert_eq!(ask(&g, "one").await.0, 200);
    assert_eq!(ask(&g, "two").await.0, 200);
    let (status, retry, body) = ask(&g, "three").await;
    assert_eq!((status, retry.as_deref()), (429, Some("30")), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`rate_limit.global`"),
        "{body}"
    );

    let metrics = support::metrics(&url).await;
    assert_eq!(
        support::sample(&metrics, r#"weft_rate_limited_total{limit="client"}"#),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        support::sample(&metrics, r#"weft_rate_limited_total{limit="subgraph"}"#),
        1.0,
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_share_limits_through_redis_and_limit_alone_without_it() {
    let subgraphs = support::reference_subgraphs().await;
    let prefix = format!(
        "weft-test-{}-{:?}:",
        std::process::id(),
        std::time::Instant::now()
    );
    let yaml = |redis: &str| {
        format!(
            "rate_limit:\n  client:\n    requests: 4\n    interval_ms: 60000\n    \
             key: header:x-client-id\n  redis:\n    url: {redis}\n    key_prefix: \"{prefix}\"\n"
        )
    };
    let shared = support::config_file("rate-shared", &subgraphs, &yaml("redis://127.0.0.1:6379"))
        .display()
        .to_string();
    let (_a, a) = support::serve(["--config", shared.as_str()]);
    let (_b, b) = support::serve(["--config", shared.as_str()]);
    for url in [&a, &b, &a, &b] {
        let (status, _, body) = ask(url, "gamma").await;
        assert_eq!(status, 200, "{body}");
    }
    // Four admitted across both: the fifth is refused by either.
    assert_eq!(ask(&a, "gamma").await.0, 429);
    assert_eq!(ask(&b, "gamma").await.0, 429);
    for url in [&a, &b] {
        let metrics = support::metrics(url).await;
        assert_eq!(
            support::sample(&metrics, "weft_rate_limit_local_fallbacks_total"),
            0.0,
            "{metrics}"
        );
    }

    // Redis unreachable: the limit holds per gateway, from its memory, counted as fallbacks.
    let down = support::composed_config(
        "rate-down",
        &support::inputs(&subgraphs),
        &yaml("redis://127.0.0.1:1"),
    )
    .display()
    .to_string();
    let (_c, c) = support::serve(["--config", down.as_str()]);
    for _ in 0..4 {
        assert_eq!(ask(&c, "gamma").await.0, 200);
    }
    let (status, retry, body) = ask(&c, "gamma").await;
    assert_eq!((status, retry.as_deref()), (429, Some("15")), "{body}");
    let metrics = support::metrics(&c).await;
    assert_eq!(
        support::sample(&metrics, "weft_rate_limit_local_fallbacks_total"),
        5.0,
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_can_be_told_apart_by_a_verified_claim() {
    let subgraphs = support::reference_subgraphs().await;
    let config = support::config_file(
        "rate-claim",
        &subgraphs,
        "auth:\n  jwks: [keys.json]\n  algorithms: [HS256]\nrate_limit:\n  client:\n    \
         requests: 2\n    interval_ms: 60000\n    key: claim:sub\n",
    );
    std::fs::write(
        config.parent().unwrap().join("keys.json"),
        support::hs256_jwks(),
    )
    .unwrap();
    let arg = config.display().to_string();
    let (_gateway, url) = support::serve(["--config", arg.as_str()]);
    let ask_as = |sub: &str| {
        let bearer = format!("Bearer {}", support::hs256_token(json!({ "sub": sub })));
        let url = url.clone();
        async move {
            support::query(&url, &[("authorization", bearer.as_str())], QUERY)
                .await
                .0
        }
    };
    assert_eq!(ask_as("ada").await, 200);
    assert_eq!(ask_as("ada").await, 200);
    assert_eq!(ask_as("ada").await, 429);
    // Another subject has a rate of its own, on the same connection address.
    assert_eq!(ask_as("grace").await, 200);
    // Without a token: keyed by the address, which has not been used yet.
    assert_eq!(support::query(&url, &[], QUERY).await.0, 200);
}
