//! The `reviews` subgraph: owns reviews, and adds `User.reviews` and `Product.reviews` to
//! entities owned elsewhere. It stores the ids of authors and products, plus a read copy of
//! product names kept current by `ProductUpdated` events (`Review.productName`).

pub mod data;
mod schema;

use axum::Router;
use tokio::task::JoinHandle;
use weft_subgraph_kit::events::{outbox, spawn_consumer, spawn_relay};
use weft_subgraph_kit::{Db, DbError, Env, Migration, Subgraph};

pub use data::{REVIEWS, demo_review};
pub use schema::{Product, Review, ReviewsSchema, User, build_schema};

/// The reviews subgraph.
pub struct Reviews;

impl Subgraph for Reviews {
    const NAME: &'static str = "reviews";
    const DEFAULT_PORT: u16 = 4004;
    const MIGRATIONS: &'static [Migration] = &[
        Migration {
            version: 1,
            name: "reviews",
            sql: include_str!("../migrations/0001_reviews.sql"),
        },
        Migration {
            version: 2,
            name: "product_names",
            sql: include_str!("../migrations/0002_product_names.sql"),
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
            spawn_consumer(
                &env.db,
                env.bus.clone(),
                "reviews.product-names",
                &["ProductUpdated"],
                data::copy_product_name,
            ),
            spawn_relay(&env.db, env.bus.clone()),
        ]
    }

    fn sdl() -> String {
        schema::sdl()
    }
}
