//! Subscriptions as the server runs them: subscribe on the root field's subgraph, and per
//! event run the rest of the plan and shape the result.
//!
//! The subgraph's stream is read by a task of its own (a pump) into a broadcast channel;
//! each subscriber reads the channel and runs its plan per event. Identical subscriptions
//! (same URL, request and headers: `dedupe.subscriptions`) join one pump, so a thousand
//! clients watching one product cost one subgraph stream. The pump opens a stream cut before
//! the subgraph completed it again, with backoff, and stops when its last subscriber leaves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use tokio::sync::broadcast;
use tracing::Instrument;

use super::{Engine, Execution};
use crate::error::{ErrorCode, GraphQLError};
use crate::exec::{Executor, SubscriptionRequest};
use crate::shape::shape;
use crate::subscription::Source;

/// One event of a subscription, shaped: the client's `data` and the errors met.
pub struct Event {
    pub data: Bytes,
    pub errors: Vec<crate::ResponseError>,
}

/// Times a subscription's stream is opened again in a row before its subscribers are told it
/// ended (pauses of about 0.2, 0.4, 0.8, 1.6 and 3.2 s: some 6 s in all).
const RECONNECTS: u32 = 5;

/// Events a subscriber may fall behind its stream by; past it, it is too slow.
const BEHIND: usize = 64;

/// The streams open to subgraphs, by what makes subscriptions identical.
#[derive(Default)]
pub(super) struct Streams {
    client: OnceLock<reqwest::Client>,
    open: Arc<Mutex<HashMap<StreamKey, Weak<Stream>>>>,
    /// Identical subscriptions share a stream (`dedupe.subscriptions`).
    pub(super) dedupe: bool,
    /// Makes each key unique when streams are not shared.
    next: AtomicU64,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct StreamKey {
    transport: crate::subscription::Transport,
    url: String,
    body: Vec<u8>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// 0 when shared; else a number of its own.
    unique: u64,
}

/// What a pump hands its subscribers.
#[derive(Clone)]
enum Item {
    /// An event: the subgraph's execution result.
    Event(Bytes),
    /// The subgraph completed the subscription.
    Completed,
    /// The stream could not be (re)opened: why.
    Failed(String),
}

/// One subgraph stream and its subscribers' channel; the pump stops when the last
/// subscriber drops it.
struct Stream {
    events: broadcast::Sender<Item>,
    /// The pump said its last word: a new subscriber opens a stream of its own.
    ended: Arc<AtomicBool>,
    pump: tokio::task::JoinHandle<()>,
    key: StreamKey,
    open: Weak<Mutex<HashMap<StreamKey, Weak<Stream>>>>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.pump.abort();
        if let Some(open) = self.open.upgrade() {
            let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
            // Only this stream's entry (a new one may have taken the key since).
            if open.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
                open.remove(&self.key);
            }
        }
    }
}

impl Streams {
    /// The stream for `request` (`subgraph` names it in messages): a running one when
    /// identical subscriptions share streams, else a new pump; with a receiver of its events.
    fn join(
        &self,
        client: reqwest::Client,
        subgraph: &str,
        request: SubscriptionRequest,
    ) -> (Arc<Stream>, broadcast::Receiver<Item>) {
        let key = StreamKey {
            transport: request.transport,
            url: request.url.clone(),
            body: request.body.clone(),
            headers: request.headers.clone(),
            unique: if self.dedupe {
                0
            } else {
                self.next.fetch_add(1, Ordering::Relaxed) + 1
            },
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stream) = open.get(&key).and_then(Weak::upgrade)
            && !stream.ended.load(Ordering::Acquire)
        {
            let events = stream.events.subscribe();
            return (stream, events);
        }
        let (events, first) = broadcast::channel(BEHIND);
        let ended = Arc::new(AtomicBool::new(false));
        let pump = tokio::spawn(pump(
            client,
            subgraph.to_owned(),
            request,
            events.clone(),
            ended.clone(),
        ));
        let stream = Arc::new(Stream {
            events,
            ended,
            pump,
            key: key.clone(),
            open: Arc::downgrade(&self.open),
        });
        open.insert(key, Arc::downgrade(&stream));
        (stream, first)
    }
}

