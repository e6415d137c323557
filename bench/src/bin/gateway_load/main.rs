//! `gateway-load`: Weft against peer gateways on the reference subgraphs, one run, same load
//! (bench/README.md). The gateway under test is pinned to CPU 0; this process — the reference
//! subgraphs (in process, counting their requests) and the load generator — to CPU 1.
//!
//! ```sh
//! cargo build --release -p weft -p weft-bench
//! target/release/gateway-load [--duration 20] [--concurrency 32] [--gateways weft,hive,apollo]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod drive;
mod gateways;
mod procfs;
mod report;
mod scenarios;

use std::path::PathBuf;
use std::time::Duration;

use weft_subgraph_kit::{Running, Subgraph, spawn, subgraph::open};

/// Command-line options.
struct Options {
    duration: Duration,
    warmup: Duration,
    concurrency: usize,
    gateways: Vec<String>,
    scenarios: Vec<String>,
    /// The subgraphs' DataLoader batching window (`weft_subgraph_kit::loader`).
    batch_window_ms: u64,
}

fn options() -> Options {
    let mut o = Options {
        duration: Duration::from_secs(20),
        warmup: Duration::from_secs(3),
        concurrency: 32,
        gateways: vec!["weft".into(), "hive".into(), "apollo".into()],
        scenarios: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        // async-graphql's default. The subgraphs' own default (6 ms) is sized for debug
        // builds on a loaded machine; here it would add a fixed wait to every entity fetch
        // and hide what the gateways do.
        batch_window_ms: 1,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--duration" => o.duration = Duration::from_secs(value.parse().expect("seconds")),
            "--warmup" => o.warmup = Duration::from_secs(value.parse().expect("seconds")),
            "--concurrency" => o.concurrency = value.parse().expect("a number"),
            "--gateways" => o.gateways = value.split(',').map(str::to_owned).collect(),
            "--scenarios" => o.scenarios = value.split(',').map(str::to_owned).collect(),
            "--batch-window-ms" => o.batch_window_ms = value.parse().expect("milliseconds"),
            other => panic!(
                "unknown option {other}; options: --duration S --warmup S --concurrency N \
                 --gateways weft,hive,apollo --scenarios a,b,c,d --batch-window-ms MS"
            ),
        }
        i += 2;
    }
    o
}

async fn start<S: Subgraph>() -> Running {
    let db = open::<S>(None).await.expect("database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    spawn::<S>(listener, db).expect("subgraph")
}

fn main() {
    let options = options();
    weft_subgraph_kit::set_batch_window_ms(options.batch_window_ms);
    procfs::pin_self_to_cpu(1);
    // One worker thread: the subgraphs and the load share CPU 1 with nothing else.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(options));
}

async fn run(options: Options) {
    let subgraphs = vec![
        start::<weft_accounts::Accounts>().await,
        start::<weft_products::Products>().await,
        start::<weft_inventory::Inventory>().await,
        start::<weft_reviews::Reviews>().await,
    ];
    let work = std::env::temp_dir().join(format!("weft-gateway-load-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let supergraph = gateways::compose(&subgraphs, &work);
    let mut rows = Vec::new();
    for scenario in scenarios::all()
        .into_iter()
        .filter(|s| options.scenarios.iter().any(|n| n == s.name))
    {
        let mut reference: Option<serde_json::Value> = None;
        for name in &options.gateways {
            let Some(gateway) = gateways::start(name, &supergraph, &work, scenario.entity_cache)
            else {
                eprintln!("skipping {name}: not installed (bench/README.md)");
                continue;
            };
            eprintln!("scenario {} on {name}: warming up", scenario.name);
            let first = drive::check(&gateway.url, &scenario).await;
            let same = match &reference {
                None => {
                    reference = Some(first.clone());
                    true
                }
                Some(r) => r == &first,
            };
            let measured = drive::measure(
                &gateway,
                &scenario,
                &subgraphs,
                options.concurrency,
                options.warmup,
                options.duration,
            )
            .await;
            rows.push(report::Row {
                scenario: scenario.name,
                gateway: name.clone(),
                same_answer: same,
                result: measured,
            });
            drop(gateway);
        }
    }
    let legend: Vec<(&str, &str)> = scenarios::all().iter().map(|s| (s.name, s.what)).collect();
    println!(
        "{}",
        report::markdown(&rows, &options_line(&options), &legend)
    );
    let _ = std::fs::remove_dir_all(PathBuf::from(&work));
}

fn options_line(o: &Options) -> String {
    format!(
        "{} s per run after {} s warm-up, {} concurrent clients, gateway pinned to CPU 0, \
         subgraphs and load on CPU 1, subgraph batching window {} ms",
        o.duration.as_secs(),
        o.warmup.as_secs(),
        o.concurrency,
        o.batch_window_ms
    )
}
