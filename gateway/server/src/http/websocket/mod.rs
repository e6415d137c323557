//! GraphQL over WebSocket at the GraphQL path (docs/subscriptions.md): `graphql-transport-ws`
//! and the legacy `graphql-ws` subprotocol. One socket carries many operations, each under
//! the client's id: subscriptions stream their events (`next`), queries and mutations answer
//! once, and each ends with `complete` (or `error`, refused before it ran).
//!
//! - The upgrade is refused unless the client offers one of the two subprotocols, and, for a
//!   browser (an `Origin` header), unless its origin is the gateway's own or one the CORS
//!   config allows (a WebSocket is not subject to CORS: without this check any site could
//!   use a visitor's cookies on the gateway).
//! - `connection_init` must come first, within [`INIT_TIMEOUT`]; its payload's string entries
//!   (and those of a `headers` object in it) are added to the upgrade request's headers, and
//!   the token among them is verified as for HTTP. A refused token closes with 4403.
//! - Each operation runs through the same pipeline as over HTTP (limits, authorization,
//!   planning); at most `limits.max_operations_per_connection` at once per socket.
//! - What operations send goes through one bounded queue: a client that does not read slows
//!   its operations, and a subscription whose own queue fills is closed as too slow.

mod protocol;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use weft_executor::{ErrorCode, GraphQLError};

use crate::runtime::auth::Identity;
use crate::runtime::pipeline::{self, Delivery, PlanExposure};
use crate::runtime::request::MediaType;
use crate::runtime::response_body::ResponseBody;
use crate::runtime::subscriptions::Format;
use crate::runtime::{Live, SchemaRuntime};
use protocol::{Close, Incoming, Protocol};

/// How long a client has to send `connection_init` (the `graphql-ws` library's default).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(3);
/// Messages waiting to be written to a client.
const OUTGOING: usize = 64;
/// A socket's read buffer.
const READ_BUFFER: usize = 8 * 1024;
/// The legacy protocol's keep-alive period.
const KEEP_ALIVE: Duration = Duration::from_secs(12);

/// Takes over `GET` requests that ask to upgrade to a WebSocket; others go on.
pub async fn intercept(State(live): State<Arc<Live>>, request: Request, next: Next) -> Response {
    let upgrade = request.method() == Method::GET
        && request
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !upgrade {
        return next.run(request).await;
    }
    let schema = live.current();
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !origin_allowed(&schema, origin, request.headers().get(header::HOST))
    {
        return (
            StatusCode::FORBIDDEN,
            "This origin may not open a WebSocket to the gateway (`cors.allow_origins`).",
        )
            .into_response();
    }
    let offered = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let Some(protocol) = Protocol::choose(offered) else {
        return (
            StatusCode::BAD_REQUEST,
            "Offer the `graphql-transport-ws` (or legacy `graphql-ws`) WebSocket subprotocol.",
        )
            .into_response();
    };
    let (mut parts, _body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<super::connections::ClientAddr>()
        .map(|a| a.0);
    let open = parts.extensions.remove::<super::connections::Open>();
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let headers = parts.headers;
    let max = usize::try_from(schema.config.limits.max_body_bytes.get()).unwrap_or(usize::MAX);
    // tungstenite's default read buffer (128 KiB, kept for the socket's life) was most of a
    // subscription's memory over WebSocket (bench/README.md, subscription-load): GraphQL
    // messages are small, and a larger one is read in several reads.
    ws.protocols([protocol.name()])
        .read_buffer_size(READ_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| async move {
            connection(socket, live, headers, protocol, peer).await;
            // Shutdown waits for this socket until its close frame is written.
            drop(open);
        })
}

/// A browser's origin may connect if it is the gateway's own (its `Host`) or allowed by CORS.
fn origin_allowed(
    schema: &SchemaRuntime,
    origin: &HeaderValue,
    host: Option<&HeaderValue>,
) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().to_ascii_lowercase();
    let own = host
        .and_then(|h| h.to_str().ok())
        .map(|h| h.trim().to_ascii_lowercase())
        .is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority == host)
        });
    // `*` admits no cross-origin socket: browsers send cookies on every WebSocket, so only an
    // origin named in the list may open one.
    own || schema
        .config
        .cors
        .allow_origins
        .iter()
        .any(|o| !o.is_any() && *o == *origin)
}

