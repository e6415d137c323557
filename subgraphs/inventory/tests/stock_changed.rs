#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! `Subscription.stockChanged(upc:)` over SSE, against the real inventory subgraph: a
//! reservation or release of the watched product (made as the checkout saga makes it, through
//! `reserveStock`/`releaseStock` over HTTP) gives one event with the level it left; other
//! products give none; an idle stream sends heartbeats; stopping the subgraph ends the stream.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_inventory::Inventory;
use weft_inventory::data::demo_stock;
use weft_subgraph_kit::sse::{Frame, take_frame};
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Running, spawn};

/// Heartbeats in this test binary: short, so a test can wait for one (see [`Events::open`]).
const HEARTBEAT: Duration = Duration::from_millis(100);

async fn start() -> Running {
    weft_subgraph_kit::sse::set_heartbeat(HEARTBEAT);
    let db = open::<Inventory>(None).await.unwrap();
    spawn::<Inventory>(TcpListener::bind("127.0.0.1:0").await.unwrap(), db).unwrap()
}

/// An open SSE response, read frame by frame.
struct Events {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Events {
    /// Subscribes with `query`, and waits for the first heartbeat: the stream is polled before a
    /// heartbeat is sent, so by then the subscription listens, and a change made afterwards is
    /// one it must report.
    async fn open(url: &str, query: &str, variables: Value) -> Events {
        let response = reqwest::Client::new()
            .post(url)
            .header("accept", "text/event-stream")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut events = Events {
            response,
            buffer: Vec::new(),
        };
        assert_eq!(events.frame().await, Some(Frame::Heartbeat));
        events
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

    /// The next result, heartbeats skipped.
    async fn next(&mut self) -> Value {
        loop {
            match self.frame().await {
                Some(Frame::Heartbeat) => continue,
                Some(Frame::Next(result)) => return result,
                other => panic!("expected a next event, got {other:?}"),
            }
        }
    }
}

const WATCH: &str =
    "subscription($upc: ID!) { stockChanged(upc: $upc) { __typename upc stock inStock } }";

/// Calls a mutation of the checkout saga on inventory, as orders does.
async fn saga_call(url: &str, query: &str, variables: Value) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"].clone()
}

async fn reserve(url: &str, order: &str, items: Value) -> Value {
    saga_call(
        url,
        "mutation($id: ID!, $items: [StockItemInput!]!) { reserveStock(orderId: $id, items: $items) { reserved reason } }",
        json!({ "id": order, "items": items }),
    )
    .await["reserveStock"]
        .clone()
}

/// What `_entities` answers for product `upc`'s stock: inventory's own resolution.
async fn entity_stock(url: &str, upc: &str) -> Value {
    saga_call(
        url,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { stock inStock } } }",
        json!({ "r": [{ "__typename": "Product", "upc": upc }] }),
    )
    .await["_entities"][0]
        .clone()
}

#[tokio::test]
async fn a_reservation_of_the_product_is_an_event_and_of_another_is_none() {
    let sg = start().await;
    let url = sg.url();
    let start_level = demo_stock(2);
    let mut watch = Events::open(&url, WATCH, json!({ "upc": "2" })).await;

    // Another product first: were it reported, its event would come first (notices keep commit
    // order).
    let other = reserve(&url, "o-other", json!([{ "upc": "3", "quantity": 1 }])).await;
    assert_eq!(other["reserved"], true, "{other}");
    let mine = reserve(
        &url,
        "o-mine",
        json!([{ "upc": "2", "quantity": 2 }, { "upc": "5", "quantity": 1 }]),
    )
    .await;
    assert_eq!(mine["reserved"], true, "{mine}");

    let event = watch.next().await;
    let expected = json!({ "data": { "stockChanged": {
        "__typename": "Product", "upc": "2", "stock": start_level - 2, "inStock": true
    } } });
    assert_eq!(event, expected);
    assert_eq!(
        event["data"]["stockChanged"]["stock"],
        entity_stock(&url, "2").await["stock"],
        "the event's stock is what inventory resolves"
    );

    // The saga's compensation puts the units back: one more event, at the start level.
    let released = saga_call(
        &url,
        "mutation($id: ID!) { releaseStock(orderId: $id) }",
        json!({ "id": "o-mine" }),
    )
    .await;
    assert_eq!(released["releaseStock"], true);
    assert_eq!(
        watch.next().await["data"]["stockChanged"]["stock"],
        start_level
    );

    // A refused reservation (more than in stock) changes nothing and tells nothing; the next
    // real change is the next event.
    let refused = reserve(&url, "o-big", json!([{ "upc": "2", "quantity": 1000 }])).await;
    assert_eq!(refused["reserved"], false, "{refused}");
    reserve(&url, "o-one", json!([{ "upc": "2", "quantity": 1 }])).await;
    assert_eq!(
        watch.next().await["data"]["stockChanged"]["stock"],
        start_level - 1
    );
}

#[tokio::test]
async fn a_product_listed_twice_in_one_reservation_is_one_event_at_its_final_level() {
    let sg = start().await;
    let url = sg.url();
    let mut watch = Events::open(&url, WATCH, json!({ "upc": "6" })).await;
    reserve(
        &url,
        "o-twice",
        json!([{ "upc": "6", "quantity": 1 }, { "upc": "6", "quantity": 2 }]),
    )
    .await;
    reserve(&url, "o-after", json!([{ "upc": "6", "quantity": 1 }])).await;
    assert_eq!(
        watch.next().await["data"]["stockChanged"]["stock"],
        demo_stock(6) - 3
    );
    assert_eq!(
        watch.next().await["data"]["stockChanged"]["stock"],
        demo_stock(6) - 4
    );
}

#[tokio::test]
async fn an_untracked_product_is_an_error_and_the_stream_completes() {
    let sg = start().await;
    let response = reqwest::Client::new()
        .post(sg.url())
        .header("accept", "text/event-stream")
        .json(&json!({ "query": WATCH, "variables": { "upc": "999" } }))
        .send()
        .await
        .unwrap();
    let mut events = Events {
        response,
        buffer: Vec::new(),
    };
    let result = events.next().await;
    assert!(
        result["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not track product 999")),
        "{result}"
    );
    assert_eq!(events.frame().await, Some(Frame::Complete));
    assert_eq!(events.frame().await, None);
}

#[tokio::test]
async fn an_idle_stream_sends_heartbeats() {
    let sg = start().await;
    let mut watch = Events::open(&sg.url(), WATCH, json!({ "upc": "1" })).await;
    // `open` saw one already; nothing changes, so heartbeats are all that comes.
    for _ in 0..3 {
        assert_eq!(watch.frame().await, Some(Frame::Heartbeat));
    }
}

#[tokio::test]
async fn stopping_the_subgraph_ends_an_open_stream_without_complete() {
    let sg = start().await;
    let mut watch = Events::open(&sg.url(), WATCH, json!({ "upc": "1" })).await;
    tokio::time::timeout(Duration::from_secs(10), sg.stop())
        .await
        .expect("graceful shutdown does not wait on the subscription");
    // Cut, not finished: no `complete` (heartbeats sent before the stop may still be read).
    loop {
        match watch.frame().await {
            Some(Frame::Heartbeat) => continue,
            None => break,
            Some(other) => panic!("expected the stream to end, got {other:?}"),
        }
    }
}
