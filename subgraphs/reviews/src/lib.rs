//! The `reviews` subgraph: owns reviews, and adds `User.reviews` and `Product.reviews` to
//! entities owned elsewhere. It stores only the ids of authors and products.

pub mod data;
mod schema;

use axum::Router;
use weft_subgraph_kit::{Db, DbError, Migration, Subgraph};

pub use data::{REVIEWS, demo_review};
pub use schema::{Product, Review, ReviewsSchema, User, build_schema};

/// The reviews subgraph.
pub struct Reviews;

impl Subgraph for Reviews {
    const NAME: &'static str = "reviews";
    const DEFAULT_PORT: u16 = 4004;
    const MIGRATIONS: &'static [Migration] = &[Migration {
        version: 1,
        name: "reviews",
        sql: include_str!("../migrations/0001_reviews.sql"),
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
