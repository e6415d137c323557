//! The `products` subgraph: owns the catalogue.
//!
//! `Product @key(fields: "upc") { upc name price weight }`, `topProducts(first: Int = 5)`,
//! `product(upc:)`. Entity look-ups are batched into one SQL query by a DataLoader.

mod data;
mod schema;

use axum::Router;
use weft_subgraph_kit::{Db, DbError, Migration, Subgraph};

pub use data::{PRODUCTS, demo_product};
pub use schema::{Product, ProductsSchema, build_schema};

/// The products subgraph.
pub struct Products;

impl Subgraph for Products {
    const NAME: &'static str = "products";
    const DEFAULT_PORT: u16 = 4002;
    const MIGRATIONS: &'static [Migration] = &[Migration {
        version: 1,
        name: "products",
        sql: include_str!("../migrations/0001_products.sql"),
    }];

    async fn seed(db: &Db) -> Result<(), DbError> {
        data::seed(db).await
    }

    fn router(db: Db) -> Router {
        weft_subgraph_kit::http::router(build_schema(db))
    }

    fn sdl() -> String {
        schema::sdl()
    }
}
