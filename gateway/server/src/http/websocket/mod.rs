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
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let headers = parts.headers;
    let max = usize::try_from(schema.config.limits.max_body_bytes.get()).unwrap_or(usize::MAX);
    ws.protocols([protocol.name()])
        .max_message_size(max)
        .on_upgrade(move |socket| connection(socket, live, headers, protocol))
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
    own || schema
        .config
        .cors
        .allow_origins
        .iter()
        .any(|o| o.is_any() || *o == *origin)
}

/// What operations hand the connection to write.
enum Out {
    Text(String),
    /// Operation `id` ended; `complete` is sent when `true` (not after `error`).
    Done {
        id: String,
        complete: bool,
    },
}

/// An operation's task, aborted when the entry is dropped (the client completed it, or left).
struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The connection's state once `connection_init` was accepted.
struct Session {
    headers: HeaderMap,
    identity: Identity,
}

async fn connection(socket: WebSocket, live: Arc<Live>, upgrade: HeaderMap, protocol: Protocol) {
    let (mut sink, mut incoming) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(OUTGOING);
    let mut session: Option<Session> = None;
    let mut running: HashMap<String, Running> = HashMap::new();
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_deadline);
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    let mut ending = live.current().subscriptions.ending();
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
            _ = keep_alive.tick(), if protocol == Protocol::Legacy && session.is_some() => {
                if sink.send(Message::Text(protocol::keep_alive().into())).await.is_err() {
                    break None;
                }
            }
            Some(out) = out_rx.recv() => {
                let text = match out {
                    Out::Text(text) => text,
                    Out::Done { id, complete } => {
                        if running.remove(&id).is_none() || !complete {
                            continue; // completed by the client meanwhile: nothing to say
                        }
                        protocol::complete(&id)
                    }
                };
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break None;
                }
            }
            message = incoming.next() => {
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
                        if sink.send(Message::Text(protocol::ack().into())).await.is_err() {
                            break None;
                        }
                    }
                    Incoming::Ping(payload) => {
                        let pong = protocol::pong(payload);
                        if sink.send(Message::Text(pong.into())).await.is_err() {
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
                            let text = protocol::error(protocol, &id, errors);
                            if sink.send(Message::Text(text.into())).await.is_err() {
                                break None;
                            }
                            continue;
                        }
                        let task = tokio::spawn(operation(
                            schema,
                            s.headers.clone(),
                            s.identity.clone(),
                            protocol,
                            id.clone(),
                            request,
                            out_tx.clone(),
                        ));
                        running.insert(id, Running(task));
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
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
}

/// Accepts `connection_init`: its payload's headers over the upgrade's, the token verified.
async fn accept(
    live: &Live,
    upgrade: &HeaderMap,
    payload: Map<String, Value>,
) -> Result<Session, Close> {
    let schema = live.current();
    let mut headers = upgrade.clone();
    let nested = payload.get("headers").and_then(Value::as_object).cloned();
    for (name, value) in payload.iter().chain(nested.iter().flatten()) {
        let (Some(value), Ok(name)) = (value.as_str(), HeaderName::try_from(name.as_str())) else {
            continue;
        };
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
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

/// Runs one operation of the socket and hands what it sends to the connection.
async fn operation(
    schema: Arc<SchemaRuntime>,
    headers: HeaderMap,
    identity: Identity,
    protocol: Protocol,
    id: String,
    request: crate::runtime::request::GraphQLRequest,
    out: mpsc::Sender<Out>,
) {
    let delivery = Delivery {
        incremental: false,
        stream: Some(Format::Raw),
    };
    let outcome = pipeline::run(
        &schema,
        &Method::POST,
        request,
        MediaType::Json,
        PlanExposure::None,
        &headers,
        &identity,
        delivery,
    )
    .await;
    let complete = match outcome.body {
        ResponseBody::Events(mut payloads) => {
            while let Some(result) = payloads.next().await {
                if result.is_empty() {
                    continue; // a heartbeat: the socket has its own
                }
                let text = protocol::next(protocol, &id, &result);
                if out.send(Out::Text(text)).await.is_err() {
                    return;
                }
            }
            true
        }
        // Refused before it ran: `error`, which ends the operation.
        ResponseBody::Errors { errors, .. } => {
            let errors = serde_json::to_value(errors).unwrap_or(Value::Null);
            let _ = out
                .send(Out::Text(protocol::error(protocol, &id, errors)))
                .await;
            false
        }
        body => {
            let result = body.chunks().concat();
            let text = protocol::next(protocol, &id, &result);
            if out.send(Out::Text(text)).await.is_err() {
                return;
            }
            true
        }
    };
    let _ = out.send(Out::Done { id, complete }).await;
}
