#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! GraphQL over HTTP at the gateway's edge, end to end: the real reference subgraphs on
//! ephemeral ports, `weft serve` as a real process, and raw HTTP requests. Media types and
//! status codes (GraphQL-over-HTTP), 405/406/415, malformed bodies, and CSRF prevention. Every
//! refused request is checked to have reached no subgraph.

mod support;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::Stack;
use weft_federation::compose::SubgraphInput;
use weft_products::demo_product;

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// A subgraph known only by its SDL, routed to a closed port: lets the supergraph have a
/// mutation (the reference subgraphs have none) that the gateway must never send.
const NOTES_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { noteCount: Int }
type Mutation { addNote(text: String!): Int }
"#;

/// An answer: status, `Content-Type`, `Allow`, and the body as JSON (`Null` when it is not).
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: String,
    allow: Option<String>,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
    }
}

impl Stack {
    async fn start() -> Stack {
        let subgraphs = support::reference_subgraphs().await;
        let mut inputs = support::inputs(&subgraphs);
        inputs.push(SubgraphInput {
            name: "notes".to_owned(),
            url: "http://127.0.0.1:9/graphql".to_owned(),
            sdl: NOTES_SDL.to_owned(),
            source: "notes".to_owned(),
        });
        let dir = support::scratch("http", subgraphs[0].addr.port());
        let path = dir.join("supergraph.graphql");
        std::fs::write(&path, support::supergraph(&inputs)).unwrap();
        let supergraph_arg = path.display().to_string();
        Stack::serve(subgraphs, ["--supergraph", supergraph_arg.as_str()])
    }

    /// Sends `method` to the endpoint with `query_string` and `body`, and these headers (reqwest
    /// adds `accept: */*` when none is given, and no `content-type` for a raw body).
    async fn send(
        &self,
        method: Method,
        query_string: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let res = support::send(
            &self.url,
            method,
            query_string,
            headers,
            body.map(str::to_owned),
        )
        .await;
        let status = res.status();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let allow = res
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_owned());
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            allow,
            body,
        }
    }

    /// A JSON POST accepting `accept`.
    async fn post(&self, accept: &str, body: &str) -> Answer {
        self.send(
            Method::POST,
            "",
            &[("content-type", JSON), ("accept", accept)],
            Some(body),
        )
        .await
    }

    /// A GET of `query` (URL-encoded here) with extra headers.
    async fn get(&self, query: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(
            Method::GET,
            &format!("query={}", support::encode(query)),
            headers,
            None,
        )
        .await
    }
}

const TOP2: &str = "{ topProducts(first: 2) { name } }";

fn top2() -> Value {
    json!({ "data": { "topProducts": [
        { "name": demo_product(1).name },
        { "name": demo_product(2).name },
    ] } })
}

