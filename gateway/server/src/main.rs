//! `weft`: the Weft GraphQL federation gateway's one binary: the command line over the `weft`
//! library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use weft::cli::{api_schema, check, compose, config, demo, plan, serve};

/// mimalloc rather than glibc's malloc: the executor allocates and frees many small vectors
/// per request, and glibc spent a quarter of a cached request's CPU on it (`bench/README.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Weft: a GraphQL federation gateway.
#[derive(Debug, Parser)]
#[command(name = "weft", version, propagate_version = true)]
#[command(about = "Weft: a GraphQL federation gateway.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a supergraph: the federation gateway.
    Serve(serve::ServeArgs),
    /// Start the reference subgraphs (accounts, products, inventory, reviews, orders) and the
    /// gateway in one process.
    Demo(demo::DemoArgs),
    /// Run one reference subgraph (`accounts`, `products`, `inventory`, `reviews`, `orders`)
    /// with its own command line, e.g. `weft subgraph orders --port 4005 --database orders.db`.
    Subgraph(demo::SubgraphArgs),
    /// Compose subgraph schemas into a supergraph SDL.
    Compose(compose::ComposeArgs),
    /// Check a proposed subgraph change against the current supergraph.
    Check(check::CheckArgs),
    /// Print the query plan of an operation.
    Plan(plan::PlanArgs),
    /// Validate a supergraph SDL and print its API schema (what clients see).
    ApiSchema(api_schema::ApiSchemaArgs),
    /// The configuration file of `weft serve`: print its JSON Schema, or check a file.
    Config(config::ConfigArgs),
}

/// Transparent huge pages off for this process unless `MIMALLOC_ALLOW_THP` says otherwise.
/// mimalloc asks the kernel for huge pages on its segments (`madvise(MADV_HUGEPAGE)`), and a
/// gateway touches a few KiB of many of them: on the public benchmark this doubled the memory
/// of a cached query's load (25 -> 45 MiB) and added 16 MiB under distinct documents, for
/// 5-10% less CPU in one load and more in the other (bench/README.md, docs/decisions.md).
/// `MIMALLOC_ALLOW_THP=1` (or any value) leaves the choice to mimalloc, which reads it itself.
fn huge_pages_off() {
    // The flag is the process's (inherited by children); an old kernel without it leaves
    // the default, which is harmless.
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
}

fn main() -> ExitCode {
    huge_pages_off();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Subgraph(args) => demo::run_subgraph(args),
        Command::Compose(args) => compose::run(args),
        Command::Check(args) => check::run(args),
        Command::Plan(args) => plan::run(args),
        Command::ApiSchema(args) => api_schema::run(args),
        Command::Config(args) => config::run(args),
    }
}