/// What operations hand the connection to write, each tagged with the operation's id and
/// its sequence number: an id the client completed and used again is another operation, whose
/// messages the old one's must not be taken for.
enum Out {
    Text {
        id: String,
        seq: u64,
        text: String,
    },
    /// Operation `id` ended; `complete` is sent when `true` (not after `error`).
    Done {
        id: String,
        seq: u64,
        complete: bool,
    },
}

/// An operation's task (aborted when the entry is dropped: the client completed it, or left)
/// and its sequence number.
struct Running {
    task: tokio::task::JoinHandle<()>,
    seq: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The connection's state once `connection_init` was accepted.
struct Session {
    headers: HeaderMap,
    identity: Identity,
}

/// How long a write to the client may take before the socket is taken as dead: a client that
/// stops reading holds nothing past it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a `graphql-transport-ws` client may stay silent (the gateway pings it after
/// [`KEEP_ALIVE`]; its pongs count) before the socket is closed.
const SILENT: Duration = Duration::from_secs(60);

async fn connection(
    socket: WebSocket,
    live: Arc<Live>,
    upgrade: HeaderMap,
    protocol: Protocol,
    peer: Option<std::net::IpAddr>,
) {
    let (mut sink, mut incoming) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(OUTGOING);
    let mut session: Option<Session> = None;
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut next_seq: u64 = 0;
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_deadline);
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    let mut heard = tokio::time::Instant::now();
    let mut ending = live.current().subscriptions.ending();
    // Writes one message; `false` when the client is gone or too slow to take it.
    macro_rules! write {
        ($text:expr) => {
            matches!(
                tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Text($text.into()))).await,
                Ok(Ok(()))
            )
        };
    }
    let close = loop {
        tokio::select! {
            // On shutdown the socket closes as "going away" (clients reconnect elsewhere); on
            // a reload only its subscriptions end, each told so.
            why = crate::runtime::subscriptions::ended(&mut ending) => {
                if why == crate::runtime::subscriptions::Ending::Shutdown {
                    break Some(Close::new(1001, "The gateway is shutting down"));
                }
            }
            () = &mut init_deadline, if session.is_none() => {
                break Some(Close::new(4408, "Connection initialisation timeout"));
            }
            _ = keep_alive.tick(), if session.is_some() => {
                let text = match protocol {
                    Protocol::Legacy => protocol::keep_alive(),
                    Protocol::TransportWs if heard.elapsed() >= SILENT => {
                        break Some(Close::new(4408, "The client stopped answering pings"));
                    }
                    Protocol::TransportWs if heard.elapsed() >= KEEP_ALIVE => protocol::ping(),
                    Protocol::TransportWs => continue,
                };
                if !write!(text) {
                    break None;
                }
            }
            Some(out) = out_rx.recv() => {
                let current = |id: &str, seq: u64| running.get(id).is_some_and(|r| r.seq == seq);
                let text = match out {
                    // An operation the client completed (or replaced): nothing more of it.
                    Out::Text { id, seq, .. } if !current(&id, seq) => continue,
                    Out::Text { text, .. } => text,
                    Out::Done { id, seq, complete } => {
                        if !current(&id, seq) {
                            continue;
                        }
                        running.remove(&id);
                        if !complete {
                            continue;
                        }
                        protocol::complete(&id)
                    }
                };
                if !write!(text) {
                    break None;
                }
            }
            message = incoming.next() => {
                heard = tokio::time::Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        break Some(Close::bad_request("Binary messages are not supported"));
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => continue, // WebSocket pings: answered by the library
                };
                let incoming = match protocol::parse(protocol, text.as_str()) {
                    Ok(m) => m,
                    Err(close) => break Some(close),
                };
                match incoming {
                    Incoming::Init(payload) => {
                        if session.is_some() {
                            break Some(Close::new(4429, "Too many initialisation requests"));
                        }
                        match accept(&live, &upgrade, payload).await {
                            Ok(s) => session = Some(s),
                            Err(close) => break Some(close),
                        }
                        if !write!(protocol::ack()) {
                            break None;
                        }
                    }
                    Incoming::Ping(payload) => {
                        if !write!(protocol::pong(payload)) {
                            break None;
                        }
                    }
                    Incoming::Pong => {}
                    Incoming::Terminate => break Some(Close::new(1000, "Terminated")),
                    Incoming::Complete { id } => {
                        running.remove(&id);
                    }
                    Incoming::Subscribe { id, request } => {
                        let Some(s) = &session else {
                            break Some(Close::new(4401, "Unauthorized"));
                        };
                        // The token of `connection_init` authorizes nothing past its expiry.
                        if s.identity
                            .expires()
                            .is_some_and(|at| at <= std::time::SystemTime::now())
                        {
                            break Some(Close::new(4403, "Forbidden: the token expired"));
                        }
                        if running.contains_key(&id) {
                            break Some(Close::new(4409, format!("Subscriber for {id} already exists")));
                        }
                        let schema = live.current();
                        let max = schema.config.limits.max_operations_per_connection;
                        if let Some(max) = max.filter(|m| running.len() >= m.get() as usize) {
                            let error = GraphQLError::new(
                                ErrorCode::MaxSubscriptionsLimit,
                                format!(
                                    "This connection runs {max} operations already \
                                     (`limits.max_operations_per_connection`); complete one first."
                                ),
                            );
                            let errors = serde_json::to_value(vec![error]).unwrap_or(Value::Null);
                            if !write!(protocol::error(protocol, &id, errors)) {
                                break None;
                            }
                            continue;
                        }
                        next_seq += 1;
                        let task = tokio::spawn(operation(
                            Operation {
                                schema,
                                headers: s.headers.clone(),
                                identity: s.identity.clone(),
                                peer,
                                protocol,
                                id: id.clone(),
                                seq: next_seq,
                            },
                            request,
                            out_tx.clone(),
                        ));
                        running.insert(id, Running { task, seq: next_seq });
                    }
                }
            }
        }
    };
    running.clear();
    if let Some(Close { code, reason }) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
    }
}