fn assert_csrf_refused(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{what}: {a:?}");
    assert_eq!(a.code(), "CSRF_ERROR", "{what}: {a:?}");
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("apollo-require-preflight"),
        "{what}: the message says how to get through: {a:?}"
    );
    assert!(a.body.get("data").is_none(), "{what}: {a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_prevention_refuses_simple_requests_before_any_work() {
    let stack = Stack::start().await;
    let body = json!({ "query": TOP2 }).to_string();

    // Simple POSTs: a form or `fetch` without preflight can send these cross-site.
    for ct in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let a = stack
            .send(Method::POST, "", &[("content-type", ct)], Some(&body))
            .await;
        assert_csrf_refused(&a, ct);
    }
    // No content-type at all.
    let a = stack.send(Method::POST, "", &[], Some(&body)).await;
    assert_csrf_refused(&a, "POST without content-type");

    // A plain GET (an <img src>, a link) is refused, whatever it accepts.
    for accept in [None, Some(JSON), Some(GQL)] {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("accept", *a)).collect();
        let a = stack.get(TOP2, &headers).await;
        assert_csrf_refused(&a, &format!("plain GET accepting {accept:?}"));
        if let Some(accept) = accept {
            assert!(a.content_type.starts_with(accept), "{a:?}");
        }
    }
    // An empty preflight header is no preflight header.
    let a = stack.get(TOP2, &[("apollo-require-preflight", "")]).await;
    assert_csrf_refused(&a, "GET with an empty apollo-require-preflight");
    assert_eq!(stack.requests(), 0, "refused requests reach no subgraph");

    // The same GET with a header only scripts set (so the browser preflighted) runs.
    for header in [
        "apollo-require-preflight",
        "x-apollo-operation-name",
        "weft-require-preflight",
    ] {
        let a = stack.get(TOP2, &[(header, "true")]).await;
        assert_eq!(a.status, StatusCode::OK, "{header}: {a:?}");
        assert_eq!(a.body, top2(), "{header}");
    }
    // A GET with a non-simple content-type was preflighted too (Apollo Client sends one).
    let a = stack.get(TOP2, &[("content-type", JSON)]).await;
    assert_eq!(a.body, top2(), "{a:?}");
    // HEAD follows GET's rules.
    let a = stack
        .send(
            Method::HEAD,
            &format!("query={}", support::encode(TOP2)),
            &[],
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
    let a = stack
        .send(
            Method::HEAD,
            &format!("query={}", support::encode(TOP2)),
            &[("apollo-require-preflight", "true")],
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");

    // A JSON POST is never refused, with or without the headers.
    let a = stack.post(JSON, &body).await;
    assert_eq!(a.body, top2(), "{a:?}");
    // A simple content-type with the header passes CSRF and meets the content-type check.
    let a = stack
        .send(
            Method::POST,
            "",
            &[
                ("content-type", "text/plain"),
                ("apollo-require-preflight", "true"),
            ],
            Some(&body),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_follow_the_response_media_type() {
    let stack = Stack::start().await;
    // (request body, status with application/graphql-response+json, with application/json,
    // the error code). GraphQL errors are 400 / 200; a request that is not GraphQL, 400 / 400.
    let cases = [
        (
            json!({ "query": "{ topProducts { name " }),
            400,
            200,
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            json!({ "query": "{ topProducts { nme } }" }),
            400,
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "query Q($n: Int!) { topProducts(first: $n) { name } }", "variables": { "n": "two" } }),
            400,
            200,
            "VALIDATION_INVALID_TYPE_VARIABLE",
        ),
        (
            json!({ "query": "query Q($n: Int!) { topProducts(first: $n) { name } }" }),
            400,
            200,
            "VALIDATION_INVALID_TYPE_VARIABLE",
        ),
        (
            json!({ "query": "query A { __typename } query B { __typename }", "operationName": "C" }),
            400,
            200,
            "GRAPHQL_UNKNOWN_OPERATION_NAME",
        ),
        (json!({ "variables": {} }), 400, 400, "BAD_REQUEST"),
        (json!({ "query": null }), 400, 400, "BAD_REQUEST"),
    ];
    for (body, gql_status, json_status, code) in cases {
        for (accept, status) in [(GQL, gql_status), (JSON, json_status)] {
            let a = stack.post(accept, &body.to_string()).await;
            assert_eq!(a.status.as_u16(), status, "{accept} {body}: {a:?}");
            assert_eq!(a.code(), code, "{accept} {body}: {a:?}");
            assert!(a.content_type.starts_with(accept), "{a:?}");
            assert!(a.body.get("data").is_none(), "{a:?}");
        }
    }
    assert_eq!(stack.requests(), 0, "request errors reach no subgraph");

    // Success is 200 in both, in the negotiated type, UTF-8.
    let body = json!({ "query": TOP2 }).to_string();
    for (accept, expect) in [
        (GQL, GQL),
        (JSON, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (&format!("{GQL}, {JSON};q=0.9") as &str, GQL),
        (&format!("{JSON}, {GQL}") as &str, GQL),
        (&format!("{GQL};q=0.5, {JSON}") as &str, JSON),
        ("text/html, */*;q=0.1", JSON),
    ] {
        let a = stack.post(accept, &body).await;
        assert_eq!(a.status, StatusCode::OK, "{accept}: {a:?}");
        assert_eq!(
            a.content_type,
            format!("{expect}; charset=utf-8"),
            "{accept}"
        );
        assert_eq!(a.body, top2(), "{accept}");
    }
    // No Accept header at all: application/json.
    let a = stack
        .send(Method::POST, "", &[("content-type", JSON)], Some(&body))
        .await;
    assert_eq!(a.content_type, "application/json; charset=utf-8", "{a:?}");
    assert_eq!(a.body, top2());

    // Nothing acceptable: 406, nothing run.
    let before = stack.requests();
    for accept in [
        "text/html",
        "application/json;q=0",
        "application/json; charset=latin1",
    ] {
        let a = stack.post(accept, &body).await;
        assert_eq!(a.status, StatusCode::NOT_ACCEPTABLE, "{accept}: {a:?}");
    }
    assert_eq!(stack.requests(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_over_get_are_405_and_other_methods_too() {
    let stack = Stack::start().await;
    let mutation = r#"mutation { addNote(text: "hi") }"#;
    for accept in [GQL, JSON] {
        let a = stack
            .get(
                mutation,
                &[("accept", accept), ("apollo-require-preflight", "true")],
            )
            .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{accept}: {a:?}");
        assert_eq!(a.allow.as_deref(), Some("POST"), "{a:?}");
        assert_eq!(a.code(), "METHOD_NOT_ALLOWED", "{a:?}");
        assert!(a.content_type.starts_with(accept), "{a:?}");
    }
    // Chosen by operationName among a query and a mutation.
    let doc = format!("query Q {{ noteCount }} mutation M {}", &mutation[9..]);
    let a = stack
        .send(
            Method::GET,
            &format!("query={}&operationName=M", support::encode(&doc)),
            &[("apollo-require-preflight", "true")],
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{a:?}");
    assert_eq!(stack.requests(), 0, "no subgraph saw the mutation");

    // The same mutation with POST is executed (the notes subgraph is down: an error naming it,
    // not a 405).
    let a = stack
        .post(JSON, &json!({ "query": mutation }).to_string())
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(
        a.body["data"].is_object() || a.body["data"].is_null(),
        "{a:?}"
    );
    assert_eq!(a.body["errors"][0]["extensions"]["serviceName"], "notes");

    // Methods other than GET and POST (and HEAD).
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let a = stack
            .send(
                method.clone(),
                "",
                &[("content-type", JSON)],
                Some(&json!({ "query": TOP2 }).to_string()),
            )
            .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method}: {a:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_content_types_are_415() {
    let stack = Stack::start().await;
    let body = json!({ "query": TOP2 }).to_string();
    let preflight = ("apollo-require-preflight", "true");
    for ct in [
        "text/plain",
        "application/graphql",
        "application/xml",
        "application/json; charset=latin1",
        "application/json; charset=utf-16",
    ] {
        let a = stack
            .send(
                Method::POST,
                "",
                &[("content-type", ct), ("accept", GQL), preflight],
                Some(&body),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}: {a:?}");
        assert_eq!(a.code(), "UNSUPPORTED_MEDIA_TYPE", "{ct}: {a:?}");
    }
    // No content-type, with the preflight header (so past CSRF).
    let a = stack
        .send(Method::POST, "", &[preflight], Some(&body))
        .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{a:?}");
    assert_eq!(stack.requests(), 0);
    // UTF-8, said or unsaid, with any spelling: accepted, and decoded as UTF-8.
    let unicode = json!({ "query": "{ __type(name: \"Run🏃Swim🏊\") { name } }" }).to_string();
    for ct in [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json; charset=\"utf-8\"",
    ] {
        let a = stack
            .send(Method::POST, "", &[("content-type", ct)], Some(&unicode))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{ct}: {a:?}");
        assert_eq!(a.body, json!({ "data": { "__type": null } }), "{ct}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_400_in_both_media_types() {
    let stack = Stack::start().await;
    let bodies = [
        "",
        "  ",
        r#"{ "not a JSON"#,
        "[]",
        r#""{ __typename }""#,
        "null",
        r#"{"query":{"obj":"ect"}}"#,
        r#"{"query":0}"#,
        r#"{"query":false}"#,
        r#"{"query":["array"]}"#,
        r#"{"query":"{ __typename }","variables":"string"}"#,
        r#"{"query":"{ __typename }","variables":0}"#,
        r#"{"query":"{ __typename }","variables":["array"]}"#,
        r#"{"query":"{ __typename }","extensions":"string"}"#,
        r#"{"query":"{ __typename }","extensions":false}"#,
        r#"{"query":"{ __typename }","operationName":0}"#,
        r#"{"query":"{ __typename }","operationName":{"obj":"ect"}}"#,
        r#"{"qeury":"{ __typename }"}"#,
    ];
    for body in bodies {
        for accept in [GQL, JSON] {
            let a = stack.post(accept, body).await;
            assert_eq!(
                a.status,
                StatusCode::BAD_REQUEST,
                "{accept} `{body}`: {a:?}"
            );
            assert_eq!(a.code(), "BAD_REQUEST", "{accept} `{body}`: {a:?}");
            assert!(a.body.get("data").is_none(), "{a:?}");
            assert!(a.content_type.starts_with(accept), "{a:?}");
        }
    }
    // Nulls are absent values, maps are fine.
    for body in [
        json!({ "query": TOP2, "variables": null, "operationName": null, "extensions": null }),
        json!({ "query": TOP2, "variables": {}, "extensions": { "some": "value" } }),
    ] {
        let a = stack.post(GQL, &body.to_string()).await;
        assert_eq!(a.body, top2(), "{body}");
    }

    // GET: variables and extensions are URL-encoded JSON objects.
    let preflight = ("apollo-require-preflight", "true");
    let q = "query Top($n: Int) { topProducts(first: $n) { name } }";
    let with = |vars: &str| {
        format!(
            "query={}&variables={}",
            support::encode(q),
            support::encode(vars)
        )
    };
    let a = stack
        .send(Method::GET, &with(r#"{"n":2}"#), &[preflight], None)
        .await;
    assert_eq!(a.body, top2(), "{a:?}");
    for bad in ["{", "[2]", "\"n\""] {
        let a = stack
            .send(
                Method::GET,
                &with(bad),
                &[preflight, ("accept", JSON)],
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "variables={bad}: {a:?}");
    }
    let a = stack
        .send(
            Method::GET,
            &format!("query={}&extensions=1", support::encode(TOP2)),
            &[preflight],
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
    // A GET without `query`.
    let a = stack
        .send(Method::GET, "", &[preflight, ("accept", JSON)], None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
}
