//! Incremental delivery (`@defer`, docs/http.md#incremental-delivery-defer): an operation
//! with deferred fragments, for a client that accepts `multipart/mixed; deferSpec=20220824`,
//! runs in a task of its own whose payloads (the `deferSpec=20220824` JSON documents: the
//! initial one with `data`, then `incremental` ones, each with `hasNext`) the HTTP layer writes
//! as parts as they come (`http/multipart.rs`). The request timeout covers the whole stream
//! (past it, a last payload with a `GATEWAY_TIMEOUT` error), and `server.max_response_bytes`
//! all parts together (past it, a last payload with a `RESPONSE_TOO_LARGE` error). Dropping the
//! payloads (the client left) aborts the task and its subgraph requests.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::http::HeaderMap;
use futures::Stream;
use futures::channel::mpsc;
use serde_json::{Map, Value};
use weft_executor::{ErrorCode, Forwarded, GraphQLError, Part, ResponseError};

use crate::runtime::{Prepared, Restricted, SchemaRuntime};

/// The payloads of one incremental response, as the execution produces them.
pub struct Payloads {
    payloads: mpsc::UnboundedReceiver<Bytes>,
    /// The execution: aborted when the payloads are dropped.
    task: tokio::task::JoinHandle<()>,
}

impl Stream for Payloads {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        Pin::new(&mut self.payloads).poll_next(cx)
    }
}

impl Drop for Payloads {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What an incremental execution needs, owned: it outlives the request's handler.
pub struct Start {
    pub rt: Arc<SchemaRuntime>,
    pub prepared: Arc<Prepared>,
    /// The plan without the fields this request may not see, if any were removed.
    pub restricted: Option<Arc<Restricted>>,
    pub variables: Map<String, Value>,
    pub headers: HeaderMap,
    pub forwarded: Forwarded,
    /// The request's own errors (fields it may not see): in the initial payload.
    pub errors: Vec<ResponseError>,
    /// The initial payload's `extensions` (the cost estimate).
    pub extensions: Map<String, Value>,
}

/// Starts the execution on the current runtime; its payloads come out of the result.
pub fn start(start: Start) -> Payloads {
    let (tx, rx) = mpsc::unbounded();
    let timeout = start.rt.config.server.request_timeout();
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let task = tokio::spawn(async move {
        let Start {
            rt,
            prepared,
            restricted,
            variables,
            headers,
            forwarded,
            errors,
            extensions,
        } = start;
        let plan = restricted.as_ref().map_or(&prepared.plan, |r| &r.plan);
        let max_bytes = rt.response_cap();
        let run = weft_executor::Execution {
            plan,
            operation: &prepared.operation,
            variables: &variables,
            api: rt.supergraph.api_schema(),
            headers: &headers,
            forwarded: &forwarded,
            max_bytes,
        };
        let mut writer = Writer {
            first: Some((errors, extensions)),
            done: false,
            max_bytes,
        };
        let mut send = |part: Part| {
            if let Some(payload) = writer.payload(part) {
                let _ = tx.unbounded_send(payload);
            }
        };
        let work = rt.engine.execute_incremental(run, &mut send);
        let timed_out = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, work).await.is_err(),
            None => {
                work.await;
                false
            }
        };
        if timed_out && !writer.done {
            let ms = timeout.map_or(0, |t| t.as_millis());
            let error = GraphQLError::new(
                ErrorCode::GatewayTimeout,
                format!("The request took longer than {ms} ms (`server.request_timeout_ms`)."),
            );
            let _ = tx.unbounded_send(writer.last(error));
        }
    });
    Payloads { payloads: rx, task }
}

/// Writes the payloads: the first is the initial one.
struct Writer {
    /// Until the initial payload is written: the request's own errors and extensions.
    first: Option<(Vec<ResponseError>, Map<String, Value>)>,
    /// The payload with `hasNext: false` was written.
    done: bool,
    max_bytes: Option<usize>,
}

