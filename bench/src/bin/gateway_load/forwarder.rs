//! The counting forwarder: a small HTTP/1.1 proxy between a gateway and the public benchmark's
//! subgraphs. Each subgraph is reached at `http://<forwarder>/<name>`; the forwarder passes
//! the request on unchanged and counts, per subgraph, the requests and the entity
//! representations they carry (the length of every list passed as an `_entities`
//! `representations:` argument, whatever its variable's name). Both gateways go through it, so
//! both are counted by the same code, not by their own metrics. With a jitter it holds each
//! request back a random time first (the same sequence of times for every gateway).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One subgraph behind the forwarder, with what went to it.
struct Route {
    name: String,
    upstream: String,
    requests: AtomicU64,
    representations: AtomicU64,
}

struct Shared {
    routes: Vec<Route>,
    http: reqwest::Client,
    /// Each request waits a random 0 to this many ms before it is passed on.
    jitter_ms: u64,
    /// Requests passed on so far: the n-th waits the n-th time of a fixed sequence.
    passed: AtomicU64,
}

/// What one subgraph received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub name: String,
    pub requests: u64,
    pub representations: u64,
}

/// A running forwarder; it stops when dropped.
pub struct Forwarder {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Forwarder {
    /// Listens on a free local port; `routes` are (subgraph name, upstream URL) pairs; each
    /// request waits a random 0 to `jitter_ms` ms before it is passed on.
    pub async fn start(
        routes: Vec<(String, String)>,
        jitter_ms: u64,
    ) -> std::io::Result<Forwarder> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            routes: routes
                .into_iter()
                .map(|(name, upstream)| Route {
                    name,
                    upstream,
                    requests: AtomicU64::new(0),
                    representations: AtomicU64::new(0),
                })
                .collect(),
            // Gateways keep up to one connection per concurrent fetch; so does the forwarder
            // towards the subgraphs, so that it never serialises what a gateway sent at once.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1024)
                .build()
                .map_err(std::io::Error::other)?,
            jitter_ms,
            passed: AtomicU64::new(0),
        });
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("counting forwarder stopped: {e}");
            }
        });
        Ok(Forwarder { addr, shared, task })
    }

    /// The URL a gateway uses for subgraph `name`.
    pub fn url_of(addr: SocketAddr, name: &str) -> String {
        format!("http://{addr}/{name}")
    }

    /// Per subgraph, in the order the routes were given.
    pub fn tallies(&self) -> Vec<Tally> {
        self.shared
            .routes
            .iter()
            .map(|r| Tally {
                name: r.name.clone(),
                requests: r.requests.load(Ordering::Relaxed),
                representations: r.representations.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Requests and representations to all subgraphs so far.
    pub fn totals(&self) -> (u64, u64) {
        self.tallies()
            .iter()
            .fold((0, 0), |(q, r), t| (q + t.requests, r + t.representations))
    }
}

/// The n-th number of a fixed pseudo-random sequence (splitmix64's mix of `n`).
fn jitter(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Headers that belong to one connection, not to the request: never passed on.
fn hop_by_hop(name: &HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::HOST
        || name == header::CONTENT_LENGTH
        || name == header::TRANSFER_ENCODING
        || name == header::TE
        || name == header::UPGRADE
        || name == header::PROXY_AUTHORIZATION
        || name.as_str() == "keep-alive"
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let name = parts.uri.path().trim_start_matches('/');
    let Some(route) = shared.routes.iter().find(|r| r.name == name) else {
        return (StatusCode::NOT_FOUND, format!("no subgraph {name}")).into_response();
    };
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_REQUEST, "unreadable body").into_response();
    };
    route.requests.fetch_add(1, Ordering::Relaxed);
    route
        .representations
        .fetch_add(representations_in(&body), Ordering::Relaxed);
    if shared.jitter_ms > 0 {
        let n = shared.passed.fetch_add(1, Ordering::Relaxed);
        let ms = jitter(n) % (shared.jitter_ms + 1);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let mut upstream = shared.http.request(parts.method, &route.upstream);
    for (k, v) in &parts.headers {
        if !hop_by_hop(k) {
            upstream = upstream.header(k, v);
        }
    }
    let answer = match upstream.body(body).send().await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let Ok(bytes) = answer.bytes().await else {
        return (StatusCode::BAD_GATEWAY, "upstream answer cut short").into_response();
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (k, v) in &headers {
        if !hop_by_hop(k) {
            response.headers_mut().append(k, v.clone());
        }
    }
    response
}

/// The representations a subgraph request carries: the length of every list variable passed
/// as an `_entities` field's `representations:` argument, whatever the gateway named it
/// (`$representations`, `$representations_1`, Hive Router's `$__batch_reps_0`...), in one
/// operation or a batch of them. Anything else counts 0.
pub fn representations_in(body: &[u8]) -> u64 {
    fn of(operation: &serde_json::Value) -> u64 {
        let Some(query) = operation.get("query").and_then(|q| q.as_str()) else {
            return 0;
        };
        let Some(vars) = operation.get("variables").and_then(|v| v.as_object()) else {
            return 0;
        };
        let mut names = argument_variables(query, "representations");
        names.sort_unstable();
        names.dedup();
        names
            .iter()
            .filter_map(|n| vars.get(*n).and_then(|v| v.as_array()))
            .map(|a| a.len() as u64)
            .sum()
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(batch)) => batch.iter().map(of).sum(),
        Ok(operation) => of(&operation),
        Err(_) => 0,
    }
}

/// The variables passed as argument `name` in `query` (`name: $var`): a scan of the text, not
/// a parse, enough for the operations gateways send (a `$name:` variable definition is not an
/// argument and is skipped).
fn argument_variables<'q>(query: &'q str, name: &str) -> Vec<&'q str> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = query[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let is_word_start = query[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
        let rest = query[from..].trim_start();
        let Some(rest) = rest.strip_prefix(':').map(str::trim_start) else {
            continue;
        };
        let Some(var) = rest.strip_prefix('$') else {
            continue;
        };
        let len = var
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(var.len());
        if is_word_start && len > 0 {
            found.push(&var[..len]);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{jitter, representations_in};

    #[test]
    fn jitter_spreads_over_the_whole_range() {
        let mut seen = [0u32; 21];
        for n in 0..21_000 {
            seen[(jitter(n) % 21) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }

    #[test]
    fn counts_every_list_passed_as_representations() {
        let one = br#"{"query":"query($representations:[_Any!]!){_entities(representations: $representations){...on P{a}}}","variables":{"representations":[{"a":1},{"a":2}]}}"#;
        assert_eq!(representations_in(one), 2);
        // Hive Router's merged form: aliased _entities fields with variables of its own naming.
        let aliased = br#"{"query":"query($__batch_reps_0:[_Any!]!, $__batch_reps_1:[_Any!]!){_e0: _entities(representations: $__batch_reps_0){...on P{a}} _e1: _entities(representations:$__batch_reps_1){...on U{b}}}","variables":{"__batch_reps_0":[1],"__batch_reps_1":[1,2,3],"other":[1]}}"#;
        assert_eq!(representations_in(aliased), 4);
        // Weft's: `$representations` and `$representations_N`.
        let weft = br#"{"query":"query($representations:[_Any!]!,$representations_1:[_Any!]!){_entities(representations:$representations){...on P{a}} _entities_1:_entities(representations:$representations_1){...on P{b}}}","variables":{"representations":[1,2],"representations_1":[1]}}"#;
        assert_eq!(representations_in(weft), 3);
        let batch = br#"[{"query":"{_entities(representations: $r){a}}","variables":{"r":[1]}},{"query":"{_entities(representations: $r){a}}","variables":{"r":[1,2]}}]"#;
        assert_eq!(representations_in(batch), 3);
        // A list variable that is not passed as representations does not count.
        let unused = br#"{"query":"{ users { id } }","variables":{"representations":[1]}}"#;
        assert_eq!(representations_in(unused), 0);
        assert_eq!(representations_in(b"not json"), 0);
    }
}
