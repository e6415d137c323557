//! GraphQL POSTs: send, wait for the whole answer (or the time-out), and read its status and
//! error codes. Answers past [`KEEP`] bytes are still read to the end (so the gateway is not
//! blocked writing) but not kept.

use std::time::{Duration, Instant};

use crate::judge::{Ending, error_codes};

/// Bytes of an answer kept to read its errors.
const KEEP: usize = 64 * 1024 * 1024;

/// Sends every body in `bodies` at once to `url`; the result is the slowest one's time and the
/// endings merged (codes added up; the first ending that is not an answer wins).
pub async fn send_all(url: &str, bodies: &[String], timeout: Duration) -> (Ending, Duration) {
    let started = Instant::now();
    let client = match reqwest::Client::builder().build() {
        Ok(c) => c,
        Err(e) => return (Ending::Failed(e.to_string()), Duration::ZERO),
    };
    let sends = bodies.iter().map(|body| {
        let client = client.clone();
        let body = body.clone();
        async move {
            let one = send(&client, url, body);
            match tokio::time::timeout(timeout, one).await {
                Ok(ending) => (ending, started.elapsed()),
                Err(_) => (Ending::TimedOut, timeout),
            }
        }
    });
    let results = futures::future::join_all(sends).await;
    let elapsed = results.iter().map(|r| r.1).max().unwrap_or_default();
    (merge(results.into_iter().map(|r| r.0).collect()), elapsed)
}

async fn send(client: &reqwest::Client, url: &str, body: String) -> Ending {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let mut response = match response {
        Ok(r) => r,
        Err(e) => return Ending::Failed(short(&e)),
    };
    let status = response.status().as_u16();
    let mut kept = Vec::new();
    let mut bytes = 0u64;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                bytes += chunk.len() as u64;
                if kept.len() < KEEP {
                    kept.extend_from_slice(&chunk);
                }
            }
            Ok(None) => break,
            Err(e) => return Ending::Failed(format!("HTTP {status}, body cut: {}", short(&e))),
        }
    }
    let (codes, data) = if bytes as usize <= KEEP {
        match serde_json::from_slice::<serde_json::Value>(&kept) {
            Ok(json) => (
                error_codes(&json),
                json.get("data").is_some_and(|d| !d.is_null()),
            ),
            Err(_) => (vec![("NOT_JSON".to_owned(), 1)], false),
        }
    } else {
        // Too big to keep: a `data` answer is all that fits the gateway's answers this size.
        (Vec::new(), kept.starts_with(b"{\"data\""))
    };
    Ending::Answered {
        status,
        codes,
        data,
        bytes,
    }
}

/// One ending for several requests sent together.
pub fn merge(endings: Vec<Ending>) -> Ending {
    let mut merged: Option<Ending> = None;
    for ending in endings {
        merged = Some(match (merged, ending) {
            (None, e) => e,
            (
                Some(Ending::Answered {
                    status,
                    mut codes,
                    data,
                    bytes,
                }),
                Ending::Answered {
                    codes: more,
                    data: more_data,
                    bytes: more_bytes,
                    status: other,
                },
            ) => {
                for (code, n) in more {
                    match codes.iter_mut().find(|(c, _)| *c == code) {
                        Some((_, m)) => *m += n,
                        None => codes.push((code, n)),
                    }
                }
                Ending::Answered {
                    status: status.max(other),
                    codes,
                    data: data && more_data,
                    bytes: bytes + more_bytes,
                }
            }
            (Some(Ending::Answered { .. }), other) => other,
            (Some(first), _) => first,
        });
    }
    merged.unwrap_or(Ending::Failed("nothing sent".into()))
}

/// reqwest's error without the URL (always the gateway's).
fn short(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    let mut source: &dyn std::error::Error = e;
    while let Some(s) = source.source() {
        source = s;
    }
    format!("{kind}: {source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, codes: &[(&str, usize)], data: bool) -> Ending {
        Ending::Answered {
            status,
            codes: codes.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect(),
            data,
            bytes: 10,
        }
    }

    #[test]
    fn merging_adds_codes_and_keeps_the_worst_ending() {
        let merged = merge(vec![
            answered(200, &[("A", 1)], true),
            answered(400, &[("A", 2), ("B", 1)], false),
        ]);
        assert_eq!(
            merged,
            Ending::Answered {
                status: 400,
                codes: vec![("A".into(), 3), ("B".into(), 1)],
                data: false,
                bytes: 20,
            }
        );
        assert_eq!(
            merge(vec![answered(200, &[], true), Ending::TimedOut]),
            Ending::TimedOut
        );
        assert_eq!(
            merge(vec![Ending::Closed, answered(200, &[], true)]),
            Ending::Closed
        );
        assert!(matches!(merge(vec![]), Ending::Failed(_)));
    }
}
