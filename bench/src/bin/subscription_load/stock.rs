//! The `stock` subgraph: `stockChanged(upc:)` over GraphQL over SSE (a `POST`, distinct
//! connections). Every open stream sends one event per interval: each at its own moment,
//! spread evenly over the interval ([`Pace::Spread`], a steady load), or all at once on one
//! ticker ([`Pace::Burst`], a broadcast). The event carries the stream's tick number as
//! `stock` (so a reader sees gaps) and the moment its bytes were made, in microseconds on
//! [`clock`], as `emittedAt` (so a reader measures the delivery latency through the gateway).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

/// When the streams send their events.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Pace {
    /// Each stream on its own phase, the phases spread evenly over the interval: the gateway
    /// sees a steady flow of N events per interval.
    Spread,
    /// Every stream on the same tick: N events at once, once per interval.
    Burst,
}

impl Pace {
    pub fn name(self) -> &'static str {
        match self {
            Pace::Spread => "spread over the interval",
            Pace::Burst => "all at once (burst)",
        }
    }
}

/// What every stream shares.
#[derive(Clone)]
struct Shared {
    pace: Pace,
    interval: Duration,
    /// The burst ticker's count.
    ticks: watch::Sender<u64>,
    counters: Arc<Counters>,
    /// Streams opened so far: the next one's phase.
    opened: Arc<AtomicU64>,
}

/// The running subgraph.
pub struct Stock {
    pub url: String,
    pub counters: Arc<Counters>,
}

/// Starts the subgraph on an ephemeral port, each stream sending every `interval`.
pub async fn start(interval: Duration, pace: Pace) -> std::io::Result<Stock> {
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
    let shared = Shared {
        pace,
        interval,
        ticks,
        counters: counters.clone(),
        opened: Arc::default(),
    };
    let app = axum::Router::new().route(
        "/graphql",
        post(move |body: Bytes| {
            let shared = shared.clone();
            async move { subscribe(&body, &shared) }
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
fn subscribe(body: &[u8], shared: &Shared) -> Response {
    let counters = shared.counters.clone();
    let Some(upc) = requested_upc(body) else {
        counters.refused.fetch_add(1, Ordering::Relaxed);
        let error =
            r#"{"data":null,"errors":[{"message":"stock serves stockChanged(upc:) only"}]}"#;
        return response("application/json", Body::from(error));
    };
    let clock = match shared.pace {
        Pace::Burst => Clock::Burst(shared.ticks.subscribe()),
        Pace::Spread => {
            // The golden ratio's multiples spread any number of phases evenly.
            let k = shared.opened.fetch_add(1, Ordering::Relaxed);
            let phase = (k as f64 * 0.618_033_988_749_895).fract();
            Clock::Spread {
                first: Instant::now() + shared.interval.mul_f64(phase),
                interval: shared.interval,
            }
        }
    };
    let feed = Feed {
        clock,
        upc: Value::String(upc).to_string(),
        last: None,
        open: Open::new(counters),
    };
    let events = futures::stream::unfold(feed, |mut feed| async move {
        let tick = feed.clock.next(feed.last).await?;
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

/// When a stream's next event is due.
enum Clock {
    Burst(watch::Receiver<u64>),
    /// Tick `n` (from 1) is due at `first + (n - 1) * interval`.
    Spread {
        first: Instant,
        interval: Duration,
    },
}

impl Clock {
    /// Waits for the tick after `last` and gives its number: a later one when the stream
    /// was read too late for it (the gateway had not taken the previous event yet).
    async fn next(&mut self, last: Option<u64>) -> Option<u64> {
        match self {
            Clock::Burst(ticks) => {
                ticks.changed().await.ok()?;
                Some(*ticks.borrow_and_update())
            }
            Clock::Spread { first, interval } => {
                let n = last.map_or(1, |l| l + 1);
                let steps = u32::try_from(n - 1).unwrap_or(u32::MAX);
                let due = *first + interval.saturating_mul(steps);
                tokio::time::sleep_until(due.into()).await;
                let elapsed = first.elapsed().as_nanos();
                let now = 1 + elapsed / interval.as_nanos().max(1);
                Some(u64::try_from(now).unwrap_or(u64::MAX).max(n))
            }
        }
    }
}

/// One stream's state.
struct Feed {
    clock: Clock,
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
