//! The `products` subgraph: owns the catalogue.
//!
//! `Product @key(fields: "upc") { upc name price weight }`, `topProducts(first: Int = 5)`,
//! `product(upc:)`. Entity look-ups are batched into one SQL query by a DataLoader.
//! Each `User` shops here in a currency, with a wishlist of `Offer`s whose `price` is in the
//! currency of the nearest `User` above it in the query: `@context(name: "viewer")` on `User`,
//! `@fromContext` on the argument; SDL through `federation::link_context`.
//! `renameProduct` publishes `ProductUpdated` through the outbox; `OrderConfirmed` events
//! count `unitsSold`, applied once each however often they are delivered.

mod data;
mod schema;

use axum::Router;
use tokio::task::JoinHandle;
use weft_subgraph_kit::events::{outbox, spawn_consumer, spawn_relay};
use weft_subgraph_kit::{Db, DbError, Env, Migration, Subgraph};

pub use data::{
    DEFAULT_CURRENCY, PRODUCTS, demo_currency, demo_product, demo_wishlist, format_price,
};
pub use schema::{Offer, Product, ProductsSchema, build_schema};

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
        Migration {
            version: 3,
            name: "shoppers",
            sql: include_str!("../migrations/0003_wishlist.sql"),
        },
        outbox::MIGRATION,
    ];

    async fn seed(db: &Db) -> Result<(), DbError> {
        data::seed(db).await
    }

    fn router(db: Db) -> Router {
        weft_subgraph_kit::http::router_with_sdl(
            build_schema(db),
            weft_subgraph_kit::federation::link_context,
        )
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
