//! The `stock` subgraph: `stockChanged(upc:)` over GraphQL over SSE (a `POST`, distinct
//! connections), every open stream fed by one ticker. Each tick sends one event on every
//! stream; the event carries the tick's number as `stock` (so a reader sees gaps) and the
//! moment its bytes were made, in microseconds on [`clock`], as `emittedAt` (so a reader
//! measures the delivery latency through the gateway).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::post;
use serde_json::Value;
use tokio::sync::watch;

use crate::clock;

pub const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Product @key(fields: "upc") { upc: String! stock: Int emittedAt: Float }
type Query { stockLevel(upc: String!): Int }
type Subscription { stockChanged(upc: String!): Product! }
"#;

/// What the subgraph has done, read by the harness.
#[derive(Default)]
pub struct Counters {
    /// Ticks so far.
    ticks: AtomicU64,
    /// Streams open now.
    open: AtomicUsize,
    /// Events written, over every stream.
    emitted: AtomicU64,
    /// Ticks a stream missed because its reader (the gateway) had not taken the previous
    /// event when the next tick came: counted here, they are drops the gateway caused.
    skipped: AtomicU64,
    /// Requests that were not a subscription this subgraph knows.
    refused: AtomicU64,
}

impl Counters {
    pub fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    pub fn emitted(&self) -> u64 {
        self.emitted.load(Ordering::Relaxed)
    }

    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// The running subgraph.
pub struct Stock {
    pub url: String,
    pub counters: Arc<Counters>,
}

/// Starts the subgraph on an ephemeral port, ticking every `interval`.
pub async fn start(interval: Duration) -> std::io::Result<Stock> {
    let counters = Arc::new(Counters::default());
    let (ticks, _) = watch::channel(0u64);
    let ticker = ticks.clone();
    let counting = counters.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(interval);
        // A late tick is late, not doubled: the load stays one event per stream per tick.
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            ticker.send_modify(|t| *t += 1);
            counting.ticks.fetch_add(1, Ordering::Relaxed);
        }
    });
    let state = (ticks, counters.clone());
    let app = axum::Router::new().route(
        "/graphql",
        post(move |body: Bytes| {
            let (ticks, counters) = state.clone();
            async move { subscribe(&body, &ticks, counters) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Stock {
        url: format!("http://{addr}/graphql"),
        counters,
    })
}

/// Answers one request: a `stockChanged` subscription gets a stream that lives until the
/// gateway closes it; anything else a GraphQL error (nothing in this load asks stock for
/// more than the subscription).
fn subscribe(body: &[u8], ticks: &watch::Sender<u64>, counters: Arc<Counters>) -> Response {
    let Some(upc) = requested_upc(body) else {
        counters.refused.fetch_add(1, Ordering::Relaxed);
        let error =
            r#"{"data":null,"errors":[{"message":"stock serves stockChanged(upc:) only"}]}"#;
        return response("application/json", Body::from(error));
    };
    let feed = Feed {
        ticks: ticks.subscribe(),
        upc: Value::String(upc).to_string(),
        last: None,
        open: Open::new(counters),
    };
    let events = futures::stream::unfold(feed, |mut feed| async move {
        feed.ticks.changed().await.ok()?;
        let tick = *feed.ticks.borrow_and_update();
        let counters = &feed.open.0;
        if let Some(last) = feed.last {
            let missed = tick.saturating_sub(last + 1);
            counters.skipped.fetch_add(missed, Ordering::Relaxed);
        }
        feed.last = Some(tick);
        counters.emitted.fetch_add(1, Ordering::Relaxed);
        // Stamped when the body is polled, that is when the bytes go to the socket: the
        // latency measured is the gateway's, not this process's queue.
        let text = format!(
            "event: next\ndata: {{\"data\":{{\"stockChanged\":{{\"__typename\":\"Product\",\
             \"upc\":{},\"stock\":{tick},\"emittedAt\":{}}}}}}}\n\n",
            feed.upc,
            clock::micros()
        );
        Some((Ok::<_, Infallible>(Bytes::from(text)), feed))
    });
    response("text/event-stream", Body::from_stream(events))
}

fn response(content_type: &str, body: Body) -> Response {
    let mut response = Response::new(body);
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

/// The `upc` of a `stockChanged` subscription: its variable's value, or the argument written
/// inline. `None` for any other request.
fn requested_upc(body: &[u8]) -> Option<String> {
    let request: Value = serde_json::from_slice(body).ok()?;
    let query = request["query"].as_str()?;
    if !query.trim_start().starts_with("subscription") || !query.contains("stockChanged") {
        return None;
    }
    let from_variables = request["variables"]
        .as_object()
        .and_then(|v| v.values().find_map(Value::as_str));
    let inline = || query.split('"').nth(1);
    from_variables.or_else(inline).map(str::to_owned)
}

/// One stream's state.
struct Feed {
    ticks: watch::Receiver<u64>,
    /// The upc as a JSON string.
    upc: String,
    last: Option<u64>,
    open: Open,
}

/// Counts a stream open for as long as it lives (the gateway closing it drops the body).
struct Open(Arc<Counters>);

impl Open {
    fn new(counters: Arc<Counters>) -> Open {
        counters.open.fetch_add(1, Ordering::Relaxed);
        Open(counters)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::requested_upc;

    #[test]
    fn the_upc_comes_from_the_variables_or_the_inline_argument() {
        let with_variable = br#"{"query":"subscription($a: String!) { stockChanged(upc: $a) { __typename upc } }","variables":{"a":"7"}}"#;
        assert_eq!(requested_upc(with_variable).as_deref(), Some("7"));
        let inline = br#"{"query":"subscription { stockChanged(upc: \"3\") { upc } }"}"#;
        assert_eq!(requested_upc(inline).as_deref(), Some("3"));
        let query = br#"{"query":"{ stockLevel(upc: \"3\") }"}"#;
        assert_eq!(requested_upc(query), None);
    }
}
