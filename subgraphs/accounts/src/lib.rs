//! The `accounts` subgraph: owns users.
//!
//! `User @key(fields: "id") { id name username }`, `me`, `users`. Entity look-ups go through a
//! DataLoader, so `_entities` with N user representations runs one SQL query per shard.
//! Users are partitioned across `--shards N` databases by a stable hash of their id
//! ([`shards`]); with one shard everything lives in the service's database.

mod data;
mod schema;
pub mod shards;

use axum::Router;
use weft_subgraph_kit::{Db, DbError, Env, Migration, Subgraph};

pub use data::{USERS, demo_user};
pub use schema::{AccountsSchema, User, build_schema};
pub use shards::Shards;

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
        data::seed(&Shards(vec![db.clone()])).await
    }

    async fn seed_shards(shards: &[Db]) -> Result<(), DbError> {
        match Shards::new(shards.to_vec()) {
            Some(shards) => data::seed(&shards).await,
            None => Ok(()),
        }
    }

    fn router(db: Db) -> Router {
        weft_subgraph_kit::http::router(build_schema(Shards(vec![db])))
    }

    fn app(env: &Env) -> Router {
        let shards =
            Shards::new(env.shards.clone()).unwrap_or_else(|| Shards(vec![env.db.clone()]));
        weft_subgraph_kit::http::router(build_schema(shards))
    }

    fn sdl() -> String {
        schema::sdl()
    }
}
