//! Attacks at the socket, over a raw TCP connection: a client that sends a heavy request and
//! leaves, and slowloris connections that stop mid-request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::judge::Ending;

/// Where a slow connection stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// Half the headers, no blank line.
    Headers,
    /// All headers (`Content-Length: 100`), then 8 bytes of the body.
    Body,
}

/// What a slow connection sends before it stops.
pub fn stalled_request(stall: Stall, host: &SocketAddr) -> String {
    match stall {
        Stall::Headers => {
            format!("POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n")
        }
        Stall::Body => format!(
            "POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n{{\"query\""
        ),
    }
}

/// A complete POST of `body` as raw bytes.
pub fn full_request(host: &SocketAddr, body: &str) -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The status of an HTTP/1.1 answer's first line (`HTTP/1.1 408 ...`).
pub fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/"))?;
    words.next()?.parse().ok()
}

/// Sends `body` and closes the connection after `after`, unless an answer came first.
pub async fn send_and_leave(addr: SocketAddr, body: &str, after: Duration) -> Ending {
    let mut stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Ending::Failed(format!("connect: {e}")),
    };
    if let Err(e) = stream.write_all(full_request(&addr, body).as_bytes()).await {
        return Ending::Failed(format!("write: {e}"));
    }
    let mut head = [0u8; 64];
    match tokio::time::timeout(after, stream.read(&mut head)).await {
        Ok(Ok(0)) => Ending::Closed,
        Ok(Ok(n)) => Ending::Answered {
            status: status_of(&head[..n]).unwrap_or(0),
            codes: Vec::new(),
            data: false,
            bytes: n as u64,
        },
        Ok(Err(e)) => Ending::Failed(format!("read: {e}")),
        // Dropping the stream closes it: the client has gone.
        Err(_) => Ending::Abandoned,
    }
}

/// Opens `connections` connections that stop at `stall` and waits, up to `timeout`, for the
/// server to close (or answer) every one. The time is until the last one ended.
pub async fn slowloris(
    addr: SocketAddr,
    stall: Stall,
    connections: usize,
    timeout: Duration,
) -> (Ending, Duration) {
    let started = Instant::now();
    let one = || async move {
        let mut stream: TcpStream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .write_all(stalled_request(stall, &addr).as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut head = [0u8; 64];
        // Any answer (a 408) or end of stream: the server let go of the connection.
        match stream.read(&mut head).await {
            Ok(0) | Err(_) => Ok(None),
            Ok(n) => Ok::<_, String>(status_of(&head[..n])),
        }
    };
    let all = futures::future::join_all((0..connections).map(|_| one()));
    match tokio::time::timeout(timeout, all).await {
        Err(_) => (Ending::TimedOut, timeout),
        Ok(results) => {
            let elapsed = started.elapsed();
            if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
                return (Ending::Failed(e.clone()), elapsed);
            }
            match results.iter().find_map(|r| r.clone().ok().flatten()) {
                Some(status) => (
                    Ending::Answered {
                        status,
                        codes: Vec::new(),
                        data: false,
                        bytes: 0,
                    },
                    elapsed,
                ),
                None => (Ending::Closed, elapsed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalled_requests_stop_where_they_should() {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let headers = stalled_request(Stall::Headers, &addr);
        assert!(headers.starts_with("POST /graphql HTTP/1.1\r\n"));
        assert!(!headers.contains("\r\n\r\n"), "no end of headers");
        let body = stalled_request(Stall::Body, &addr);
        let (head, sent) = body.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Content-Length: 100"));
        assert_eq!(sent.len(), 8);
    }

    #[test]
    fn full_requests_carry_their_length() {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let request = full_request(&addr, "{\"query\":\"{ a }\"}");
        let (head, body) = request.split_once("\r\n\r\n").unwrap();
        assert!(head.ends_with(&format!("Content-Length: {}", body.len())));
    }

    #[test]
    fn status_lines_are_read() {
        assert_eq!(status_of(b"HTTP/1.1 408 Request Timeout\r\n"), Some(408));
        assert_eq!(status_of(b"HTTP/1.1 200 OK\r\ncontent-type: x"), Some(200));
        assert_eq!(status_of(b"garbage"), None);
    }
}
