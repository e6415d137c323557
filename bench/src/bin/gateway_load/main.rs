//! `gateway-load`: Weft against peer gateways, one run, same load (bench/README.md): on the
//! reference subgraphs (in process, counting their requests), and on the public gateways
//! benchmark's subgraphs (its own binary, behind a counting forwarder) when pointed at a clone
//! of it. The gateway under test is pinned to CPU 0; this process — subgraphs, forwarder and
//! load generator — to CPU 1.
//!
//! ```sh
//! cargo build --release -p weft -p weft-bench
//! target/release/gateway-load [--duration 20] [--concurrency 32] [--gateways weft,hive,apollo]
//! target/release/gateway-load --public-bench /path/to/graphql-gateways-benchmark --rounds 3
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod drive;
mod forwarder;
mod gateways;
#[path = "../../launch.rs"]
mod launch;
#[path = "../../procfs.rs"]
#[allow(dead_code)] // shared with subscription-load, which reads the current RSS too
mod procfs;
mod public;
mod report;
mod scenarios;

use std::path::{Path, PathBuf};
use std::time::Duration;

use weft_subgraph_kit::{Running, Subgraph, spawn, subgraph::open};

use crate::forwarder::{Forwarder, Tally};
use crate::public::PublicError;
use crate::report::Row;
use crate::scenarios::Scenario;

/// Command-line options.
struct Options {
    duration: Duration,
    warmup: Duration,
    concurrency: usize,
    gateways: Vec<String>,
    /// `None`: the reference loads, and the public ones when a clone is given.
    scenarios: Option<Vec<String>>,
    /// The subgraphs' DataLoader batching window (`weft_subgraph_kit::loader`).
    batch_window_ms: u64,
    /// Every load and gateway is measured this many times, round after round, so that a drift
    /// of the machine's speed lands on every gateway alike; the tables show medians.
    rounds: usize,
    /// A clone of graphql-hive/graphql-gateways-benchmark (or `WEFT_PUBLIC_BENCH`).
    public_bench: Option<PathBuf>,
    /// Its built subgraph binary, when not at `target/release/subgraphs` in the clone (or
    /// `WEFT_PUBLIC_BENCH_SUBGRAPHS`).
    public_subgraphs: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        duration: Duration::from_secs(20),
        warmup: Duration::from_secs(3),
        concurrency: 32,
        gateways: vec!["weft".into(), "hive".into(), "apollo".into()],
        scenarios: None,
        // async-graphql's default. The subgraphs' own default (6 ms) is sized for debug
        // builds on a loaded machine; here it would add a fixed wait to every entity fetch
        // and hide what the gateways do.
        batch_window_ms: 1,
        rounds: 1,
        public_bench: std::env::var_os("WEFT_PUBLIC_BENCH").map(PathBuf::from),
        public_subgraphs: std::env::var_os("WEFT_PUBLIC_BENCH_SUBGRAPHS").map(PathBuf::from),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--duration" => o.duration = Duration::from_secs(number(&args[i], &value)),
            "--warmup" => o.warmup = Duration::from_secs(number(&args[i], &value)),
            "--concurrency" => o.concurrency = number(&args[i], &value),
            "--gateways" => o.gateways = value.split(',').map(str::to_owned).collect(),
            "--scenarios" => o.scenarios = Some(value.split(',').map(str::to_owned).collect()),
            "--batch-window-ms" => o.batch_window_ms = number(&args[i], &value),
            "--rounds" => o.rounds = number::<usize>(&args[i], &value).max(1),
            "--public-bench" => o.public_bench = Some(PathBuf::from(value)),
            "--public-subgraphs" => o.public_subgraphs = Some(PathBuf::from(value)),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => usage_error(&format!("unknown option {other}")),
        }
        i += 2;
    }
    o
}

const USAGE: &str = "usage: gateway-load [--duration S] [--warmup S] [--concurrency N] \
     [--gateways weft,hive,apollo] [--scenarios a,b,c,d,public-identical,...] \
     [--batch-window-ms MS] [--rounds N] [--public-bench DIR] [--public-subgraphs BIN]\n\
     (bench/README.md says what each load is)";

/// The command line was wrong: say what, and how it goes.
fn usage_error(what: &str) -> ! {
    eprintln!("gateway-load: {what}\n{USAGE}");
    std::process::exit(2);
}

