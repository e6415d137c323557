//! The command line shared by every subgraph binary:
//! `accounts [--host H] [--port P] [--database URL|PATH] [--database-schema S] [--bus URL]
//! [--peer NAME=URL] [--print-sdl]`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use tokio::net::TcpListener;

use crate::events::Bus;
use crate::subgraph::{Env, Subgraph, open_layout, spawn_env};

#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (default: the subgraph's own; `command` names it).
    #[arg(long)]
    port: Option<u16>,
    /// SQLite file path or database URL (`postgres://...`); in-memory SQLite when absent.
    #[arg(long, env = "DATABASE_URL")]
    database: Option<String>,
    /// PostgreSQL schema holding this service's tables (default: the subgraph's name).
    #[arg(long, env = "DATABASE_SCHEMA")]
    database_schema: Option<String>,
    /// Partitions of a sharded service's data (accounts); 1 keeps it in one database.
    #[arg(long, env = "WEFT_SHARDS", default_value_t = 1)]
    shards: usize,
    /// RabbitMQ URL (`amqp://...`) for domain events; an in-process bus when absent.
    #[arg(long, env = "WEFT_BUS_URL")]
    bus: Option<String>,
    /// The RabbitMQ topic exchange events are published to.
    #[arg(long, env = "WEFT_BUS_EXCHANGE", default_value = "weft.events")]
    bus_exchange: String,
    /// Another service's GraphQL URL, `NAME=URL` (e.g. `inventory=http://127.0.0.1:4003/graphql`).
    #[arg(long = "peer", env = "WEFT_PEERS", value_delimiter = ',')]
    peers: Vec<String>,
    /// How long entity loaders gather keys into one SQL query, in milliseconds.
    #[arg(long, env = "WEFT_BATCH_WINDOW_MS", default_value_t = 6)]
    batch_window_ms: u64,
    /// Print the subgraph's federation SDL and exit.
    #[arg(long)]
    print_sdl: bool,
}

/// The command line of subgraph `name`, its own default port in `--port`'s help.
fn command(name: &'static str, default_port: u16) -> clap::Command {
    Args::command()
        .name(name)
        .about(format!("The `{name}` reference subgraph."))
        .mut_arg("port", |port| {
            port.help(format!("Port to listen on [default: {default_port}]"))
        })
}

/// The `main` of a subgraph binary.
pub async fn main<S: Subgraph>() -> ExitCode {
    main_from::<S, _, _>(std::env::args_os()).await
}

/// Like [`main`], with the command line given (the first item is the program name): `weft
/// subgraph NAME ...` runs a reference subgraph from the gateway's binary this way.
pub async fn main_from<S, I, T>(args: I) -> ExitCode
where
    S: Subgraph,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let parsed = command(S::NAME, S::DEFAULT_PORT)
        .try_get_matches_from(args)
        .and_then(|matches| Args::from_arg_matches(&matches));
    match parsed {
        Ok(args) => run::<S>(args).await,
        Err(err) => {
            let _ = err.print();
            if err.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

async fn run<S: Subgraph>(args: Args) -> ExitCode {
    if args.print_sdl {
        print!("{}", S::sdl());
        return ExitCode::SUCCESS;
    }
    init_logging();
    crate::set_batch_window_ms(args.batch_window_ms);
    let opened = open_layout::<S>(
        args.database.as_deref(),
        args.database_schema.as_deref(),
        args.shards,
    )
    .await;
    let (db, shards) = match opened {
        Ok(layout) => layout,
        Err(err) => {
            eprintln!("error: {}: {err}", S::NAME);
            eprintln!(
                "hint: pass --database with a writable SQLite path or a postgres:// URL, or omit it for in-memory"
            );
            return ExitCode::FAILURE;
        }
    };
    let bus = match &args.bus {
        Some(url) => match Bus::rabbit(url, &args.bus_exchange).await {
            Ok(bus) => bus,
            Err(err) => {
                eprintln!("error: {}: cannot connect to the event bus: {err}", S::NAME);
                eprintln!("hint: check --bus (WEFT_BUS_URL), or omit it for the in-process bus");
                return ExitCode::FAILURE;
            }
        },
        None => Bus::in_process(),
    };
    let mut peers = std::collections::BTreeMap::new();
    for peer in &args.peers {
        let Some((name, url)) = peer.split_once('=') else {
            eprintln!("error: --peer `{peer}` is not NAME=URL");
            return ExitCode::FAILURE;
        };
        peers.insert(name.trim().to_owned(), url.trim().to_owned());
    }
    let env = Env {
        db,
        bus,
        peers,
        shards,
        slow_field: None,
    };
    let port = args.port.unwrap_or(S::DEFAULT_PORT);
    let listener = match TcpListener::bind((args.host.as_str(), port)).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "error: {}: cannot listen on {}:{port}: {err}",
                S::NAME,
                args.host
            );
            eprintln!("hint: pick a free port with --port");
            return ExitCode::FAILURE;
        }
    };
    let running = match spawn_env::<S>(listener, env, false) {
        Ok(running) => running,
        Err(err) => {
            eprintln!("error: {}: {err}", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    println!("{} subgraph serving {}", S::NAME, running.url());
    let _ = tokio::signal::ctrl_c().await;
    running.stop().await;
    ExitCode::SUCCESS
}

/// Logs to stderr; `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_the_subgraph_and_its_own_port() {
        let help = command("fake", 4321).render_help().to_string();
        assert!(help.contains("Usage: fake"), "{help}");
        assert!(help.contains("[default: 4321]"), "{help}");
    }
}
