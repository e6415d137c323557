//! Progressive override labels switched on per request (`override_labels:`), end to end: two
//! real GraphQL subgraphs, `old` and `new`, where `new` takes over two root fields with
//! `@override(from: "old", label:)`; `weft serve` in front of them with rules matching a
//! header and a verified token's claim (an HS256 token, its key in a JWKS file). Each subgraph
//! answers with its own name and counts what it is sent, so the tests see who served a field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::{EmptyMutation, EmptySubscription, Object};
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const OLD_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable"])

type Query {
  price: Int
  tier: String
  name: String
  stock: Int
}
"#;

const NEW_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@override"])

type Query {
  price: Int @override(from: "old", label: "new-pricing")
  tier: String @override(from: "old", label: "staff-tier")
  stock: Int @override(from: "old", label: "percent(0)")
}
"#;

/// A subgraph answering every field with values of its own (`price` and `stock`: `base`,
/// `tier` and `name`: its name).
struct Query {
    name: &'static str,
    base: i32,
}

#[Object]
impl Query {
    async fn price(&self) -> i32 {
        self.base
    }
    async fn tier(&self) -> &str {
        self.name
    }
    async fn name(&self) -> &str {
        self.name
    }
    async fn stock(&self) -> i32 {
        self.base
    }
}

type Schema = async_graphql::Schema<Query, EmptyMutation, EmptySubscription>;

async fn graphql(State((schema, count)): State<(Schema, Arc<AtomicU64>)>, body: String) -> String {
    count.fetch_add(1, Ordering::SeqCst);
    let request: async_graphql::Request = serde_json::from_str(&body).unwrap();
    serde_json::to_string(&schema.execute(request).await).unwrap()
}