impl Writer {
    /// The payload of `part`; `None` when there is nothing to say (a deferred fragment whose
    /// objects are all gone, with more parts to come).
    fn payload(&mut self, part: Part) -> Option<Bytes> {
        if self.done {
            return None;
        }
        match part {
            Part::Primary {
                data,
                errors,
                has_next,
            } => {
                let (mut own, extensions) = self.first.take().unwrap_or_default();
                own.extend(errors);
                let mut out = Vec::with_capacity(data.len() + 64);
                out.extend_from_slice(b"{\"data\":");
                out.extend_from_slice(&data);
                if !own.is_empty() {
                    out.extend_from_slice(b",\"errors\":");
                    let _ = serde_json::to_writer(&mut out, &own);
                }
                if !extensions.is_empty() {
                    out.extend_from_slice(b",\"extensions\":");
                    let _ = serde_json::to_writer(&mut out, &extensions);
                }
                self.done = !has_next;
                write_has_next(&mut out, has_next);
                Some(Bytes::from(out))
            }
            Part::Deferred {
                label,
                items,
                errors,
                has_next,
            } => {
                if items.is_empty() && errors.is_empty() && has_next {
                    return None;
                }
                let mut out = Vec::new();
                if items.is_empty() {
                    // Errors of a fragment that applied nowhere: said at the top.
                    out.push(b'{');
                    if !errors.is_empty() {
                        out.extend_from_slice(b"\"errors\":");
                        let _ = serde_json::to_writer(&mut out, &errors);
                        out.push(b',');
                    }
                    out.extend_from_slice(b"\"incremental\":[]");
                } else {
                    out.extend_from_slice(b"{\"incremental\":[");
                    let mut errors = Some(errors);
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(b"{\"data\":");
                        out.extend_from_slice(&item.data);
                        out.extend_from_slice(b",\"path\":");
                        let path: Vec<Value> = item.path.iter().map(|s| s.to_json()).collect();
                        let _ = serde_json::to_writer(&mut out, &path);
                        if let Some(label) = &label {
                            out.extend_from_slice(b",\"label\":");
                            let _ = serde_json::to_writer(&mut out, label);
                        }
                        // The part's errors (paths absolute) go with its first item.
                        if let Some(errors) = errors.take().filter(|e| !e.is_empty()) {
                            out.extend_from_slice(b",\"errors\":");
                            let _ = serde_json::to_writer(&mut out, &errors);
                        }
                        out.push(b'}');
                    }
                    out.push(b']');
                }
                self.done = !has_next;
                write_has_next(&mut out, has_next);
                Some(Bytes::from(out))
            }
            Part::TooLarge => {
                let cap = self.max_bytes.unwrap_or(0);
                let error = GraphQLError::new(
                    ErrorCode::ResponseTooLarge,
                    format!(
                        "The response is over the limit of {cap} bytes (`server.max_response_bytes`)."
                    ),
                );
                Some(self.last(error))
            }
        }
    }

    /// The last payload, when the response ends early with `error`: `data: null` if the
    /// initial payload was not written yet.
    fn last(&mut self, error: GraphQLError) -> Bytes {
        self.done = true;
        let errors = vec![ResponseError::from(error)];
        let mut out = Vec::new();
        if self.first.take().is_some() {
            out.extend_from_slice(b"{\"data\":null,\"errors\":");
        } else {
            out.extend_from_slice(b"{\"errors\":");
        }
        let _ = serde_json::to_writer(&mut out, &errors);
        write_has_next(&mut out, false);
        Bytes::from(out)
    }
}

/// `,"hasNext":…}`: the end of every payload.
fn write_has_next(out: &mut Vec<u8>, has_next: bool) {
    let end: &[u8] = if has_next {
        b",\"hasNext\":true}"
    } else {
        b",\"hasNext\":false}"
    };
    out.extend_from_slice(end);
}
