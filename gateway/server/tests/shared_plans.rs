#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Query plans shared through Redis (`query_plan.redis`, docs/operations.md), end to end: the
//! real reference subgraphs, `weft serve --config` processes, and the real Redis at
//! 127.0.0.1:6379 (each test with its own key prefix, read and written with `redis-cli`).
//! What proves a plan was not made is `weft_query_plans_computed_total`.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Entity jumps, `@requires`, several levels: a plan with every kind of node worth reading back.
const CLASSIC: &str = "{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }";

/// Valid against the reference supergraph and against one without `reviews`.
const STOCK: &str = "{ topProducts(first: 2) { name inStock shippingEstimate } }";

/// A key prefix no other run shares.
fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("weft-test:plans:{test}:{}:{nanos}:", std::process::id())
}

fn needs_redis() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:6379").is_ok(),
        "this test needs Redis on 127.0.0.1:6379 (.ci/run starts it): `redis-server --daemonize yes`"
    );
}

/// `redis-cli` against the test Redis; its output.
fn redis(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", "6379"])
        .args(args)
        .output()
        .expect("redis-cli (Debian package redis-tools)");
    assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// The keys under `prefix`, once there are `count` of them (writes are in the background).
fn keys(prefix: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found: Vec<String> = redis(&["--scan", "--pattern", &format!("{prefix}*")])
            .lines()
            .map(str::to_owned)
            .collect();
        if found.len() >= count || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `query_plan` section sharing plans at `url` under `prefix`, plans exposed.
fn section(url: &str, prefix: &str, extra: &str) -> String {
    format!(
        "query_plan:\n  expose: true\n  redis:\n    url: {url}\n    ttl_secs: 600\n    key_prefix: \"{prefix}\"\n{extra}"
    )
}

/// `query`'s answer from the gateway at `url`, with its plan (`weft-query-plan: include`):
/// `(data, errors, plan)`.
async fn ask(url: &str, query: &str) -> (Value, Value, Value) {
    let body: Value = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json")
        .header("weft-query-plan", "include")
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        body["data"].clone(),
        body["errors"].clone(),
        body["extensions"]["queryPlan"]["object"].clone(),
    )
}

/// `(plans computed, shared look-ups by result: hit, miss, invalid, unavailable)`.
async fn counts(url: &str) -> (f64, [f64; 4]) {
    let metrics = support::metrics(url).await;
    let result = |r: &str| {
        support::sample(
            &metrics,
            &format!("weft_query_plan_shared_lookups_total{{result=\"{r}\"}}"),
        )
    };
    (
        support::sample(&metrics, "weft_query_plans_computed_total"),
        [
            result("hit"),
            result("miss"),
            result("invalid"),
            result("unavailable"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_by_one_gateway_is_used_by_another() {
    needs_redis();
    let subgraphs = support::reference_subgraphs().await;
    let prefix = prefix("shared");
    let config = support::config_file(
        "plans-shared",
        &subgraphs,
        &section("redis://127.0.0.1:6379", &prefix, ""),
    );
    let config = config.display().to_string();
    let (_one, first) = support::serve(["--config", config.as_str()]);
    let (data, errors, plan) = ask(&first, CLASSIC).await;
    assert!(errors.is_null(), "{errors}");
    assert!(plan["node"]["kind"] == "Sequence", "{plan}");
    assert_eq!(counts(&first).await, (1.0, [0.0, 1.0, 0.0, 0.0]));
    let stored = keys(&prefix, 1);
    assert_eq!(stored.len(), 1, "{stored:?}");

    // A new process, same supergraph: it validates the document but plans nothing.
    let (_two, second) = support::serve(["--config", config.as_str()]);
    let (data_two, errors_two, plan_two) = ask(&second, CLASSIC).await;
    assert!(errors_two.is_null(), "{errors_two}");
    assert_eq!(data_two, data);
    assert_eq!(plan_two, plan);
    assert_eq!(counts(&second).await, (0.0, [1.0, 0.0, 0.0, 0.0]));
    // The document is still validated there, never taken from Redis: a broken one is refused.
    let (_, refused, _) = ask(&second, "{ users { nme } }").await;
    assert_eq!(
        refused[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{refused}"
    );
    // Another operation name is another plan.
    let named = format!("query Named {}", CLASSIC);
    let (data_named, _, _) = ask(&second, &named).await;
    assert_eq!(data_named, data);
    assert_eq!(counts(&second).await.0, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_supergraph_does_not_reuse_the_plan() {
    needs_redis();
    let subgraphs = support::reference_subgraphs().await;
    let prefix = prefix("other-supergraph");
    let yaml = section("redis://127.0.0.1:6379", &prefix, "");
    let all = support::config_file("plans-all", &subgraphs, &yaml);
    let fewer: Vec<_> = support::inputs(&subgraphs)
        .into_iter()
        .filter(|s| s.name != "reviews")
        .collect();
    let fewer = support::composed_config("plans-fewer", &fewer, &yaml);
    let (_one, first) = support::serve(["--config", all.to_str().unwrap()]);
    let (data, errors, _) = ask(&first, STOCK).await;
    assert!(errors.is_null(), "{errors}");
    assert_eq!(keys(&prefix, 1).len(), 1);

    let (_two, second) = support::serve(["--config", fewer.to_str().unwrap()]);
    let (data_two, errors_two, _) = ask(&second, STOCK).await;
    assert!(errors_two.is_null(), "{errors_two}");
    assert_eq!(data_two, data);
    // Planned there: a plan of one supergraph is not found under another's key.
    assert_eq!(counts(&second).await, (1.0, [0.0, 1.0, 0.0, 0.0]));
    assert_eq!(keys(&prefix, 2).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_entry_is_a_miss_and_is_written_again() {
    needs_redis();
    let subgraphs = support::reference_subgraphs().await;
    let prefix = prefix("corrupt");
    let config = support::config_file(
        "plans-corrupt",
        &subgraphs,
        &section("redis://127.0.0.1:6379", &prefix, ""),
    );
    let config = config.display().to_string();
    let (_one, first) = support::serve(["--config", config.as_str()]);
    let (data, _, _) = ask(&first, CLASSIC).await;
    let key = keys(&prefix, 1).pop().expect("a plan stored");
    let good = redis(&["GET", &key]);
    assert!(serde_json::from_str::<Value>(&good).is_ok(), "{good}");

    // Not JSON at all.
    redis(&["SET", &key, "{\"node\": garbage"]);
    let (_two, second) = support::serve(["--config", config.as_str()]);
    let (data_two, errors_two, _) = ask(&second, CLASSIC).await;
    assert!(errors_two.is_null(), "{errors_two}");
    assert_eq!(data_two, data);
    assert_eq!(counts(&second).await, (1.0, [0.0, 0.0, 1.0, 0.0]));
    // Planned there and written again, in the background.
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis(&["GET", &key]) != good {
        assert!(Instant::now() < deadline, "not written again");
        std::thread::sleep(Duration::from_millis(20));
    }

    // A plan, but naming a subgraph this supergraph does not have.
    let elsewhere = good.replace(
        "\"serviceName\":\"reviews\"",
        "\"serviceName\":\"elsewhere\"",
    );
    assert_ne!(elsewhere, good);
    redis(&["SET", &key, &elsewhere]);
    let (_three, third) = support::serve(["--config", config.as_str()]);
    let (data_three, errors_three, _) = ask(&third, CLASSIC).await;
    assert!(errors_three.is_null(), "{errors_three}");
    assert_eq!(data_three, data);
    assert_eq!(counts(&third).await, (1.0, [0.0, 0.0, 1.0, 0.0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_is_down_leaves_each_gateway_planning() {
    let subgraphs = support::reference_subgraphs().await;
    // Port 1: nothing listens there.
    let config = support::config_file(
        "plans-down",
        &subgraphs,
        &section("redis://127.0.0.1:1", &prefix("down"), ""),
    );
    let (_gateway, url) = support::serve(["--config", config.to_str().unwrap()]);
    let (data, errors, _) = ask(&url, CLASSIC).await;
    assert!(errors.is_null(), "{errors}");
    assert!(data["users"].is_array(), "{data}");
    let (data, errors, _) = ask(&url, STOCK).await;
    assert!(errors.is_null(), "{errors}");
    assert!(data["topProducts"].is_array(), "{data}");
    // Both planned here; the first found Redis down, the second found it paused.
    assert_eq!(counts(&url).await, (2.0, [0.0, 0.0, 0.0, 2.0]));
    let metrics = support::metrics(&url).await;
    assert_eq!(
        support::sample(&metrics, "weft_query_plan_redis_errors_total"),
        1.0,
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_does_not_answer_is_waited_for_its_timeout_then_left_alone() {
    // A Redis that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    let subgraphs = support::reference_subgraphs().await;
    let config = support::config_file(
        "plans-silent",
        &subgraphs,
        &section(
            &format!("redis://127.0.0.1:{port}"),
            &prefix("silent"),
            "    timeout_ms: 300\n",
        ),
    );
    let (_gateway, url) = support::serve(["--config", config.to_str().unwrap()]);
    let started = Instant::now();
    let (data, errors, _) = ask(&url, CLASSIC).await;
    let first = started.elapsed();
    assert!(errors.is_null(), "{errors}");
    assert!(data["users"].is_array(), "{data}");
    // Redis was waited for (the timeout), and not for ever: the silent Redis never answers.
    // (The upper bound is generous: a debug build on a busy machine plans slowly.)
    assert!(first >= Duration::from_millis(300), "{first:?}");
    assert!(first < Duration::from_secs(20), "{first:?}");
    // Redis is now left alone: the next operation does not ask it (no second failure).
    let (_, errors, _) = ask(&url, STOCK).await;
    assert!(errors.is_null(), "{errors}");
    assert_eq!(counts(&url).await, (2.0, [0.0, 0.0, 0.0, 2.0]));
    let metrics = support::metrics(&url).await;
    assert_eq!(
        support::sample(&metrics, "weft_query_plan_redis_errors_total"),
        1.0,
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_warms_up_from_the_plans_another_gateway_made() {
    needs_redis();
    let subgraphs = support::reference_subgraphs().await;
    let prefix = prefix("reload");
    let yaml = section("redis://127.0.0.1:6379", &prefix, "");
    let current = support::config_file("plans-reload", &subgraphs, &yaml);
    let fewer: Vec<_> = support::inputs(&subgraphs)
        .into_iter()
        .filter(|s| s.name != "reviews")
        .collect();
    let next = support::composed_config("plans-reload-next", &fewer, &yaml);
    let (_late, late) = support::serve(["--config", current.to_str().unwrap()]);
    let (data, _, _) = ask(&late, STOCK).await;
    assert_eq!(counts(&late).await, (1.0, [0.0, 1.0, 0.0, 0.0]));

    // Another gateway already serves the next supergraph, and planned the operation there.
    let (_early, early) = support::serve(["--config", next.to_str().unwrap()]);
    ask(&early, STOCK).await;
    assert_eq!(keys(&prefix, 2).len(), 2);

    // The next supergraph reaches the first gateway: its warm-up finds the plan in Redis.
    std::fs::copy(
        next.with_file_name("supergraph.graphql"),
        current.with_file_name("supergraph.graphql"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while counts(&late).await.1[0] < 1.0 {
        assert!(Instant::now() < deadline, "{:?}", counts(&late).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (data_next, errors, _) = ask(&late, STOCK).await;
    assert!(errors.is_null(), "{errors}");
    assert_eq!(data_next, data);
    assert_eq!(counts(&late).await, (1.0, [1.0, 1.0, 0.0, 0.0]));
}
