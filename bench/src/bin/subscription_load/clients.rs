//! The clients: one subscription per connection, over GraphQL over SSE (distinct connections,
//! `POST` with `accept: text/event-stream`) or over a WebSocket speaking
//! `graphql-transport-ws`. Each reads its events into the run's [`Tally`] until the harness
//! aborts it.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::tally::{EventResult, Seen, Tally};

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Transport {
    Sse,
    Ws,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Sse => "sse",
            Transport::Ws => "ws",
        }
    }
}

pub const OPERATION: &str =
    "subscription($upc: String!) { stockChanged(upc: $upc) { upc stock emittedAt name } }";

/// Connections being opened at once: enough to open thousands in seconds, few enough that no
/// listen backlog overflows.
const OPENING_AT_ONCE: usize = 64;

/// The subscriptions of one run; dropping this closes them all.
pub struct Clients {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Clients {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The product subscription `i` watches: its own (`upc` `i + 1`) when `products` is 0, else
/// one of the first `products`, in turn.
pub fn upc_of(i: usize, products: usize) -> String {
    match products {
        0 => i + 1,
        k => i % k + 1,
    }
    .to_string()
}

/// Opens `n` subscriptions to the gateway at `url` (`http://…/graphql`), subscription `i` on
/// [`upc_of`]`(i, products)`, and returns at once: they establish in the background
/// ([`Tally::established`], [`Tally::receiving`]).
pub fn open(
    transport: Transport,
    url: &str,
    n: usize,
    products: usize,
    tally: &Arc<Tally>,
) -> Clients {
    let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        // One connection per stream: none is ever idle, none is shared.
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_default();
    let tasks = (0..n)
        .map(|i| {
            let upc = upc_of(i, products);
            let tally = tally.clone();
            let opening = opening.clone();
            let url = url.to_owned();
            let http = http.clone();
            tokio::spawn(async move {
                let Ok(permit) = opening.acquire_owned().await else {
                    return;
                };
                let outcome = match transport {
                    Transport::Sse => sse(&http, &url, &upc, &tally, permit).await,
                    Transport::Ws => ws(&url, &upc, &tally, permit).await,
                };
                if let Err(kind) = outcome {
                    tally.error(kind);
                }
            })
        })
        .collect();
    Clients { tasks }
}

fn request_body(upc: &str) -> serde_json::Value {
    json!({ "query": OPERATION, "variables": { "upc": upc } })
}

/// One subscription over SSE, read until it ends; `Err` with what went wrong.
async fn sse(
    http: &reqwest::Client,
    url: &str,
    upc: &str,
    tally: &Tally,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), String> {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(request_body(upc).to_string())
        .send()
        .await
        .map_err(|e| format!("SSE request failed: {}", kind_of(&e)))?;
    if !response.status().is_success() {
        return Err(format!("SSE answered {}", response.status().as_u16()));
    }
    tally.mark_established();
    drop(permit);
    let mut response = response;
    let mut pending: Vec<u8> = Vec::new();
    let mut seen = Seen::new(upc);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("SSE stream broke: {}", kind_of(&e)))?
    {
        pending.extend_from_slice(&chunk);
        while let Some(end) = memchr::memmem::find(&pending, b"\n\n") {
            let block: Vec<u8> = pending.drain(..end + 2).collect();
            if sse_block(&block[..end], tally, &mut seen) {
                return Err("SSE stream completed".into());
            }
        }
    }
    Err("SSE stream ended without complete".into())
}

/// One SSE block (its lines, without the blank line that ends it); whether it is `complete`.
fn sse_block(block: &[u8], tally: &Tally, seen: &mut Seen) -> bool {
    let mut event: &[u8] = b"";
    let mut data: Vec<u8> = Vec::new();
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(name) = line.strip_prefix(b"event:") {
            event = name.trim_ascii();
        } else if let Some(value) = line.strip_prefix(b"data:") {
            data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
        }
    }
    match event {
        b"complete" => true,
        // Distinct connections mode names every event `next`; a nameless one with data is
        // read as one too.
        b"next" | b"" if !data.is_empty() => {
            tally.event_text(&data, seen);
            false
        }
        _ => false,
    }
}

