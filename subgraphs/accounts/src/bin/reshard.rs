//! `reshard`: copies the accounts users from one shard layout into another (a new set of
//! databases with any shard count). See docs/patterns/sharding.md for the whole procedure.

use std::process::ExitCode;

use clap::Parser;
use weft_accounts::{Accounts, Shards, shards::reshard};
use weft_subgraph_kit::subgraph::open_shards;

#[derive(Debug, Parser)]
struct Args {
    /// The current layout's database (SQLite path, or `postgres://` URL).
    #[arg(long)]
    from: String,
    /// The current layout's PostgreSQL schema (shards are `<schema>_shard<i>`).
    #[arg(long, default_value = "accounts")]
    from_schema: String,
    /// The current shard count.
    #[arg(long)]
    from_shards: usize,
    /// The new layout's database; must not be the current one.
    #[arg(long)]
    to: String,
    #[arg(long, default_value = "accounts_next")]
    to_schema: String,
    /// The new shard count.
    #[arg(long)]
    to_shards: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.from == args.to && args.from_schema == args.to_schema {
        eprintln!("error: --to must name other databases than --from");
        return ExitCode::FAILURE;
    }
    let open = |db: String, schema: String, n: usize| async move {
        open_shards::<Accounts>(Some(&db), Some(&schema), n)
            .await
            .map(Shards::new)
    };
    let from = open(args.from, args.from_schema, args.from_shards).await;
    let to = open(args.to, args.to_schema, args.to_shards).await;
    let (Ok(Some(from)), Ok(Some(to))) = (from, to) else {
        eprintln!("error: cannot open both layouts (and each needs at least one shard)");
        return ExitCode::FAILURE;
    };
    match reshard(&from, &to).await {
        Ok(total) => {
            println!("the new layout holds {total} users");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: resharding stopped: {err}\nhint: it is safe to run again");
            ExitCode::FAILURE
        }
    }
}
