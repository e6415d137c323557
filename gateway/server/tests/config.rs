#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! `weft.yaml` end to end: `weft config check` and `schema` as a user runs them, and
//! `weft serve --config` as a real process in front of the real reference subgraphs:
//! `${VAR}` expansion, environment and flag overrides, introspection off, operation limits,
//! and hot reload of the supergraph and the config under load.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use weft_accounts::Accounts;
use weft_federation::compose::SubgraphInput;
use weft_inventory::Inventory;
use weft_products::{Products, demo_product};
use weft_subgraph_kit::Running;

mod support;

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

fn weft() -> Command {
    support::weft_command()
}

/// A fresh directory for one test's files.
fn dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-config-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The supergraph of `subgraphs`, composed here.
fn supergraph(subgraphs: &[&Running]) -> String {
    let inputs: Vec<SubgraphInput> = subgraphs
        .iter()
        .map(|s| SubgraphInput {
            name: s.name.to_owned(),
            url: s.url(),
            sdl: support::sdl_of(s.name),
            source: s.name.to_owned(),
        })
        .collect();
    support::supergraph(&inputs)
}

/// `weft serve` as a process; its stderr is collected as it comes.
struct Gateway {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    /// Starts `weft serve ARGS` with `envs`; the stderr of a gateway that did not start.
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Result<Gateway, String> {
        let mut child = weft()
            .arg("serve")
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start weft serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            while pipe.read_line(&mut line).unwrap_or(0) > 0 {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(url) = line.split_whitespace().last().map(str::to_owned) else {
            let _ = child.wait();
            let _ = reader.join();
            let text = stderr.lock().unwrap().clone();
            return Err(text);
        };
        Ok(Gateway { child, url, stderr })
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    async fn post(&self, accept: &str, query: &str) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(&self.url)
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn query(&self, query: &str) -> Value {
        self.post(JSON, query).await.1
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// `weft config check FILE`: its output, and its standard error as text.
fn config_check(file: &Path) -> (std::process::Output, String) {
    let out = weft().args(["config", "check"]).arg(file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

const INTROSPECTION: &str = "{ __schema { queryType { name } } }";

#[test]
fn config_check_locates_unknown_keys_and_lists_the_valid_ones() {
    let dir = dir("check");
    let file = dir.join("weft.yaml");
    write(
        &file,
        "supergraph:\n  path: supergraph.graphql\ncsrf:\n  enable: false\n",
    );
    let (out, stderr) = config_check(&file);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:4:3: unknown key `enable` at `csrf`",
            file.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: valid keys at `csrf`: enabled, required_headers"),
        "{stderr}"
    );

    // What `weft serve` also needs: a supergraph, here given as `serve` would get it.
    write(&file, "introspection: false\nlimits:\n  max_depth: 10\n");
    let out = weft()
        .args(["config", "check"])
        .arg(&file)
        .arg("--supergraph")
        .arg(committed_supergraph())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = weft().args(["config", "schema"]).output().unwrap();
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["title"], "weft.yaml");
    assert_eq!(
        schema["properties"]["csrf"]["properties"]["enabled"]["default"],
        true
    );
}

/// The supergraph of the reference subgraphs, as committed.
fn committed_supergraph() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/supergraph.graphql")
}

/// `weft config check` runs `weft serve`'s checks before serving (no supergraph, an unreadable
/// JWKS file) and reports every error of a file in one run, each at its file:line:col.
#[test]
fn config_check_reports_every_error_serve_would_in_one_run() {
    let dir = dir("check-all");
    let file = dir.join("weft.yaml");
    write(
        &file,
        "listen: localhost\nlimits:\n  max_depth: -1\nsubgraphs:\n  all:\n    timeout_ms: 0\ncsrf:\n  enable: false\ncors:\n  allow_origins: [\"*\"]\n  allow_credentials: true\nauth:\n  jwks:\n    - keys.json\n",
    );
    let (out, stderr) = config_check(&file);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let f = file.display();
    for expected in [
        format!("error: {f}:1:9: listen: `localhost` is not an IP address"),
        format!(
            "error: {f}:3:14: limits.max_depth: must be a whole number from 0 to 4294967295, not `-1`"
        ),
        format!(
            "error: {f}:6:17: subgraphs.all.timeout_ms: must be a whole number greater than 0, not `0`"
        ),
        format!("error: {f}:8:3: unknown key `enable` at `csrf`"),
        format!("error: {f}:11:3: `allow_credentials: true` cannot be used with"),
        format!("error: {f}:1:1: no supergraph to serve"),
        format!(
            "error: {f}:13:3: cannot read JWKS file {}",
            dir.join("keys.json").display()
        ),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    let errors = stderr.lines().filter(|l| l.starts_with("error: ")).count();
    let hints = stderr.lines().filter(|l| l.starts_with("  hint: ")).count();
    assert_eq!((errors, hints), (7, 7), "{stderr}");

    // Fixed, with a supergraph that does not parse: located in the supergraph file.
    let sg = dir.join("broken.graphql");
    write(&sg, "type Query {\n  a: Int\n");
    write(
        &file,
        "supergraph:\n  path: broken.graphql\nauth:\n  jwks: [keys.json]\n",
    );
    write(&dir.join("keys.json"), r#"{"keys": []}"#);
    let (out, stderr) = config_check(&file);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("error: {}:", sg.display())),
        "{stderr}"
    );

    // What serve accepts, check accepts.
    let good = committed_supergraph();
    write(
        &file,
        &format!(
            "supergraph:\n  path: {}\nauth:\n  jwks: [keys.json]\n",
            good.display()
        ),
    );
    let out = weft()
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_expand_in_the_config_file() {
    let products = support::subgraph::<Products>().await;
    let dir = dir("expand");
    let sg = dir.join("elsewhere.graphql");
    write(&sg, &supergraph(&[&products]));
    let file = dir.join("weft.yaml");
    write(
        &file,
        "supergraph:\n  path: ${WEFT_TEST_SUPERGRAPH}\nlisten: 127.0.0.1:${WEFT_TEST_PORT:-0}\nintrospection: ${WEFT_TEST_INTROSPECTION:-false}\n",
    );

    // Unset without a default: named, with its line, and nothing served.
    let (out, stderr) = config_check(&file);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:2:9: environment variable `WEFT_TEST_SUPERGRAPH` is not set",
            file.display()
        )),
        "{stderr}"
    );

    let sg_path = sg.display().to_string();
    let gw = Gateway::start(
        &["--config", &file.display().to_string()],
        &[("WEFT_TEST_SUPERGRAPH", &sg_path)],
    )
    .unwrap();
    let body = gw.query("{ topProducts(first: 1) { name } }").await;
    assert_eq!(
        body,
        json!({ "data": { "topProducts": [{ "name": demo_product(1).name }] } })
    );
    // `${WEFT_TEST_INTROSPECTION:-false}` took its default.
    assert_eq!(
        code(&gw.query(INTROSPECTION).await),
        "INTROSPECTION_DISABLED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_overrides_the_file_and_flags_override_both() {
    let products = support::subgraph::<Products>().await;
    let dir = dir("env");
    write(&dir.join("supergraph.graphql"), &supergraph(&[&products]));
    let file = dir.join("weft.yaml");
    write(
        &file,
        "supergraph:\n  path: supergraph.graphql\nlisten: 127.0.0.1:0\nintrospection: true\n",
    );
    let config = file.display().to_string();

    let gw = Gateway::start(
        &["--config", &config],
        &[
            ("WEFT_INTROSPECTION", "false"),
            ("WEFT_QUERY_PLAN_EXPOSE", "true"),
        ],
    )
    .unwrap();
    assert_eq!(
        code(&gw.query(INTROSPECTION).await),
        "INTROSPECTION_DISABLED"
    );
    let plan = reqwest::Client::new()
        .post(&gw.url)
        .header("weft-query-plan", "dry-run")
        .json(&json!({ "query": "{ topProducts { name } }" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        plan["extensions"]["queryPlan"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Fetch(service: \"products\")")),
        "{plan}"
    );
    drop(gw);

    // WEFT_LISTEN beats the file (a port nothing listens on is refused at startup)...
    let err = Gateway::start(&["--config", &config], &[("WEFT_LISTEN", "not-an-address")])
        .err()
        .expect("a bad WEFT_LISTEN stops the gateway");
    assert!(
        err.contains("WEFT_LISTEN: `not-an-address` is not an IP address and port"),
        "{err}"
    );
    // ...and --listen beats WEFT_LISTEN.
    let gw = Gateway::start(
        &["--config", &config, "--listen", "127.0.0.1:0"],
        &[("WEFT_LISTEN", "127.0.0.1:1")],
    )
    .unwrap();
    assert!(!gw.url.contains("127.0.0.1:1/"), "{}", gw.url);
    assert_eq!(
        gw.query(INTROSPECTION).await["data"]["__schema"]["queryType"]["name"],
        "Query"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_be_turned_off() {
    let products = support::subgraph::<Products>().await;
    let dir = dir("introspection");
    write(&dir.join("supergraph.graphql"), &supergraph(&[&products]));
    let file = dir.join("weft.yaml");
    write(
        &file,
        "supergraph:\n  path: supergraph.graphql\nlisten: 127.0.0.1:0\nintrospection: false\n",
    );
    let gw = Gateway::start(&["--config", &file.display().to_string()], &[]).unwrap();
    for query in [
        INTROSPECTION,
        "{ __type(name: \"Product\") { name } }",
        "{ topProducts { name } ... on Query { __schema { types { name } } } }",
    ] {
        let (status, body) = gw.post(GQL, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(code(&body), "INTROSPECTION_DISABLED", "{body}");
        assert!(body.get("data").is_none(), "{body}");
        let (status, body) = gw.post(JSON, query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(code(&body), "INTROSPECTION_DISABLED", "{body}");
    }
    // `__typename` is not introspection of the schema.
    assert_eq!(
        gw.query("{ __typename }").await,
        json!({ "data": { "__typename": "Query" } })
    );
    assert_eq!(products.requests.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_over_a_limit_are_refused_before_planning() {
    let accounts = support::subgraph::<Accounts>().await;
    let products = support::subgraph::<Products>().await;
    let dir = dir("limits");
    write(
        &dir.join("supergraph.graphql"),
        &supergraph(&[&accounts, &products]),
    );
    let file = dir.join("weft.yaml");
    write(
        &file,
        "supergraph:\n  path: supergraph.graphql\nlisten: 127.0.0.1:0\nlimits:\n  max_depth: 2\n  max_aliases: 2\n  max_root_fields: 2\n",
    );
    let gw = Gateway::start(&["--config", &file.display().to_string()], &[]).unwrap();

    // At each limit: served.
    for query in [
        "{ topProducts(first: 1) { name } }",
        "{ a: topProducts(first: 1) { n: name } }",
        "{ topProducts(first: 1) { ...P } users { id } } fragment P on Product { upc }",
    ] {
        let body = gw.query(query).await;
        assert!(
            body.get("errors").is_none() && body["data"].is_object(),
            "{query}: {body}"
        );
    }
    let served = products.requests.count() + accounts.requests.count();
    assert!(served >= 3);

    // Over: fragments counted where they are spread, every time.
    for (query, expected, message) in [
        (
            "{ topProducts { name } users { id } ...R } fragment R on Query { me { id } }",
            "MAX_ROOT_FIELDS_LIMIT",
            "number of root fields is 3, over the limit of 2 (`limits.max_root_fields`)",
        ),
        (
            "{ topProducts { ...P ...P } } fragment P on Product { x: upc y: name }",
            "MAX_ALIASES_LIMIT",
            "number of aliases is 4, over the limit of 2 (`limits.max_aliases`)",
        ),
    ] {
        let (status, body) = gw.post(GQL, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(code(&body), expected, "{body}");
        assert!(body.get("data").is_none(), "{body}");
        let text = body["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains(message), "{text}");
        let (status, body) = gw.post(JSON, query).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(code(&body), expected, "{body}");
    }
    assert_eq!(
        products.requests.count() + accounts.requests.count(),
        served,
        "a refused operation reaches no subgraph"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_over_the_limit_is_refused() {
    let products = support::subgraph::<Products>().await;
    let dir = dir("depth");
    write(&dir.join("supergraph.graphql"), &supergraph(&[&products]));
    let file = dir.join("weft.yaml");
    write(
        &file,
        "supergraph:\n  path: supergraph.graphql\nlisten: 127.0.0.1:0\nlimits:\n  max_depth: 1\n",
    );
    let gw = Gateway::start(&["--config", &file.display().to_string()], &[]).unwrap();
    let body = gw.query("{ __typename }").await;
    assert!(body.get("errors").is_none(), "{body}");
    // Depth 2 through a fragment: the fragment adds no depth, its fields do.
    let query = "{ ...R } fragment R on Query { topProducts { name } }";
    let (status, body) = gw.post(GQL, query).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "MAX_DEPTH_LIMIT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("depth is 2, over the limit of 1 (`limits.max_depth`)"),
        "{body}"
    );
    let (status, body) = gw.post(JSON, query).await;
    assert_eq!((status, code(&body)), (StatusCode::OK, "MAX_DEPTH_LIMIT"));
    assert_eq!(products.requests.count(), 0);
}

/// Runs `query` from 4 tasks until `until`, counting answers that are not a clean 200 with
/// the expected data.
async fn load(url: String, until: Instant, failures: Arc<AtomicU64>, total: Arc<AtomicU64>) {
    let client = reqwest::Client::new();
    let expected = json!({ "data": { "topProducts": [
        { "name": demo_product(1).name },
        { "name": demo_product(2).name },
    ] } });
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (client, url, expected) = (client.clone(), url.clone(), expected.clone());
        let (failures, total) = (failures.clone(), total.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let answer = client
                    .post(&url)
                    .json(&json!({ "query": "{ topProducts(first: 2) { name } }" }))
                    .send()
                    .await;
                let ok = match answer {
                    Ok(r) if r.status() == StatusCode::OK => {
                        r.json::<Value>().await.is_ok_and(|b| b == expected)
                    }
                    _ => false,
                };
                total.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Polls `query` until it answers without errors, or `deadline` passes.
async fn eventually(gw: &Gateway, query: &str, deadline: Duration) -> Value {
    let start = Instant::now();
    loop {
        let body = gw.query(query).await;
        if body.get("errors").is_none() || start.elapsed() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The plan-cache misses counted so far (`weft_query_plan_cache_misses_total`).
async fn plan_misses(gw: &Gateway) -> u64 {
    let text = support::metrics(&gw.url).await;
    text.lines()
        .find_map(|l| l.strip_prefix("weft_query_plan_cache_misses_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no plan-cache misses in {text}"))
}

/// After a reload, the most used operations are already planned against the new supergraph
/// (`query_plan.warm_up`, 30% by default): the first request for one is a cache hit. With
/// the warm-up off, it is a miss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_plans_the_most_used_operations_before_taking_traffic() {
    let accounts = support::subgraph::<Accounts>().await;
    let products = support::subgraph::<Products>().await;
    let inventory = support::subgraph::<Inventory>().await;
    let before = supergraph(&[&accounts, &products]);
    let after = supergraph(&[&accounts, &products, &inventory]);
    const HOT: &str = "{ topProducts(first: 1) { name } }";
    for (warm_up, hit_after_reload) in [("0.3", true), ("0", false)] {
        let dir = dir(&format!("warm-up-{warm_up}"));
        let path = dir.join("supergraph.graphql");
        write(&path, &before);
        let gw = Gateway::start(
            &[
                "--supergraph",
                &path.display().to_string(),
                "--listen",
                "127.0.0.1:0",
            ],
            &[("WEFT_QUERY_PLAN_WARM_UP", warm_up)],
        )
        .unwrap();
        // One hot operation, used often; nine used once.
        for _ in 0..5 {
            assert!(gw.query(HOT).await.get("errors").is_none());
        }
        for n in 1..10 {
            let cold = format!("{{ topProducts(first: {n}) {{ upc }} }}");
            assert!(gw.query(&cold).await.get("errors").is_none());
        }
        write(&path, &after);
        let start = Instant::now();
        while !gw.stderr().contains("supergraph reloaded")
            && start.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = gw.stderr();
        assert!(log.contains("supergraph reloaded"), "{log}");
        let misses = plan_misses(&gw).await;
        assert!(gw.query(HOT).await.get("errors").is_none());
        let missed = plan_misses(&gw).await - misses;
        assert_eq!(missed == 0, hit_after_reload, "warm_up {warm_up}: {log}");
        if hit_after_reload {
            // 30% of ten cached operations, most used first: three, the hot one among them.
            assert!(log.contains("plan cache warmed up"), "{log}");
            assert!(log.contains("prepared=3"), "{log}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supergraph_reloads_under_load_without_a_failed_request() {
    let accounts = support::subgraph::<Accounts>().await;
    let products = support::subgraph::<Products>().await;
    let inventory = support::subgraph::<Inventory>().await;
    let before = supergraph(&[&accounts, &products]);
    let after = supergraph(&[&accounts, &products, &inventory]);
    let dir = dir("reload");
    let path = dir.join("supergraph.graphql");
    write(&path, &before);
    let gw = Gateway::start(
        &[
            "--supergraph",
            &path.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    )
    .unwrap();
    const NEW_FIELD: &str = "{ topProducts(first: 1) { name inStock } }";
    assert_eq!(
        code(&gw.query(NEW_FIELD).await),
        "GRAPHQL_VALIDATION_FAILED"
    );

    let (failures, total) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let until = Instant::now() + Duration::from_secs(3);
    let traffic = tokio::spawn(load(gw.url.clone(), until, failures.clone(), total.clone()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    write(&path, &after);
    traffic.await.unwrap();
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "of {} requests",
        total.load(Ordering::Relaxed)
    );
    assert!(total.load(Ordering::Relaxed) > 20);

    let body = eventually(&gw, NEW_FIELD, Duration::from_secs(5)).await;
    // Product 1 is in stock (the demo data sells out every fourth).
    assert_eq!(
        body,
        json!({ "data": { "topProducts": [{ "name": demo_product(1).name, "inStock": true }] } }),
    );
    assert!(
        gw.stderr().contains("supergraph reloaded"),
        "{}",
        gw.stderr()
    );

    // A broken supergraph is logged, and the one before keeps serving.
    write(&path, "type Query {");
    let start = Instant::now();
    while !gw
        .stderr()
        .contains("still serving the previous supergraph")
        && start.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = gw.stderr();
    assert!(
        log.contains("not loaded; still serving the previous supergraph"),
        "{log}"
    );
    assert!(log.contains("supergraph.graphql:1:"), "{log}");
    let body = gw.query(NEW_FIELD).await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_config_is_applied_and_a_broken_one_is_not() {
    let products = support::subgraph::<Products>().await;
    let dir = dir("config-reload");
    write(&dir.join("supergraph.graphql"), &supergraph(&[&products]));
    let file = dir.join("weft.yaml");
    let config = "supergraph:\n  path: supergraph.graphql\nlisten: 127.0.0.1:0\n";
    write(&file, config);
    let gw = Gateway::start(&["--config", &file.display().to_string()], &[]).unwrap();
    assert!(gw.query(INTROSPECTION).await.get("errors").is_none());

    write(&file, &format!("{config}introspection: false\n"));
    let start = Instant::now();
    while code(&gw.query(INTROSPECTION).await) != "INTROSPECTION_DISABLED"
        && start.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        code(&gw.query(INTROSPECTION).await),
        "INTROSPECTION_DISABLED"
    );

    // Not valid: logged with its place, and the config in use stays.
    write(
        &file,
        &format!("{config}introspection: true\nlimits:\n  depth: 3\n"),
    );
    let start = Instant::now();
    while !gw.stderr().contains("not applied") && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = gw.stderr();
    assert!(
        log.contains("weft.yaml:6:3: unknown key `depth` at `limits`"),
        "{log}"
    );
    assert_eq!(
        code(&gw.query(INTROSPECTION).await),
        "INTROSPECTION_DISABLED"
    );

    // A new listen address needs a restart, and says so.
    write(&file, &config.replace("127.0.0.1:0", "127.0.0.1:4999"));
    let start = Instant::now();
    while !gw.stderr().contains("restart") && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        gw.stderr()
            .contains("`listen` changed to 127.0.0.1:4999: restart weft serve"),
        "{}",
        gw.stderr()
    );
    // The rest of that config applied: introspection is back on. The warning is logged when
    // the file is read, before the new runtime is built and swapped in: wait for the swap.
    let start = Instant::now();
    while gw.query(INTROSPECTION).await.get("errors").is_some()
        && start.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = gw.query(INTROSPECTION).await;
    assert!(body.get("errors").is_none(), "{body}");
}