/// Accepts `connection_init`: its payload's headers added to the upgrade's (never replacing
/// one the upgrade request has, which a proxy may have set; within `limits.max_header_bytes`
/// together), the token verified.
async fn accept(
    live: &Live,
    upgrade: &HeaderMap,
    payload: Map<String, Value>,
) -> Result<Session, Close> {
    let schema = live.current();
    let mut headers = upgrade.clone();
    let budget = usize::try_from(schema.config.limits.max_header_bytes.get()).unwrap_or(usize::MAX);
    let mut size: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    let nested = payload.get("headers").and_then(Value::as_object).cloned();
    for (name, value) in payload.iter().chain(nested.iter().flatten()) {
        let (Some(value), Ok(name)) = (value.as_str(), HeaderName::try_from(name.as_str())) else {
            continue;
        };
        if headers.contains_key(&name) {
            continue;
        }
        size = size.saturating_add(name.as_str().len() + value.len());
        if size > budget {
            return Err(Close::new(
                4400,
                format!(
                    "connection_init's headers are over {budget} bytes (`limits.max_header_bytes`)"
                ),
            ));
        }
        if let Ok(value) = HeaderValue::from_str(value)
            && headers.try_insert(name, value).is_err()
        {
            return Err(Close::new(4400, "connection_init has too many headers"));
        }
    }
    let identity = schema
        .auth
        .authenticate(&headers)
        .await
        .map_err(|rejection| Close::new(4403, format!("Forbidden: {}", rejection.error.message)))?;
    // Only the gateway sets these, from the identity just verified.
    weft_executor::headers::remove_owned(&mut headers, &schema.auth.owned_headers());
    Ok(Session { headers, identity })
}

/// One operation of a socket, as its task has it.
struct Operation {
    schema: Arc<SchemaRuntime>,
    headers: HeaderMap,
    identity: Identity,
    peer: Option<std::net::IpAddr>,
    protocol: Protocol,
    id: String,
    seq: u64,
}