/// The subgraph on an ephemeral port: its URL and its request count.
async fn subgraph(name: &'static str, base: i32) -> (String, Arc<AtomicU64>) {
    let schema = Schema::new(Query { name, base }, EmptyMutation, EmptySubscription);
    let count = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new()
        .route("/graphql", post(graphql))
        .with_state((schema, count.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/graphql"), count)
}

struct Gateway {
    url: String,
    old: Arc<AtomicU64>,
    new: Arc<AtomicU64>,
    /// The config file (`weft.yaml`) and the log beside it.
    config: std::path::PathBuf,
    log: std::path::PathBuf,
    _process: support::Process,
}

impl Gateway {
    /// `old` and `new` behind `weft serve`, with `yaml` (top-level keys) in its config and an
    /// `auth:` verifying HS256 tokens with the key of `jwks.json`.
    async fn start(yaml: &str) -> Gateway {
        let (old_url, old) = subgraph("old", 1).await;
        let (new_url, new) = subgraph("new", 2).await;
        let inputs = [
            support::input("old", &old_url, OLD_SDL),
            support::input("new", &new_url, NEW_SDL),
        ];
        let jwks = support::hs256_jwks();
        let config = support::composed_config(
            "override-labels",
            &inputs,
            &format!("auth:\n  jwks: [jwks.json]\n  algorithms: [HS256]\n{yaml}"),
        );
        std::fs::write(config.with_file_name("jwks.json"), jwks).unwrap();
        let arg = config.display().to_string();
        let log = config.with_file_name("weft.log");
        let mut command = support::weft_command();
        command.stderr(std::fs::File::create(&log).unwrap());
        let (process, url) = support::serve_with(command, ["--config", arg.as_str()]);
        Gateway {
            url,
            old,
            new,
            config,
            log,
            _process: process,
        }
    }

    /// What the gateway logged so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `query`'s data with `headers`, and the requests each subgraph got for it.
    async fn ask(&self, query: &str, headers: &[(&str, &str)]) -> (Value, u64, u64) {
        let (old, new) = (
            self.old.load(Ordering::SeqCst),
            self.new.load(Ordering::SeqCst),
        );
        let (status, body) = support::query(&self.url, headers, query).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        (
            body["data"].clone(),
            self.old.load(Ordering::SeqCst) - old,
            self.new.load(Ordering::SeqCst) - new,
        )
    }
}

const RULES: &str = "override_labels:
  - { label: new-pricing, header: x-new-pricing, any_of: ['on'] }
  - { label: staff-tier, claim: roles, any_of: [staff] }
";

#[tokio::test]
async fn a_matching_header_sends_the_overridden_field_to_the_new_subgraph() {
    let gw = Gateway::start(RULES).await;
    let q = "{ price name }";
    // Without the header: all from `old`, one request.
    let (data, old, new) = gw.ask(q, &[]).await;
    assert_eq!(data, json!({"price": 1, "name": "old"}));
    assert_eq!((old, new), (1, 0));
    // With it: `price` from `new`, `name` still from `old`.
    let (data, old, new) = gw.ask(q, &[("x-new-pricing", "on")]).await;
    assert_eq!(data, json!({"price": 2, "name": "old"}));
    assert_eq!((old, new), (1, 1));
    // A value the rule does not list: as without it. And again with it (its plan cached).
    let (data, _, new) = gw.ask(q, &[("x-new-pricing", "off")]).await;
    assert_eq!((data["price"].clone(), new), (json!(1), 0));
    let (data, _, new) = gw.ask(q, &[("x-new-pricing", "on")]).await;
    assert_eq!((data["price"].clone(), new), (json!(2), 1));
}

#[tokio::test]
async fn a_matching_claim_of_a_verified_token_sends_the_field_to_the_new_subgraph() {
    let gw = Gateway::start(RULES).await;
    let q = "{ tier }";
    let staff = format!(
        "Bearer {}",
        support::hs256_token(json!({"sub": "a", "roles": ["staff"]}))
    );
    let other = format!(
        "Bearer {}",
        support::hs256_token(json!({"sub": "b", "roles": ["guest"]}))
    );
    let (data, old, new) = gw.ask(q, &[("authorization", staff.as_str())]).await;
    assert_eq!(data, json!({"tier": "new"}));
    assert_eq!((old, new), (0, 1));
    let (data, old, new) = gw.ask(q, &[("authorization", other.as_str())]).await;
    assert_eq!(data, json!({"tier": "old"}));
    assert_eq!((old, new), (1, 0));
    // Anonymous: no claims, the label stays off.
    let (data, _, _) = gw.ask(q, &[]).await;
    assert_eq!(data, json!({"tier": "old"}));
    // The header rule's label is not the claim rule's: `price` stays with `old` for staff.
    let (data, _, _) = gw
        .ask("{ price }", &[("authorization", staff.as_str())])
        .await;
    assert_eq!(data, json!({"price": 1}));
}

#[tokio::test]
async fn a_label_without_a_rule_is_off_and_a_bare_rule_is_on_for_everyone() {
    let gw = Gateway::start("override_labels:\n  - { label: staff-tier }\n").await;
    let (data, _, _) = gw.ask("{ price tier }", &[("x-new-pricing", "on")]).await;
    assert_eq!(data, json!({"price": 1, "tier": "new"}));
}

/// The plan-cache misses counted so far.
async fn misses(gw: &Gateway) -> f64 {
    support::sample(
        &support::metrics(&gw.url).await,
        "weft_query_plan_cache_misses_total",
    )
}

#[tokio::test]
async fn a_rule_for_a_label_the_supergraph_does_not_use_does_not_split_the_plan_cache() {
    let gw = Gateway::start(&format!(
        "{RULES}  - {{ label: not-in-the-supergraph, header: x-unused }}\n"
    ))
    .await;
    let q = "{ price }";
    gw.ask(q, &[]).await;
    let before = misses(&gw).await;
    // The unused label's rule matches: the same plan, from the cache.
    let (data, _, _) = gw.ask(q, &[("x-unused", "1")]).await;
    assert_eq!(data, json!({"price": 1}));
    assert_eq!(misses(&gw).await, before);
    // A label the supergraph uses: a plan of its own.
    let (data, _, _) = gw.ask(q, &[("x-new-pricing", "on")]).await;
    assert_eq!(data, json!({"price": 2}));
    assert_eq!(misses(&gw).await, before + 1.0);
}

#[tokio::test]
async fn rules_change_with_the_config_and_a_rule_for_an_unknown_label_is_logged() {
    let gw =
        Gateway::start("override_labels:\n  - { label: typo-pricing, header: x-new-pricing }\n")
            .await;
    let header = [("x-new-pricing", "on")];
    let (data, _, _) = gw.ask("{ price }", &header).await;
    assert_eq!(data, json!({"price": 1}));
    assert!(
        gw.log()
            .contains("override_labels: the supergraph has no @override with label `typo-pricing`"),
        "{}",
        gw.log()
    );
    // The label fixed in the file: applied by the reload, without a restart.
    let text = std::fs::read_to_string(&gw.config).unwrap();
    std::fs::write(&gw.config, text.replace("typo-pricing", "new-pricing")).unwrap();
    let start = std::time::Instant::now();
    while gw.ask("{ price }", &header).await.0 != json!({"price": 2})
        && start.elapsed() < std::time::Duration::from_secs(10)
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(gw.ask("{ price }", &header).await.0, json!({"price": 2}));
    assert_eq!(gw.ask("{ price }", &[]).await.0, json!({"price": 1}));
}

#[tokio::test]
async fn a_rule_switches_a_percent_label_on_for_the_requests_it_matches() {
    let gw =
        Gateway::start("override_labels:\n  - { label: percent(0), header: x-canary }\n").await;
    // `percent(0)`: the dice never switch it on.
    for _ in 0..5 {
        assert_eq!(gw.ask("{ stock }", &[]).await.0, json!({"stock": 1}));
    }
    let (data, old, new) = gw.ask("{ stock }", &[("x-canary", "1")]).await;
    assert_eq!(data, json!({"stock": 2}));
    assert_eq!((old, new), (0, 1));
}
