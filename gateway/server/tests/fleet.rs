//! Issue 18's "done when": two `weft serve` replicas behind a real nginx (deploy/nginx/weft.conf,
//! its upstream pointed at them) sharing a Redis. A client rate limit of N per second holds
//! across both (±5% over 10 s); a rolling restart of both under steady load loses no request;
//! a supergraph published at the URL is live on both within one poll interval, and a broken
//! one is refused by both while they keep serving.
//!
//! Needs nginx (Debian's `nginx` package, installed by .ci/run) and Redis on 127.0.0.1:6379.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::{Process, SupergraphHost};

/// The client rate limit, per second.
const RATE: u64 = 20;
/// The supergraph poll interval, in milliseconds.
const POLL_MS: u64 = 1000;

/// A port free now (the replicas come back on the same one after a restart).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One replica: its fixed port, its config, the process while it runs.
struct Replica {
    port: u16,
    config: PathBuf,
    log: PathBuf,
    process: Option<Process>,
}

impl Replica {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    /// Starts `weft serve` and waits until it serves.
    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = support::weft_command()
            .args(["serve", "--config"])
            .arg(&self.config)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains("weft serving"),
            "replica on {} did not start: {}",
            self.port,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        self.process = Some(Process(child));
    }

    /// SIGTERM, and waits for a clean exit.
    fn stop(&mut self) {
        let process = self.process.as_mut().unwrap();
        let pid = process.0.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let start = Instant::now();
        loop {
            if let Some(status) = process.0.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.process = None;
    }
}

/// nginx with deploy/nginx/weft.conf, its upstream pointed at `ports`, listening on a port
/// of its own; stopped when dropped.
struct Nginx {
    process: Process,
    url: String,
}

