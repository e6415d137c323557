//! `weft demo`: the reference subgraphs and the gateway in one process. Each subgraph gets its
//! own port and its own seeded in-memory SQLite database; they share one in-process event bus,
//! and orders calls inventory for the checkout saga. The supergraph is composed at start from
//! the subgraphs' SDL and their actual addresses, then served on `--listen`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio::net::TcpListener;
use weft_executor::{ClientError, FetchError, GraphQLRequest, SubgraphClient};
use weft_federation::SupergraphError;
use weft_federation::compose::CompositionErrors;
use weft_subgraph_kit::subgraph::open_layout;
use weft_subgraph_kit::{Bus, DbError, Env, Running, Subgraph, spawn_env};

use crate::report::{self, errln, line};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the gateway listens.
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: std::net::SocketAddr,
    /// Host the subgraphs listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// First subgraph port: accounts gets it, products the next, and so on. 0 picks free ports.
    #[arg(long, default_value_t = 4001)]
    base_port: u16,
    /// Make inventory's `Product.shippingEstimate` wait this many milliseconds before it
    /// answers, to see `@defer` at work (off by default).
    #[arg(long, value_name = "MS")]
    slow_field_ms: Option<u64>,
}

/// Everything after `weft subgraph` goes to the subgraph's own command line, `--help`
/// included (`weft subgraph accounts --help` is the subgraph's help); `weft subgraph --help`
/// alone is this command's.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct SubgraphArgs {
    /// accounts, products, inventory, reviews or orders.
    #[arg(allow_hyphen_values = true, value_name = "NAME")]
    name: String,
    /// The subgraph's own options (`weft subgraph NAME --help` lists them).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// `weft subgraph NAME ...`: one reference subgraph, as its own binary would run it (one
