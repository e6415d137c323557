//! The accounts GraphQL schema.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema, SimpleObject,
};
use weft_subgraph_kit::DbError;

use crate::data;
use crate::shards::Shards;

/// The id of the signed-in user that `me` returns (authentication comes with the gateway).
const ME: &str = "1";

/// A person with an account.
// Cacheable for 5 minutes: names change rarely (see docs/patterns/service-caching.md).
#[derive(SimpleObject, Clone, Debug, PartialEq)]
#[graphql(cache_control(max_age = 300))]
pub struct User {
    pub id: ID,
    pub name: Option<String>,
    pub username: Option<String>,
}

pub type AccountsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Batches user look-ups by id into one query per shard.
pub struct UserLoader(Shards);

impl Loader<String> for UserLoader {
    type Value = User;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, User>, Self::Error> {
        data::users_by_id(&self.0, keys).await.map_err(Arc::new)
    }
}

pub struct Query;

#[Object]
impl Query {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        load_user(ctx, ME.to_owned()).await
    }

    /// Every user.
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        Ok(data::all_users(ctx.data::<Shards>()?).await?)
    }

    /// One user by id.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        load_user(ctx, id.to_string()).await
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        load_user(ctx, id.to_string()).await
    }
}

async fn load_user(ctx: &Context<'_>, id: String) -> Result<Option<User>> {
    let loader = ctx.data::<DataLoader<UserLoader>>()?;
    Ok(loader.load_one(id).await?)
}

/// The executable schema over the users in `shards`.
pub fn build_schema(shards: Shards) -> AccountsSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .data(weft_subgraph_kit::loader(UserLoader(shards.clone())))
        .data(shards)
        .finish()
}

/// The federation SDL (what `{ _service { sdl } }` returns).
pub fn sdl() -> String {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
