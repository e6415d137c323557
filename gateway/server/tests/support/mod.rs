//! What the end-to-end test files share: the reference subgraphs on ephemeral ports, their
//! composition, a scratch folder per test, and `weft` run as a real process. Each test file
//! uses part of it (`mod support;`), hence the `dead_code` allowance.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};

use tokio::net::TcpListener;
use weft_accounts::Accounts;
use weft_federation::compose::{SubgraphInput, compose};
use weft_inventory::Inventory;
use weft_products::Products;
use weft_reviews::Reviews;
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Running, Subgraph, spawn_with};

/// A child process killed (and reaped) when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One reference subgraph with its own in-memory database, recording its requests.
pub async fn subgraph<S: Subgraph>() -> Running {
    let db = open::<S>(None).await.expect("db");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    spawn_with::<S>(listener, db, true).expect("spawn")
}

/// The four reference subgraphs.
pub async fn reference_subgraphs() -> Vec<Running> {
    vec![
        subgraph::<Accounts>().await,
        subgraph::<Products>().await,
        subgraph::<Inventory>().await,
        subgraph::<Reviews>().await,
    ]
}

/// A reference subgraph's SDL by name.
pub fn sdl_of(name: &str) -> String {
    match name {
        "accounts" => Accounts::sdl(),
        "products" => Products::sdl(),
        "inventory" => Inventory::sdl(),
        "orders" => weft_orders::Orders::sdl(),
        _ => Reviews::sdl(),
    }
}

/// Composition inputs for running subgraphs, at their own URLs.
pub fn inputs(subgraphs: &[Running]) -> Vec<SubgraphInput> {
    subgraphs
        .iter()
        .map(|s| SubgraphInput {
            name: s.name.to_owned(),
            url: s.url(),
            sdl: sdl_of(s.name),
            source: s.name.to_owned(),
        })
        .collect()
}

/// The supergraph of `inputs`, composed by Weft.
pub fn supergraph(inputs: &[SubgraphInput]) -> String {
    compose(inputs).expect("compose").supergraph_sdl
}

