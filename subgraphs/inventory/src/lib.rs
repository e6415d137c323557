//! The `inventory` subgraph: owns stock levels.
//!
//! Extends `Product` with `inStock` and `shippingEstimate @requires(fields: "price weight")`:
//! the gateway fetches price and weight from `products` and passes them in the representation.
//! Holds stock counts (`Product.stock`) and the reservations of the checkout saga, publishing
//! `StockReserved` / `StockReleased` through its outbox. `Subscription.stockChanged(upc:)`
//! streams a product's stock as orders take and put back units ([`subscription`]).

pub mod data;
mod schema;
mod subscription;

use axum::Router;
use tokio::task::JoinHandle;
use weft_subgraph_kit::events::{outbox, spawn_relay};
use weft_subgraph_kit::{Db, DbError, Env, Migration, Subgraph};

pub use schema::{InventorySchema, Product, build_schema, shipping_estimate};
pub use subscription::Subscription;

/// The inventory subgraph.
pub struct Inventory;

impl Subgraph for Inventory {
    const NAME: &'static str = "inventory";
    const DEFAULT_PORT: u16 = 4003;
    const MIGRATIONS: &'static [Migration] = &[
        Migration {
            version: 1,
            name: "inventory",
            sql: include_str!("../migrations/0001_inventory.sql"),
        },
        Migration {
            version: 2,
            name: "stock",
            sql: include_str!("../migrations/0002_stock.sql"),
        },
        outbox::MIGRATION,
    ];

    async fn seed(db: &Db) -> Result<(), DbError> {
        data::seed(db).await
    }

    fn router(db: Db) -> Router {
        weft_subgraph_kit::http::router(build_schema(db))
    }

    fn app(env: &Env) -> Router {
        weft_subgraph_kit::http::router(schema::build_schema_with(env.db.clone(), env.slow_field))
    }

    fn background(env: &Env) -> Vec<JoinHandle<()>> {
        vec![spawn_relay(&env.db, env.bus.clone())]
    }

    fn sdl() -> String {
        schema::sdl()
    }
}
