//! A subscription to a subgraph over WebSocket, `graphql-transport-ws` (the `graphql-ws`
//! library's protocol): one subscription per connection. The gateway connects (TCP, then TLS
//! by rustls on ring with the built-in roots for `wss://`), sends `connection_init` (its
//! payload: the headers the subgraph's rules give the request, which servers that read auth
//! from the payload find there; they also go on the upgrade request), waits for
//! `connection_ack`, subscribes under id `1`, and reads `next` results until `complete`.
//! `error` is read as one result with those errors, then the end. Pings are answered; a
//! connection silent for [`super::IDLE`] is pinged once, and taken as broken if it stays so.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{CONNECT, IDLE, SourceError};

/// A byte stream, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How long the subgraph has to acknowledge `connection_init`.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// An open subscription over a WebSocket.
pub struct WsSource {
    socket: WebSocketStream<Box<dyn Io>>,
    pub(super) done: bool,
    pub(super) completed: bool,
    /// Errors the subgraph sent for the subscription, to hand over as its last result.
    pending: Option<Bytes>,
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// `http(s)://` as `ws(s)://`; a `ws(s)://` URL as it is.
fn ws_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        url.to_owned()
    }
}

fn failed(why: impl std::fmt::Display) -> SourceError {
    SourceError::Http(why.to_string())
}

/// The TCP connection to `uri`'s host, wrapped in TLS for `wss://`.
async fn connect(uri: &http::Uri) -> Result<Box<dyn Io>, SourceError> {
    let secure = uri.scheme_str() == Some("wss");
    let host = uri.host().ok_or_else(|| failed("the URL has no host"))?;
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = tokio::time::timeout(CONNECT, tokio::net::TcpStream::connect((host, port)))
        .await
        .map_err(|_| failed("connecting timed out"))?
        .map_err(failed)?;
    let _ = tcp.set_nodelay(true);
    if !secure {
        return Ok(Box::new(tcp));
    }
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // The process's provider: ring, the one rustls is built with here (as for fetches).
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(failed)?;
    let tls = tokio::time::timeout(
        CONNECT,
        tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .map_err(|_| failed("the TLS handshake timed out"))?
    .map_err(failed)?;
    Ok(Box::new(tls))
}

/// Sends `text` on `socket` within [`CONNECT`]: a subgraph that stops reading is taken as
/// broken, not waited for.
async fn send(
    socket: &mut WebSocketStream<Box<dyn Io>>,
    text: impl Into<String>,
) -> Result<(), SourceError> {
    let text: String = text.into();
    tokio::time::timeout(CONNECT, socket.send(Message::Text(text.into())))
        .await
        .map_err(|_| failed("writing to the subgraph timed out"))?
        .map_err(failed)
}

impl WsSource {
    /// Connects to the subgraph at `url` and subscribes with `body` (the encoded GraphQL
    /// request) as the `subscribe` payload.
    pub async fn open(
        url: &str,
        body: &[u8],
        headers: &[(HeaderName, HeaderValue)],
        max_event_bytes: usize,
    ) -> Result<WsSource, SourceError> {
        let url = ws_url(url);
        let mut request = url.as_str().into_client_request().map_err(failed)?;
        let uri = request.uri().clone();
        {
            let sent = request.headers_mut();
            for (name, value) in headers {
                sent.insert(name.clone(), value.clone());
            }
            sent.insert(
                http::header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static("graphql-transport-ws"),
            );
        }
        let stream = connect(&uri).await?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_event_bytes))
            .max_frame_size(Some(max_event_bytes));
        let (mut socket, _) = tokio::time::timeout(
            CONNECT,
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)),
        )
        .await
        .map_err(|_| failed("the WebSocket handshake timed out"))?
        .map_err(failed)?;
        let payload: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.into())))
            .collect();
        let init = serde_json::json!({ "type": "connection_init", "payload": payload });
        send(&mut socket, init.to_string()).await?;
        // Acknowledged (pings answered meanwhile), or refused.
        let acknowledged = tokio::time::timeout(ACK_TIMEOUT, async {
            while let Some(message) = socket.next().await {
                let text = match message.map_err(failed)? {
                    Message::Text(text) => text,
                    Message::Close(frame) => {
                        return Err(failed(format!(
                            "the subgraph closed the connection: {}",
                            frame.map_or_else(String::new, |f| format!("{} {}", f.code, f.reason))
                        )));
                    }
                    _ => continue,
                };
                let message: Incoming<'_> = serde_json::from_str(text.as_str()).map_err(failed)?;
                match message.kind {
                    "connection_ack" => return Ok(()),
                    "ping" => send(&mut socket, r#"{"type":"pong"}"#).await?,
                    _ => {}
                }
            }
            Err(failed(
                "the subgraph closed the connection before acknowledging it",
            ))
        })
        .await
        .map_err(|_| failed("the subgraph did not acknowledge connection_init"))?;
        acknowledged?;
        let mut subscribe = br#"{"id":"1","type":"subscribe","payload":"#.to_vec();
        subscribe.extend_from_slice(body);
        subscribe.push(b'}');
        let subscribe = String::from_utf8(subscribe).map_err(failed)?;
        send(&mut socket, subscribe).await?;
        Ok(WsSource {
            socket,
            done: false,
            completed: false,
            pending: None,
        })
    }

    /// The next result; `None` once the subscription is over (see `completed`).
    pub async fn next(&mut self) -> Option<Result<Bytes, SourceError>> {
        if let Some(errors) = self.pending.take() {
            return Some(Ok(errors));
        }
        let mut pinged = false;
        while !self.done {
            let message = match tokio::time::timeout(IDLE, self.socket.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(e))) => {
                    self.done = true;
                    return Some(Err(failed(e)));
                }
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(_) if !pinged => {
                    pinged = true;
                    if send(&mut self.socket, r#"{"type":"ping"}"#).await.is_err() {
                        self.done = true;
                        return None;
                    }
                    continue;
                }
                Err(_) => {
                    self.done = true;
                    return Some(Err(failed("the connection went silent")));
                }
            };
            pinged = false;
            let text = match message {
                Message::Text(text) => text,
                Message::Close(_) => {
                    self.done = true;
                    return None;
                }
                _ => continue, // WebSocket pings are answered by tungstenite
            };
            let Ok(message) = serde_json::from_str::<Incoming<'_>>(text.as_str()) else {
                self.done = true;
                return Some(Err(failed("a message that is not graphql-transport-ws")));
            };
            match message.kind {
                "next" => {
                    let payload = message.payload.map_or("null", RawValue::get);
                    return Some(Ok(Bytes::copy_from_slice(payload.as_bytes())));
                }
                "error" => {
                    // Refused before it ran: one result with the errors, then the end.
                    self.done = true;
                    self.completed = true;
                    let errors = message.payload.map_or("[]", RawValue::get);
                    return Some(Ok(Bytes::from(format!("{{\"errors\":{errors}}}"))));
                }
                "complete" => {
                    self.done = true;
                    self.completed = true;
                    let _ = tokio::time::timeout(CONNECT, self.socket.close(None)).await;
                    return None;
                }
                "ping" => {
                    let answered = send(&mut self.socket, r#"{"type":"pong"}"#).await;
                    if answered.is_err() {
                        self.done = true;
                        return None;
                    }
                }
                _ => {} // pong, a late ack
            }
        }
        None
    }
}
