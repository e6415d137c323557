#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The data-ownership patterns of the reference subgraphs, end to end through `weft serve`:
//! the checkout saga (success, compensation, crash and restart), event-sourced orders with a
//! rebuildable read model, idempotent event consumers, and a read copy converging after a
//! rename. Every scenario runs twice: SQLite with the in-process bus, and PostgreSQL (a fresh
//! schema per service and test) with RabbitMQ (a fresh exchange per test).
//!
//! PostgreSQL and RabbitMQ are the real servers: `WEFT_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and `WEFT_TEST_AMQP_URL` (default
//! `amqp://guest:guest@127.0.0.1:5672/%2f`).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;
use tokio::net::TcpListener;
use weft_accounts::Accounts;
use weft_federation::compose::SubgraphInput;
use weft_inventory::Inventory;
use weft_orders::Orders;
use weft_products::{Products, demo_product};
use weft_reviews::{Reviews, demo_review};
use weft_subgraph_kit::subgraph::open_layout;
use weft_subgraph_kit::{Bind, Bus, Db, Env, Running, Subgraph, spawn_env};

mod support;

/// How many shards accounts spreads its users over in these tests.
const SHARDS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Backend {
    /// SQLite (in memory, or a file for a subgraph run as a process) and the in-process bus.
    Local,
    /// PostgreSQL and RabbitMQ.
    Servers,
}

