//! The load generator: `concurrency` clients, each sending its next request as soon as the
//! previous one is answered (a closed loop), for a warm-up and then a measured window.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use weft_subgraph_kit::Running;

use crate::forwarder::Forwarder;
use crate::gateways::Gateway;
use crate::procfs;
use crate::scenarios::Scenario;

/// Where the subgraph requests of a load are counted.
pub trait Counter {
    /// Subgraph requests so far, and the representations they carried when those are counted.
    fn totals(&self) -> (u64, Option<u64>);
}

/// The reference subgraphs count their own requests (not representations).
impl Counter for [Running] {
    fn totals(&self) -> (u64, Option<u64>) {
        (self.iter().map(|s| s.requests.count()).sum(), None)
    }
}

/// The public benchmark's subgraphs are counted by the forwarder in front of them.
impl Counter for Forwarder {
    fn totals(&self) -> (u64, Option<u64>) {
        let (requests, representations) = Forwarder::totals(self);
        (requests, Some(representations))
    }
}

/// What one measured window showed.
#[derive(Debug, Clone)]
pub struct Measured {
    pub requests: u64,
    pub failures: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub peak_rss_mib: f64,
    /// Gateway CPU time per successful request, in microseconds.
    pub cpu_us_per_request: f64,
    /// Gateway CPU time over the window's wall time: 1.0 is all of its one core.
    pub cpu_busy: f64,
    /// The same for the other side (this process and `others`, all on CPU 1): near 1.0, the
    /// load generator and subgraphs, not the gateway, set the pace.
    pub other_side_busy: f64,
    pub subgraph_requests_per_request: f64,
    /// `None` where the subgraphs do not count representations.
    pub representations_per_request: Option<f64>,
}

fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client")
}

/// One request of the scenario: the answer's `data`, to compare gateways.
pub async fn check(url: &str, scenario: &Scenario) -> serde_json::Value {
    let body = client(1)
        .post(url)
        .header("content-type", "application/json")
        .body((scenario.body)(0))
        .send()
        .await
        .expect("request")
        .json::<serde_json::Value>()
        .await
        .expect("JSON answer");
    if body.get("errors").is_some() {
        eprintln!("warning: errors in the answer: {}", body["errors"]);
    }
    body["data"].clone()
}

/// Runs the closed loop for `duration` after `warmup`; latencies of the measured window only.
pub async fn measure(
    gateway: &Gateway,
    scenario: &Scenario,
    subgraphs: &(impl Counter + ?Sized),
    others: &[u32],
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let http = client(concurrency);
    let counter = Arc::new(AtomicU64::new(1));
    // Warm-up: same loop, results dropped.
    let _ = run_loop(&http, &gateway.url, scenario, &counter, concurrency, warmup).await;
    let (requests_before, representations_before) = subgraphs.totals();
    let cpu_before = procfs::cpu_seconds(gateway.pid);
    let side: Vec<u32> = others.iter().copied().chain([std::process::id()]).collect();
    let side_cpu = || side.iter().map(|p| procfs::cpu_seconds(*p)).sum::<f64>();
    let side_before = side_cpu();
    let started = Instant::now();
    let (mut latencies, failures) = run_loop(
        &http,
        &gateway.url,
        scenario,
        &counter,
        concurrency,
        duration,
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = procfs::cpu_seconds(gateway.pid) - cpu_before;
    let side_busy = (side_cpu() - side_before) / elapsed;
    let (requests_after, representations_after) = subgraphs.totals();
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    let per_request = |n: u64| if ok == 0 { 0.0 } else { n as f64 / ok as f64 };
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    Measured {
        requests: ok,
        failures,
        rps: ok as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        peak_rss_mib: procfs::peak_rss_kib(gateway.pid) as f64 / 1024.0,
        cpu_us_per_request: if ok == 0 { 0.0 } else { cpu * 1e6 / ok as f64 },
        cpu_busy: cpu / elapsed,
        other_side_busy: side_busy,
        subgraph_requests_per_request: per_request(requests_after - requests_before),
        representations_per_request: representations_after
            .zip(representations_before)
            .map(|(after, before)| per_request(after - before)),
    }
}

/// `concurrency` clients for `duration`: latencies (µs) of good answers, and failures.
async fn run_loop(
    http: &reqwest::Client,
    url: &str,
    scenario: &Scenario,
    counter: &Arc<AtomicU64>,
    concurrency: usize,
    duration: Duration,
) -> (Vec<u64>, u64) {
    let deadline = Instant::now() + duration;
    let tasks = (0..concurrency).map(|_| {
        let http = http.clone();
        let url = url.to_owned();
        let counter = counter.clone();
        let make = &scenario.body;
        async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            while Instant::now() < deadline {
                let body = make(counter.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                let answer = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let good = match answer {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        // A quick check: a GraphQL error anywhere makes it a failure. The
                        // search is vectorised: the answers of the public benchmark are 88 KB,
                        // and this runs on the core the subgraphs share.
                        Ok(b) => memchr::memmem::find(&b, b"\"errors\":").is_none(),
                        Err(_) => false,
                    },
                    _ => false,
                };
                if good {
                    latencies.push(sent.elapsed().as_micros() as u64);
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        }
    });
    let results = futures::future::join_all(tasks).await;
    let mut all = Vec::new();
    let mut failures = 0;
    for (l, f) in results {
        all.extend(l);
        failures += f;
    }
    (all, failures)
}
