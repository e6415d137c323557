#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! `Subscription.orderStatusChanged(id:)` over SSE, against the real orders subgraph (and a
//! real inventory for its saga): the statuses an order had are replayed, a new one is delivered
//! live (whether this process or another one appended it), and the stream completes once the
//! order is settled.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_inventory::Inventory;
use weft_orders::inventory::Inventory as InventoryClient;
use weft_orders::{Orders, Saga};
use weft_subgraph_kit::sse::{Frame, take_frame};
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Bus, Db, Env, Running, spawn, spawn_env};

/// Orders on `database` (in memory when `None`), its saga calling `inventory` when given.
async fn start_orders(database: Option<&str>, inventory: Option<&Running>) -> Running {
    let db = open::<Orders>(database).await.unwrap();
    let peers: BTreeMap<String, String> = inventory
        .map(|i| ("inventory".to_owned(), i.url()))
        .into_iter()
        .collect();
    let env = Env {
        db,
        bus: Bus::in_process(),
        peers,
        shards: Vec::new(),
        slow_field: None,
    };
    spawn_env::<Orders>(TcpListener::bind("127.0.0.1:0").await.unwrap(), env, false).unwrap()
}

async fn start_inventory() -> Running {
    let db = open::<Inventory>(None).await.unwrap();
    spawn::<Inventory>(TcpListener::bind("127.0.0.1:0").await.unwrap(), db).unwrap()
}

/// Places an order through `checkout`; its id and status as checkout answered.
async fn checkout(orders: &Running, token: &str) -> (String, String) {
    let answer: Value = reqwest::Client::new()
        .post(orders.url())
        .json(&json!({
            "query": "mutation($input: CheckoutInput!) { checkout(input: $input) { id status } }",
            "variables": { "input": {
                "userId": "1",
                "items": [{ "upc": "2", "quantity": 1 }],
                "paymentToken": token
            } }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order = &answer["data"]["checkout"];
    assert!(order["id"].is_string(), "{answer}");
    (
        order["id"].as_str().unwrap().to_owned(),
        order["status"].as_str().unwrap().to_owned(),
    )
}

const WATCH: &str = "subscription($id: ID!) { orderStatusChanged(id: $id) { id status failureReason items { product { upc } quantity } } }";

/// An open SSE response, read frame by frame.
struct Events {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Events {
    async fn open(url: &str, id: &str) -> Events {
        let response = reqwest::Client::new()
            .post(url)
            .header("accept", "text/event-stream")
            .json(&json!({ "query": WATCH, "variables": { "id": id } }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next frame; `None` when the body ended.
    async fn frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = take_frame(&mut self.buffer) {
                return Some(frame.unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("a frame within 10 s")
                .unwrap();
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => {
                    assert!(self.buffer.is_empty(), "a partial frame: {:?}", self.buffer);
                    return None;
                }
            }
        }
    }

    /// The next result's `orderStatusChanged`, heartbeats skipped.
    async fn next(&mut self) -> Value {
        loop {
            match self.frame().await {
                Some(Frame::Heartbeat) => continue,
                Some(Frame::Next(result)) => {
                    assert!(result.get("errors").is_none(), "{result}");
                    return result["data"]["orderStatusChanged"].clone();
                }
                other => panic!("expected a next event, got {other:?}"),
            }
        }
    }

    /// The stream completes and the body ends.
    async fn completes(&mut self) {
        assert_eq!(self.frame().await, Some(Frame::Complete));
        assert_eq!(self.frame().await, None);
    }
}

fn order(id: &str, status: &str, reason: Option<&str>) -> Value {
    json!({
        "id": id,
        "status": status,
        "failureReason": reason,
        "items": [{ "product": { "upc": "2" }, "quantity": 1 }]
    })
}

/// A saga over `db` calling `inventory`: what orders' recovery pass runs.
fn saga(db: Db, inventory: &Running) -> Saga {
    Saga {
        db,
        inventory: InventoryClient::new(Some(inventory.url())),
        crash_after: None,
    }
}

const UNREACHED: &str =
    "stock could not be reserved: no inventory service configured (peer `inventory`)";

#[tokio::test]
async fn a_settled_order_replays_its_statuses_then_completes() {
    let inventory = start_inventory().await;
    let orders = start_orders(None, Some(&inventory)).await;
    let (confirmed, status) = checkout(&orders, "tok_ok").await;
    assert_eq!(status, "CONFIRMED");
    let mut watch = Events::open(&orders.url(), &confirmed).await;
    assert_eq!(watch.next().await, order(&confirmed, "PENDING", None));
    assert_eq!(watch.next().await, order(&confirmed, "CONFIRMED", None));
    watch.completes().await;

    let (declined, status) = checkout(&orders, "tok_decline").await;
    assert_eq!(status, "CANCELLED");
    let mut watch = Events::open(&orders.url(), &declined).await;
    assert_eq!(watch.next().await, order(&declined, "PENDING", None));
    assert_eq!(
        watch.next().await,
        order(&declined, "CANCELLED", Some("payment declined"))
    );
    watch.completes().await;
}

#[tokio::test]
async fn a_pending_order_replays_then_delivers_the_saga_s_next_status() {
    // Without inventory the saga fails the order and cannot release: it stays pending.
    let orders = start_orders(None, None).await;
    let (id, status) = checkout(&orders, "tok_ok").await;
    assert_eq!(status, "PENDING");
    let mut watch = Events::open(&orders.url(), &id).await;
    assert_eq!(watch.next().await, order(&id, "PENDING", None));

    // Inventory is back: the saga compensates and cancels, in this process.
    let inventory = start_inventory().await;
    let settled = saga(orders.db.clone(), &inventory)
        .drive(&id)
        .await
        .unwrap();
    assert!(settled.is_settled());
    assert_eq!(watch.next().await, order(&id, "CANCELLED", Some(UNREACHED)));
    watch.completes().await;
}

#[tokio::test]
async fn an_append_by_another_process_is_seen_too() {
    let dir = std::env::temp_dir().join(format!("weft-orders-sub-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("orders.db");
    let _ = std::fs::remove_file(&file);
    let database = file.display().to_string();
    let orders = start_orders(Some(&database), None).await;
    let (id, _) = checkout(&orders, "tok_ok").await;
    let mut watch = Events::open(&orders.url(), &id).await;
    assert_eq!(watch.next().await, order(&id, "PENDING", None));

    // Another handle on the same file, as another process would have: its commits send no
    // notice this subgraph hears, so the watcher finds them by looking at the store.
    let other = open::<Orders>(Some(&database)).await.unwrap();
    let inventory = start_inventory().await;
    saga(other.clone(), &inventory).drive(&id).await.unwrap();
    assert_eq!(watch.next().await, order(&id, "CANCELLED", Some(UNREACHED)));
    watch.completes().await;
    other.close().await;
    drop(orders);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unknown_order_is_an_error_and_the_stream_completes() {
    let orders = start_orders(None, None).await;
    let mut watch = Events::open(&orders.url(), "no-such-order").await;
    match watch.frame().await {
        Some(Frame::Next(result)) => assert_eq!(
            result["errors"][0]["message"], "no order no-such-order",
            "{result}"
        ),
        other => panic!("expected an error result, got {other:?}"),
    }
    watch.completes().await;
}
