//! Subscriptions over HTTP (docs/subscriptions.md): a `subscription` operation, for a client
//! that accepts a stream, runs in a task of its own that subscribes on the root field's
//! subgraph and, per event, runs the rest of the plan; its payloads go out as server-sent
//! events (the GraphQL over SSE spec, distinct connections mode) or as the parts of a
//! `multipart/mixed;subscriptionSpec="1.0"` body (Apollo's multipart subscriptions), with
//! heartbeats while nothing happens. Dropping the payloads (the client left) aborts the task
//! and with it the subgraph's stream.
//!
//! Payloads are bounded: each client has a queue of [`BUFFERED`] payloads, and a client that
//! lets it fill (reads more slowly than events come) has its subscription closed with an
//! error, `SUBSCRIPTION_CLIENT_TOO_SLOW`, rather than growing the gateway's memory.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use futures::Stream;
use futures::channel::mpsc;
use serde_json::{Map, Value};
use weft_executor::{ErrorCode, Event, Forwarded, GraphQLError, ResponseError};

use crate::runtime::{Prepared, Restricted, SchemaRuntime};

/// How the payloads are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `text/event-stream`: `event: next` per result, `event: complete` at the end.
    Sse,
    /// `multipart/mixed;subscriptionSpec="1.0"`: `{"payload": result}` per part.
    Multipart,
    /// Each result as it is (`{"data": …, "errors": …}`), for a transport that frames them
    /// itself (WebSocket), which also keeps the connection alive itself.
    Raw,
}

impl Format {
    /// What an idle stream sends so that clients and proxies know it is alive.
    pub fn heartbeat(self) -> Bytes {
        match self {
            Format::Sse => Bytes::from_static(b":\n\n"),
            Format::Multipart => Bytes::from_static(b"{}"),
            Format::Raw => Bytes::new(),
        }
    }

    /// How often: Apollo's multipart clients expect one every 5 s; SSE clients only need
    /// proxies kept from closing an idle connection.
    pub fn heartbeat_every(self) -> Duration {
        match self {
            Format::Sse => Duration::from_secs(12),
            Format::Multipart => Duration::from_secs(5),
            // Never: a day, reset at each event.
            Format::Raw => Duration::from_secs(86_400),
        }
    }

    /// A result (`{"data": …, "errors": …}`) as this format's payload.
    fn next(self, result: &[u8]) -> Bytes {
        match self {
            Format::Sse => {
                let mut out = Vec::with_capacity(result.len() + 20);
                out.extend_from_slice(b"event: next\ndata: ");
                out.extend_from_slice(result);
                out.extend_from_slice(b"\n\n");
                Bytes::from(out)
            }
            Format::Multipart => {
                let mut out = Vec::with_capacity(result.len() + 12);
                out.extend_from_slice(b"{\"payload\":");
                out.extend_from_slice(result);
                out.push(b'}');
                Bytes::from(out)
            }
            Format::Raw => Bytes::copy_from_slice(result),
        }
    }

    /// The subscription ended with `error` (the subgraph unreachable, its stream broken).
    fn failed(self, error: GraphQLError) -> Bytes {
        let errors = vec![ResponseError::from(error)];
        let errors = serde_json::to_vec(&errors).unwrap_or_else(|_| b"[]".to_vec());
        match self {
            Format::Sse | Format::Raw => {
                let mut result = b"{\"errors\":".to_vec();
                result.extend_from_slice(&errors);
                result.push(b'}');
                self.next(&result)
            }
            // Apollo's transport-level error: no payload, errors beside it.
            Format::Multipart => {
                let mut out = b"{\"payload\":null,\"errors\":".to_vec();
                out.extend_from_slice(&errors);
                out.push(b'}');
                Bytes::from(out)
            }
        }
    }

    /// What ends the stream, if anything is written (multipart's close delimiter is the
    /// writer's).
    fn complete(self) -> Option<Bytes> {
        match self {
            Format::Sse => Some(Bytes::from_static(b"event: complete\ndata:\n\n")),
            Format::Multipart | Format::Raw => None,
        }
    }
}

