//! The `products` subgraph: owns the catalogue.
//!
//! `Product @key(fields: "upc") { upc name price weight }`, `topProducts(first: Int = 5)`,
//! `product(upc:)`. Entity look-ups are batched into one SQL query by a DataLoader.
//! `renameProduct` publishes `ProductUpdated` through the outbox; `OrderConfirmed` events
//! count `unitsSold`, applied once each however often they are delivered.

mod data;
mod schema;

use axum::Router;
use tokio::task::JoinHandle;
use weft_subgraph_kit::events::{outbox, spawn_consumer, spawn_relay};
use weft_subgraph_kit::{Db, DbError, Env, Migration, Subgraph};

pub use data::{PRODUCTS, demo_product};
pub use schema::{Product, ProductsSchema, build_schema};

/// The products subgraph.
pub struct Products;

impl Subgraph for Products {
    const NAME: &'static str = "products";
    const DEFAULT_PORT: u16 = 4002;
    const MIGRATIONS: &'static [Migration] = &[
        Migration {
            version: 1,
            name: "products",
            sql: include_str!("../migrations/0001_products.sql"),
        },
        Migration {
            version: 2,
            name: "units_sold",
            sql: include_str!("../migrations/0002_units_sold.sql"),
        },
        outbox::MIGRATION,
    ];

    async fn seed(db: &Db) -> Result<(), DbError> {
        data::seed(db).await
    }

    fn router(db: Db) -> Router {
        weft_subgraph_kit::http::router(build_schema(db))
    }

    fn background(env: &Env) -> Vec<JoinHandle<()>> {
        vec![
            spawn_relay(&env.db, env.bus.clone()),
            spawn_consumer(
                &env.db,
                env.bus.clone(),
                "products.units-sold",
                &["OrderConfirmed"],
                data::count_sold,
            ),
        ]
    }

    fn sdl() -> String {
        schema::sdl()
    }
}