/// A fresh scratch folder for one test (`tag`), unique per process and `port`.
pub fn scratch(tag: &str, port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-{tag}-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `weft` binary as a command, without any `WEFT_*` variable of the environment: the
/// tests set the ones they mean; none may leak in from the caller.
pub fn weft_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WEFT_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `weft serve --listen 127.0.0.1:0` with `args` (plus `--supergraph FILE` or
/// `--config FILE` given by the caller), without any `WEFT_*` variable of the environment and
/// its log dropped; the process and the GraphQL URL it prints once it listens.
pub fn serve<I, A>(args: I) -> (Process, String)
where
    I: IntoIterator<Item = A>,
    A: AsRef<OsStr>,
{
    let mut command = weft_command();
    command.stderr(Stdio::null());
    serve_with(command, args)
}

/// Like [`serve`], from a [`weft_command`] the caller has prepared (environment variables of
/// its own, the log kept in a file).
pub fn serve_with<I, A>(mut command: Command, args: I) -> (Process, String)
where
    I: IntoIterator<Item = A>,
    A: AsRef<OsStr>,
{
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start weft serve");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line.split_whitespace().last().expect("url").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (Process(child), url)
}

/// Subgraphs with `weft serve` in front of them; the gateway stops when this is dropped.
pub struct Stack {
    pub subgraphs: Vec<Running>,
    /// The gateway's GraphQL URL.
    pub url: String,
    _gateway: Process,
}

impl Stack {
    /// [`serve`] with `args`, in front of `subgraphs`.
    pub fn serve<I, A>(subgraphs: Vec<Running>, args: I) -> Stack
    where
        I: IntoIterator<Item = A>,
        A: AsRef<OsStr>,
    {
        let (gateway, url) = serve(args);
        Stack {
            subgraphs,
            url,
            _gateway: gateway,
        }
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self._gateway.0.id()
    }

    /// Subgraph requests so far, all subgraphs together.
    pub fn requests(&self) -> u64 {
        self.subgraphs.iter().map(|s| s.requests.count()).sum()
    }
}

/// Percent-encodes everything but unreserved characters (for query strings).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends `method` to `url` (with `query_string` if not empty), exactly these headers (reqwest
/// adds `accept: */*` when none is given, and no `content-type` for a raw body) and `body`.
pub async fn send(
    url: &str,
    method: reqwest::Method,
    query_string: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> reqwest::Response {
    let url = if query_string.is_empty() {
        url.to_owned()
    } else {
        format!("{url}?{query_string}")
    };
    let mut req = reqwest::Client::new().request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    req.send().await.unwrap()
}

/// POSTs `query` as JSON to the gateway at `url` with `headers` besides; the status and the
/// JSON answer.
pub async fn query(url: &str, headers: &[(&str, &str)], query: &str) -> (u16, serde_json::Value) {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    let body = serde_json::json!({ "query": query }).to_string();
    let res = send(url, reqwest::Method::POST, "", &all, Some(body)).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// POSTs `query` with `variables` as JSON; the status and the JSON answer.
pub async fn query_with(
    url: &str,
    query: &str,
    variables: serde_json::Value,
) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
    let all = [("content-type", "application/json")];
    let res = send(url, reqwest::Method::POST, "", &all, Some(body)).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The sha256 of `text` in hex, from `sha256sum`: the gateway's own hashing is under test, so
/// the expected hashes come from elsewhere (every test machine has coreutils).
pub fn sha256(text: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// A scratch folder (`tag`) holding the supergraph of `subgraphs` and a `weft.yaml` that
/// serves it with `yaml` appended; the config file's path.
pub fn config_file(tag: &str, subgraphs: &[Running], yaml: &str) -> PathBuf {
    let dir = scratch(tag, subgraphs[0].addr.port());
    write_config(&dir, &inputs(subgraphs), yaml)
}

/// A composition input named `name` (its source too) at `url` with `sdl`.
pub fn input(name: &str, url: &str, sdl: &str) -> SubgraphInput {
    SubgraphInput {
        name: name.to_owned(),
        url: url.to_owned(),
        sdl: sdl.to_owned(),
        source: name.to_owned(),
    }
}

/// Like [`config_file`], composing `inputs`, in a scratch folder of its own on each call.
pub fn composed_config(tag: &str, inputs: &[SubgraphInput], yaml: &str) -> PathBuf {
    static CALLS: AtomicU16 = AtomicU16::new(0);
    let dir = scratch(tag, CALLS.fetch_add(1, Ordering::SeqCst));
    write_config(&dir, inputs, yaml)
}

/// Writes the supergraph of `inputs` into `dir` and a `weft.yaml` beside it that serves it with
/// `yaml` appended; the config file's path.
fn write_config(dir: &Path, inputs: &[SubgraphInput], yaml: &str) -> PathBuf {
    std::fs::write(dir.join("supergraph.graphql"), supergraph(inputs)).unwrap();
    let config = dir.join("weft.yaml");
    std::fs::write(
        &config,
        format!("supergraph:\n  path: supergraph.graphql\n{yaml}"),
    )
    .unwrap();
    config
}

/// `/metrics` of the gateway whose GraphQL endpoint is `graphql_url`.
pub async fn metrics(graphql_url: &str) -> String {
    let base = graphql_url.strip_suffix("/graphql").unwrap_or(graphql_url);
    reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// What the supergraph host saw of one request: `If-None-Match`, `X-Hive-CDN-Key`, and the
/// status it answered.
pub type HostRequest = (Option<String>, Option<String>, u16);

/// An HTTP server publishing a supergraph at `/supergraph.graphql`, as a CDN or an object store
/// would: an `ETag` (the text's sha256) on each answer and `304 Not Modified` to a request
/// whose `If-None-Match` names the current one. Every request is recorded.
pub struct SupergraphHost {
    pub url: String,
    text: std::sync::Arc<std::sync::Mutex<String>>,
    /// `(If-None-Match, X-Hive-CDN-Key)` of each request, and its status.
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<HostRequest>>>,
    /// When set, every request gets this status and no body (the host is failing).
    pub failing: std::sync::Arc<std::sync::atomic::AtomicU16>,
}

impl SupergraphHost {
    pub async fn start(text: &str) -> SupergraphHost {
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::IntoResponse;
        let state = std::sync::Arc::new(std::sync::Mutex::new(text.to_owned()));
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let failing = std::sync::Arc::new(AtomicU16::new(0));
        let (s, r, f) = (state.clone(), requests.clone(), failing.clone());
        let serve = move |path: &'static str| {
            let (s, r, f) = (s.clone(), r.clone(), f.clone());
            axum::routing::get(move |headers: HeaderMap| async move {
                let text = s.lock().unwrap().clone();
                let etag = format!("\"{}\"", &sha256(&text)[..16]);
                let seen = |name: &str| {
                    headers
                        .get(name)
                        .map(|v| v.to_str().unwrap_or_default().to_owned())
                };
                let (inm, key) = (seen("if-none-match"), seen("x-hive-cdn-key"));
                let failing = f.load(Ordering::SeqCst);
                let status = if failing != 0 {
                    failing
                } else if path == "/artifacts/v1/target/supergraph" && key.as_deref() != Some("k3y")
                {
                    403
                } else if inm.as_deref() == Some(etag.as_str()) {
                    304
                } else {
                    200
                };
                r.lock().unwrap().push((inm, key, status));
                let code = StatusCode::from_u16(status).unwrap();
                if status == 200 {
                    (code, [(header::ETAG, etag)], text).into_response()
                } else {
                    (code, [(header::ETAG, etag)], String::new()).into_response()
                }
            })
        };
        let app = axum::Router::new()
            .route("/supergraph.graphql", serve("/supergraph.graphql"))
            .route(
                "/artifacts/v1/target/supergraph",
                serve("/artifacts/v1/target/supergraph"),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        SupergraphHost {
            url: format!("http://{addr}/supergraph.graphql"),
            text: state,
            requests,
            failing,
        }
    }

    /// The host's root (for the Hive CDN path).
    pub fn base(&self) -> String {
        self.url.trim_end_matches("/supergraph.graphql").to_owned()
    }

    /// Publishes `text`: the next request gets it.
    pub fn publish(&self, text: &str) {
        *self.text.lock().unwrap() = text.to_owned();
    }
}

/// `/ready`'s JSON of the gateway whose GraphQL endpoint is `graphql_url`, with its status.
pub async fn ready(graphql_url: &str) -> (u16, serde_json::Value) {
    let base = graphql_url.strip_suffix("/graphql").unwrap_or(graphql_url);
    let res = reqwest::get(format!("{base}/ready")).await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

/// The sum of the samples of `/metrics` text whose line starts with `series`.
pub fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(series))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The HMAC secret of the tests' HS256 tokens (`hs256_jwks`, `hs256_token`).
const HS256_SECRET: &[u8] = b"a shared secret of at least thirty-two bytes!";

/// A JWKS document with the tests' HS256 key, key id `hs`.
pub fn hs256_jwks() -> String {
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    let key = jsonwebtoken::EncodingKey::from_secret(HS256_SECRET).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::HS256).unwrap();
    jwk.common.key_id = Some("hs".to_owned());
    serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap()
}

/// An HS256 token (key id `hs`) with `claims` and an hour to live.
pub fn hs256_token(claims: serde_json::Value) -> String {
    hs256_token_for(claims, 3600)
}

/// An HS256 token (key id `hs`) with `claims`, valid for `ttl_secs` more seconds.
pub fn hs256_token_for(mut claims: serde_json::Value, ttl_secs: u64) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + ttl_secs;
    claims["exp"] = serde_json::json!(exp);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("hs".to_owned());
    encode(
        &header,
        &claims,
        &EncodingKey::from_secret(HS256_SECRET).unwrap(),
    )
    .unwrap()
}

/// The supergraph of the reference subgraphs, without `reviews` (v1) and with it (v2).
pub async fn supergraph_versions() -> (Vec<weft_subgraph_kit::Running>, String, String) {
    let subgraphs = reference_subgraphs().await;
    let all = inputs(&subgraphs);
    let without: Vec<_> = all
        .iter()
        .filter(|i| i.name != "reviews")
        .cloned()
        .collect();
    let v1 = supergraph(&without);
    let v2 = supergraph(&all);
    (subgraphs, v1, v2)
}

/// A subgraph on an ephemeral port answering each request with `answer`, keeping the
/// requests it got (to count and read them).
pub struct Recorded {
    pub url: String,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Recorded {
    /// The requests got since the last call.
    pub fn take(&self) -> Vec<serde_json::Value> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// Serves a [`Recorded`] subgraph at `/graphql`.
pub async fn recording_subgraph(
    answer: impl Fn(&serde_json::Value) -> serde_json::Value + Send + Sync + 'static,
) -> Recorded {
    recording_subgraph_after(std::time::Duration::ZERO, answer).await
}

/// [`recording_subgraph`], answering each request `delay` after it came.
pub async fn recording_subgraph_after(
    delay: std::time::Duration,
    answer: impl Fn(&serde_json::Value) -> serde_json::Value + Send + Sync + 'static,
) -> Recorded {
    use axum::routing::post;
    let answer = std::sync::Arc::new(answer);
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = requests.clone();
    let app = axum::Router::new().route(
        "/graphql",
        post(move |axum::Json(request): axum::Json<serde_json::Value>| {
            let answer = answer.clone();
            kept.lock().unwrap().push(request.clone());
            async move {
                tokio::time::sleep(delay).await;
                axum::Json(answer(&request))
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Recorded {
        url: format!("http://{addr}/graphql"),
        requests,
    }
}

/// Waits (10 s at most) until the gateway at `graphql_url` serves `count` subscriptions, as
/// its metrics say; panics if it never does.
pub async fn until_subscriptions(graphql_url: &str, count: usize) {
    let mut active = 0.0;
    for _ in 0..200 {
        active = sample(&metrics(graphql_url).await, "weft_subscriptions_active");
        if active == count as f64 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the gateway serves {active} subscriptions, not {count}");
}

/// A subscription through the gateway, read event by event as a client reads it: over SSE
/// (`text/event-stream`) or Apollo's multipart (`multipart/mixed;subscriptionSpec="1.0"`).
pub struct Events {
    response: reqwest::Response,
    buffer: String,
    multipart: bool,
}

impl Events {
    /// Subscribes with `query` and `variables`, over multipart when `multipart`, else SSE.
    pub async fn open(
        url: &str,
        query: &str,
        variables: serde_json::Value,
        multipart: bool,
    ) -> Events {
        let accept = if multipart {
            "multipart/mixed;subscriptionSpec=\"1.0\""
        } else {
            "text/event-stream"
        };
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(serde_json::json!({ "query": query, "variables": variables }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        Events {
            response,
            buffer: String::new(),
            multipart,
        }
    }

    /// The next result (`{"data": …}`), or `None` when the stream ended; within `wait`.
    pub async fn next_within(&mut self, wait: std::time::Duration) -> Option<serde_json::Value> {
        tokio::time::timeout(wait, self.next())
            .await
            .expect("an event within the time allowed")
    }

    async fn next(&mut self) -> Option<serde_json::Value> {
        loop {
            if let Some(event) = self.take() {
                match event {
                    Some(result) => return Some(result),
                    None => continue, // a heartbeat
                }
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// A whole event from the buffer: `Some(Some(result))`, `Some(None)` for a heartbeat,
    /// `None` when none is whole yet. The end of an SSE stream (`complete`) or multipart body
    /// reads as no more.
    fn take(&mut self) -> Option<Option<serde_json::Value>> {
        if self.multipart {
            let start = self.buffer.find("\r\n\r\n")?;
            let end = self.buffer[start + 4..].find("\r\n--graphql")? + start + 4;
            let json: serde_json::Value =
                serde_json::from_str(&self.buffer[start + 4..end]).unwrap();
            self.buffer.drain(..end + "\r\n--graphql".len());
            return Some(json.get("payload").cloned());
        }
        let end = self.buffer.find("\n\n")?;
        let block: String = self.buffer.drain(..end + 2).collect();
        let data: String = block
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim_start)
            .collect();
        if block.contains("event: complete") || data.is_empty() {
            return Some(None);
        }
        Some(Some(serde_json::from_str(&data).unwrap()))
    }
}
