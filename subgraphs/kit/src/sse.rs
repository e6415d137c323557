//! GraphQL over Server-Sent Events, "distinct connections" mode (the graphql-sse protocol): a
//! `POST /graphql` whose `Accept` names `text/event-stream` is answered with one SSE stream of
//! that operation's results. How the gateway reaches a subgraph's subscriptions.
//!
//! The stream, byte for byte:
//!
//! - each result: `event: next\ndata: <the execution result as one line of JSON>\n\n`;
//! - then, once the operation has no more: `event: complete\ndata:\n\n`;
//! - while waiting, every [`HEARTBEAT`]: the comment `:\n\n`, which clients ignore and which
//!   keeps proxies from closing an idle connection.
//!
//! A query or mutation gives one `next` then `complete`. Errors found before execution (parse,
//! validation) come as a `next` with `errors`, as the protocol asks; only a body that is not a
//! GraphQL request at all is refused with 400 (by [`crate::http`]). When the subgraph stops, an
//! open stream ends without `complete`, so the client knows it was cut, not finished.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::Response as GraphQLResponse;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

/// How often an open stream sends a heartbeat comment by default.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The media type of an event stream.
pub const EVENT_STREAM: &str = "text/event-stream";

/// What ends every stream that ran to its end.
pub const COMPLETE: &[u8] = b"event: complete\ndata:\n\n";

/// The heartbeat: an SSE comment line.
pub const HEARTBEAT_COMMENT: &[u8] = b":\n\n";

static HEARTBEAT_MS: AtomicU64 = AtomicU64::new(HEARTBEAT.as_secs() * 1000);

/// Sets how often streams opened afterwards send a heartbeat (tests shorten it; the default is
/// [`HEARTBEAT`]).
pub fn set_heartbeat(every: Duration) {
    let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    HEARTBEAT_MS.store(ms, Ordering::Relaxed);
}

fn heartbeat() -> Duration {
    Duration::from_millis(HEARTBEAT_MS.load(Ordering::Relaxed))
}

/// Whether the request asks for an event stream (`Accept` names `text/event-stream`, alone or
/// among others).
pub fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains(EVENT_STREAM))
    })
}

/// The frame carrying one result: `event: next`, its JSON on one `data:` line.
pub fn next_frame(result: &GraphQLResponse) -> Bytes {
    // serde_json's compact form has no line breaks (a break inside a string is escaped), so the
    // whole result fits the one `data:` line the protocol's clients expect.
    let json = serde_json::to_string(result).unwrap_or_else(|err| {
        serde_json::json!({ "errors": [{ "message": format!("result not serializable: {err}") }] })
            .to_string()
    });
    Bytes::from(format!("event: next\ndata: {json}\n\n"))
}

/// Tells open streams that the subgraph is stopping: they end at once (without `complete`), so
/// the server's graceful shutdown does not wait on subscriptions that would never finish.
#[derive(Debug, Clone)]
pub struct Stopping(watch::Receiver<bool>);

/// Raises [`Stopping`].
#[derive(Debug)]
pub struct Stop(watch::Sender<bool>);

impl Stop {
    /// Ends every stream watching this signal.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// A stop signal and what streams watch of it.
pub fn stop_signal() -> (Stop, Stopping) {
    let (tx, rx) = watch::channel(false);
    (Stop(tx), Stopping(rx))
}

impl Stopping {
    /// Resolves once stopping was asked (or the sender is gone: nobody can ask any more, and
    /// the server is going away with it).
    async fn wait(&mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

/// Where a stream is.
struct Open {
    results: BoxStream<'static, GraphQLResponse>,
    ticks: tokio::time::Interval,
    stopping: Option<Stopping>,
    done: bool,
}

/// The `200 text/event-stream` response streaming `results`.
pub fn response(
    results: BoxStream<'static, GraphQLResponse>,
    stopping: Option<Stopping>,
) -> Response {
    let every = heartbeat();
    let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
    // After a stall (a slow client), one heartbeat is enough, not a burst of missed ones.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let open = Open {
        results,
        ticks,
        stopping,
        done: false,
    };
    let frames = stream::unfold(open, |mut open| async move {
        if open.done {
            return None;
        }
        let Open {
            results,
            ticks,
            stopping,
            done,
        } = &mut open;
        let stopped = async {
            match stopping {
                Some(stopping) => stopping.wait().await,
                None => std::future::pending().await,
            }
        };
        let frame = tokio::select! {
            // A result ready with a tick due goes first: the heartbeat only fills silence.
            biased;
            () = stopped => None,
            result = results.next() => Some(match result {
                Some(result) => next_frame(&result),
                None => {
                    *done = true;
                    Bytes::from_static(COMPLETE)
                }
            }),
            _ = ticks.tick() => Some(Bytes::from_static(HEARTBEAT_COMMENT)),
        };
        frame.map(|frame| (Ok::<_, Infallible>(frame), open))
    });
    let mut response = (StatusCode::OK, Body::from_stream(frames)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx would otherwise buffer the stream and hold results back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// One frame of a stream as this module writes it, read back (by a client: the tests).
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A result, parsed.
    Next(serde_json::Value),
    Complete,
    Heartbeat,
}

/// Takes the first whole frame off the front of `buffer` (bytes read so far): `None` until one
/// is whole; an error for text that is not a frame of this module's framing.
pub fn take_frame(buffer: &mut Vec<u8>) -> Option<Result<Frame, String>> {
    let end = buffer.windows(2).position(|w| w == b"\n\n")?;
    let raw: Vec<u8> = buffer.drain(..end + 2).collect();
    if raw == HEARTBEAT_COMMENT {
        return Some(Ok(Frame::Heartbeat));
    }
    if raw == COMPLETE {
        return Some(Ok(Frame::Complete));
    }
    let text = String::from_utf8_lossy(&raw);
    let parsed = text
        .strip_prefix("event: next\ndata: ")
        .and_then(|r| r.strip_suffix("\n\n"))
        .and_then(|data| serde_json::from_str(data).ok());
    Some(
        parsed
            .map(Frame::Next)
            .ok_or_else(|| format!("not a frame of the protocol: {text:?}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_with_event_stream_among_others_asks_for_a_stream() {
        let mut headers = HeaderMap::new();
        assert!(!wants_event_stream(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, Text/Event-Stream"),
        );
        assert!(wants_event_stream(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_event_stream(&headers));
    }

    #[test]
    fn a_result_is_one_next_event_on_one_data_line() {
        let result = GraphQLResponse::new(async_graphql::Value::String("a\nb".into()));
        assert_eq!(
            next_frame(&result),
            Bytes::from_static(b"event: next\ndata: {\"data\":\"a\\nb\"}\n\n")
        );
    }
}