/// Reads the subgraph's stream into `events` until the subgraph completes it or it cannot be
/// opened again.
async fn pump(
    client: reqwest::Client,
    subgraph: String,
    request: SubscriptionRequest,
    events: broadcast::Sender<Item>,
    ended: Arc<AtomicBool>,
) {
    let last = |item: Item| {
        ended.store(true, Ordering::Release);
        let _ = events.send(item);
    };
    // A stream cut before the subgraph completed it is opened again, after a pause that
    // doubles (with jitter) up to a few seconds; the attempts start over once an event
    // comes through.
    let mut attempt: u32 = 0;
    loop {
        let opened = Source::open(
            &client,
            request.transport,
            &request.url,
            request.body.clone(),
            &request.headers,
            request.max_event_bytes,
        )
        .await;
        let why = match opened {
            Ok(mut source) => {
                let mut broke = None;
                while let Some(event) = source.next().await {
                    match event {
                        Ok(event) => {
                            attempt = 0;
                            // No subscriber left: nothing more to read for.
                            if events.send(Item::Event(event)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            broke = Some(format!("broke: {e}"));
                            break;
                        }
                    }
                }
                if broke.is_none() && source.completed() {
                    return last(Item::Completed);
                }
                broke.unwrap_or_else(|| "was closed before it completed".to_owned())
            }
            Err(e) => format!("could not be opened: {e}"),
        };
        attempt += 1;
        if attempt > RECONNECTS {
            return last(Item::Failed(format!(
                "the subscription on subgraph `{subgraph}` {why} ({RECONNECTS} attempts to \
                 reconnect failed)"
            )));
        }
        tracing::warn!(%subgraph, attempt, "subscription stream {why}; reconnecting");
        let pause = crate::traffic::backoff(
            std::time::Duration::from_millis(200),
            attempt,
            crate::traffic::random_unit(),
        );
        tokio::time::sleep(pause).await;
    }
}

impl Engine {
    /// The engine with identical subscriptions sharing one subgraph stream, or not
    /// (`dedupe.subscriptions`).
    pub fn with_subscription_dedupe(mut self, on: bool) -> Engine {
        self.streams.dedupe = on;
        self
    }

    /// Subscribes on the subgraph of `run`'s plan (a [`PlanNode::Subscription`]) and, for
    /// each event it sends, runs the rest of the plan and hands the shaped result to `send`,
    /// in order. Returns when the subgraph completes the subscription (`Ok`), when it cannot be
    /// reached or its stream breaks for good (the error to end with), when this subscriber
    /// fell [`BEHIND`] events behind its stream, or when `send` says the client is gone
    /// (`false`).
    ///
    /// [`PlanNode::Subscription`]: weft_federation::plan::model::PlanNode::Subscription
    pub async fn subscribe(
        &self,
        run: Execution<'_>,
        send: &mut (dyn FnMut(Event) -> bool + Send),
    ) -> Result<(), GraphQLError> {
        let Execution {
            plan,
            operation,
            variables,
            api,
            headers,
            forwarded,
            max_bytes,
        } = run;
        let failed = |why: String| GraphQLError::new(ErrorCode::SubrequestHttpError, why);
        let Some(primary) = Executor::subscription_fetch(plan) else {
            return Err(GraphQLError::new(
                ErrorCode::InternalServerError,
                "not a subscription's plan",
            ));
        };
        let Some(request) = self
            .executor
            .subscription_request(primary, variables, headers, forwarded)
        else {
            return Err(failed(format!(
                "no URL is configured for subgraph `{}`",
                primary.subgraph
            )));
        };
        let client = match self.streams.client.get() {
            Some(c) => c.clone(),
            None => {
                let made = crate::subscription::client()
                    .map_err(|e| failed(format!("the subscription client: {e}")))?;
                self.streams.client.get_or_init(|| made).clone()
            }
        };
        // Held while this subscriber reads: the last one out stops the pump.
        let (_stream, mut events) = self.streams.join(client, &primary.subgraph, request);
        loop {
            let event = match events.recv().await {
                Ok(Item::Event(event)) => event,
                Ok(Item::Completed) => return Ok(()),
                Ok(Item::Failed(why)) => return Err(failed(why)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Err(GraphQLError::new(
                        ErrorCode::SubscriptionClientTooSlow,
                        format!(
                            "This subscription fell {missed} events behind its stream (more \
                             than {BEHIND}): it is closed."
                        ),
                    ));
                }
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(failed("the subscription's stream stopped".to_owned()));
                }
            };
            let output = self
                .executor
                .execute_event(plan, event, variables, headers, forwarded)
                .instrument(tracing::info_span!(
                    "graphql.subscription.event",
                    graphql.operation.name = operation.name.as_deref().unwrap_or(""),
                ))
                .await;
            let mut errors = output.errors;
            let mut data = shape(
                operation,
                &output.data,
                variables,
                api,
                &mut errors,
                max_bytes,
            );
            // Written past the cap, the data is cut (not JSON): the event says so.
            if let Some(max) = max_bytes.filter(|m| data.len() > *m) {
                data = b"null".to_vec();
                errors.push(
                    GraphQLError::new(
                        ErrorCode::ResponseTooLarge,
                        format!(
                            "The event's data is over {max} bytes (`server.max_response_bytes`)."
                        ),
                    )
                    .into(),
                );
            }
            if !send(Event {
                data: Bytes::from(data),
                errors,
            }) {
                return Ok(());
            }
        }
    }
}