/// The payloads of one subscription, as its events come, with heartbeats between.
pub struct Payloads {
    payloads: mpsc::Receiver<Bytes>,
    /// The subscription's task: aborted when the payloads are dropped.
    task: tokio::task::JoinHandle<()>,
    pub format: Format,
    beat: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for Payloads {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let every = self.format.heartbeat_every();
        match Pin::new(&mut self.payloads).poll_next(cx) {
            Poll::Ready(item) => {
                let next = tokio::time::Instant::now() + every;
                self.beat.as_mut().reset(next);
                Poll::Ready(item)
            }
            Poll::Pending => match self.beat.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let next = tokio::time::Instant::now() + every;
                    self.beat.as_mut().reset(next);
                    Poll::Ready(Some(self.format.heartbeat()))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl Drop for Payloads {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The subscriptions the process serves: how many (against `limits.max_subscriptions`, and
/// for the metrics), and the signal that ends them all (a reload, shutdown). One for the
/// process, kept across reloads.
#[derive(Debug)]
pub struct Registry {
    active: std::sync::atomic::AtomicU64,
    ending: tokio::sync::watch::Sender<Option<Ending>>,
    /// How many times every subscription was ended: a runtime built for an earlier
    /// generation starts none (a request planned on it while a reload swapped it out).
    generation: std::sync::atomic::AtomicU64,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            active: Default::default(),
            ending: tokio::sync::watch::Sender::new(None),
            generation: Default::default(),
        }
    }
}

/// Why every subscription is ended at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// A new supergraph or configuration is served: subscriptions run on the old one. Clients
    /// subscribe again (over a socket, on the same socket).
    Reload,
    /// The gateway is stopping.
    Shutdown,
}

impl Ending {
    pub fn error(self) -> GraphQLError {
        match self {
            Ending::Reload => GraphQLError::new(
                ErrorCode::SubscriptionSchemaReload,
                "The gateway now serves a new supergraph or configuration: subscribe again.",
            ),
            Ending::Shutdown => GraphQLError::new(
                ErrorCode::SubscriptionServerShutdown,
                "The gateway is shutting down: subscribe again (to another replica).",
            ),
        }
    }
}

/// Waits until `ending` says why subscriptions end (never, if no one will say).
pub async fn ended(ending: &mut tokio::sync::watch::Receiver<Option<Ending>>) -> Ending {
    loop {
        if ending.changed().await.is_err() {
            return std::future::pending().await;
        }
        if let Some(why) = *ending.borrow_and_update() {
            return why;
        }
    }
}

/// A subscription's place in the [`Registry`], given up when dropped.
pub struct Slot {
    registry: Arc<Registry>,
    metrics: Arc<crate::observability::metrics::Metrics>,
}

impl Registry {
    /// A place for one more subscription, unless `max` are served already.
    pub fn admit(
        self: &Arc<Self>,
        max: Option<std::num::NonZeroU32>,
        metrics: &Arc<crate::observability::metrics::Metrics>,
    ) -> Option<Slot> {
        use std::sync::atomic::Ordering;
        let limit = max.map_or(u64::MAX, |m| u64::from(m.get()));
        self.active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()?;
        metrics.set_subscriptions_active(self.active());
        Some(Slot {
            registry: self.clone(),
            metrics: metrics.clone(),
        })
    }

    pub fn active(&self) -> u64 {
        self.active.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Ends every subscription running now, each with `why`'s error, and any about to start
    /// on a runtime of the generation before.
    pub fn end_all(&self, why: Ending) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.ending.send_replace(Some(why));
    }

    /// The current generation (see [`Registry::end_all`]).
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// What running subscriptions listen to, to be ended.
    pub fn ending(&self) -> tokio::sync::watch::Receiver<Option<Ending>> {
        self.ending.subscribe()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry
            .active
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        self.metrics
            .set_subscriptions_active(self.registry.active());
    }
}

/// What a subscription needs, owned: it outlives the request's handler.
pub struct Start {
    pub rt: Arc<SchemaRuntime>,
    pub prepared: Arc<Prepared>,
    /// The plan without the fields this request may not see, if any were removed.
    pub restricted: Option<Arc<Restricted>>,
    pub variables: Map<String, Value>,
    pub headers: HeaderMap,
    pub forwarded: Forwarded,
    /// The request's own errors (fields it may not see): with every event.
    pub errors: Vec<ResponseError>,
    pub format: Format,
    /// Its place among the process's subscriptions, held while it runs.
    pub slot: Slot,
    /// When the token it was authorized with expires: it ends then.
    pub expires: Option<std::time::SystemTime>,
}

/// Payloads written that the client has not read yet: past these, the client is too slow.
const BUFFERED: usize = 32;

/// Starts the subscription on the current runtime; its payloads come out of the result.
pub fn start(start: Start) -> Payloads {
    let (mut tx, rx) = mpsc::channel::<Bytes>(BUFFERED - 1);
    let format = start.format;
    let task = tokio::spawn(async move {
        let Start {
            rt,
            prepared,
            restricted,
            variables,
            headers,
            forwarded,
            errors,
            format,
            slot,
            expires,
        } = start;
        let _slot = slot;
        let subgraph = weft_executor::subscription_subgraph(&prepared.plan).unwrap_or_default();
        let plan = restricted.as_ref().map_or(&prepared.plan, |r| &r.plan);
        let run = weft_executor::Execution {
            plan,
            operation: &prepared.operation,
            variables: &variables,
            api: rt.supergraph.api_schema(),
            headers: &headers,
            forwarded: &forwarded,
            max_bytes: rt.response_cap(),
        };
        // Each event's payload goes into the bounded channel at once; a client that has
        // not read the last few is too slow, and its subscription ends.
        let mut slow = false;
        let mut send = |event: Event| {
            let mut all = errors.clone();
            all.extend(event.errors);
            let result = result_json(&event.data, &all);
            rt.metrics.record_subscription_event(&subgraph, "in");
            match tx.try_send(format.next(&result)) {
                Ok(()) => {
                    rt.metrics.record_subscription_event(&subgraph, "out");
                    true
                }
                Err(e) => {
                    slow = e.is_full();
                    false
                }
            }
        };
        let mut ending = rt.subscriptions.ending();
        // Ended before it started: planned on a runtime a reload (or shutdown) has replaced.
        let superseded = || rt.generation < rt.subscriptions.generation();
        let stale = superseded().then(|| (*ending.borrow()).unwrap_or(Ending::Reload));
        // An ending meant for the runtimes before this one (a subscription on the new runtime
        // started between the swap and the signal) is not this subscription's.
        let ending = async {
            loop {
                let why = ended(&mut ending).await;
                if superseded() {
                    break why;
                }
            }
        };
        let expiry = async {
            match expires {
                Some(at) => {
                    let left = at
                        .duration_since(std::time::SystemTime::now())
                        .unwrap_or_default();
                    tokio::time::sleep(left).await;
                }
                None => std::future::pending().await,
            }
        };
        let ended = match stale {
            Some(why) => Err(why.error()),
            None => tokio::select! {
            ended = rt.engine.subscribe(run, &mut send) => ended,
            why = ending => Err(why.error()),
            () = expiry => Err(GraphQLError::new(
                ErrorCode::AuthError,
                "The token this subscription was authorized with expired: subscribe again \
                 with a new one.",
            )),
            },
        };
        let ended = match ended {
            Ok(()) if slow => Err(GraphQLError::new(
                ErrorCode::SubscriptionClientTooSlow,
                format!(
                    "The client read its events too slowly: {BUFFERED} were waiting. The \
                     subscription is closed."
                ),
            )),
            other => other,
        };
        // The last words, if the client is still reading (not waited for long).
        let last = async {
            use futures::SinkExt;
            if let Err(error) = ended {
                tx.send(format.failed(error)).await?;
            }
            if let Some(last) = format.complete() {
                tx.send(last).await?;
            }
            Ok::<(), mpsc::SendError>(())
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), last).await;
    });
    Payloads {
        payloads: rx,
        task,
        format,
        beat: Box::pin(tokio::time::sleep(format.heartbeat_every())),
    }
}

/// `{"data": …, "errors": […]}` (errors only when any).
fn result_json(data: &[u8], errors: &[ResponseError]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(data);
    if !errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        let _ = serde_json::to_writer(&mut out, errors);
    }
    out.push(b'}');
    out
}

