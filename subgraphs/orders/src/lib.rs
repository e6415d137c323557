//! The `orders` subgraph: event-sourced orders and the checkout saga.
//!
//! - Write side: an append-only event store (`order_events`) with optimistic concurrency on
//!   the stream version ([`store`]); an order's state is the fold of its events ([`order`]).
//! - Read side (CQRS): `order_view`, updated in the append's transaction and rebuildable from
//!   the store ([`read_model`]); it serves `order(id:)`, `ordersByStatus` and `User.orders`.
//! - `checkout` runs the saga ([`saga`]): reserve stock (inventory, over HTTP) → authorize
//!   payment ([`payment`]) → confirm, compensating in reverse on failure. A recovery pass at
//!   start-up (and every few seconds) finishes sagas a crash left pending.
//! - `OrderPlaced`, `OrderConfirmed` and `OrderCancelled` go out through the outbox.
//! - `orderStatusChanged(id:)` replays an order's statuses from its events, then follows new
//!   ones until it settles ([`subscription`]).

pub mod inventory;
pub mod order;
pub mod payment;
pub mod read_model;
pub mod saga;
pub mod schema;
pub mod store;
pub mod subscription;

use std::time::Duration;

use axum::Router;
use tokio::task::JoinHandle;
use weft_subgraph_kit::events::{outbox, spawn_relay};
use weft_subgraph_kit::{Db, DbError, Env, Migration, Subgraph};

pub use order::OrderStatus;
pub use saga::Saga;
pub use schema::{OrdersSchema, build_schema};

/// The orders subgraph.
pub struct Orders;

/// Exit the process right after this saga step (`reserve`, `authorize`, ...): crash tests.
pub const CRASH_AFTER_VAR: &str = "WEFT_ORDERS_CRASH_AFTER";

/// How long a pending order must sit unchanged before the periodic recovery pass takes it (a
/// live checkout is still driving younger ones).
const STALLED_AFTER: Duration = Duration::from_secs(10);

impl Orders {
    /// The saga runner for `env`: its database, the inventory peer, and the crash point.
    pub fn saga(env: &Env) -> Saga {
        Saga {
            db: env.db.clone(),
            inventory: inventory::Inventory::new(env.peers.get("inventory").cloned()),
            crash_after: std::env::var(CRASH_AFTER_VAR)
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }
}

impl Subgraph for Orders {
    const NAME: &'static str = "orders";
    const DEFAULT_PORT: u16 = 4005;
    const MIGRATIONS: &'static [Migration] = &[
        Migration {
            version: 1,
            name: "orders",
            sql: include_str!("../migrations/0001_orders.sql"),
        },
        outbox::MIGRATION,
    ];

    async fn seed(_db: &Db) -> Result<(), DbError> {
        Ok(())
    }

    fn router(db: Db) -> Router {
        Self::app(&Env::alone(db))
    }

    fn app(env: &Env) -> Router {
        weft_subgraph_kit::http::router(build_schema(Self::saga(env)))
    }

    fn background(env: &Env) -> Vec<JoinHandle<()>> {
        let saga = Self::saga(env);
        let recovery = tokio::spawn(async move {
            // At start-up every pending order is a saga the last run left unfinished.
            let mut older_than = Duration::ZERO;
            loop {
                match saga.recover(older_than).await {
                    Ok(n) if n > 0 => tracing::info!(settled = n, "recovered checkout sagas"),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(%err, "saga recovery failed"),
                }
                older_than = STALLED_AFTER;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        vec![spawn_relay(&env.db, env.bus.clone()), recovery]
    }

    fn sdl() -> String {
        schema::sdl()
    }
}
