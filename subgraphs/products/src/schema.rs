//! The products GraphQL schema.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, EmptySubscription, Object, Result, Schema, SimpleObject};
use weft_subgraph_kit::{Db, DbError};

use crate::data;

/// Something for sale, identified by its universal product code.
// Cacheable for a minute; a rename publishes `EntityChanged` so caches drop it sooner.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
#[graphql(cache_control(max_age = 60))]
pub struct Product {
    pub upc: String,
    pub name: Option<String>,
    /// Price in cents.
    pub price: Option<i32>,
    /// Shipping weight in grams.
    pub weight: Option<i32>,
    /// Units sold in confirmed orders (kept up to date by `OrderConfirmed` events).
    #[graphql(cache_control(no_cache))]
    pub units_sold: Option<i32>,
}

pub type ProductsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Batches product look-ups by upc into one query.
pub struct ProductLoader(Db);

impl Loader<String> for ProductLoader {
    type Value = Product;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Product>, Self::Error> {
        data::products_by_upc(&self.0, keys).await.map_err(Arc::new)
    }
}

pub struct Query;

#[Object]
impl Query {
    /// The best-selling products, best first.
    async fn top_products(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] first: Option<i32>,
    ) -> Result<Vec<Product>> {
        let first = first.unwrap_or(5);
        Ok(data::top_products(ctx.data::<Db>()?, first.into()).await?)
    }

    /// One product by upc.
    async fn product(&self, ctx: &Context<'_>, upc: String) -> Result<Option<Product>> {
        load_product(ctx, upc).await
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, ctx: &Context<'_>, upc: String) -> Result<Option<Product>> {
        load_product(ctx, upc).await
    }
}

pub struct Mutation;

#[Object(cache_control(no_cache))]
impl Mutation {
    /// Renames a product; other services learn of it from a `ProductUpdated` event.
    async fn rename_product(
        &self,
        ctx: &Context<'_>,
        upc: String,
        name: String,
    ) -> Result<Option<Product>> {
        Ok(data::rename(ctx.data::<Db>()?, &upc, &name).await?)
    }
}

async fn load_product(ctx: &Context<'_>, upc: String) -> Result<Option<Product>> {
    let loader = ctx.data::<DataLoader<ProductLoader>>()?;
    Ok(loader.load_one(upc).await?)
}

/// The executable schema over `db`.
pub fn build_schema(db: Db) -> ProductsSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(weft_subgraph_kit::loader(ProductLoader(db.clone())))
        .data(db)
        .finish()
}

/// The federation SDL (what `{ _service { sdl } }` returns).
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