/// The `subscription_sources` of `config`, checked against `supergraph`: each names a
/// `Subscription` field whose type is an entity its subgraph resolves by a key of top-level
/// fields (what a message's representation is made of). Why not, for the first that fails.
pub fn event_sources(
    config: &weft_config::model::Config,
    supergraph: &weft_federation::supergraph::Supergraph,
) -> Result<Vec<weft_executor::subscription::broker::EventSource>, String> {
    use weft_federation::graph::selection::{FieldSetItem, parse_field_set};
    let path = |text: &str| text.split('.').map(str::to_owned).collect::<Vec<_>>();
    let mut out = Vec::new();
    for source in &config.subscription_sources {
        let field = &source.field;
        let root = supergraph
            .root(apollo_compiler::ast::OperationType::Subscription)
            .ok_or_else(|| format!("`{field}`: the supergraph has no Subscription type"))?;
        let fid = supergraph
            .field_id(root, field)
            .ok_or_else(|| format!("the supergraph's Subscription type has no field `{field}`"))?;
        let type_name = supergraph.field(fid).ty.inner_named_type().to_string();
        let ty = supergraph
            .type_id(&type_name)
            .ok_or_else(|| format!("`{field}`: unknown type `{type_name}`"))?;
        let graph = supergraph
            .field_subgraphs(fid)
            .first()
            .map(|f| f.graph)
            .ok_or_else(|| format!("`{field}`: no subgraph resolves it"))?;
        let key = supergraph
            .keys(ty, graph)
            .filter(|j| j.resolvable)
            .filter_map(|j| j.key.as_deref())
            .map(parse_field_set)
            .find(|items| {
                items.iter().all(
                    |i| matches!(i, FieldSetItem::Field { children, .. } if children.is_empty()),
                )
            })
            .ok_or_else(|| {
                format!(
                    "`{field}` returns `{type_name}`, which subgraph `{}` does not resolve by a \
                     key of top-level fields: a message's key could not be read into it",
                    supergraph.subgraph(graph).name
                )
            })?;
        let key = key
            .iter()
            .filter_map(|i| match i {
                FieldSetItem::Field { name, .. } => Some(name.clone()),
                FieldSetItem::Fragment { .. } => None,
            })
            .map(|name| {
                let at = source
                    .key
                    .get(&name)
                    .map_or_else(|| vec![name.clone()], |p| path(p));
                (name, at)
            })
            .collect();
        let arguments = source
            .arguments
            .iter()
            .map(|(name, at)| {
                let known = supergraph
                    .field(fid)
                    .arguments
                    .iter()
                    .any(|a| a.name == name.as_str());
                if known {
                    Ok((name.clone(), path(at)))
                } else {
                    Err(format!("`{field}` has no argument `{name}`"))
                }
            })
            .collect::<Result<_, String>>()?;
        use weft_executor::subscription::broker::Broker;
        let broker = match (&source.rabbitmq, &source.nats) {
            (Some(r), None) => Broker::Rabbit {
                url: r.url.clone(),
                exchange: r.exchange.clone(),
                routing_key: r.routing_key.clone(),
            },
            (None, Some(n)) => Broker::Nats {
                url: n.url.clone(),
                subject: n.subject.clone(),
            },
            _ => return Err(format!("`{field}`: name one broker, `rabbitmq` or `nats`")),
        };
        out.push(weft_executor::subscription::broker::EventSource {
            field: field.clone(),
            type_name,
            key,
            arguments,
            broker,
        });
    }
    Ok(out)
}
