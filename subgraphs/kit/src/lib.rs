//! What every reference subgraph shares: a counted database handle with migrations (SQLite or
//! PostgreSQL) and in-process notices of its commits, domain events (outbox, bus, idempotent
//! inbox), the HTTP surface (`POST /graphql`, also as an event stream for subscriptions;
//! `GET /health`), and the command line of a subgraph binary.
//!
//! Reference subgraphs are what a user's own service would look like, so this crate depends on
//! nothing from the gateway.

pub mod cli;
pub mod db;
pub mod events;
pub mod federation;
pub mod http;
pub mod notices;
pub mod sse;
pub mod subgraph;

pub use db::{Backend, Bind, Db, DbError, Migration, Tx};
pub use events::{Bus, Event};
pub use notices::Notice;
pub use subgraph::{Env, RequestLog, Running, Subgraph, spawn, spawn_env, spawn_with};

static BATCH_WINDOW_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(6);

/// Sets how long loaders created afterwards wait to gather keys into one batch.
pub fn set_batch_window_ms(ms: u64) {
    BATCH_WINDOW_MS.store(ms, std::sync::atomic::Ordering::Relaxed);
}

/// A DataLoader with the batching window every reference subgraph uses.
///
/// The window opens at the first key and closes after it elapses; keys requested later go to
/// the next batch. async-graphql's default of 1 ms is shorter than resolving a few hundred
/// `_entities` results takes in a debug build, which split one batch in two in our tests; the
/// default of 6 ms kept `_entities` with 100 representations to one query in 20 of 20 runs on a
/// loaded 2-core machine. Benchmarks of release builds may lower it (`--batch-window-ms`).
pub fn loader<T>(loader: T) -> async_graphql::dataloader::DataLoader<T>
where
    T: Send + Sync + 'static,
{
    let ms = BATCH_WINDOW_MS.load(std::sync::atomic::Ordering::Relaxed);
    async_graphql::dataloader::DataLoader::new(loader, tokio::spawn)
        .delay(std::time::Duration::from_millis(ms))
}
