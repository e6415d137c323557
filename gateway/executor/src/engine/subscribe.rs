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
use crate::subscription::broker::EventSource;

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

/// Where a stream's events come from.
enum Feed {
    /// The subgraph's own stream (`subgraph` names it in messages).
    Subgraph {
        client: reqwest::Client,
        subgraph: String,
        request: SubscriptionRequest,
    },
    /// A broker (`subscription_sources`), its messages kept when they match `filter` (the
    /// subscription's argument values), each event a representation.
    Broker {
        source: EventSource,
        filter: serde_json::Map<String, serde_json::Value>,
    },
}

impl Feed {
    fn key(&self) -> StreamKey {
        match self {
            // Trace context differs per client request and changes no event: left out, or
            // no two subscriptions would ever share a stream.
            Feed::Subgraph { request, .. } => StreamKey {
                transport: request.transport,
                url: request.url.clone(),
                body: request.body.clone(),
                headers: request
                    .headers
                    .iter()
                    .filter(|(n, _)| n != "traceparent" && n != "tracestate")
                    .cloned()
                    .collect(),
                unique: 0,
            },
            Feed::Broker { source, filter } => StreamKey {
                transport: crate::subscription::Transport::Sse,
                url: source.broker.describe(),
                body: format!(
                    "{} {}",
                    source.field,
                    serde_json::Value::Object(filter.clone())
                )
                .into_bytes(),
                headers: Vec::new(),
                unique: 0,
            },
        }
    }
}

impl Streams {
    /// The stream `feed` gives: a running one when identical subscriptions share streams,
    /// else a new pump; with a receiver of its events.
    fn join(&self, feed: Feed) -> (Arc<Stream>, broadcast::Receiver<Item>) {
        let mut key = feed.key();
        if !self.dedupe {
            key.unique = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let running = open.get(&key).and_then(Weak::upgrade);
        if let Some(stream) = running {
            if !stream.ended.load(Ordering::Acquire) && !stream.pump.is_finished() {
                let events = stream.events.subscribe();
                return (stream, events);
            }
            // An ended stream may be the last reference now: dropped (its `Drop` locks the
            // map) once the lock is released.
            drop(open);
            drop(stream);
            open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        }
        let (events, first) = broadcast::channel(BEHIND);
        let ended = Arc::new(AtomicBool::new(false));
        let pump = match feed {
            Feed::Subgraph {
                client,
                subgraph,
                request,
            } => tokio::spawn(pump(
                client,
                subgraph,
                request,
                events.clone(),
                ended.clone(),
            )),
            Feed::Broker { source, filter } => {
                tokio::spawn(consume(source, filter, events.clone(), ended.clone()))
            }
        };
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
                                ended.store(true, Ordering::Release);
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

/// Reads a broker's matching messages into `events` (as representations), reconnecting with
/// backoff when the connection breaks, until no subscriber is left or the broker cannot be
/// reached again.
async fn consume(
    source: EventSource,
    filter: serde_json::Map<String, serde_json::Value>,
    events: broadcast::Sender<Item>,
    ended: Arc<AtomicBool>,
) {
    let mut attempt: u32 = 0;
    loop {
        let mut delivered = false;
        let mut deliver = |representation: serde_json::Value| {
            delivered = true;
            events
                .send(Item::Event(Bytes::from(representation.to_string())))
                .is_ok()
        };
        let why = match source.consume(&filter, &mut deliver).await {
            Ok(()) => {
                // No subscriber left.
                ended.store(true, Ordering::Release);
                return;
            }
            Err(why) => why,
        };
        if delivered {
            attempt = 0;
        }
        attempt += 1;
        if attempt > RECONNECTS {
            ended.store(true, Ordering::Release);
            let _ = events.send(Item::Failed(format!(
                "the source of `{}` failed: {why} ({RECONNECTS} attempts to reconnect failed)",
                source.field
            )));
            return;
        }
        tracing::warn!(field = %source.field, attempt, "subscription source: {why}; reconnecting");
        let pause = crate::traffic::backoff(
            std::time::Duration::from_millis(200),
            attempt,
            crate::traffic::random_unit(),
        );
        tokio::time::sleep(pause).await;
    }
}

impl Engine {
    /// The engine with `sources` feeding their `Subscription` fields instead of the
    /// subgraphs (`subscription_sources`).
    pub fn with_event_sources(mut self, sources: Vec<EventSource>) -> Engine {
        self.sources = sources;
        self
    }

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
        // A field fed by a broker: each event is a representation, whose fields come from
        // the subgraphs.
        let root = operation.selection_set.items.iter().find_map(|s| match s {
            weft_federation::operation::Selection::Field(f) if !f.name.starts_with("__") => Some(f),
            _ => None,
        });
        let brokered = root.and_then(|f| self.sources.iter().find(|s| s.field == f.name));
        let (feed, fetches) = match (brokered, root) {
            (Some(source), Some(root)) => {
                let fetches = crate::subscription::broker::entity_fetch(primary, source)
                    .map_err(|e| GraphQLError::new(ErrorCode::InternalServerError, e))?;
                let filter = argument_values(&root.arguments, variables);
                let feed = Feed::Broker {
                    source: source.clone(),
                    filter,
                };
                (feed, Some(fetches))
            }
            _ => (
                Feed::Subgraph {
                    client,
                    subgraph: primary.subgraph.clone(),
                    request,
                },
                None,
            ),
        };
        // Held while this subscriber reads: the last one out stops the pump.
        let (_stream, mut events) = self.streams.join(feed);
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
            let span = tracing::info_span!(
                "graphql.subscription.event",
                graphql.operation.name = operation.name.as_deref().unwrap_or(""),
            );
            let output = match &fetches {
                Some(fetches) => {
                    self.executor
                        .execute_message(plan, fetches, event, variables, headers, forwarded)
                        .instrument(span)
                        .await
                }
                None => {
                    self.executor
                        .execute_event(plan, event, variables, headers, forwarded)
                        .instrument(span)
                        .await
                }
            };
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

/// The root field's arguments as JSON, variables replaced by their values.
fn argument_values(
    arguments: &[(String, apollo_compiler::Node<apollo_compiler::ast::Value>)],
    variables: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    fn json(
        v: &apollo_compiler::ast::Value,
        variables: &serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Value {
        use apollo_compiler::ast::Value as V;
        use serde_json::Value as J;
        match v {
            V::Null => J::Null,
            V::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(J::Null),
            V::Enum(e) => J::String(e.to_string()),
            V::String(s) => J::String(s.clone()),
            V::Boolean(b) => J::Bool(*b),
            V::Int(i) => serde_json::from_str(i.as_str()).unwrap_or(J::Null),
            V::Float(f) => serde_json::from_str(f.as_str()).unwrap_or(J::Null),
            V::List(items) => J::Array(items.iter().map(|i| json(i, variables)).collect()),
            V::Object(fields) => J::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), json(v, variables)))
                    .collect(),
            ),
        }
    }
    arguments
        .iter()
        .map(|(name, value)| (name.clone(), json(value, variables)))
        .collect()
}
