//! The command line shared by every subgraph binary:
//! `accounts [--host H] [--port P] [--database URL|PATH] [--print-sdl]`.

use std::process::ExitCode;

use clap::Parser;
use tokio::net::TcpListener;

use crate::subgraph::{Subgraph, open, spawn};

#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (default: the subgraph's own, 4001-4004).
    #[arg(long)]
    port: Option<u16>,
    /// SQLite file path or database URL; in-memory SQLite when absent.
    #[arg(long, env = "DATABASE_URL")]
    database: Option<String>,
    /// How long entity loaders gather keys into one SQL query, in milliseconds.
    #[arg(long, env = "WEFT_BATCH_WINDOW_MS", default_value_t = 6)]
    batch_window_ms: u64,
    /// Print the subgraph's federation SDL and exit.
    #[arg(long)]
    print_sdl: bool,
}

/// The `main` of a subgraph binary.
pub async fn main<S: Subgraph>() -> ExitCode {
    let args = Args::parse();
    if args.print_sdl {
        print!("{}", S::sdl());
        return ExitCode::SUCCESS;
    }
    init_logging();
    crate::set_batch_window_ms(args.batch_window_ms);
    let db = match open::<S>(args.database.as_deref()).await {
        Ok(db) => db,
        Err(err) => {
            eprintln!("error: {}: {err}", S::NAME);
            eprintln!(
                "hint: pass --database with a writable SQLite path, or omit it for in-memory"
            );
            return ExitCode::FAILURE;
        }
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
    let running = match spawn::<S>(listener, db) {
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