impl Drop for Nginx {
    /// SIGTERM to the master, which stops its workers (SIGKILL would leave them running).
    fn drop(&mut self) {
        let pid = self.process.0.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.process.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn start_nginx(dir: &Path, ports: [u16; 2]) -> Nginx {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is not installed: apt-get install nginx (.ci/run does)");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let site = std::fs::read_to_string(repo.join("deploy/nginx/weft.conf")).unwrap();
    let port = free_port();
    let site = site
        .replace("gateway-1:4000", &format!("127.0.0.1:{}", ports[0]))
        .replace("gateway-2:4000", &format!("127.0.0.1:{}", ports[1]))
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    assert!(site.contains(&format!("127.0.0.1:{}", ports[1])));
    std::fs::write(dir.join("weft.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         include {d}/weft.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let child = std::process::Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = Process(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("nginx-error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx {
        process,
        url: format!("http://127.0.0.1:{port}/graphql"),
    }
}

/// POSTs `query` with `x-client-id: key`; the status, or 0 when no answer came.
async fn post(client: &reqwest::Client, url: &str, key: &str, query: &str) -> u16 {
    let body = serde_json::json!({ "query": query }).to_string();
    match client
        .post(url)
        .header("content-type", "application/json")
        .header("x-client-id", key)
        .body(body)
        .send()
        .await
    {
        Ok(res) => {
            let status = res.status().as_u16();
            match res.bytes().await {
                Ok(_) => status,
                Err(_) => 0,
            }
        }
        Err(_) => 0,
    }
}

/// Sends requests for `key` every `every` for `length`; the statuses of those sent at or
/// after `from` (from the start).
async fn drive(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    every: Duration,
    from: Duration,
    length: Duration,
) -> Vec<u16> {
    let start = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(every);
    let mut counted = Vec::new();
    while start.elapsed() < length {
        tick.tick().await;
        let (client, url, key) = (client.clone(), url.to_owned(), key.to_owned());
        let task = tokio::spawn(async move { post(&client, &url, &key, "{ __typename }").await });
        if start.elapsed() >= from {
            counted.push(task);
        }
    }
    let mut statuses = Vec::new();
    for task in counted {
        statuses.push(task.await.unwrap());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_behind_nginx_share_limits_restart_without_loss_and_converge() {
    let (subgraphs, v1, v2) = support::supergraph_versions().await;
    let host = SupergraphHost::start(&v1).await;
    let dir = support::scratch("fleet", subgraphs[0].addr.port());
    let prefix = format!("weft-fleet-{}-{}:", std::process::id(), free_port());
    let config = dir.join("weft.yaml");
    std::fs::write(
        &config,
        format!(
            "supergraph:\n  url: {}\n  poll_interval_ms: {POLL_MS}\n\
             server:\n  shutdown_delay_ms: 200\n\
             rate_limit:\n  client:\n    requests: {RATE}\n    interval_ms: 1000\n    \
             key: header:x-client-id\n  redis:\n    url: redis://127.0.0.1:6379\n    \
             key_prefix: \"{prefix}\"\n",
            host.url
        ),
    )
    .unwrap();
    let mut replicas: Vec<Replica> = (0..2)
        .map(|i| Replica {
            port: free_port(),
            config: config.clone(),
            log: dir.join(format!("replica-{i}.log")),
            process: None,
        })
        .collect();
    for r in &mut replicas {
        r.start();
    }
    let nginx = start_nginx(&dir, [replicas[0].port, replicas[1].port]);
    let client = reqwest::Client::new();
    assert_eq!(
        post(&client, &nginx.url, "hello", "{ __typename }").await,
        200
    );

    // 1. The rate limit holds across both: four times the rate is sent for 11 s; after the
    // first second (the burst spent) 10 s × RATE are admitted, ±5%.
    let statuses = drive(
        &client,
        &nginx.url,
        "metered",
        Duration::from_millis(1000 / (4 * RATE)),
        Duration::from_secs(1),
        Duration::from_secs(11),
    )
    .await;
    let admitted = statuses.iter().filter(|s| **s == 200).count() as f64;
    let refused = statuses.iter().filter(|s| **s == 429).count();
    let expected = (RATE * 10) as f64;
    eprintln!(
        "rate limit: {admitted} admitted in 10 s (expected {expected}), {refused} refused, {} sent",
        statuses.len()
    );
    assert!(
        (admitted - expected).abs() <= expected * 0.05,
        "admitted {admitted} in 10 s, expected {expected} ± 5% ({refused} refused, {} sent)",
        statuses.len()
    );
    assert_eq!(admitted as usize + refused, statuses.len(), "{statuses:?}");
    // Both replicas took part (each refused some).
    for r in &replicas {
        let metrics = support::metrics(&r.url()).await;
        assert!(
            support::sample(&metrics, r#"weft_rate_limited_total{limit="client"}"#) > 0.0,
            "replica {} refused nothing",
            r.port
        );
    }

    // 2. A rolling restart under steady load loses nothing: four clients, each request with
    // a key of its own (so no rate limit applies), while each replica in turn is stopped
    // (SIGTERM) and started again.
    let running = Arc::new(AtomicBool::new(true));
    let sent = Arc::new(AtomicU64::new(0));
    let lost = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (client, url) = (client.clone(), nginx.url.clone());
        let (running, sent, lost) = (running.clone(), sent.clone(), lost.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                n += 1;
                let key = format!("steady-{worker}-{n}");
                let status = post(&client, &url, &key, "{ topProducts(first: 2) { name } }").await;
                sent.fetch_add(1, Ordering::SeqCst);
                if status != 200 {
                    lost.lock().unwrap().push(status);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (i, replica) in replicas.iter_mut().enumerate() {
        let before = sent.load(Ordering::SeqCst);
        tokio::task::block_in_place(|| replica.stop());
        tokio::task::block_in_place(|| replica.start());
        // nginx tries the restarted replica again after its fail_timeout (1 s).
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            sent.load(Ordering::SeqCst) > before + 20,
            "the load did not go on during restart {i}"
        );
    }
    running.store(false, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }
    let lost = lost.lock().unwrap().clone();
    eprintln!(
        "rolling restart: {} requests, {} lost",
        sent.load(Ordering::SeqCst),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "{} of {} requests lost: {lost:?}",
        lost.len(),
        sent.load(Ordering::SeqCst)
    );

    // 3. A new supergraph at the URL is live on both within one poll interval (and the
    // time to load it).
    host.publish(&v2);
    let published = Instant::now();
    let sha = support::sha256(&v2);
    for r in &replicas {
        loop {
            let (_, ready) = support::ready(&r.url()).await;
            if ready["supergraph"]["sha256"] == sha.as_str() {
                eprintln!(
                    "replica {} live on v2 after {:?}",
                    r.port,
                    published.elapsed()
                );
                break;
            }
            assert!(
                published.elapsed() < Duration::from_millis(POLL_MS + 1000),
                "replica {} not on the new supergraph after {:?}: {ready}",
                r.port,
                published.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let reviews = "{ topProducts(first: 1) { reviews { body } } }";
    for _ in 0..4 {
        assert_eq!(post(&client, &nginx.url, "reviews", reviews).await, 200);
    }

    // A broken one is refused by both, which keep serving the last good one.
    host.publish("type Query { broken");
    tokio::time::sleep(Duration::from_millis(POLL_MS * 2 + 500)).await;
    for r in &replicas {
        let (status, ready) = support::ready(&r.url()).await;
        assert_eq!(status, 200);
        assert_eq!(ready["supergraph"]["sha256"], sha.as_str(), "{ready}");
        let metrics = support::metrics(&r.url()).await;
        assert!(
            support::sample(
                &metrics,
                r#"weft_supergraph_updates_total{outcome="invalid"}"#
            ) >= 1.0,
            "{metrics}"
        );
    }
    for _ in 0..4 {
        assert_eq!(post(&client, &nginx.url, "after", reviews).await, 200);
    }
    drop(nginx);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The weft.yaml the Kubernetes manifests put in their ConfigMap is one `weft serve` accepts.
#[test]
fn the_kubernetes_config_passes_weft_config_check() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = support::weft_command()
        .args(["config", "check"])
        .arg(repo.join("deploy/kubernetes/weft.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
