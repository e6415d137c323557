//! `subscription-load`: how a gateway holds N subscriptions at once (bench/README.md). A
//! `stock` subgraph in this process streams `stockChanged` over SSE, one event per open stream
//! every interval; each event costs the gateway an entity fetch to the real products subgraph
//! (`name`). N clients subscribe (one per connection, WebSocket or SSE); once all are
//! established, the run measures the events delivered, the gateway's CPU time and RSS, and the
//! delivery latency. The gateway is pinned to CPU 0; this process to CPU 1.
//!
//! ```sh
//! cargo build --release -p weft -p weft-bench
//! target/release/subscription-load --subscriptions 1000,5000,10000 --transport ws
//! ```

mod clients;
mod clock;
mod gateways;
#[path = "../../launch.rs"]
mod launch;
mod nofile;
#[path = "../../procfs.rs"]
#[allow(dead_code)] // shared with gateway-load, which pins and reads the peak RSS only
mod procfs;
mod report;
mod stock;
mod tally;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use weft_federation::compose::{SubgraphInput, compose};
use weft_subgraph_kit::{Bind, Db, DbError, Running, Subgraph, spawn, subgraph::open};

use crate::clients::Transport;
use crate::gateways::Gateway;
use crate::report::Row;
use crate::stock::{Pace, Stock};
use crate::tally::Tally;

/// Subscriptions through a gateway: events delivered, CPU and memory per subscription.
#[derive(Parser)]
#[command(name = "subscription-load")]
struct Options {
    /// How many subscriptions at once, one run each (ascending is kindest to the machine).
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
    subscriptions: Vec<usize>,
    /// How the clients subscribe: `ws` (graphql-transport-ws, one subscription per socket)
    /// or `sse` (GraphQL over SSE, distinct connections).
    #[arg(long, value_enum, default_value = "ws")]
    transport: Transport,
    /// Seconds measured per run, once every subscription is established.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Milliseconds between two events of one subgraph stream.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// When the streams send: `spread` (each on its own phase, evenly over the interval: a
    /// steady flow) or `burst` (all on one tick: N events at once, a broadcast).
    #[arg(long, value_enum, default_value = "spread")]
    pace: Pace,
    /// The gateways, in turn for each count (`weft`, `hive`); one not installed is skipped.
    #[arg(long, value_delimiter = ',', default_value = "weft,hive")]
    gateways: Vec<String>,
    /// How many products the subscriptions watch: 0, one each (no two subscriptions alike,
    /// so no gateway can share a subgraph stream or an entity fetch between them); K, the
    /// first K in turn (30: the demo catalogue), where a gateway that shares identical
    /// subscriptions opens K streams; Hive Router then runs with its router de-duplication
    /// on, so that both share.
    #[arg(long, default_value_t = 0)]
    products: usize,
    /// The products subgraph's DataLoader window (as in gateway-load: async-graphql's 1 ms).
    #[arg(long, default_value_t = 1)]
    batch_window_ms: u64,
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("the products subgraph: {0}")]
    Products(String),
    #[error("the stock subgraph: {0}")]
    Stock(std::io::Error),
    #[error("composing the supergraph: {0}")]
    Compose(String),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
}

fn main() {
    let options = Options::parse();
    let largest = options.subscriptions.iter().copied().max().unwrap_or(0);
    // Before any thread or child: the gateway inherits the limit.
    let need = nofile::needed(largest);
    let (limit, warning) = nofile::raise(need);
    if let Some(warning) = warning {
        eprintln!("subscription-load: warning: {warning}");
    }
    weft_subgraph_kit::set_batch_window_ms(options.batch_window_ms);
    procfs::pin_self_to_cpu(1);
    // One thread: clients and subgraphs share CPU 1 with nothing else.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("subscription-load: a runtime: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = runtime.block_on(run(&options, limit)) {
        eprintln!("subscription-load: {e}");
        std::process::exit(2);
    }
}