fn postgres_url() -> String {
    std::env::var("WEFT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn amqp_url() -> String {
    std::env::var("WEFT_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// What one test runs on: its backend, a unique tag naming its schemas, exchange and scratch
/// folder (so tests run in parallel and re-run), and the bus its in-process subgraphs share.
struct Infra {
    backend: Backend,
    tag: String,
    bus: Bus,
    dir: PathBuf,
}

impl Infra {
    async fn new(backend: Backend, test: &str) -> Infra {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let tag = format!("t_{test}_{}_{nanos}", std::process::id());
        let bus = match backend {
            Backend::Local => Bus::in_process(),
            Backend::Servers => Bus::rabbit(&amqp_url(), &format!("weft.test.{tag}"))
                .await
                .expect("RabbitMQ (start it with `rabbitmq-server -detached`)"),
        };
        let dir = std::env::temp_dir().join(format!("weft-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        Infra {
            backend,
            tag,
            bus,
            dir,
        }
    }

    fn schema(&self, service: &str) -> String {
        format!("{}_{service}", self.tag)
    }

    /// Subgraph `S` serving in this process, on the shared bus; accounts on [`SHARDS`] shards.
    async fn start<S: Subgraph>(&self, peers: &BTreeMap<String, String>) -> Running {
        let (database, schema) = match self.backend {
            Backend::Local => (None, None),
            Backend::Servers => (Some(postgres_url()), Some(self.schema(S::NAME))),
        };
        let shards = if S::NAME == "accounts" { SHARDS } else { 1 };
        let (db, shards) = open_layout::<S>(database.as_deref(), schema.as_deref(), shards)
            .await
            .expect("open database");
        let env = Env {
            db,
            bus: self.bus.clone(),
            peers: peers.clone(),
            shards,
            slow_field: None,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        spawn_env::<S>(listener, env, false).unwrap()
    }

    /// The command line giving a subgraph process its database and bus.
    fn process_args(&self, service: &str) -> Vec<String> {
        match self.backend {
            Backend::Local => vec![
                "--database".into(),
                self.dir.join(format!("{service}.db")).display().to_string(),
            ],
            Backend::Servers => vec![
                "--database".into(),
                postgres_url(),
                "--database-schema".into(),
                self.schema(service),
                "--bus".into(),
                amqp_url(),
                "--bus-exchange".into(),
                format!("weft.test.{}", self.tag),
            ],
        }
    }

    /// Drops what the test created in PostgreSQL and RabbitMQ.
    async fn cleanup(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.backend == Backend::Servers {
            self.bus
                .remove(&[
                    "products.units-sold",
                    "reviews.product-names",
                    "test.entity-cache",
                ])
                .await
                .unwrap();
            let db = Db::connect(&postgres_url()).await.unwrap();
            let shards = (0..SHARDS).map(|i| format!("accounts_shard{i}"));
            let services = ["accounts", "products", "inventory", "reviews", "orders"];
            for service in services.into_iter().map(String::from).chain(shards) {
                db.execute(
                    &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema(&service)),
                    &[],
                )
                .await
                .unwrap();
            }
            db.close().await;
        }
    }
}

/// The subgraphs of one test (in-process, plus orders' address when it runs as a process) and
/// `weft serve` over their supergraph.
struct Stack {
    subgraphs: Vec<Running>,
    _gateway: support::Process,
    url: String,
}

impl Stack {
    /// Accounts, products, inventory and reviews in this process; orders too unless
    /// `orders_url` says where an orders process will listen.
    async fn start(infra: &Infra, orders_url: Option<&str>) -> Stack {
        Stack::configured(infra, orders_url, None).await
    }

    /// Like [`Stack::start`], the gateway configured by `config` (YAML after `supergraph:`).
    async fn configured(infra: &Infra, orders_url: Option<&str>, config: Option<&str>) -> Stack {
        let mut peers = BTreeMap::new();
        let mut subgraphs = vec![
            infra.start::<Accounts>(&peers).await,
            infra.start::<Products>(&peers).await,
            infra.start::<Inventory>(&peers).await,
        ];
        peers.insert("inventory".to_owned(), subgraphs[2].url());
        subgraphs.push(infra.start::<Reviews>(&peers).await);
        if orders_url.is_none() {
            subgraphs.push(infra.start::<Orders>(&peers).await);
        }
        let mut inputs = support::inputs(&subgraphs);
        if let Some(url) = orders_url {
            inputs.push(SubgraphInput {
                name: "orders".into(),
                url: url.to_owned(),
                sdl: Orders::sdl(),
                source: "orders".into(),
            });
        }
        let path = infra.dir.join("supergraph.graphql");
        std::fs::write(&path, support::supergraph(&inputs)).unwrap();
        let (gateway, url) = match config {
            None => support::serve(["--supergraph".to_owned(), path.display().to_string()]),
            Some(yaml) => {
                let file = infra.dir.join("weft.yaml");
                let text = format!("supergraph:\n  path: {}\n{yaml}", path.display());
                std::fs::write(&file, text).unwrap();
                support::serve(["--config".to_owned(), file.display().to_string()])
            }
        };
        Stack {
            subgraphs,
            _gateway: gateway,
            url,
        }
    }

    fn db(&self, name: &str) -> &Db {
        &self
            .subgraphs
            .iter()
            .find(|s| s.name == name)
            .expect("subgraph")
            .db
    }

    fn inventory_url(&self) -> String {
        self.subgraphs
            .iter()
            .find(|s| s.name == "inventory")
            .unwrap()
            .url()
    }

    async fn query(&self, query: &str, variables: Value) -> Value {
        let response = reqwest::Client::new()
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// `query`'s data, failing on any error.
    async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.query(query, variables).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
        body["data"].clone()
    }

    async fn product(&self, upc: &str) -> Value {
        self.data(
            "query($upc: String!) { product(upc: $upc) { name stock unitsSold } }",
            json!({ "upc": upc }),
        )
        .await["product"]
            .clone()
    }

    async fn stock(&self, upc: &str) -> i64 {
        self.product(upc).await["stock"].as_i64().unwrap()
    }

    async fn units_sold(&self, upc: &str) -> i64 {
        self.product(upc).await["unitsSold"].as_i64().unwrap()
    }

    /// Sends `checkout` through the gateway; the whole response.
    async fn checkout_raw(&self, user: &str, items: &[(&str, i64)], token: &str) -> Value {
        let items: Vec<Value> = items
            .iter()
            .map(|(upc, quantity)| json!({ "upc": upc, "quantity": quantity }))
            .collect();
        self.query(
            "mutation($input: CheckoutInput!) { checkout(input: $input) { id status failureReason items { quantity product { upc name } } } }",
            json!({ "input": { "userId": user, "items": items, "paymentToken": token } }),
        )
        .await
    }

    async fn checkout(&self, user: &str, items: &[(&str, i64)], token: &str) -> Value {
        let body = self.checkout_raw(user, items, token).await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["checkout"].clone()
    }

    async fn orders_of(&self, user: &str) -> Vec<Value> {
        self.data(
            "query($id: ID!) { user(id: $id) { name orders { id status failureReason items { quantity product { name } } } } }",
            json!({ "id": user }),
        )
        .await["user"]["orders"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// Polls `probe` until it returns `Some` (20 s at most).
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn count(db: &Db, sql: &str, binds: &[Bind]) -> i64 {
    let rows = db.fetch_all(sql, binds).await.unwrap();
    rows[0].try_get::<i64, _>(0).unwrap()
}

/// Runs each scenario on both backends: `name::sqlite_in_process`, `name::postgres_rabbitmq`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_in_process() {
                super::$name(super::Backend::Local).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_rabbitmq() {
                super::$name(super::Backend::Servers).await;
            }
        }
    )*};
}

on_both_backends!(
    a_checkout_is_watched_through_subscriptions,
    checkout_confirms_and_takes_stock,
    failed_checkout_is_compensated_exactly,
    saga_resumes_or_compensates_after_a_crash,
    event_delivered_twice_is_applied_once,
    read_model_rebuilt_from_the_store_equals_the_live_one,
    renamed_product_converges_in_reviews,
    users_spread_across_shards_are_found_through_the_gateway,
    saga_steps_in_inventory_are_idempotent,
);

/// Subscriptions over the reference services, through the gateway: a client watches product
/// 1's stock (over SSE and over multipart) and, while a checkout of it runs (its payment slowed
/// to 1.5 s), the order's status from the moment it is found: `PENDING` (replayed from the
/// order's events) then `CONFIRMED` (live), each with fields other subgraphs resolve.
async fn a_checkout_is_watched_through_subscriptions(backend: Backend) {
    let infra = Infra::new(backend, "watch").await;
    let stack = Stack::start(&infra, None).await;
    let product = stack.product("1").await;
    let stock_before = product["stock"].as_i64().unwrap();
    let stock_query = "subscription($upc: ID!) { stockChanged(upc: $upc) { upc stock name } }";
    let mut sse =
        support::Events::open(&stack.url, stock_query, json!({ "upc": "1" }), false).await;
    let mut multipart =
        support::Events::open(&stack.url, stock_query, json!({ "upc": "1" }), true).await;
    support::until_subscriptions(&stack.url, 2).await;
    // The gateway subscribed on inventory: let inventory's stream start.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let known: Vec<Value> = stack
        .orders_of("1")
        .await
        .iter()
        .map(|o| o["id"].clone())
        .collect();

    let url = stack.url.clone();
    let checkout = tokio::spawn(async move {
        let query = "mutation($input: CheckoutInput!) { checkout(input: $input) { id status } }";
        let input = json!({ "userId": "1", "items": [{ "upc": "1", "quantity": 1 }],
                            "paymentToken": "tok_slow_1500" });
        let (_, body) = support::query_with(&url, query, json!({ "input": input })).await;
        body
    });
    // The order appears, pending, while its payment is being authorized.
    let id = eventually("the pending order", || async {
        stack
            .orders_of("1")
            .await
            .into_iter()
            .find(|o| !known.contains(&o["id"]) && o["status"] == "PENDING")
            .map(|o| o["id"].clone())
    })
    .await;
    let order_query = "subscription($id: ID!) { orderStatusChanged(id: $id) { id status \
                       items { quantity product { upc name } } } }";
    let mut order =
        support::Events::open(&stack.url, order_query, json!({ "id": id }), false).await;
    let wait = Duration::from_secs(20);
    let item = json!([{ "quantity": 1, "product": { "upc": "1", "name": product["name"] } }]);
    let status = |status: &str| json!({ "data": { "orderStatusChanged": { "id": id, "status": status, "items": item } } });
    assert_eq!(order.next_within(wait).await, Some(status("PENDING")));
    assert_eq!(order.next_within(wait).await, Some(status("CONFIRMED")));
    assert_eq!(
        order.next_within(wait).await,
        None,
        "the stream ends with the saga"
    );
    let answer = checkout.await.unwrap();
    assert_eq!(
        answer["data"]["checkout"]["status"], "CONFIRMED",
        "{answer}"
    );

    // The reservation changed product 1's stock: both watchers got it, with its name.
    let changed = json!({ "data": { "stockChanged": {
        "upc": "1", "stock": stock_before - 1, "name": product["name"],
    } } });
    assert_eq!(sse.next_within(wait).await, Some(changed.clone()));
    assert_eq!(multipart.next_within(wait).await, Some(changed));
    infra.cleanup().await;
}

async fn checkout_confirms_and_takes_stock(backend: Backend) {
    let infra = Infra::new(backend, "confirm").await;
    let stack = Stack::start(&infra, None).await;
    let before = stack.stock("1").await;

    let order = stack.checkout("7", &[("1", 2)], "tok_ok").await;
    assert_eq!(order["status"], "CONFIRMED", "{order}");
    assert_eq!(order["failureReason"], Value::Null);
    assert_eq!(
        order["items"],
        json!([{ "quantity": 2, "product": { "upc": "1", "name": demo_product(1).name } }])
    );
    assert_eq!(stack.stock("1").await, before - 2);

    // The read model serves the order by id, by user (across accounts) and by status.
    let id = order["id"].as_str().unwrap();
    let by_id = stack
        .data(
            "query($id: ID!) { order(id: $id) { id status user { name } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(by_id["order"]["status"], "CONFIRMED");
    assert_eq!(
        by_id["order"]["user"]["name"],
        json!(weft_accounts::demo_user(7).name)
    );
    let orders = stack.orders_of("7").await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["id"], order["id"]);
    let confirmed = stack
        .data("{ ordersByStatus(status: CONFIRMED) { id } }", json!({}))
        .await;
    assert_eq!(confirmed["ordersByStatus"], json!([{ "id": id }]));

    // OrderConfirmed reaches products through the outbox and the bus.
    eventually("unitsSold to count the order", || async {
        (stack.units_sold("1").await == 2).then_some(())
    })
    .await;
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

async fn failed_checkout_is_compensated_exactly(backend: Backend) {
    let infra = Infra::new(backend, "compensate").await;
    let stack = Stack::start(&infra, None).await;
    let (two, three) = (stack.stock("2").await, stack.stock("3").await);

    // Stock is reserved, then payment is declined: the reservation is released.
    let declined = stack
        .checkout("8", &[("2", 1), ("3", 2)], "tok_decline")
        .await;
    assert_eq!(declined["status"], "CANCELLED", "{declined}");
    assert_eq!(declined["failureReason"], "payment declined");
    assert_eq!(stack.stock("2").await, two);
    assert_eq!(stack.stock("3").await, three);
    let id = declined["id"].as_str().unwrap().to_owned();
    let inventory = stack.db("inventory");
    let held = inventory
        .fetch_all(
            "SELECT upc, quantity, released FROM reservations WHERE order_id = $1 AND upc <> '' ORDER BY upc",
            &[Bind::Text(id.clone())],
        )
        .await
        .unwrap();
    let held: Vec<(String, i64, i64)> = held
        .iter()
        .map(|r| {
            (
                r.try_get("upc").unwrap(),
                r.try_get("quantity").unwrap(),
                r.try_get("released").unwrap(),
            )
        })
        .collect();
    assert_eq!(held, vec![("2".into(), 1, 1), ("3".into(), 2, 1)]);

    // The order's history shows the compensations, in reverse order of the steps.
    let kinds: Vec<String> = stack
        .db("orders")
        .fetch_all(
            "SELECT kind FROM order_events WHERE stream_id = $1 ORDER BY version",
            &[Bind::Text(id)],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("kind").unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "OrderPlaced",
            "StockReserved",
            "OrderFailed",
            "StockReleased",
            "OrderCancelled"
        ]
    );

    // Not enough stock for one item: nothing is taken for the others either.
    let short = stack
        .checkout("8", &[("2", 1), ("1", 1000)], "tok_ok")
        .await;
    assert_eq!(short["status"], "CANCELLED");
    assert_eq!(short["failureReason"], "insufficient stock for product 1");
    assert_eq!(stack.stock("2").await, two);

    // Inventory's outbox holds exactly the events of what committed: a reservation and its
    // release for the declined order, nothing for the refused one (its transaction rolled back).
    let events = |order: String| async move {
        inventory
            .fetch_all(
                "SELECT kind FROM weft_outbox WHERE event_key = $1 ORDER BY occurred_ms, id",
                &[Bind::Text(order)],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("kind").unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        events(declined["id"].as_str().unwrap().to_owned()).await,
        ["StockReserved", "StockReleased"]
    );
    assert!(
        events(short["id"].as_str().unwrap().to_owned())
            .await
            .is_empty()
    );

    let statuses: Vec<Value> = stack
        .orders_of("8")
        .await
        .iter()
        .map(|o| o["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("CANCELLED"), json!("CANCELLED")]);
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

/// The orders service as a process (`weft subgraph orders`), crashing after `crash_after`
/// when given.
fn orders_process(
    infra: &Infra,
    port: u16,
    inventory: &str,
    crash_after: Option<&str>,
) -> support::Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    command
        .args(["subgraph", "orders", "--port", &port.to_string()])
        .args(["--peer", &format!("inventory={inventory}")])
        .args(infra.process_args("orders"))
        .env_remove(weft_orders::CRASH_AFTER_VAR)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(step) = crash_after {
        command.env(weft_orders::CRASH_AFTER_VAR, step);
    }
    let mut child = command.spawn().expect("start orders");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("serving"), "orders did not start: {line}");
    support::Process(child)
}

async fn exit_code(process: &mut support::Process) -> Option<i32> {
    eventually("the orders process to exit", || {
        let status = process.0.try_wait().unwrap();
        async move { status.map(|s| s.code()) }
    })
    .await
}

async fn saga_resumes_or_compensates_after_a_crash(backend: Backend) {
    let infra = Infra::new(backend, "crash").await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let stack = Stack::start(&infra, Some(&format!("http://127.0.0.1:{port}/graphql"))).await;
    let inventory = stack.inventory_url();
    let (four, five) = (stack.stock("5").await, stack.stock("6").await);

    // Crash right after stock is reserved, for an order that will pay and one that will not.
    let mut orders = orders_process(&infra, port, &inventory, Some("reserve"));
    let body = stack.checkout_raw("11", &[("5", 3)], "tok_ok").await;
    assert!(
        body.get("errors").is_some(),
        "the crash must fail the request: {body}"
    );
    assert_eq!(exit_code(&mut orders).await, Some(3));
    drop(orders);
    // Restarted with the same crash point: recovering the first order (next step: authorize)
    // does not crash; the second order crashes after its reservation.
    let mut orders = orders_process(&infra, port, &inventory, Some("reserve"));
    let body = stack.checkout_raw("12", &[("6", 2)], "tok_decline").await;
    assert!(body.get("errors").is_some(), "{body}");
    assert_eq!(exit_code(&mut orders).await, Some(3));
    drop(orders);

    // The second order stopped between its steps: its stock is held.
    assert_eq!(stack.stock("5").await, four - 3);
    assert_eq!(stack.stock("6").await, five - 2);

    // Restarted without a crash point, orders finishes both sagas on its own.
    let _orders = orders_process(&infra, port, &inventory, None);
    let settled = |user: &'static str| {
        let stack = &stack;
        async move {
            eventually("the saga to settle", || async {
                let orders = stack.orders_of(user).await;
                (orders.len() == 1 && orders[0]["status"] != "PENDING").then(|| orders[0].clone())
            })
            .await
        }
    };
    let paid = settled("11").await;
    assert_eq!(paid["status"], "CONFIRMED", "{paid}");
    assert_eq!(stack.stock("5").await, four - 3, "reserved exactly once");
    let declined = settled("12").await;
    assert_eq!(declined["status"], "CANCELLED", "{declined}");
    assert_eq!(declined["failureReason"], "payment declined");
    assert_eq!(stack.stock("6").await, five, "released exactly once");
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

async fn event_delivered_twice_is_applied_once(backend: Backend) {
    let infra = Infra::new(backend, "twice").await;
    let stack = Stack::start(&infra, None).await;
    stack.checkout("13", &[("7", 2)], "tok_ok").await;
    eventually("unitsSold to count the first order", || async {
        (stack.units_sold("7").await == 2).then_some(())
    })
    .await;

    // As if the relay crashed after publishing and before marking: everything goes out again.
    let orders = stack.db("orders");
    eventually("the outbox to drain", || async {
        (count(
            orders,
            "SELECT COUNT(*) FROM weft_outbox WHERE published = 0",
            &[],
        )
        .await
            == 0)
            .then_some(())
    })
    .await;
    let reset = orders
        .execute("UPDATE weft_outbox SET published = 0", &[])
        .await
        .unwrap();
    assert!(reset >= 2, "OrderPlaced and OrderConfirmed were published");

    // A later order's event is delivered after the duplicates, so once it is counted the
    // duplicates have been seen too.
    stack.checkout("13", &[("7", 1)], "tok_ok").await;
    let sold = eventually("unitsSold to count the second order", || async {
        let sold = stack.units_sold("7").await;
        (sold >= 3).then_some(sold)
    })
    .await;
    assert_eq!(sold, 3, "the redelivered OrderConfirmed was applied again");
    let applied = count(
        stack.db("products"),
        "SELECT COUNT(*) FROM weft_inbox WHERE consumer = 'products.units-sold'",
        &[],
    )
    .await;
    assert_eq!(applied, 2);
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

async fn read_model_rebuilt_from_the_store_equals_the_live_one(backend: Backend) {
    let infra = Infra::new(backend, "rebuild").await;
    let stack = Stack::start(&infra, None).await;
    stack.checkout("14", &[("8", 1)], "tok_ok").await;
    stack.checkout("14", &[("9", 1)], "tok_decline").await;
    stack.checkout("15", &[("9", 999)], "tok_ok").await;
    let query = "{ c: ordersByStatus(status: CONFIRMED) { id status user { id } items { quantity } } x: ordersByStatus(status: CANCELLED) { id failureReason } }";
    let answer = stack.data(query, json!({})).await;

    let db = stack.db("orders");
    let live = weft_orders::read_model::all(db).await.unwrap();
    assert_eq!(live.len(), 3);
    // Damage the read model: the rebuild must restore it from the events alone.
    db.execute(
        "UPDATE order_view SET status = 'PENDING', items = '[]'",
        &[],
    )
    .await
    .unwrap();
    assert_ne!(weft_orders::read_model::all(db).await.unwrap(), live);
    assert_eq!(weft_orders::read_model::rebuild(db).await.unwrap(), 3);
    assert_eq!(weft_orders::read_model::all(db).await.unwrap(), live);
    assert_eq!(stack.data(query, json!({})).await, answer);
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

async fn renamed_product_converges_in_reviews(backend: Backend) {
    let infra = Infra::new(backend, "rename").await;
    let stack = Stack::start(&infra, None).await;
    let upc = demo_review(1).product_upc;
    let read = || async {
        stack
            .data(
                "{ review(id: \"1\") { productName product { name } } }",
                json!({}),
            )
            .await["review"]
            .clone()
    };
    // What the gateway's entity cache would listen to.
    let mut changes = infra
        .bus
        .subscribe(
            "test.entity-cache",
            &[weft_subgraph_kit::events::ENTITY_CHANGED],
        )
        .await
        .unwrap();
    let rename = |name: String| {
        let stack = &stack;
        let upc = upc.clone();
        async move {
            let renamed = stack
                .data(
                    "mutation($upc: String!, $name: String!) { renameProduct(upc: $upc, name: $name) { name } }",
                    json!({ "upc": upc, "name": name }),
                )
                .await;
            assert_eq!(renamed["renameProduct"]["name"], json!(name));
        }
    };
    // A RabbitMQ consumer gets what is published once its queue exists (the in-process bus
    // also replays the seed events): rename until reviews is seen listening.
    let mut probe = 0;
    eventually("reviews to follow renames", || {
        probe += 1;
        let name = format!("Probe {probe}");
        let (rename, read) = (&rename, &read);
        async move {
            rename(name).await;
            tokio::time::sleep(Duration::from_millis(400)).await;
            let copy = read().await["productName"].clone();
            copy.as_str()
                .is_some_and(|n| n.starts_with("Probe"))
                .then_some(())
        }
    })
    .await;

    rename("Renamed Lamp".to_owned()).await;
    eventually("reviews' copy to converge", || async {
        let review = read().await;
        (review["productName"] == "Renamed Lamp").then_some(review)
    })
    .await;
    assert_eq!(read().await["product"]["name"], "Renamed Lamp");

    // The rename invalidated the product (products) and the reviews showing its name.
    let (mut product_changed, mut reviews_changed) = (false, false);
    while !(product_changed && reviews_changed) {
        let delivery = tokio::time::timeout(Duration::from_secs(20), changes.recv())
            .await
            .expect("EntityChanged events")
            .expect("subscription open");
        let payload = &delivery.event.payload;
        product_changed |= *payload == json!({ "typename": "Product", "key": { "upc": upc } });
        reviews_changed |= *payload == json!({ "typename": "Review", "key": null });
        delivery.ack().await.unwrap();
    }
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

async fn users_spread_across_shards_are_found_through_the_gateway(backend: Backend) {
    // One batch per request even on a loaded machine, so per-shard query counts are exact.
    weft_subgraph_kit::set_batch_window_ms(100);
    let infra = Infra::new(backend, "shards").await;
    let stack = Stack::start(&infra, None).await;
    let accounts = stack
        .subgraphs
        .iter()
        .find(|s| s.name == "accounts")
        .unwrap();
    assert_eq!(accounts.shards.len(), SHARDS);

    // Every user is stored once, in the shard its id hashes to, and every shard holds some.
    let mut total = 0;
    for (index, shard) in accounts.shards.iter().enumerate() {
        let ids: Vec<String> = shard
            .fetch_all("SELECT id FROM users", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("id").unwrap())
            .collect();
        assert!(!ids.is_empty(), "shard {index} is empty");
        for id in &ids {
            assert_eq!(
                weft_accounts::shards::shard_of(id, SHARDS),
                index,
                "user {id}"
            );
        }
        total += ids.len();
    }
    assert_eq!(total, weft_accounts::USERS);

    // Found by id through the gateway: one `_entities` batch of authors, one query per shard.
    let before: Vec<u64> = accounts.shards.iter().map(Db::query_count).collect();
    let data = stack
        .data(
            "{ topProducts(first: 6) { reviews { author { id name } } } }",
            json!({}),
        )
        .await;
    let mut authors = std::collections::BTreeSet::new();
    for product in data["topProducts"].as_array().unwrap() {
        for review in product["reviews"].as_array().unwrap() {
            let id = review["author"]["id"].as_str().unwrap().to_owned();
            let n: usize = id.parse().unwrap();
            assert_eq!(
                review["author"]["name"],
                json!(weft_accounts::demo_user(n).name)
            );
            authors.insert(id);
        }
    }
    let touched: std::collections::BTreeSet<usize> = authors
        .iter()
        .map(|id| weft_accounts::shards::shard_of(id, SHARDS))
        .collect();
    assert_eq!(
        touched.len(),
        SHARDS,
        "the authors span every shard: {authors:?}"
    );
    let after: Vec<u64> = accounts.shards.iter().map(Db::query_count).collect();
    let queries: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(
        queries,
        vec![1; SHARDS],
        "one query per shard for the batch"
    );

    let all = stack.data("{ users { id } }", json!({})).await;
    let ids: Vec<String> = all["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (1..=weft_accounts::USERS).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

/// Each subgraph's answer says how long it may be cached, from the types and fields it
/// resolved: the shortest `max-age` wins, `no-cache`/`private` win over any.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subgraph_responses_carry_cache_control() {
    let infra = Infra::new(Backend::Local, "cache").await;
    let stack = Stack::start(&infra, None).await;
    stack.checkout("16", &[("1", 1)], "tok_ok").await;
    let url = |name: &str| {
        stack
            .subgraphs
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .url()
    };
    let cache_control = |name: &str, query: &'static str| {
        let url = url(name);
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    let entity = r#"{ _entities(representations: [{ __typename: "Product", upc: "1", price: 100, weight: 10 }]) { ... on Product { shippingEstimate } } }"#;
    let stock = r#"{ _entities(representations: [{ __typename: "Product", upc: "1", price: 100, weight: 10 }]) { ... on Product { shippingEstimate stock } } }"#;
    let cases = [
        ("accounts", r#"{ user(id: "1") { name } }"#, "max-age=300"),
        (
            "products",
            r#"{ product(upc: "1") { name } }"#,
            "max-age=60",
        ),
        (
            "products",
            r#"{ product(upc: "1") { name unitsSold } }"#,
            "no-cache",
        ),
        ("inventory", entity, "max-age=60"),
        ("inventory", stock, "no-cache"),
        (
            "reviews",
            r#"{ review(id: "1") { body productName } }"#,
            "max-age=60",
        ),
        (
            "orders",
            "{ ordersByStatus(status: CONFIRMED) { id } }",
            "no-cache, private",
        ),
        ("products", "{ nope }", "no-cache"),
    ];
    for (name, query, expected) in cases {
        assert_eq!(
            cache_control(name, query).await,
            expected,
            "{name}: {query}"
        );
    }
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

/// The saga may repeat a step whose answer it never saw (a crash, a timeout): inventory's
/// commands, called straight on the subgraph as orders calls them, take effect once.
async fn saga_steps_in_inventory_are_idempotent(backend: Backend) {
    let infra = Infra::new(backend, "idempotent").await;
    let stack = Stack::start(&infra, None).await;
    let before = stack.stock("10").await;
    let inventory = stack.inventory_url();
    let call = |query: &'static str| {
        let url = inventory.clone();
        async move {
            let body: Value = reqwest::Client::new()
                .post(url)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(body.get("errors").is_none(), "{body}");
            body["data"].clone()
        }
    };
    let reserve = r#"mutation { reserveStock(orderId: "o-1", items: [{ upc: "10", quantity: 3 }]) { reserved reason } }"#;
    for _ in 0..2 {
        let answer = call(reserve).await;
        assert_eq!(
            answer["reserveStock"],
            json!({ "reserved": true, "reason": null })
        );
        assert_eq!(stack.stock("10").await, before - 3);
    }
    for _ in 0..2 {
        call(r#"mutation { releaseStock(orderId: "o-1") }"#).await;
        assert_eq!(stack.stock("10").await, before);
    }
    // A late retry of the reservation after its release must not take the stock again.
    call(reserve).await;
    assert_eq!(stack.stock("10").await, before);
    // Releasing an order that reserved nothing is a no-op.
    call(r#"mutation { releaseStock(orderId: "never-reserved") }"#).await;
    assert_eq!(stack.stock("10").await, before);
    // Stopped first: a running consumer would declare its queue again.
    drop(stack);
    infra.cleanup().await;
}

/// The gateway's entity cache hears the services' `EntityChanged` events (RabbitMQ): a product
/// renamed behind the gateway's back (straight at the products subgraph) is evicted when the
/// change commits, long before its one-minute `max-age` runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_cache_drops_what_a_service_changed() {
    let infra = Infra::new(Backend::Servers, "cache_events").await;
    let config = format!(
        "entity_cache:\n  enabled: true\n  events:\n    amqp_url: \"{}\"\n    exchange: \"weft.test.{}\"\n",
        amqp_url(),
        infra.tag
    );
    let stack = Stack::configured(&infra, None, Some(&config)).await;
    let products = stack
        .subgraphs
        .iter()
        .find(|s| s.name == "products")
        .unwrap()
        .url();
    let upc = demo_review(1).product_upc;
    let name_through_gateway = || async {
        stack
            .data("{ review(id: \"1\") { product { name } } }", json!({}))
            .await["review"]["product"]["name"]
            .clone()
    };
    let original = name_through_gateway().await;
    let requests = |s: &Stack| {
        s.subgraphs
            .iter()
            .find(|s| s.name == "products")
            .unwrap()
            .requests
            .count()
    };
    let before = requests(&stack);
    assert_eq!(name_through_gateway().await, original);
    assert_eq!(
        requests(&stack),
        before,
        "the product's name came from the cache"
    );
    // Renamed at the subgraph, not through the gateway: only the event can tell the cache.
    // The gateway's queue may not be bound yet when the first rename commits: rename until a
    // rename is seen.
    let mut n = 0;
    eventually("the gateway to drop the renamed product", || {
        n += 1;
        let name = format!("Renamed {n}");
        let (products, upc, read) = (&products, &upc, &name_through_gateway);
        async move {
            let renamed: Value = reqwest::Client::new()
                .post(products)
                .json(&json!({
                    "query": "mutation($upc: String!, $name: String!) { renameProduct(upc: $upc, name: $name) { name } }",
                    "variables": { "upc": upc, "name": name },
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(renamed["data"]["renameProduct"]["name"], json!(name), "{renamed}");
            tokio::time::sleep(Duration::from_millis(300)).await;
            (read().await == json!(name)).then_some(())
        }
    })
    .await;
    drop(stack);
    infra.cleanup().await;
}