/// image can then run every service of the docker-compose file).
pub fn run_subgraph(args: SubgraphArgs) -> ExitCode {
    if matches!(args.name.as_str(), "-h" | "--help") {
        let help = <SubgraphArgs as clap::Args>::augment_args(clap::Command::new("weft subgraph"))
            .about("Run one reference subgraph with its own command line.")
            .render_help();
        return report::print_then(&help.to_string(), ExitCode::SUCCESS);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            errln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The program name the subgraph's usage line shows.
    let argv = std::iter::once(format!("weft subgraph {}", args.name)).chain(args.args);
    use weft_subgraph_kit::cli::main_from;
    runtime.block_on(async move {
        match args.name.as_str() {
            "accounts" => main_from::<weft_accounts::Accounts, _, _>(argv).await,
            "products" => main_from::<weft_products::Products, _, _>(argv).await,
            "inventory" => main_from::<weft_inventory::Inventory, _, _>(argv).await,
            "reviews" => main_from::<weft_reviews::Reviews, _, _>(argv).await,
            "orders" => main_from::<weft_orders::Orders, _, _>(argv).await,
            other => {
                errln!("error: no reference subgraph `{other}`");
                errln!("  hint: one of accounts, products, inventory, reviews, orders");
                ExitCode::FAILURE
            }
        }
    })
}

pub fn run(args: DemoArgs) -> ExitCode {
    weft_subgraph_kit::cli::init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            errln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match start_all(&args).await {
            Ok(running) => {
                let supergraph = match compose_running(&running) {
                    Ok(s) => s,
                    Err(e) => {
                        errln!("error: composing the reference subgraphs failed: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                let listener = match TcpListener::bind(args.listen).await {
                    Ok(l) => l,
                    Err(e) => {
                        errln!("error: cannot listen on {}: {e}\n  hint: pick a free address with --listen", args.listen);
                        return ExitCode::FAILURE;
                    }
                };
                let gateway_addr = listener.local_addr().unwrap_or(args.listen);
                print_banner(&running, gateway_addr);
                let result = crate::http::serve_on(listener, supergraph, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await;
                for sg in running {
                    sg.stop().await;
                }
                match result {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        errln!("error: gateway failed: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(message) => {
                errln!("error: {message}");
                errln!(
                    "  hint: free ports {}-{} or pass --base-port",
                    args.base_port,
                    args.base_port.saturating_add(4)
                );
                ExitCode::FAILURE
            }
        }
    })
}

/// Why a reference subgraph did not start, or did not answer once started (by its name).
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("{subgraph}: {source}")]
    Database {
        subgraph: &'static str,
        source: DbError,
    },
    #[error("{subgraph}: cannot listen on {host}:{port}: {source}")]
    Listen {
        subgraph: &'static str,
        host: String,
        port: u16,
        source: std::io::Error,
    },
    #[error("{subgraph}: {source}")]
    Serve {
        subgraph: &'static str,
        source: std::io::Error,
    },
    /// The client that checks the subgraphs answer could not be built.
    #[error("{0}")]
    Probe(ClientError),
    #[error("{subgraph} did not answer: {source}")]
    NoAnswer {
        subgraph: &'static str,
        source: FetchError,
    },
    #[error("{0}")]
    NotJson(FetchError),
    #[error("{subgraph} answered without its SDL: {answer}")]
    NoSdl {
        subgraph: &'static str,
        answer: serde_json::Value,
    },
}

/// Why the running subgraphs gave no supergraph to serve.
#[derive(Debug, thiserror::Error)]
enum ComposeError {
    #[error(transparent)]
    Composition(#[from] CompositionErrors),
    #[error(transparent)]
    Supergraph(#[from] SupergraphError),
}

async fn start_all(args: &DemoArgs) -> Result<Vec<Running>, StartError> {
    let bus = Bus::in_process();
    let mut peers = std::collections::BTreeMap::new();
    let mut running = Vec::new();
    running.push(start::<weft_accounts::Accounts>(args, 0, &bus, &peers).await?);
    running.push(start::<weft_products::Products>(args, 1, &bus, &peers).await?);
    let inventory = start::<weft_inventory::Inventory>(args, 2, &bus, &peers).await?;
    peers.insert("inventory".to_owned(), inventory.url());
    running.push(inventory);
    running.push(start::<weft_reviews::Reviews>(args, 3, &bus, &peers).await?);
    running.push(start::<weft_orders::Orders>(args, 4, &bus, &peers).await?);
    // Ready means answering GraphQL over HTTP, checked the way the gateway will talk to them.
    let client = SubgraphClient::new(Duration::from_secs(5)).map_err(StartError::Probe)?;
    let probe = GraphQLRequest {
        query: "{ _service { sdl } }",
        operation_name: None,
        variables: None,
        extensions: None,
    };
    for sg in &running {
        let response =
            client
                .post(&sg.url(), &probe)
                .await
                .map_err(|source| StartError::NoAnswer {
                    subgraph: sg.name,
                    source,
                })?;
        let json = response.json().map_err(StartError::NotJson)?;
        if json["data"]["_service"]["sdl"].as_str().is_none() {
            return Err(StartError::NoSdl {
                subgraph: sg.name,
                answer: json,
            });
        }
    }
    Ok(running)
}

/// How many shards the demo's accounts spreads its users over.
const ACCOUNTS_SHARDS: usize = 3;

async fn start<S: Subgraph>(
    args: &DemoArgs,
    offset: u16,
    bus: &Bus,
    peers: &std::collections::BTreeMap<String, String>,
) -> Result<Running, StartError> {
    let port = if args.base_port == 0 {
        0
    } else {
        args.base_port.saturating_add(offset)
    };
    // Accounts shows partitioning: its users are spread over a few in-memory shards.
    let shards = if S::NAME == "accounts" {
        ACCOUNTS_SHARDS
    } else {
        1
    };
    let (db, shards) = open_layout::<S>(None, None, shards)
        .await
        .map_err(|source| StartError::Database {
            subgraph: S::NAME,
            source,
        })?;
    let listener = TcpListener::bind((args.host.as_str(), port))
        .await
        .map_err(|source| StartError::Listen {
            subgraph: S::NAME,
            host: args.host.clone(),
            port,
            source,
        })?;
    let env = Env {
        db,
        bus: bus.clone(),
        peers: peers.clone(),
        shards,
        slow_field: args.slow_field_ms.map(Duration::from_millis),
    };
    spawn_env::<S>(listener, env, false).map_err(|source| StartError::Serve {
        subgraph: S::NAME,
        source,
    })
}

/// The supergraph of the running subgraphs: their SDL, routed to where they listen.
fn compose_running(running: &[Running]) -> Result<weft_federation::Supergraph, ComposeError> {
    use weft_federation::compose::{SubgraphInput, compose};
    let sdl = |name: &str| match name {
        "accounts" => weft_accounts::Accounts::sdl(),
        "products" => weft_products::Products::sdl(),
        "inventory" => weft_inventory::Inventory::sdl(),
        "orders" => weft_orders::Orders::sdl(),
        _ => weft_reviews::Reviews::sdl(),
    };
    let inputs: Vec<SubgraphInput> = running
        .iter()
        .map(|sg| SubgraphInput {
            name: sg.name.to_owned(),
            url: sg.url(),
            sdl: sdl(sg.name),
            source: format!("{} (running)", sg.name),
        })
        .collect();
    let composed = compose(&inputs)?;
    Ok(weft_federation::Supergraph::parse(
        &composed.supergraph_sdl,
        "demo supergraph",
    )?)
}

/// The banner; a closed stdout is no reason to stop the demo.
fn print_banner(running: &[Running], gateway: std::net::SocketAddr) {
    let mut out = String::new();
    line!(
        out,
        "Weft demo: gateway and reference subgraphs (in-memory SQLite, seeded demo data)."
    );
    line!(out, "  {:<10} http://{gateway}/graphql", "gateway");
    for sg in running {
        line!(out, "  {:<10} {}", sg.name, sg.url());
    }
    line!(out, "");
    line!(out, "Try:");
    line!(
        out,
        "  curl -s http://{gateway}/graphql -H 'content-type: application/json' -d '{{\"query\":\"{{ topProducts(first: 2) {{ name price shippingEstimate reviews {{ body author {{ name }} }} }} }}\"}}'"
    );
    line!(
        out,
        "  curl -s http://{gateway}/graphql -H 'content-type: application/json' -d '{{\"query\":\"mutation {{ checkout(input: {{userId: \\\"1\\\", items: [{{upc: \\\"1\\\", quantity: 2}}], paymentToken: \\\"tok_ok\\\"}}) {{ id status failureReason items {{ quantity product {{ name stock }} }} }} }}\"}}'"
    );
    line!(out, "Press Ctrl-C to stop.");
    let _ = report::print(&out);
}
