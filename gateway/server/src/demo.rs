//! `weft demo`: the reference subgraphs and the gateway in one process. Each subgraph gets its
//! own port and its own seeded in-memory SQLite database; the supergraph is composed at start
//! from the subgraphs' SDL and their actual addresses, then served on `--listen`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio::net::TcpListener;
use weft_engine::{GraphQLRequest, SubgraphClient};
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Running, Subgraph, spawn};

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
}

pub fn run(args: DemoArgs) -> ExitCode {
    weft_subgraph_kit::cli::init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match start_all(&args).await {
            Ok(running) => {
                let supergraph = match compose_running(&running) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("error: composing the reference subgraphs failed: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                let listener = match TcpListener::bind(args.listen).await {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("error: cannot listen on {}: {e}\n  hint: pick a free address with --listen", args.listen);
                        return ExitCode::FAILURE;
                    }
                };
                let gateway_addr = listener.local_addr().unwrap_or(args.listen);
                print_banner(&running, gateway_addr);
                let result = crate::serve::serve_on(listener, supergraph, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await;
                for sg in running {
                    sg.stop().await;
                }
                match result {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("error: gateway failed: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(message) => {
                eprintln!("error: {message}");
                eprintln!(
                    "  hint: free ports {}-{} or pass --base-port",
                    args.base_port,
                    args.base_port.saturating_add(3)
                );
                ExitCode::FAILURE
            }
        }
    })
}

async fn start_all(args: &DemoArgs) -> Result<Vec<Running>, String> {
    let mut running = Vec::new();
    running.push(start::<weft_accounts::Accounts>(args, 0).await?);
    running.push(start::<weft_products::Products>(args, 1).await?);
    running.push(start::<weft_inventory::Inventory>(args, 2).await?);
    running.push(start::<weft_reviews::Reviews>(args, 3).await?);
    // Ready means answering GraphQL over HTTP, checked the way the gateway will talk to them.
    let client = SubgraphClient::new(Duration::from_secs(5)).map_err(|e| e.to_string())?;
    let probe = GraphQLRequest {
        query: "{ _service { sdl } }",
        operation_name: None,
        variables: None,
        extensions: None,
    };
    for sg in &running {
        let response = client
            .post(&sg.url(), &probe)
            .await
            .map_err(|e| format!("{} did not answer: {e}", sg.name))?;
        let json = response.json().map_err(|e| e.to_string())?;
        if json["data"]["_service"]["sdl"].as_str().is_none() {
            return Err(format!("{} answered without its SDL: {json}", sg.name));
        }
    }
    Ok(running)
}

async fn start<S: Subgraph>(args: &DemoArgs, offset: u16) -> Result<Running, String> {
    let port = if args.base_port == 0 {
        0
    } else {
        args.base_port.saturating_add(offset)
    };
    let db = open::<S>(None)
        .await
        .map_err(|e| format!("{}: {e}", S::NAME))?;
    let listener = TcpListener::bind((args.host.as_str(), port))
        .await
        .map_err(|e| format!("{}: cannot listen on {}:{port}: {e}", S::NAME, args.host))?;
    spawn::<S>(listener, db).map_err(|e| format!("{}: {e}", S::NAME))
}

/// The supergraph of the running subgraphs: their SDL, routed to where they listen.
fn compose_running(running: &[Running]) -> Result<weft_federation::Supergraph, String> {
    use weft_federation::compose::{SubgraphInput, compose};
    let sdl = |name: &str| match name {
        "accounts" => weft_accounts::Accounts::sdl(),
        "products" => weft_products::Products::sdl(),
        "inventory" => weft_inventory::Inventory::sdl(),
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
    let composed = compose(&inputs).map_err(|e| e.to_string())?;
    weft_federation::Supergraph::parse(&composed.supergraph_sdl, "demo supergraph")
        .map_err(|e| e.to_string())
}

fn print_banner(running: &[Running], gateway: std::net::SocketAddr) {
    println!("Weft demo: gateway and reference subgraphs (in-memory SQLite, seeded demo data).");
    println!("  {:<10} http://{gateway}/graphql", "gateway");
    for sg in running {
        println!("  {:<10} {}", sg.name, sg.url());
    }
    println!();
    println!("Try:");
    println!(
        "  curl -s http://{gateway}/graphql -H 'content-type: application/json' -d '{{\"query\":\"{{ topProducts(first: 2) {{ name price shippingEstimate reviews {{ body author {{ name }} }} }} }}\"}}'"
    );
    println!("Press Ctrl-C to stop.");
}