/// One message of `graphql-transport-ws` from the gateway.
#[derive(Deserialize)]
struct ServerMessage {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<serde_json::Value>,
}

/// One subscription over its own WebSocket, read until it ends; `Err` with what went wrong.
async fn ws(
    url: &str,
    upc: &str,
    tally: &Tally,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), String> {
    let ws_url = url.replacen("http://", "ws://", 1);
    let address = ws_url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut request = ws_url
        .into_client_request()
        .map_err(|e| format!("WebSocket request: {e}"))?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        tokio_tungstenite::tungstenite::http::HeaderValue::from_static("graphql-transport-ws"),
    );
    let stream = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(&address),
    )
    .await
    .map_err(|_| "WebSocket connect timed out".to_owned())?
    .map_err(|e| format!("WebSocket connect failed: {:?}", e.kind()))?;
    // Small buffers: thousands of sockets, events of a few hundred bytes.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut socket, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| {
                format!(
                    "WebSocket handshake failed: {}",
                    first_words(&e.to_string())
                )
            })?;
    let send = |text: String| Message::text(text);
    socket
        .send(send(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await
        .map_err(|_| "WebSocket send failed".to_owned())?;
    let mut seen = Seen::new(upc);
    let mut permit = Some(permit);
    while let Some(message) = socket.next().await {
        let message =
            message.map_err(|e| format!("WebSocket broke: {}", first_words(&e.to_string())))?;
        let text = match message {
            Message::Text(text) => text,
            Message::Close(frame) => {
                let code = frame.map(|f| u16::from(f.code)).unwrap_or(0);
                return Err(format!("WebSocket closed ({code})"));
            }
            _ => continue,
        };
        let Ok(message) = serde_json::from_str::<ServerMessage>(text.as_str()) else {
            tally.error("unreadable WebSocket message");
            continue;
        };
        match message.kind.as_str() {
            "connection_ack" => {
                let subscribe =
                    json!({ "id": "1", "type": "subscribe", "payload": request_body(upc) });
                socket
                    .send(send(subscribe.to_string()))
                    .await
                    .map_err(|_| "WebSocket send failed".to_owned())?;
                tally.mark_established();
                permit.take();
            }
            "next" => match message.payload.map(serde_json::from_value::<EventResult>) {
                Some(Ok(result)) => tally.event(result, &mut seen),
                _ => tally.error("unreadable event"),
            },
            "ping" => {
                let pong = json!({ "type": "pong" }).to_string();
                socket
                    .send(send(pong))
                    .await
                    .map_err(|_| "WebSocket send failed".to_owned())?;
            }
            "error" => return Err("WebSocket error message".into()),
            "complete" => return Err("WebSocket subscription completed".into()),
            _ => {}
        }
    }
    Err("WebSocket ended".into())
}

/// What kind of failure a reqwest error is, without the URL (the same for every client).
fn kind_of(error: &reqwest::Error) -> &'static str {
    if error.is_connect() {
        "connect"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "other"
    }
}

/// The first few words of an error, so that errors of one kind count together.
fn first_words(text: &str) -> String {
    text.split_whitespace()
        .take(5)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_get_a_product_each_or_share_the_first_ones() {
        assert_eq!(upc_of(0, 0), "1");
        assert_eq!(upc_of(9_999, 0), "10000");
        assert_eq!(upc_of(30, 30), "1");
        assert_eq!(upc_of(31, 30), "2");
    }

    #[test]
    fn sse_blocks_are_read_as_events_heartbeats_and_the_end() {
        let tally = Tally::default();
        let mut seen = Seen::new("1");
        let next = b"event: next\ndata: {\"data\":{\"stockChanged\":{\"upc\":\"1\",\"stock\":1,\"emittedAt\":0,\"name\":\"n\"}}}";
        assert!(!sse_block(next, &tally, &mut seen));
        assert!(!sse_block(b":", &tally, &mut seen));
        assert!(sse_block(b"event: complete\ndata:", &tally, &mut seen));
        assert_eq!(tally.delivered(), 1);
        assert!(tally.errors().is_empty());
    }
}
