//! The accept loop of `weft serve`: hyper's HTTP/1.1 server (as `axum::serve` runs it) plus
//! the connection timeouts `axum::serve` does not offer (docs/http.md#server-limits):
//!
//! - a connection must deliver a request's headers within `server.header_read_timeout_ms`,
//!   counted from its opening or, on a kept-alive connection, from the request's first byte
//!   (slowloris: half the headers, then silence);
//! - a connection waiting for its next request closes after `server.idle_timeout_ms`.
//!
//! hyper's own `header_read_timeout` starts as soon as it waits for a request, so on a
//! kept-alive connection it would also be the idle timeout; each connection here keeps its own
//! small state instead ([`Activity`]): whether a request is being handled, since when it is
//! idle, and when the next request's first byte came. Body reads and whole requests are timed
//! by the GraphQL handler (`mod.rs`), which can answer with a status.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower_service::Service;
use weft_config::server::ServerConfig;

use crate::runtime::Live;

/// The address of the client at the other end of a request's connection (a request
/// extension: `rate_limit.client.key: address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// A share in the connection's being open (a request extension): graceful shutdown waits
/// until every share is dropped. A WebSocket upgrade takes one into the socket's task, which
/// outlives hyper's connection: without it the process could exit before the socket wrote its
/// "going away" close frame.
#[derive(Debug, Clone)]
pub struct Open {
    _share: watch::Receiver<()>,
}

/// The two connection timeouts, as read when the connection was accepted.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Option<Duration>,
    pub idle: Option<Duration>,
}

impl Timeouts {
    pub fn of(config: &ServerConfig) -> Timeouts {
        Timeouts {
            header_read: config.header_read_timeout(),
            idle: config.idle_timeout(),
        }
    }
}

/// What one connection is doing, shared by its socket (reads), its service (requests) and its
/// supervisor (the deadline).
struct Activity {
    opened: Instant,
    /// Requests being handled (HTTP/1.1 handles one at a time; pipelined ones wait in hyper).
    handling: AtomicU32,
    /// Milliseconds from `opened` to when the connection last became idle.
    idle_since: AtomicU64,
    /// Milliseconds from `opened` to the first byte read while idle, plus one; 0: none yet.
    first_byte: AtomicU64,
    /// Whether a request has been seen: the first one's headers are timed from `opened`.
    served: AtomicU32,
    changed: Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            handling: AtomicU32::new(0),
            idle_since: AtomicU64::new(0),
            first_byte: AtomicU64::new(0),
            served: AtomicU32::new(0),
            changed: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    fn read_bytes(&self) {
        if self.handling.load(Ordering::Acquire) == 0
            && self.first_byte.load(Ordering::Acquire) == 0
        {
            self.first_byte.store(self.now_ms() + 1, Ordering::Release);
            self.changed.notify_one();
        }
    }

    fn request_began(&self) {
        self.handling.fetch_add(1, Ordering::AcqRel);
        self.served.store(1, Ordering::Release);
        self.first_byte.store(0, Ordering::Release);
        self.changed.notify_one();
    }

    fn request_ended(&self) {
        self.idle_since.store(self.now_ms(), Ordering::Release);
        self.first_byte.store(0, Ordering::Release);
        self.handling.fetch_sub(1, Ordering::AcqRel);
        self.changed.notify_one();
    }

    /// When the connection must be closed if nothing changes; `None` while a request is
    /// handled (the handler times it) or when the timeout that applies is off.
    fn deadline(&self, timeouts: Timeouts) -> Option<Instant> {
        if self.handling.load(Ordering::Acquire) > 0 {
            return None;
        }
        let at = |ms: u64, after: Option<Duration>| {
            after.map(|d| self.opened + Duration::from_millis(ms) + d)
        };
        let first_byte = self.first_byte.load(Ordering::Acquire);
        if self.served.load(Ordering::Acquire) == 0 {
            // A new connection: its first request's headers are due from the opening.
            return at(0, timeouts.header_read);
        }
        if first_byte > 0 {
            return at(first_byte - 1, timeouts.header_read);
        }
        at(self.idle_since.load(Ordering::Acquire), timeouts.idle)
    }
}

