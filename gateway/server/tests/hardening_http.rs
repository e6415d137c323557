#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Hardening of the HTTP edge (issue 19): what a hostile client cannot do to `weft serve` with
//! its default configuration, or with the limit under test made small. Real gateway process,
//! real subgraphs; raw TCP where the attack is below HTTP.

mod support;

use serde_json::{Value, json};
use weft_accounts::Accounts;

/// Issue 19, item 7: with `auth.forward_header: x-weft-claims` and a rule propagating every
/// `x-` header, a client's own `x-weft-claims` never reaches a subgraph (nor under another
/// name through `rename`); a verified token's claims do, alone.
#[tokio::test]
async fn a_client_cannot_forge_the_claims_header() {
    let accounts = support::subgraph::<Accounts>().await;
    let subgraphs = [accounts];
    let config = support::config_file(
        "forged-claims",
        &subgraphs,
        "auth:\n  jwks: [keys.json]\n  algorithms: [HS256]\n  forward_header: x-weft-claims\nheaders:\n  all:\n    \
         - propagate: { prefix: x- }\n    - rename: { from: x-weft-claims, to: x-claims-copy }\n",
    );
    std::fs::write(
        config.parent().unwrap().join("keys.json"),
        support::hs256_jwks(),
    )
    .unwrap();
    let arg = config.display().to_string();
    let (_gateway, url) = support::serve(["--config", arg.as_str()]);
    let forged = r#"{"sub":"999","scope":"admin"}"#;

    // No token: anonymous, and the forged header goes nowhere.
    let (status, body) = support::query(
        &url,
        &[("x-weft-claims", forged), ("x-tenant", "acme")],
        "{ me { name } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["name"].is_string(), "{body}");
    let seen = subgraphs[0].requests.headers();
    let last = seen.last().expect("the subgraph was asked");
    assert_eq!(last.get("x-tenant").unwrap(), "acme", "rules still apply");
    assert!(last.get("x-weft-claims").is_none(), "{last:?}");
    assert!(last.get("x-claims-copy").is_none(), "{last:?}");

    // A valid token and a forged header: the verified claims only.
    let bearer = format!(
        "Bearer {}",
        support::hs256_token(json!({ "sub": "user-1", "scope": "profile" }))
    );
    let (status, body) = support::query(
        &url,
        &[
            ("authorization", bearer.as_str()),
            ("x-weft-claims", forged),
        ],
        "{ me { name } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let seen = subgraphs[0].requests.headers();
    let last = seen.last().unwrap();
    let values: Vec<_> = last.get_all("x-weft-claims").iter().collect();
    assert_eq!(values.len(), 1, "{last:?}");
    let claims: Value = serde_json::from_slice(values[0].as_bytes()).unwrap();
    assert_eq!(claims["sub"], "user-1");
    assert_eq!(claims["scope"], "profile");
    assert!(last.get("x-claims-copy").is_none(), "{last:?}");
}

fn fixture(path: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../federation/tests/fixtures")
        .join(path)
}

/// Issue 19, item 12: a supergraph that links a spec `for: EXECUTION`/`SECURITY` Weft ignores
/// (here `cacheTag`) is refused at start with the link named at its line, and on reload the
/// last good supergraph keeps serving.
#[tokio::test]
async fn a_supergraph_with_unexecuted_features_is_not_served() {
    let context = fixture("fed2-features/supergraph.graphql");
    let err_file = std::env::temp_dir().join(format!("weft-unexecuted-{}.log", std::process::id()));
    let mut child = support::weft_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--supergraph"])
        .arg(&context)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .spawn()
        .unwrap();
    // Refused at once; one that serves instead is stopped after a while, and fails below.
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(support::Process(child));
    let stderr = std::fs::read_to_string(&err_file).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{stderr}");
    let line = std::fs::read_to_string(&context)
        .unwrap()
        .lines()
        .position(|l| l.contains("https://specs.apollo.dev/cacheTag/v0.1"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("supergraph.graphql:{line}:"))
            && stderr.contains("cacheTag/v0.1")
            && stderr.contains("hint:"),
        "{stderr}"
    );

    // Reload: the good supergraph serves, the bad one is logged and not applied.
    let accounts = support::subgraph::<Accounts>().await;
    let subgraphs = [accounts];
    let config = support::config_file("unexecuted", &subgraphs, "");
    let dir = config.parent().unwrap().to_owned();
    let log = dir.join("stderr.log");
    let mut child = support::weft_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let _gateway = support::Process(child);
    let url = first.split_whitespace().last().unwrap().to_owned();
    let ask = || support::query(&url, &[], "{ me { name } }");
    let (status, before) = ask().await;
    assert_eq!(status, 200, "{before}");
    assert!(before["data"]["me"]["name"].is_string(), "{before}");
    std::fs::copy(&context, dir.join("supergraph.graphql")).unwrap();
    let mut logged = String::new();
    for _ in 0..100 {
        logged = std::fs::read_to_string(&log).unwrap_or_default();
        if logged.contains("cacheTag/v0.1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(logged.contains("cacheTag/v0.1"), "{logged}");
    let (status, after) = ask().await;
    assert_eq!((status, &after), (200, &before));
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// A subgraph `slow` with `Query.slow: String` answering after `delay`; the gateway serving
/// it with `yaml` (under the top level of weft.yaml) and the gateway's GraphQL URL.
async fn slow_gateway(
    tag: &str,
    delay: std::time::Duration,
    yaml: &str,
) -> (support::Process, String) {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/graphql",
        post(move || async move {
            tokio::time::sleep(delay).await;
            axum::Json(json!({ "data": { "slow": "done" } }))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sdl = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.6\", \
               import: [\"@key\"])\ntype Query { slow: String }\n";
    let supergraph = support::supergraph(&[weft_federation::compose::SubgraphInput {
        name: "slow".into(),
        url: format!("http://{addr}/graphql"),
        sdl: sdl.into(),
        source: "slow.graphql".into(),
    }]);
    let dir = support::scratch(tag, addr.port());
    std::fs::write(dir.join("supergraph.graphql"), supergraph).unwrap();
    let config = dir.join("weft.yaml");
    std::fs::write(
        &config,
        format!("supergraph:\n  path: supergraph.graphql\n{yaml}"),
    )
    .unwrap();
    let arg = config.display().to_string();
    support::serve(["--config", arg.as_str()])
}

/// The gateway's address from its GraphQL URL.
fn address(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_owned()
}

/// Everything the server sends on `stream` until it closes it, or `None` if it is still
/// open after `within`.
async fn until_closed(
    stream: &mut tokio::net::TcpStream,
    within: std::time::Duration,
) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

/// Issue 19, item 8 (slowloris): half the headers, then silence; full headers and 8 of 100
/// body bytes; a kept-alive connection left idle. Each is closed after its timeout (1 s here),
/// the body one with 408 `BODY_READ_TIMEOUT`; none stays open (the test waits 10 s at most).
#[tokio::test]
async fn slow_clients_are_cut_off() {
    use tokio::io::AsyncWriteExt;
    let (_gateway, url) = slow_gateway(
        "slowloris",
        std::time::Duration::ZERO,
        "server:\n  header_read_timeout_ms: 1000\n  body_read_timeout_ms: 1000\n  \
         idle_timeout_ms: 1000\n",
    )
    .await;
    let addr = address(&url);
    let wait = std::time::Duration::from_secs(10);

    // Half the headers.
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Ty")
        .await
        .unwrap();
    let sent = until_closed(&mut half, wait).await;
    assert_eq!(
        sent.as_deref(),
        Some(""),
        "half headers: not closed, or answered"
    );

    // Nothing at all.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    assert_eq!(until_closed(&mut silent, wait).await.as_deref(), Some(""));

    // Full headers, 8 of 100 body bytes.
    let mut body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    body.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"query\"",
    )
    .await
    .unwrap();
    let sent = until_closed(&mut body, wait)
        .await
        .expect("body: still open");
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(sent.contains("BODY_READ_TIMEOUT"), "{sent}");

    // A whole request answered, then the kept-alive connection left idle.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let query = r#"{"query":"{ slow }"}"#;
    idle.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{query}",
            query.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let sent = until_closed(&mut idle, wait)
        .await
        .expect("idle: still open");
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
    assert!(sent.contains(r#"{"data":{"slow":"done"}}"#), "{sent}");

    // The gateway still serves.
    let (status, body) = support::query(&url, &[], "{ slow }").await;
    assert_eq!((status, body), (200, json!({ "data": { "slow": "done" } })));
}

/// A request past `server.request_timeout_ms` is answered 504 `GATEWAY_TIMEOUT` (its subgraph
/// request dropped), whatever the subgraph timeout.
#[tokio::test]
async fn a_request_past_its_time_gets_504() {
    let (_gateway, url) = slow_gateway(
        "request-timeout",
        std::time::Duration::from_secs(5),
        "server:\n  request_timeout_ms: 500\n",
    )
    .await;
    let accept = [("accept", "application/graphql-response+json")];
    let (status, body) = support::query(&url, &accept, "{ slow }").await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(code(&body), "GATEWAY_TIMEOUT", "{body}");
    assert!(body.get("data").is_none(), "{body}");
}

/// More than `server.max_in_flight` GraphQL requests at once: the extra ones get 503
/// `SERVER_OVERLOADED` with `Retry-After`, at once; `/health` answers meanwhile; once the
/// slow ones are done, requests are admitted again.
#[tokio::test]
async fn requests_over_the_in_flight_limit_are_shed() {
    let (_gateway, url) = slow_gateway(
        "shedding",
        std::time::Duration::from_secs(4),
        "server:\n  max_in_flight: 3\n",
    )
    .await;
    let slow: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { support::query(&url, &[], "{ slow }").await })
        })
        .collect();
    // Let the three take their slots first (a probe sent before them would take one).
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    // Until all three are in flight, a fourth may still be admitted: wait for a refusal.
    let mut refused = None;
    for _ in 0..40 {
        let res = support::send(
            &url,
            reqwest::Method::POST,
            "",
            &[("content-type", "application/json")],
            Some(r#"{"query":"{ __typename }"}"#.to_owned()),
        )
        .await;
        if res.status() == 503 {
            refused = Some(res);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let refused = refused.expect("a request over the limit was admitted");
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(code(&body), "SERVER_OVERLOADED", "{body}");
    let health = reqwest::get(url.replace("/graphql", "/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    for task in slow {
        let (status, body) = task.await.unwrap();
        assert_eq!((status, body), (200, json!({ "data": { "slow": "done" } })));
    }
    let (status, _) = support::query(&url, &[], "{ __typename }").await;
    assert_eq!(status, 200);
    let metrics = support::metrics(&url).await;
    assert!(metrics.contains("SERVER_OVERLOADED"), "{metrics}");
}

/// A response over `server.max_response_bytes` is not sent: 500 `RESPONSE_TOO_LARGE`.
#[tokio::test]
async fn a_response_over_the_cap_is_refused() {
    let accounts = support::subgraph::<Accounts>().await;
    let subgraphs = [accounts];
    let config = support::config_file(
        "response-cap",
        &subgraphs,
        // One runtime (`work_runtime: false`): the cap holds on that path too.
        "server:\n  max_response_bytes: 200\n  work_runtime: false\n",
    );
    let arg = config.display().to_string();
    let (_gateway, url) = support::serve(["--config", arg.as_str()]);
    let (status, body) = support::query(&url, &[], "{ users { id name username } }").await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(code(&body), "RESPONSE_TOO_LARGE", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (status, body) = support::query(&url, &[], "{ me { name } }").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["name"].is_string(), "{body}");
}

/// `/health` and the accept loop stay responsive while the gateway is hammered: 200
/// connections holding half their headers and 100 GraphQL requests waiting on a slow
/// subgraph. Every probe answers 200 and a new request is served; the probes' times are
/// printed (not asserted: the machine is shared), to compare with the issue's 50 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_answers_while_the_gateway_is_hammered() {
    use tokio::io::AsyncWriteExt;
    let (_gateway, url) = slow_gateway("hammered", std::time::Duration::from_secs(3), "").await;
    let addr = address(&url);
    let mut held = Vec::new();
    for _ in 0..200 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Ty")
            .await
            .unwrap();
        held.push(c);
    }
    let client = reqwest::Client::new();
    let slow: Vec<_> = (0..100)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(r#"{"query":"{ slow }"}"#)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let health = url.replace("/graphql", "/health");
    let mut times = Vec::new();
    for _ in 0..20 {
        let started = std::time::Instant::now();
        let res = reqwest::get(&health).await.unwrap();
        times.push(started.elapsed());
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "ok");
    }
    let (status, body) = support::query(&url, &[], "{ __typename }").await;
    assert_eq!(
        (status, body),
        (200, json!({ "data": { "__typename": "Query" } }))
    );
    for task in slow {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }
    times.sort();
    eprintln!(
        "/health under load: median {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    drop(held);
}

/// Work stops when the client leaves: a request whose client closed its connection is
/// dropped (its in-flight slot freed at once), not carried on to its end. With
/// `max_in_flight: 1`, a request right after an abandoned slow one is admitted.
#[tokio::test]
async fn a_request_whose_client_left_is_dropped() {
    use tokio::io::AsyncWriteExt;
    let (_gateway, url) = slow_gateway(
        "client-left",
        std::time::Duration::from_secs(5),
        "server:\n  max_in_flight: 1\n",
    )
    .await;
    let addr = address(&url);
    let query = r#"{"query":"{ slow }"}"#;
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    c.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{query}",
            query.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // While it waits on the subgraph, it holds the only slot.
    let (status, body) = support::query(&url, &[], "{ __typename }").await;
    assert_eq!((status, code(&body)), (503, "SERVER_OVERLOADED"), "{body}");
    drop(c);
    let mut admitted = false;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (status, _) = support::query(&url, &[], "{ __typename }").await;
        if status == 200 {
            admitted = true;
            break;
        }
    }
    assert!(
        admitted,
        "the abandoned request still held its slot after 2 s"
    );
}

/// CPU-heavy requests do not starve the server: while two requests whose parsing and
/// validation take most of a second of CPU (150,000 selections, 1.6 MB, with the limits that
/// would refuse them off) occupy the gateway, `/health` answers at once (each probe within 1 s, a generous bound on a
/// shared machine; the issue's target is 50 ms), and each heavy request ends with an answer
/// (its error, or 504 past `server.request_timeout_ms`), not a hung connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cpu_heavy_requests_do_not_starve_health() {
    let (_gateway, url) = slow_gateway(
        "cpu-heavy",
        std::time::Duration::ZERO,
        "server:\n  request_timeout_ms: 2000\nlimits:\n  max_tokens: 0\n  max_root_fields: 0\n  \
         max_height: 0\n  max_selections: 0\n",
    )
    .await;
    let document = format!("{{ {}}}", "__typename ".repeat(150_000));
    let body = json!({ "query": document }).to_string();
    let client = reqwest::Client::new();
    let heavy: Vec<_> = (0..2)
        .map(|_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .timeout(std::time::Duration::from_secs(60))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let health = url.replace("/graphql", "/health");
    let probe = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap();
    let mut worst = std::time::Duration::ZERO;
    for _ in 0..10 {
        let started = std::time::Instant::now();
        let res = probe.get(&health).send().await.expect("/health within 1 s");
        assert_eq!(res.status(), 200);
        worst = worst.max(started.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    eprintln!("/health while CPU-heavy requests run: worst {worst:?}");
    for task in heavy {
        let status = task.await.unwrap().expect("the heavy request was answered");
        assert!((200..600).contains(&status), "{status}");
    }
}

/// A burst of documents the plan cache has not seen is planned one per core at once: the
/// gateway does not grow a thread (and with it an allocator heap) per request in flight, as it
/// did when every request handed its runtime worker to another thread to plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_new_documents_does_not_grow_a_thread_per_request() {
    let (gateway, url) = slow_gateway("burst", std::time::Duration::from_millis(20), "").await;
    let pid = gateway.0.id();
    let threads = || -> usize {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let client = reqwest::Client::new();
    // 300 aliases of one field: each document takes a while to validate and plan, so the
    // burst's requests overlap there. `tag` makes each document one the cache has not seen.
    let document = |tag: &str| {
        let fields: Vec<String> = (0..300).map(|j| format!("{tag}_{j}: slow")).collect();
        json!({ "query": format!("{{ {} }}", fields.join(" ")) })
    };
    let send = |body: Value| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            client
                .post(&url)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    // One first, so the threads that any planning starts are counted before the burst.
    assert_eq!(send(document("warm")).await.unwrap().unwrap(), 200);
    let before = threads();
    let burst: Vec<_> = (0..64).map(|i| send(document(&format!("r{i}")))).collect();
    for request in burst {
        assert_eq!(request.await.unwrap().unwrap(), 200);
    }
    // Idle blocking threads stay for seconds after their work: this counts the burst's peak.
    let after = threads();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        after <= before + cores + 2,
        "threads {before} -> {after} after 64 new documents at once, on {cores} cores"
    );
}
