//! The `accounts` subgraph: owns users.
//!
//! `User @key(fields: "id") { id name username }`, `me`, `users`. Entity look-ups go through a
//! DataLoader, so `_entities` with N user representations runs one SQL query.

mod data;
mod schema;

use axum::Router;
use weft_subgraph_kit::{Db, DbError, Migration, Subgraph};

pub use data::{USERS, demo_user};
pub use schema::{AccountsSchema, User, build_schema};

/// The accounts subgraph.
pub struct Accounts;

impl Subgraph for Accounts {
    const NAME: &'static str = "accounts";
    const DEFAULT_PORT: u16 = 4001;
    const MIGRATIONS: &'static [Migration] = &[Migration {
        version: 1,
        name: "users",
        sql: include_str!("../migrations/0001_users.sql"),
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
