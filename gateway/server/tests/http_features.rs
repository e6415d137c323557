#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The gateway's HTTP features beyond GraphQL over HTTP, end to end (docs/http.md): the real
//! reference subgraphs on ephemeral ports, `weft serve --config` as a real process, raw HTTP.
//! Batching, body and header size limits, response compression, CORS, automatic persisted
//! queries, and the persisted-document safelist.

use std::io::Read;

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Stack;
use weft_products::demo_product;

const JSON: &str = "application/json";
const GQL: &str = "application/graphql-response+json";
const TOP2: &str = "{ topProducts(first: 2) { name } }";
/// An answer well over the 1 KiB below which nothing is compressed.
const BIG: &str = "{ topProducts(first: 40) { upc name price weight } }";
const ORIGIN: &str = "https://app.example.com";

/// The configuration most tests run with (the safelist test has its own).
const FEATURES: &str = "
batching:
  enabled: true
  max_size: 3
limits:
  max_body_bytes: 4096
  max_header_bytes: 4096
cors:
  allow_origins: [https://app.example.com]
  allow_credentials: true
  max_age_secs: 600
";

/// Status, headers and the raw body bytes (not decoded: reqwest here has no decompression).
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl Stack {
    /// The four reference subgraphs and `weft serve --config` with `config` (YAML); `files`
    /// are written beside the config file.
    async fn start(config: &str, files: &[(&str, &str)]) -> Stack {
        let subgraphs = support::reference_subgraphs().await;
        let config_path = support::config_file("http-features", &subgraphs, config);
        for (name, text) in files {
            std::fs::write(config_path.with_file_name(name), text).unwrap();
        }
        let config_arg = config_path.display().to_string();
        Stack::serve(subgraphs, ["--config", config_arg.as_str()])
    }

    async fn send(
        &self,
        method: Method,
        query_string: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Answer {
        let res = support::send(&self.url, method, query_string, headers, body).await;
        Answer {
            status: res.status(),
            headers: res.headers().clone(),
            bytes: res.bytes().await.unwrap().to_vec(),
        }
    }

    /// A JSON POST of `body` with extra headers.
    async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut all = vec![("content-type", JSON)];
        all.extend_from_slice(headers);
        self.send(Method::POST, "", &all, Some(body.to_string()))
            .await
    }
}

fn top(n: usize) -> Value {
    json!({ "data": { "topProducts": (1..=n).map(|i| json!({ "name": demo_product(i).name })).collect::<Vec<_>>() } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_answer_in_order_within_the_limit() {
    let stack = Stack::start(FEATURES, &[]).await;
    let batch = json!([
        { "query": "{ topProducts(first: 3) { name } }" },
        { "query": "{ nope }" },
        { "query": "query T($n: Int) { topProducts(first: $n) { name } }", "variables": { "n": 1 } },
    ]);
    for accept in [JSON, GQL] {
        let a = stack.post(&batch, &[("accept", accept)]).await;
        assert_eq!(a.status, StatusCode::OK, "{accept}: {a:?}");
        assert!(a.header("content-type").unwrap().starts_with(accept));
        let items = a.json();
        let items = items.as_array().expect("an array of results");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0], top(3));
        assert_eq!(
            items[1]["errors"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
        assert!(items[1].get("data").is_none(), "{}", items[1]);
        assert_eq!(items[2], top(1));
    }
    // An item that is not a request gets its error in its place; the others run.
    let a = stack
        .post(&json!([{ "query": TOP2 }, 7, { "qeury": "x" }]), &[])
        .await;
    let items = a.json();
    assert_eq!(items[0], top(2), "{a:?}");
    assert_eq!(items[1]["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert_eq!(items[2]["errors"][0]["extensions"]["code"], "BAD_REQUEST");

    // Over `batching.max_size`: refused whole, nothing runs.
    let before = stack.requests();
    let four = json!([{ "query": TOP2 }, { "query": TOP2 }, { "query": TOP2 }, { "query": TOP2 }]);
    let a = stack.post(&four, &[]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
    assert_eq!(a.code(), "BATCH_LIMIT_EXCEEDED", "{a:?}");
    assert_eq!(stack.requests(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_and_headers_over_the_limits_are_refused_with_a_graphql_error() {
    let stack = Stack::start(FEATURES, &[]).await;
    let padding = " ".repeat(5000);
    let big = json!({ "query": format!("{{ topProducts(first: 1) {{ name }} }}{padding}") });
    for accept in [JSON, GQL] {
        let a = stack.post(&big, &[("accept", accept)]).await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{a:?}");
        assert_eq!(a.code(), "PAYLOAD_TOO_LARGE", "{a:?}");
        assert!(a.header("content-type").unwrap().starts_with(accept));
        let message = a.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("limits.max_body_bytes"), "{message}");
    }
    // Just under the limit is fine.
    let fits = json!({ "query": format!("{TOP2}{}", " ".repeat(3000)) });
    assert_eq!(stack.post(&fits, &[]).await.json(), top(2));

    let long = "x".repeat(5000);
    let a = stack
        .post(&json!({ "query": TOP2 }), &[("x-big", &long)])
        .await;
    assert_eq!(
        a.status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "{a:?}"
    );
    assert_eq!(a.code(), "REQUEST_HEADER_FIELDS_TOO_LARGE", "{a:?}");
    assert_eq!(stack.requests(), 1, "only the request that fits ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_as_accept_encoding_asks() {
    let stack = Stack::start(FEATURES, &[]).await;
    let query = json!({ "query": BIG });
    let plain = stack.post(&query, &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    let expected = plain.json();
    assert!(plain.bytes.len() > 1024, "{}", plain.bytes.len());

    let gzip = stack.post(&query, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"), "{gzip:?}");
    assert!(gzip.bytes.len() < plain.bytes.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gzip.bytes[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), expected);

    let br = stack
        .post(&query, &[("accept-encoding", "gzip;q=0.5, br")])
        .await;
    assert_eq!(br.header("content-encoding"), Some("br"), "{br:?}");
    assert!(br.bytes.len() < plain.bytes.len());
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&br.bytes[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), expected);

    // Tiny answers are sent as they are.
    let small = stack
        .post(
            &json!({ "query": "{ __typename }" }),
            &[("accept-encoding", "gzip, br")],
        )
        .await;
    assert_eq!(small.header("content-encoding"), None, "{small:?}");
    assert_eq!(small.json(), json!({ "data": { "__typename": "Query" } }));

    // `compression.enabled: false`.
    let off = Stack::start("compression:\n  enabled: false\n", &[]).await;
    let a = off.post(&query, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(a.header("content-encoding"), None, "{a:?}");
    assert_eq!(a.json(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_preflights_and_allows_only_listed_origins() {
    let stack = Stack::start(FEATURES, &[]).await;
    let preflight = |origin: &'static str| {
        let stack = &stack;
        async move {
            stack
                .send(
                    Method::OPTIONS,
                    "",
                    &[
                        ("origin", origin),
                        ("access-control-request-method", "POST"),
                        ("access-control-request-headers", "content-type"),
                    ],
                    None,
                )
                .await
        }
    };
    let a = preflight(ORIGIN).await;
    assert!(a.status.is_success(), "{a:?}");
    assert_eq!(a.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(a.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(a.header("access-control-max-age"), Some("600"));
    let methods = a.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed = a.header("access-control-allow-headers").unwrap();
    for h in [
        "content-type",
        "apollo-require-preflight",
        "weft-query-plan",
        "authorization",
    ] {
        assert!(allowed.contains(h), "{allowed}");
    }
    // Another origin's preflight gets no CORS headers: the browser stops there.
    let a = preflight("https://evil.example").await;
    assert_eq!(a.header("access-control-allow-origin"), None, "{a:?}");
    assert_eq!(a.header("access-control-allow-methods"), None, "{a:?}");

    // The request itself: the allowed origin is echoed, others get nothing.
    let q = json!({ "query": TOP2 });
    let a = stack.post(&q, &[("origin", ORIGIN)]).await;
    assert_eq!(a.json(), top(2));
    assert_eq!(a.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(a.header("access-control-allow-credentials"), Some("true"));
    assert!(a.header("vary").unwrap().contains("origin"), "{a:?}");
    let a = stack.post(&q, &[("origin", "https://evil.example")]).await;
    assert_eq!(a.header("access-control-allow-origin"), None, "{a:?}");

    // Without `cors.allow_origins`, no CORS headers at all (same-origin only).
    let plain = Stack::start("", &[]).await;
    let a = plain.post(&q, &[("origin", ORIGIN)]).await;
    assert_eq!(a.json(), top(2));
    assert_eq!(a.header("access-control-allow-origin"), None, "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apq_miss_register_hit() {
    let stack = Stack::start(FEATURES, &[]).await;
    let query = "{ topProducts(first: 2) { name } }";
    let hash = support::sha256(query);
    let extension = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

    // Unknown hash: 200 and PERSISTED_QUERY_NOT_FOUND, so the client sends the query.
    let a = stack.post(&json!({ "extensions": extension }), &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.code(), "PERSISTED_QUERY_NOT_FOUND", "{a:?}");
    assert_eq!(a.json()["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(stack.requests(), 0);

    // A wrong hash is refused and nothing is registered.
    let wrong =
        json!({ "persistedQuery": { "version": 1, "sha256Hash": support::sha256("{ x }") } });
    let a = stack
        .post(&json!({ "query": query, "extensions": wrong }), &[])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
    assert_eq!(a.code(), "PERSISTED_QUERY_HASH_MISMATCH", "{a:?}");

    // Register: the query and its hash; it runs.
    let a = stack
        .post(&json!({ "query": query, "extensions": extension }), &[])
        .await;
    assert_eq!(a.json(), top(2), "{a:?}");

    // Hit: the hash alone, POST or GET (a GET still needs the CSRF preflight header).
    let a = stack.post(&json!({ "extensions": extension }), &[]).await;
    assert_eq!(a.json(), top(2), "{a:?}");
    let qs = format!("extensions={}", support::encode(&extension.to_string()));
    let a = stack
        .send(
            Method::GET,
            &qs,
            &[("apollo-require-preflight", "true")],
            None,
        )
        .await;
    assert_eq!(a.json(), top(2), "{a:?}");
    let a = stack.send(Method::GET, &qs, &[], None).await;
    assert_eq!(a.code(), "CSRF_ERROR", "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_safelist_runs_only_listed_documents() {
    let listed = "{ topProducts(first: 1) { name } }";
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": "top-one", "name": "TopOne", "type": "query", "body": listed }],
    });
    let config = "persisted_documents:\n  safelist: manifest.json\n  require: true\n";
    let stack = Stack::start(config, &[("manifest.json", &manifest.to_string())]).await;

    // By id, with no query text.
    let by_id =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "top-one" } } });
    let a = stack.post(&by_id, &[]).await;
    assert_eq!(a.json(), top(1), "{a:?}");
    // By exact body.
    let a = stack.post(&json!({ "query": listed }), &[]).await;
    assert_eq!(a.json(), top(1), "{a:?}");

    let before = stack.requests();
    // Anything else: refused before any work.
    for body in [
        json!({ "query": TOP2 }),
        json!({ "query": "{ topProducts(first: 1) { name   } }" }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "other" } } }),
        json!({ "query": TOP2, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": support::sha256(TOP2) } } }),
    ] {
        let a = stack.post(&body, &[]).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {a:?}");
        assert_eq!(a.code(), "PERSISTED_QUERY_NOT_IN_LIST", "{body}: {a:?}");
    }
    assert_eq!(stack.requests(), before);

    // This gateway has batching off (the default): an array body is refused.
    let a = stack.post(&json!([{ "query": listed }]), &[]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
    assert_eq!(a.code(), "BATCHING_NOT_ENABLED", "{a:?}");
}