async fn run(options: &Options, nofile: u64) -> Result<(), RunError> {
    clock::micros();
    let interval = Duration::from_millis(options.interval_ms.max(1));
    let db = open::<weft_products::Products>(None)
        .await
        .map_err(|e| RunError::Products(e.to_string()))?;
    let largest = options.subscriptions.iter().copied().max().unwrap_or(0);
    let watched = if options.products == 0 {
        largest
    } else {
        options.products
    };
    add_products(&db, watched)
        .await
        .map_err(|e| RunError::Products(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|source| RunError::Io {
            what: "binding the products subgraph",
            source,
        })?;
    let products = spawn::<weft_products::Products>(listener, db)
        .map_err(|e| RunError::Products(e.to_string()))?;
    let stock = stock::start(interval, options.pace)
        .await
        .map_err(RunError::Stock)?;
    let work = std::env::temp_dir().join(format!("weft-subscription-load-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|source| RunError::Io {
        what: "the work folder",
        source,
    })?;
    let supergraph = supergraph(&products, &stock, &work)?;
    let load_before = procfs::load_average();
    let mut rows = Vec::new();
    let mut counts = options.subscriptions.clone();
    counts.sort_unstable();
    for &n in &counts {
        for name in &options.gateways {
            let share = options.products > 0;
            let gateway = match gateways::start(name, &supergraph, &work, n, share).await {
                Ok(gateway) => gateway,
                Err(e) => {
                    eprintln!("skipping {name}: {e}");
                    continue;
                }
            };
            eprintln!(
                "{name}, {n} subscriptions over {}",
                options.transport.name()
            );
            let row = measure(options, name, &gateway, n, &stock, &products).await;
            eprintln!("  {}", row.summary());
            drop(gateway);
            wait_closed(&stock).await;
            rows.push(row);
        }
    }
    let setup = format!(
        "{} s measured per run once all subscriptions are established; one event per \
         subscription every {} ms, {}; clients over {} (one subscription per connection), \
         {}; gateway pinned to CPU 0, clients and \
         subgraphs to CPU 1; open-file limit {nofile}; load average {load_before} before, {} \
         after",
        options.duration,
        options.interval_ms,
        options.pace.name(),
        options.transport.name(),
        match options.products {
            0 => "each subscription on a product of its own".to_owned(),
            k => format!("subscription i on product i mod {k} + 1"),
        },
        procfs::load_average(),
    );
    println!("{}", report::markdown(&rows, &setup));
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// Products past the demo catalogue's, up to upc `upto`, so that each subscription can watch
/// one of its own with a real name to fetch.
async fn add_products(db: &Db, upto: usize) -> Result<(), DbError> {
    let statements: Vec<(String, Vec<Bind>)> = (weft_products::PRODUCTS + 1..=upto)
        .map(|i| {
            let sql = "INSERT INTO products (upc, name, price, weight, rank) \
                       VALUES ($1, $2, $3, $4, $5)";
            let binds = vec![
                Bind::Text(i.to_string()),
                Bind::Text(format!("Stock item {i}")),
                Bind::Int(1000),
                Bind::Int(1),
                Bind::Int(i64::try_from(i).unwrap_or(i64::MAX)),
            ];
            (sql.to_owned(), binds)
        })
        .collect();
    db.execute_batch(&statements).await
}

/// Composes products and stock (at their own URLs) into `work/supergraph.graphql`.
fn supergraph(products: &Running, stock: &Stock, work: &Path) -> Result<PathBuf, RunError> {
    let inputs = vec![
        SubgraphInput {
            name: "products".into(),
            url: products.url(),
            sdl: weft_products::Products::sdl(),
            source: "products".into(),
        },
        SubgraphInput {
            name: "stock".into(),
            url: stock.url.clone(),
            sdl: stock::SDL.to_owned(),
            source: "stock".into(),
        },
    ];
    let composed = compose(&inputs).map_err(|e| RunError::Compose(format!("{e:?}")))?;
    let path = work.join("supergraph.graphql");
    std::fs::write(&path, composed.supergraph_sdl).map_err(|source| RunError::Io {
        what: "writing the supergraph",
        source,
    })?;
    Ok(path)
}

/// Waits (up to 10 s) until the stock subgraph serves no stream: the previous run's are gone.
async fn wait_closed(stock: &Stock) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while stock.counters.open() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether every subscription is established: each has read an event (a gateway may share
/// one subgraph stream between identical subscriptions, so the streams at stock do not
/// tell), and Weft counts as many in `weft_subscriptions_active`.
async fn all_established(n: usize, tally: &Tally, gateway: &Gateway) -> bool {
    if tally.receiving() < n {
        return false;
    }
    match &gateway.weft_metrics {
        Some(url) => gateways::weft_subscriptions_active(url)
            .await
            .is_some_and(|active| active >= n as u64),
        None => true,
    }
}

/// One run: `n` subscriptions through `gateway`.
async fn measure(
    options: &Options,
    name: &str,
    gateway: &Gateway,
    n: usize,
    stock: &Stock,
    products: &Running,
) -> Row {
    let interval = Duration::from_millis(options.interval_ms.max(1));
    let tally = Arc::new(Tally::default());
    // A first subscription shows the path works (and warms the gateway's plan cache) before
    // the idle RSS is taken.
    {
        let check = Arc::new(Tally::default());
        let clients = clients::open(options.transport, &gateway.url, 1, options.products, &check);
        let deadline = Instant::now() + interval * 3 + Duration::from_secs(5);
        while check.delivered() == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(clients);
        if check.delivered() == 0 {
            for (kind, count) in check.errors() {
                for _ in 0..count {
                    tally.error(format!("check: {kind}"));
                }
            }
            tally.error("check: no event through the gateway");
        }
        wait_closed(stock).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let rss_idle_kib = procfs::rss_kib(gateway.pid);

    let started = Instant::now();
    let clients = clients::open(options.transport, &gateway.url, n, options.products, &tally);
    // Generous: opening runs at thousands a second; a gateway that stops accepting is seen
    // by the lack of progress.
    let deadline = started + Duration::from_secs(30) + Duration::from_millis(10 * n as u64);
    let mut progress = (0, Instant::now());
    loop {
        if all_established(n, &tally, gateway).await {
            break;
        }
        let now = Instant::now();
        let established = tally.receiving();
        if established > progress.0 {
            progress = (established, now);
        }
        if now > deadline || now.duration_since(progress.1) > Duration::from_secs(15) {
            eprintln!(
                "  not all established: {} accepted, {established} with an event, {} \
                 streams at stock",
                tally.established(),
                stock.counters.open()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let setup_secs = started.elapsed().as_secs_f64();
    let established = tally.receiving();
    eprintln!(
        "  {established} established in {setup_secs:.1} s over {} subgraph streams; measuring",
        stock.counters.open()
    );
    // Every subscription has had an event before the window opens.
    tokio::time::sleep(interval * 2).await;

    let self_pid = std::process::id();
    let before = Snapshot::take(gateway.pid, self_pid, &tally, stock, products);
    tally.record(true);
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(options.duration)).await;
    let after = Snapshot::take(gateway.pid, self_pid, &tally, stock, products);
    tally.record(false);
    let window_secs = window.elapsed().as_secs_f64();
    let rss_kib = procfs::rss_kib(gateway.pid);
    let streams = stock.counters.open();
    let gateway_fds = procfs::open_fds(gateway.pid);
    drop(clients);

    let latencies = tally.latencies_sorted();
    let row = Row {
        gateway: name.to_owned(),
        transport: options.transport.name(),
        subscriptions: n,
        established,
        streams,
        gateway_fds,
        setup_secs,
        window_secs,
        expected: match options.pace {
            Pace::Burst => (after.ticks - before.ticks) * established as u64,
            // Each stream on its own phase: window / interval events each, give or take one.
            Pace::Spread => (window_secs / interval.as_secs_f64() * established as f64) as u64,
        },
        subgraph_events: after.emitted - before.emitted,
        delivered: after.delivered - before.delivered,
        gateway_cpu_secs: after
            .gateway_cpu
            .zip(before.gateway_cpu)
            .map(|(a, b)| a - b),
        harness_cpu_secs: after
            .harness_cpu
            .zip(before.harness_cpu)
            .map(|(a, b)| a - b),
        products_requests: after.products_requests - before.products_requests,
        rss_idle_kib,
        rss_kib,
        p50_us: tally::quantile(&latencies, 0.5),
        p99_us: tally::quantile(&latencies, 0.99),
        drops: after.gaps - before.gaps,
        held_back: after.skipped - before.skipped,
        errors: tally.errors(),
    };
    if stock.counters.refused() > 0 {
        eprintln!(
            "  note: stock refused {} requests that were not its subscription",
            stock.counters.refused()
        );
    }
    row
}

/// The counters a window is measured between.
struct Snapshot {
    gateway_cpu: Option<f64>,
    harness_cpu: Option<f64>,
    delivered: u64,
    ticks: u64,
    emitted: u64,
    gaps: u64,
    skipped: u64,
    products_requests: u64,
}

impl Snapshot {
    fn take(
        gateway: u32,
        harness: u32,
        tally: &Tally,
        stock: &Stock,
        products: &Running,
    ) -> Snapshot {
        Snapshot {
            gateway_cpu: procfs::cpu_seconds_read(gateway),
            harness_cpu: procfs::cpu_seconds_read(harness),
            delivered: tally.delivered(),
            ticks: stock.counters.ticks(),
            emitted: stock.counters.emitted(),
            gaps: tally.gaps(),
            skipped: stock.counters.skipped(),
            products_requests: products.requests.count(),
        }
    }
}