/// The socket, telling [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read_bytes();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Marks a request handled until dropped (also when its future is dropped unfinished).
struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and waits for
/// the connections in progress to finish their requests (graceful shutdown), for
/// `server.shutdown_grace_ms` at most. Each connection
/// takes its timeouts from the configuration served when it was accepted.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    live: Arc<Live>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    let (done_tx, done_rx) = watch::channel(());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = stop_tx.closed() => break,
        };
        let _ = stream.set_nodelay(true);
        let timeouts = Timeouts::of(&live.current().config.server);
        let stop = stop_tx.clone();
        let done = done_rx.clone();
        tokio::spawn(connection(
            stream,
            ClientAddr(peer.ip()),
            router.clone(),
            timeouts,
            stop,
            done,
        ));
    }
    drop(done_rx);
    drop(listener);
    // Subscriptions would keep their connections open past any grace: they end now, told why.
    live.current()
        .subscriptions
        .end_all(crate::runtime::subscriptions::Ending::Shutdown);
    // Each connection finishes the request it is handling (its answer closes it); an idle
    // one closes at once. Past the grace period whatever is left is dropped with the runtime.
    let grace = live.current().config.server.shutdown_grace();
    let open = done_tx.receiver_count();
    tracing::info!(
        connections = open,
        "listener closed; finishing the requests in flight"
    );
    match grace {
        Some(grace) => {
            if tokio::time::timeout(grace, done_tx.closed()).await.is_err() {
                tracing::warn!(
                    connections = done_tx.receiver_count(),
                    "requests still in flight after {} ms (`server.shutdown_grace_ms`): \
                     closing them",
                    grace.as_millis()
                );
            }
        }
        None => done_tx.closed().await,
    }
}

/// An accept error: a connection that failed before it was accepted is skipped; anything else
/// (out of file descriptors) is logged and waited out, rather than spinning.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accepting a connection failed: {e}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Whether `response`'s body is written as it is made, for as long as its work goes on.
fn streamed(response: &axum::response::Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream") || t.starts_with("multipart/mixed"))
}

/// One connection, closed when its timeouts say so; `stop` closes on shutdown, and `done` is
/// dropped when the connection ends.
async fn connection(
    stream: TcpStream,
    peer: ClientAddr,
    router: Router,
    timeouts: Timeouts,
    stop: watch::Sender<()>,
    done: watch::Receiver<()>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let requests = activity.clone();
    let share = done.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        requests.request_began();
        request.extensions_mut().insert(peer);
        request.extensions_mut().insert(Open {
            _share: share.clone(),
        });
        let handling = Handling(requests.clone());
        let mut router = router.clone();
        async move {
            let response = router.call(request.map(Body::new)).await;
            // A response written as it is made (a subscription's events, `@defer`'s parts)
            // is still being handled until its body ends: no idle timeout closes the
            // connection under it (the stream's heartbeats are writes, which the idle clock
            // does not count).
            Ok::<_, std::convert::Infallible>(match response {
                Ok(response) if streamed(&response) => response.map(|body| {
                    use futures::StreamExt;
                    Body::from_stream(body.into_data_stream().map(move |chunk| {
                        let _handling = &handling;
                        chunk
                    }))
                }),
                Ok(response) => {
                    drop(handling);
                    response
                }
                Err(never) => match never {},
            })
        }
    });
    let mut conn = pin!(
        hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(io, service)
            // A WebSocket upgrade hands the connection to its handler (http/websocket).
            .with_upgrades()
    );
    let mut stopping = pin!(stop.closed());
    let mut shutting_down = false;
    loop {
        let deadline = activity.deadline(timeouts);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection ended: {e}");
                }
                break;
            }
            () = sleep_until(deadline) => {
                // Still due after the wake-up (a request may have begun meanwhile)?
                if activity.deadline(timeouts).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("closing a connection: header read or idle timeout");
                    break;
                }
            }
            () = activity.changed.notified() => {}
            () = &mut stopping, if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(done);
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header_read: Some(Duration::from_secs(10)),
        idle: Some(Duration::from_secs(60)),
    };

    #[test]
    fn deadlines_follow_what_the_connection_is_doing() {
        let a = Activity::new();
        let at = |ms: u64| a.opened + Duration::from_millis(ms);
        // New: the first request's headers are due 10 s after the opening, bytes or not.
        assert_eq!(a.deadline(T), Some(at(10_000)));
        a.read_bytes();
        assert_eq!(a.deadline(T), Some(at(10_000)));
        a.request_began();
        assert_eq!(a.deadline(T), None, "a request is timed by its handler");
        a.request_ended();
        // Idle from the end of the response (taken as 5 s after the opening): 60 s more.
        a.idle_since.store(5_000, Ordering::Release);
        assert_eq!(a.deadline(T), Some(at(65_000)));
        // The next request's first byte (at 25 s): its headers are due 10 s later.
        a.read_bytes();
        a.first_byte.store(25_001, Ordering::Release);
        assert_eq!(a.deadline(T), Some(at(35_000)));
        let off = Timeouts {
            header_read: None,
            idle: None,
        };
        assert_eq!(a.deadline(off), None);
    }
}
