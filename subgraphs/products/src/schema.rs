//! The products GraphQL schema.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, SimpleObject};
use weft_subgraph_kit::federation::{context, from_context};
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

pub struct User {
    id: ID,
}

// A user (owned by accounts) as a shopper: the currency they see prices in and the products
// they saved for later. Every `Offer` below a user in a query is priced in that user's
// currency: the context `viewer`. (No description in the SDL: accounts' is the type's.)
#[Object(directive = context::apply("viewer".to_owned()))]
impl User {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The currency this user sees prices in (ISO 4217): every `Offer` below this user in a
    /// query is priced in it.
    async fn currency(&self, ctx: &Context<'_>) -> Result<String> {
        let currencies = ctx.data::<DataLoader<CurrencyLoader>>()?;
        Ok(currencies
            .load_one(self.id.to_string())
            .await?
            .unwrap_or_else(|| data::DEFAULT_CURRENCY.to_owned()))
    }

    /// Products this user saved for later, oldest first.
    async fn wishlist(&self, ctx: &Context<'_>) -> Result<Vec<Offer>> {
        let wishlists = ctx.data::<DataLoader<WishlistLoader>>()?;
        let upcs = wishlists
            .load_one(self.id.to_string())
            .await?
            .unwrap_or_default();
        let products = ctx
            .data::<DataLoader<ProductLoader>>()?
            .load_many(upcs.iter().cloned())
            .await?;
        Ok(upcs
            .iter()
            .filter_map(|upc| products.get(upc).cloned().map(|product| Offer { product }))
            .collect())
    }
}

pub struct Offer {
    product: Product,
}

/// A product at its price in the currency of whoever looks at it: what a wishlist holds.
#[Object(cache_control(max_age = 60))]
impl Offer {
    async fn upc(&self) -> &str {
        &self.product.upc
    }

    async fn product(&self) -> &Product {
        &self.product
    }

    /// The price in `currency`, the currency of the nearest `User` above in the query
    /// (US dollars when none is given): "EUR 12.66", "JPY 330".
    async fn price(
        &self,
        #[graphql(directive = from_context::apply("$viewer { currency }".to_owned()))]
        currency: Option<String>,
    ) -> Result<Option<String>> {
        let Some(cents) = self.product.price else {
            return Ok(None);
        };
        match data::format_price(cents, currency.as_deref()) {
            Some(price) => Ok(Some(price)),
            None => Err(format!("no rate for currency {currency:?}").into()),
        }
    }
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

/// Batches currency look-ups by user id into one query.
pub struct CurrencyLoader(Db);

impl Loader<String> for CurrencyLoader {
    type Value = String;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, String>, Self::Error> {
        data::currencies(&self.0, keys).await.map_err(Arc::new)
    }
}

/// Batches wishlist look-ups by user id into one query.
pub struct WishlistLoader(Db);

impl Loader<String> for WishlistLoader {
    type Value = Vec<String>;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<String>>, Self::Error> {
        data::wishlists(&self.0, keys).await.map_err(Arc::new)
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

    #[graphql(entity)]
    async fn find_offer_by_upc(&self, ctx: &Context<'_>, upc: String) -> Result<Option<Offer>> {
        Ok(load_product(ctx, upc)
            .await?
            .map(|product| Offer { product }))
    }

    /// Any user: one products does not know pays in US dollars and has an empty wishlist.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
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
        .data(weft_subgraph_kit::loader(WishlistLoader(db.clone())))
        .data(weft_subgraph_kit::loader(CurrencyLoader(db.clone())))
        .data(db)
        .finish()
}

/// The federation SDL (what `{ _service { sdl } }` returns): async-graphql's, linking
/// federation v2.8 for `@context`/`@fromContext`.
pub fn sdl() -> String {
    let printed = Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation());
    weft_subgraph_kit::federation::link_context(&printed)
}