/// Runs one operation of the socket and hands what it sends to the connection: through the
/// same admission as an HTTP request (rate limits, `server.max_in_flight` while it is being
/// answered, `server.request_timeout_ms` until it answers or starts streaming).
async fn operation(
    op: Operation,
    request: crate::runtime::request::GraphQLRequest,
    out: mpsc::Sender<Out>,
) {
    let Operation {
        schema,
        headers,
        identity,
        peer,
        protocol,
        id,
        seq,
    } = op;
    let text = |text: String| Out::Text {
        id: id.clone(),
        seq,
        text,
    };
    let metrics: &dyn weft_executor::ExecutorMetrics = schema.metrics.as_ref();
    if let Err(limited) = schema
        .rate_limits
        .admit(&headers, &identity, peer, metrics)
        .await
    {
        let secs = weft_executor::rate_limit::retry_after_secs(limited.wait);
        let error = GraphQLError::new(
            ErrorCode::RequestRateLimited,
            format!(
                "Too many requests: the {} rate limit (`rate_limit.{}`) is reached; try again \
                 in {secs} s.",
                limited.limit, limited.limit
            ),
        );
        return refused(&out, protocol, id, seq, error).await;
    }
    let server = &schema.config.server;
    let Some(admitted) = super::shedding::admit(server.max_in_flight()) else {
        let error = GraphQLError::new(
            ErrorCode::ServerOverloaded,
            format!(
                "The gateway is handling its limit of {} requests at once (`server.max_in_flight`).",
                server.max_in_flight
            ),
        );
        return refused(&out, protocol, id, seq, error).await;
    };
    let delivery = Delivery {
        incremental: false,
        stream: Some(Format::Raw),
    };
    let running = pipeline::run(
        &schema,
        &Method::POST,
        request,
        MediaType::Json,
        PlanExposure::None,
        &headers,
        &identity,
        delivery,
    );
    let outcome = match server.request_timeout() {
        Some(limit) => match tokio::time::timeout(limit, running).await {
            Ok(outcome) => outcome,
            Err(_) => {
                let error = GraphQLError::new(
                    ErrorCode::GatewayTimeout,
                    format!(
                        "The operation took longer than {} ms (`server.request_timeout_ms`).",
                        server.request_timeout_ms
                    ),
                );
                return refused(&out, protocol, id, seq, error).await;
            }
        },
        None => running.await,
    };
    let complete = match outcome.body {
        ResponseBody::Events(mut payloads) => {
            // A subscription holds a place among the subscriptions, not among requests.
            drop(admitted);
            while let Some(result) = payloads.next().await {
                if result.is_empty() {
                    continue; // a heartbeat: the socket has its own
                }
                let message = protocol::next(protocol, &id, &result);
                if out.send(text(message)).await.is_err() {
                    return;
                }
            }
            true
        }
        // Refused before it ran: `error`, which ends the operation.
        ResponseBody::Errors { errors, .. } => {
            let errors = serde_json::to_value(errors).unwrap_or(Value::Null);
            let _ = out.send(text(protocol::error(protocol, &id, errors))).await;
            false
        }
        body => {
            let mut result = body.chunks().concat();
            // Data written past `server.max_response_bytes` is cut (not JSON): said instead.
            if let Some(cap) = server.max_response_bytes()
                && result.len() as u64 > cap
            {
                let error = GraphQLError::new(
                    ErrorCode::ResponseTooLarge,
                    format!(
                        "The response is over the limit of {cap} bytes \
                         (`server.max_response_bytes`)."
                    ),
                );
                result = serde_json::to_vec(&serde_json::json!({ "errors": [error] }))
                    .unwrap_or_default();
            }
            drop(admitted);
            if out
                .send(text(protocol::next(protocol, &id, &result)))
                .await
                .is_err()
            {
                return;
            }
            true
        }
    };
    let _ = out.send(Out::Done { id, seq, complete }).await;
}

/// Operation `id` refused before it ran: `error` with `error`, which ends it (no `complete`).
async fn refused(
    out: &mpsc::Sender<Out>,
    protocol: Protocol,
    id: String,
    seq: u64,
    error: GraphQLError,
) {
    let errors = serde_json::to_value(vec![error]).unwrap_or(Value::Null);
    let text = protocol::error(protocol, &id, errors);
    let _ = out
        .send(Out::Text {
            id: id.clone(),
            seq,
            text,
        })
        .await;
    let _ = out
        .send(Out::Done {
            id,
            seq,
            complete: false,
        })
        .await;
}
