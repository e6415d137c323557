#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The gateway end to end: the real reference subgraphs on ephemeral ports, a supergraph
//! composed for them, `weft serve` as a real process, answers compared with what the
//! subgraphs' own data implies, and every subgraph request counted and inspected.

use serde_json::{Value, json};
use std::collections::HashSet;
use tokio::net::TcpListener;
use weft_accounts::demo_user;
use weft_inventory::shipping_estimate;
use weft_products::demo_product;
use weft_reviews::{REVIEWS, demo_review};
use weft_subgraph_kit::Running;

mod support;

/// The gateway process (killed on drop) and its GraphQL URL.
struct Gateway(#[allow(dead_code)] support::Process, String);

struct Stack {
    subgraphs: Vec<Running>,
    gateway: Gateway,
}

impl Stack {
    async fn start() -> Stack {
        Self::with(support::reference_subgraphs().await, &[])
    }

    /// A stack whose supergraph routes `broken` subgraphs to a closed port.
    fn with(subgraphs: Vec<Running>, broken: &[&str]) -> Stack {
        Self::with_args(subgraphs, broken, &[])
    }

    /// Like [`Stack::with`], with extra `weft serve` arguments.
    fn with_args(subgraphs: Vec<Running>, broken: &[&str], args: &[&str]) -> Stack {
        let overrides: Vec<(&str, String)> = broken
            .iter()
            .map(|b| (*b, "http://127.0.0.1:9/graphql".to_owned()))
            .collect();
        Self::with_urls(subgraphs, &overrides, args)
    }

    /// A stack whose supergraph routes some subgraphs to other URLs.
    fn with_urls(subgraphs: Vec<Running>, urls: &[(&str, String)], args: &[&str]) -> Stack {
        let mut inputs = support::inputs(&subgraphs);
        for input in &mut inputs {
            if let Some((_, url)) = urls.iter().find(|(name, _)| *name == input.name) {
                input.url = url.clone();
            }
        }
        let dir = support::scratch("gw", subgraphs[0].addr.port());
        let path = dir.join("supergraph.graphql");
        std::fs::write(&path, support::supergraph(&inputs)).unwrap();
        let mut all = vec!["--supergraph".to_owned(), path.display().to_string()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let (process, url) = support::serve(all);
        Stack {
            subgraphs,
            gateway: Gateway(process, url),
        }
    }

    async fn query(&self, query: &str) -> Value {
        support::query(&self.gateway.1, &[], query).await.1
    }

    async fn query_with_header(&self, query: &str, name: &str, value: &str) -> Value {
        support::query(&self.gateway.1, &[(name, value)], query)
            .await
            .1
    }

    fn requests(&self) -> u64 {
        self.subgraphs.iter().map(|s| s.requests.count()).sum()
    }

    fn bodies(&self) -> Vec<Value> {
        self.subgraphs
            .iter()
            .flat_map(|s| s.requests.bodies())
            .collect()
    }
}

// What the subgraphs' data implies, computed from their own demo-data functions.
fn reviews_where(
    pred: impl Fn(&weft_reviews::data::ReviewRow) -> bool,
) -> Vec<weft_reviews::data::ReviewRow> {
    (1..=REVIEWS).map(demo_review).filter(|r| pred(r)).collect()
}

fn n(id: &str) -> usize {
    id.parse().unwrap()
}

fn expected_product_leaf(upc: &str) -> Value {
    let p = demo_product(n(upc));
    json!({ "name": p.name, "shippingEstimate": shipping_estimate(p.price.unwrap(), p.weight.unwrap()) })
}

fn expected_author(id: &str) -> Value {
    json!({
        "username": demo_user(n(id)).username,
        "reviews": reviews_where(|r| r.author_id == id).iter().map(|r| json!({ "product": expected_product_leaf(&r.product_upc) })).collect::<Vec<_>>(),
    })
}

fn expected_classic() -> Value {
    let users: Vec<Value> = (1..=weft_accounts::USERS)
        .map(|i| {
            let id = i.to_string();
            json!({
                "name": demo_user(i).name,
                "reviews": reviews_where(|r| r.author_id == id).iter().map(|r| {
                    let p = demo_product(n(&r.product_upc));
                    json!({
                        "body": r.body,
                        "product": {
                            "upc": p.upc,
                            "name": p.name,
                            "reviews": reviews_where(|x| x.product_upc == r.product_upc).iter().map(|x| json!({ "author": expected_author(&x.author_id) })).collect::<Vec<_>>(),
                        }
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let top: Vec<Value> = (1..=2)
        .map(|i| json!({ "name": demo_product(i).name }))
        .collect();
    json!({ "data": { "users": users, "topProducts": top } })
}

const CLASSIC: &str = "{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }";

/// `weft serve --subgraph NAME=URL …` composes the supergraph from the running subgraphs
/// (no supergraph file) and answers like a served file does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_composes_from_subgraph_urls() {
    let subgraphs = support::reference_subgraphs().await;
    let mut args: Vec<String> = Vec::new();
    for s in &subgraphs {
        args.push("--subgraph".into());
        args.push(format!("{}={}", s.name, s.url()));
    }
    let (_process, url) = support::serve(args);
    let body: Value = reqwest::Client::new()
        .post(&url)
        .json(&json!({ "query": CLASSIC }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body == expected_classic(), "{body}");
    // A malformed argument is refused with a hint, before anything listens.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["serve", "--listen", "127.0.0.1:0", "--subgraph", "products"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not NAME=URL") && stderr.contains("hint:"),
        "{stderr}"
    );
}

/// A `--subgraph` that does not answer yet is waited for, and the wait is said at once:
/// which subgraph, where, why, and for how long.
#[test]
fn serve_says_which_subgraph_it_waits_for() {
    use std::io::{BufRead, BufReader};
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/graphql", listener.local_addr().unwrap())
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["serve", "--listen", "127.0.0.1:0", "--subgraph"])
        .arg(format!("ghost={closed}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(std::time::Duration::from_secs(5));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("a line on stderr within 5 s");
    for said in [
        "waiting for subgraph `ghost`",
        &closed,
        "asking again",
        "30 s",
    ] {
        assert!(line.contains(said), "{said:?} not in {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_nested_query_is_exact_with_at_most_7_subgraph_requests() {
    let stack = Stack::start().await;
    let body = stack.query(CLASSIC).await;
    assert!(body.get("errors").is_none(), "{}", body["errors"]);
    assert!(
        body == expected_classic(),
        "the gateway's answer differs from what the subgraphs' data implies"
    );
    let requests = stack.requests();
    assert!(requests <= 7, "{requests} subgraph requests");
    // One `_entities` call per fetch, no representation twice in one call.
    for b in stack.bodies() {
        if let Some(reps) = b["variables"]["representations"].as_array() {
            let unique: HashSet<String> = reps.iter().map(|r| r.to_string()).collect();
            assert_eq!(
                unique.len(),
                reps.len(),
                "duplicate representation in {}",
                b["query"]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_codes_and_locations() {
    let stack = Stack::start().await;
    // Only the real error: no "must have a subselection set" for `me`, which has one.
    let body = stack.query("{ me { nme } }").await;
    assert_eq!(
        body["errors"],
        json!([{
            "message": "type `User` does not have a field `nme`. Did you mean `name`?",
            "locations": [{ "line": 1, "column": 8 }],
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" }
        }]),
        "{body}"
    );
    assert!(body.get("data").is_none());
    // Syntax errors in words, each once.
    let body = stack.query("{ me { name ").await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{body}"
    );
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        ["syntax error: expected `}`, got the end of the document"],
        "{body}"
    );
    assert_eq!(stack.requests(), 0, "invalid operations reach no subgraph");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typename_and_introspection_are_answered_by_the_gateway() {
    let stack = Stack::start().await;
    let body = stack.query("{ __typename __schema { queryType { name } } __type(name: \"Product\") { name fields { name } } }").await;
    assert_eq!(body["data"]["__typename"], "Query");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let fields: Vec<&str> = body["data"]["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"shippingEstimate") && fields.contains(&"reviews"),
        "{fields:?}"
    );
    assert!(!fields.contains(&"_entities"));
    assert_eq!(stack.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subgraph_down_yields_partial_data_and_a_precise_error() {
    let subgraphs = support::reference_subgraphs().await;
    let stack = Stack::with(subgraphs, &["inventory"]);
    let body = stack
        .query("{ topProducts(first: 2) { name inStock } }")
        .await;
    // inStock is nullable: the products' names survive, inStock is null, one error names inventory.
    assert_eq!(
        body["data"]["topProducts"][0]["name"],
        json!(demo_product(1).name),
        "{body}"
    );
    assert!(
        body["data"]["topProducts"][0]["inStock"].is_null(),
        "{body}"
    );
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(
        errors[0]["extensions"]["serviceName"], "inventory",
        "{body}"
    );
    assert_eq!(
        errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR",
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_plans_are_shown_on_request_only_when_enabled() {
    let query = "{ topProducts(first: 2) { name reviews { body } } }";
    // Off by default: the header is ignored.
    let stack = Stack::start().await;
    let body = stack
        .query_with_header(query, "weft-query-plan", "include")
        .await;
    assert!(body.get("extensions").is_none(), "{body}");
    // Any value: plans are not exposed, so the header means nothing here.
    let body = stack
        .query_with_header(query, "weft-query-plan", "dryrun")
        .await;
    assert!(
        body["data"].is_object() && body.get("errors").is_none(),
        "{body}"
    );
    drop(stack);

    let subgraphs = support::reference_subgraphs().await;
    let stack = Stack::with_args(subgraphs, &[], &["--expose-query-plans"]);
    let body = stack
        .query_with_header(query, "weft-query-plan", "include")
        .await;
    assert_eq!(body["data"], stack.query(query).await["data"]);
    let plan = &body["extensions"]["queryPlan"];
    let text = plan["text"].as_str().expect("plan text");
    assert!(text.contains("Fetch(service: \"products\")"), "{text}");
    assert!(text.contains("Fetch(service: \"reviews\")"), "{text}");
    assert_eq!(plan["object"]["node"]["kind"], "Sequence", "{plan}");

    // A value it does not know is refused (not run without a plan), when plans are exposed.
    let before = stack.requests();
    let (status, body) =
        support::query(&stack.gateway.1, &[("weft-query-plan", "dryrun")], query).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_QUERY_PLAN_HEADER",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("\"dryrun\"") && message.contains("`dry-run`"),
        "{message}"
    );
    assert_eq!(stack.requests(), before);

    // A dry run plans and sends nothing to the subgraphs.
    let body = stack
        .query_with_header(query, "weft-query-plan", "dry-run")
        .await;
    assert_eq!(stack.requests(), before);
    assert!(body.get("data").is_none(), "{body}");
    assert!(
        body["extensions"]["queryPlan"]["text"].is_string(),
        "{body}"
    );
}

/// Serves a stand-in subgraph on an ephemeral port; its GraphQL URL.
async fn serve_app(app: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/graphql")
}

/// A stand-in for the inventory subgraph that answers too late, or with garbage.
async fn misbehaving_subgraph(mode: &'static str) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/graphql",
        post(move || async move {
            match mode {
                "slow" => {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    "{}".to_owned()
                }
                _ => "<html>this is not GraphQL</html>".to_owned(),
            }
        }),
    );
    serve_app(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_garbled_subgraph_yields_partial_data_and_a_precise_error() {
    for mode in ["slow", "garbage"] {
        let subgraphs = support::reference_subgraphs().await;
        let url = misbehaving_subgraph(mode).await;
        let stack = Stack::with_urls(
            subgraphs,
            &[("inventory", url)],
            &["--subgraph-timeout-ms", "500"],
        );
        let started = std::time::Instant::now();
        let body = stack
            .query("{ topProducts(first: 2) { name inStock } }")
            .await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{mode}: the gateway waited for the slow subgraph"
        );
        // The fields products owns survive; inventory's are null, with one error naming it.
        assert_eq!(
            body["data"]["topProducts"][1]["name"],
            json!(demo_product(2).name),
            "{mode}: {body}"
        );
        assert!(
            body["data"]["topProducts"][1]["inStock"].is_null(),
            "{mode}: {body}"
        );
        let errors = body["errors"].as_array().expect("errors");
        assert!(
            errors
                .iter()
                .all(|e| e["extensions"]["serviceName"] == "inventory"),
            "{mode}: {body}"
        );
        let message = errors[0]["message"].as_str().unwrap_or_default();
        let why = if mode == "slow" {
            "did not answer in time"
        } else {
            "not JSON"
        };
        assert!(message.contains(why), "{mode}: {body}");
    }
}

/// A canned subgraph: `items` lists these ids (repeats included); `_entities` gives each
/// item its `detail`, whose non-null `name` is null for item "1".
async fn canned_items_subgraph(items: &'static [&'static str]) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/graphql",
        post(move |axum::Json(request): axum::Json<Value>| async move {
            let answer = match request["variables"]["representations"].as_array() {
                Some(reps) => {
                    let entities: Vec<Value> = reps
                        .iter()
                        .map(|rep| {
                            let name = if rep["id"] == "1" {
                                Value::Null
                            } else {
                                json!("n")
                            };
                            json!({ "detail": { "name": name, "note": rep["id"] } })
                        })
                        .collect();
                    json!({ "data": { "_entities": entities } })
                }
                None => {
                    let list: Vec<Value> = items
                        .iter()
                        .map(|id| json!({ "__typename": "Item", "id": id }))
                        .collect();
                    json!({ "data": { "items": list } })
                }
            };
            axum::Json(answer)
        }),
    );
    serve_app(app).await
}

/// Identical entities at several places are fetched and written once, but a null that
/// propagates inside one is reported at each place it stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_entity_is_answered_at_every_place_with_its_own_errors() {
    use weft_federation::compose::SubgraphInput;
    const LINK: &str = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])";
    let url = canned_items_subgraph(&["1", "2", "1", "2"]).await;
    let inputs = vec![
        SubgraphInput {
            name: "list".to_owned(),
            url: url.clone(),
            sdl: format!(
                "{LINK}\ntype Query {{ items: [Item!]! }}\ntype Item @key(fields: \"id\") {{ id: ID! }}"
            ),
            source: "list".to_owned(),
        },
        SubgraphInput {
            name: "details".to_owned(),
            url,
            sdl: format!(
                "{LINK}\ntype Item @key(fields: \"id\") {{ id: ID! detail: Detail }}\ntype Detail {{ name: String! note: String }}"
            ),
            source: "details".to_owned(),
        },
    ];
    let dir = support::scratch("shared-entity", 0);
    let path = dir.join("supergraph.graphql");
    std::fs::write(&path, support::supergraph(&inputs)).unwrap();
    let (_gateway, gateway) = support::serve(["--supergraph", &path.display().to_string()]);
    let (_, body) = support::query(&gateway, &[], "{ items { id detail { name note } } }").await;
    let detail_2 = json!({ "id": "2", "detail": { "name": "n", "note": "2" } });
    let detail_1 = json!({ "id": "1", "detail": null });
    assert_eq!(
        body["data"],
        json!({ "items": [detail_1, detail_2, detail_1, detail_2] }),
        "{body}"
    );
    let paths: HashSet<String> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].to_string())
        .collect();
    let expected: HashSet<String> = [
        json!(["items", 0, "detail", "name"]).to_string(),
        json!(["items", 2, "detail", "name"]).to_string(),
    ]
    .into();
    assert_eq!(paths, expected, "{body}");
}