/// `option`'s value as a number.
fn number<T: std::str::FromStr>(option: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| usage_error(&format!("{option} takes a number, not {value:?}")))
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
    if let Err(e) = runtime.block_on(run(options)) {
        eprintln!("gateway-load: {e}");
        std::process::exit(2);
    }
}

/// Adds one round's measurement to the row of `scenario` and `gateway`.
fn record(
    rows: &mut Vec<Row>,
    scenario: &'static str,
    gateway: &str,
    same_answer: bool,
    measured: drive::Measured,
    cold: Option<Vec<Tally>>,
) {
    let at = match rows
        .iter()
        .position(|r| r.scenario == scenario && r.gateway == gateway)
    {
        Some(at) => at,
        None => {
            rows.push(Row {
                scenario,
                gateway: gateway.to_owned(),
                same_answer: true,
                results: Vec::new(),
                cold: Vec::new(),
            });
            rows.len() - 1
        }
    };
    let row = &mut rows[at];
    row.same_answer &= same_answer;
    row.results.push(measured);
    row.cold.extend(cold);
}

/// Whether `first` equals the first gateway's answer of this load in this round.
fn same_as(reference: &mut Option<serde_json::Value>, first: serde_json::Value) -> bool {
    match reference {
        None => {
            *reference = Some(first);
            true
        }
        Some(r) => *r == first,
    }
}

async fn run(options: Options) -> Result<(), PublicError> {
    let selected = |name: &str| {
        options
            .scenarios
            .as_ref()
            .is_none_or(|s| s.iter().any(|n| n == name))
    };
    let reference: Vec<Scenario> = scenarios::all()
        .into_iter()
        .filter(|s| selected(s.name))
        .collect();
    let public_loads: Vec<public::Load> = match &options.public_bench {
        Some(_) => public::loads()
            .into_iter()
            .filter(|l| selected(l.name))
            .collect(),
        None => Vec::new(),
    };
    if let Some(names) = &options.scenarios {
        let known: Vec<&str> = scenarios::all()
            .iter()
            .map(|s| s.name)
            .chain(public::loads().iter().map(|l| l.name))
            .collect();
        for name in names {
            assert!(
                known.contains(&name.as_str()),
                "unknown load {name}; loads: {known:?}"
            );
            assert!(
                !name.starts_with("public-") || options.public_bench.is_some(),
                "load {name} needs --public-bench DIR (a clone of graphql-gateways-benchmark)"
            );
        }
    }
    let bench = match &options.public_bench {
        Some(dir) if !public_loads.is_empty() => {
            Some(public::locate(dir, options.public_subgraphs.clone())?)
        }
        _ => None,
    };
    let work = std::env::temp_dir().join(format!("weft-gateway-load-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let load_before = procfs::load_average();

    let subgraphs = if reference.is_empty() {
        Vec::new()
    } else {
        vec![
            start::<weft_accounts::Accounts>().await,
            start::<weft_products::Products>().await,
            start::<weft_inventory::Inventory>().await,
            start::<weft_reviews::Reviews>().await,
        ]
    };
    let supergraph = (!reference.is_empty()).then(|| gateways::compose(&subgraphs, &work));
    let mut rows = Vec::new();
    let mut public_rows = Vec::new();
    for round in 1..=options.rounds {
        if let Some(supergraph) = &supergraph {
            reference_round(
                &options, &reference, &subgraphs, supergraph, &work, &mut rows,
            )
            .await;
        }
        if let Some(bench) = &bench {
            for load in &public_loads {
                public_round(&options, bench, load, round, &work, &mut public_rows).await?;
            }
        }
    }
    let load_after = procfs::load_average();
    let machine = format!("load average {load_before} before, {load_after} after");
    if !rows.is_empty() {
        let legend: Vec<(&str, &str)> = reference.iter().map(|s| (s.name, s.what)).collect();
        println!(
            "{}",
            report::markdown(&rows, &options_line(&options, &machine), &legend)
        );
    }
    if let Some(bench) = &bench {
        let legend: Vec<(&str, &str)> = public_loads.iter().map(|l| (l.name, l.what)).collect();
        let setup = format!(
            "{}; graphql-gateways-benchmark at {}, its subgraph binary on CPU 1 behind the \
             counting forwarder; Hive Router with the benchmark's router.config.yaml (inbound \
             de-duplication on), Weft on its defaults (client and subgraph de-duplication on, \
             entity cache and entity batching off)",
            options_line(&options, &machine),
            bench.commit.as_deref().unwrap_or("an unknown commit"),
        );
        println!("{}", report::public_markdown(&public_rows, &setup, &legend));
    }
    let _ = std::fs::remove_dir_all(PathBuf::from(&work));
    Ok(())
}

/// One round of the reference loads, every gateway in turn.
async fn reference_round(
    options: &Options,
    reference: &[Scenario],
    subgraphs: &[Running],
    supergraph: &Path,
    work: &Path,
    rows: &mut Vec<Row>,
) {
    for scenario in reference {
        let mut first_answer: Option<serde_json::Value> = None;
        for name in &options.gateways {
            let Some(gateway) =
                gateways::start(name, supergraph, work, scenario.entity_cache, None).await
            else {
                eprintln!("skipping {name}: not installed (bench/README.md)");
                continue;
            };
            eprintln!("scenario {} on {name}: warming up", scenario.name);
            let same = same_as(
                &mut first_answer,
                drive::check(&gateway.url, scenario).await,
            );
            let measured = drive::measure(
                &gateway,
                scenario,
                subgraphs,
                &[],
                options.concurrency,
                options.warmup,
                options.duration,
            )
            .await;
            record(rows, scenario.name, name, same, measured, None);
            drop(gateway);
        }
    }
}

/// One round of one public load: fresh subgraphs (with the load's delay) and forwarder, then
/// every gateway in turn on the rewritten supergraph.
async fn public_round(
    options: &Options,
    bench: &public::Bench,
    load: &public::Load,
    round: usize,
    work: &Path,
    rows: &mut Vec<Row>,
) -> Result<(), PublicError> {
    let subgraphs = public::Subgraphs::start(&bench.subgraphs_bin, load.delay_ms).await?;
    let no_subgraphs = || PublicError::NoSubgraphs(PathBuf::from("supergraph.graphql"));
    // The subgraphs as committed, to know where each one's path is served.
    let (_, joined) =
        public::rewrite_urls(&bench.supergraph, str::to_owned).ok_or_else(no_subgraphs)?;
    let mut routes = Vec::new();
    for j in &joined {
        routes.push((j.name.clone(), public::upstream_of(&j.url, subgraphs.addr)?));
    }
    let forwarder = Forwarder::start(routes, load.jitter_ms)
        .await
        .map_err(|e| PublicError::Start(PathBuf::from("counting forwarder"), e))?;
    let (sdl, _) = public::rewrite_urls(&bench.supergraph, |name| {
        Forwarder::url_of(forwarder.addr, name)
    })
    .ok_or_else(no_subgraphs)?;
    let supergraph = work.join("public-supergraph.graphql");
    std::fs::write(&supergraph, sdl).map_err(|source| PublicError::Read {
        path: supergraph.clone(),
        source,
    })?;
    let scenario = public::scenario(load, &bench.query);
    let mut first_answer: Option<serde_json::Value> = None;
    for name in &options.gateways {
        let Some(gateway) = gateways::start(
            name,
            &supergraph,
            work,
            false,
            Some(bench.hive_config.as_path()),
        )
        .await
        else {
            eprintln!("skipping {name}: not installed (bench/README.md)");
            continue;
        };
        eprintln!("round {round}, {} on {name}: warming up", load.name);
        let before = forwarder.tallies();
        let same = same_as(
            &mut first_answer,
            drive::check(&gateway.url, &scenario).await,
        );
        let cold: Vec<Tally> = forwarder
            .tallies()
            .into_iter()
            .zip(before)
            .map(|(after, before)| Tally {
                name: after.name,
                requests: after.requests - before.requests,
                representations: after.representations - before.representations,
            })
            .collect();
        let measured = drive::measure(
            &gateway,
            &scenario,
            &forwarder,
            &[subgraphs.pid()],
            options.concurrency,
            options.warmup,
            options.duration,
        )
        .await;
        record(rows, load.name, name, same, measured, Some(cold));
        drop(gateway);
    }
    Ok(())
}

fn options_line(o: &Options, machine: &str) -> String {
    format!(
        "{} s per run after {} s warm-up, {} concurrent clients, {} round(s) (medians), \
         gateway pinned to CPU 0, subgraphs and load on CPU 1, subgraph batching window {} ms, \
         {machine}",
        o.duration.as_secs(),
        o.warmup.as_secs(),
        o.concurrency,
        o.rounds,
        o.batch_window_ms
    )
}
