//! The inventory GraphQL schema.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    ComplexObject, Context, ID, InputObject, Object, Result, Schema, SimpleObject,
};
use weft_subgraph_kit::{Db, DbError};

use crate::data::{self, ReserveError};
use crate::subscription::Subscription;

// A product, as inventory sees it: price and weight belong to `products`. (Plain comment:
// only the owning subgraph describes the type.)
// Stock changes with every order: never cached. The shipping estimate is, for a minute.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
#[graphql(complex, cache_control(max_age = 60))]
pub struct Product {
    pub upc: String,
    #[graphql(external)]
    pub price: Option<i32>,
    #[graphql(external)]
    pub weight: Option<i32>,
    /// Whether the product can be ordered now.
    #[graphql(cache_control(no_cache))]
    pub in_stock: Option<bool>,
    /// Units in stock and not reserved by an order.
    #[graphql(cache_control(no_cache))]
    pub stock: Option<i32>,
}

impl Product {
    /// The product `upc` with `stock` units, as inventory resolves it (price and weight as
    /// the representation gave them).
    pub fn with_stock(upc: String, price: Option<i32>, weight: Option<i32>, stock: i64) -> Product {
        Product {
            upc,
            price,
            weight,
            in_stock: Some(stock > 0),
            stock: Some(i32::try_from(stock).unwrap_or(i32::MAX)),
        }
    }
}

#[ComplexObject]
impl Product {
    /// Estimated shipping cost in cents, computed from price and weight.
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self, ctx: &Context<'_>) -> Option<i32> {
        if let Ok(SlowField(delay)) = ctx.data::<SlowField>() {
            tokio::time::sleep(*delay).await;
        }
        shipping_estimate(self.price?, self.weight?)
    }
}

/// Free shipping above 1000; otherwise half the weight. Pure, so tests can predict it.
pub fn shipping_estimate(price: i32, weight: i32) -> Option<i32> {
    Some(if price > 1000 { 0 } else { weight / 2 })
}

pub type InventorySchema = Schema<Query, Mutation, Subscription>;

/// Batches stock look-ups by upc into one query.
pub struct StockLoader(Db);

impl Loader<String> for StockLoader {
    type Value = i64;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, i64>, Self::Error> {
        data::stock_by_upc(&self.0, keys).await.map_err(Arc::new)
    }
}

pub struct Query;

#[Object]
impl Query {
    /// Whether inventory tracks the product with this upc.
    async fn tracked(&self, ctx: &Context<'_>, upc: String) -> Result<bool> {
        let loader = ctx.data::<DataLoader<StockLoader>>()?;
        Ok(loader.load_one(upc).await?.is_some())
    }

    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> Result<Option<Product>> {
        let loader = ctx.data::<DataLoader<StockLoader>>()?;
        let stock = loader.load_one(upc.clone()).await?;
        Ok(stock.map(|stock| Product::with_stock(upc, price, weight, stock)))
    }
}

/// One line of a reservation.
#[derive(InputObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct StockItemInput {
    pub upc: String,
    pub quantity: i32,
}

/// What `reserveStock` did.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct StockReservation {
    /// Whether every item is now held for the order.
    pub reserved: bool,
    /// Why not, when not.
    pub reason: Option<String>,
}

/// Commands of the checkout saga. `@inaccessible`: the orders service calls them on this
/// subgraph directly; clients of the gateway cannot.
pub struct Mutation;

#[Object(cache_control(no_cache))]
impl Mutation {
    /// Holds `items` for `orderId`, all or nothing; idempotent per order.
    #[graphql(inaccessible)]
    async fn reserve_stock(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        items: Vec<StockItemInput>,
    ) -> Result<StockReservation> {
        let db = ctx.data::<Db>()?;
        let items: Vec<(String, i64)> = items
            .into_iter()
            .map(|i| (i.upc, i64::from(i.quantity)))
            .collect();
        match data::reserve(db, &order_id, &items).await {
            Ok(()) => Ok(StockReservation {
                reserved: true,
                reason: None,
            }),
            Err(ReserveError::Db(err)) => Err(err.into()),
            Err(refused) => Ok(StockReservation {
                reserved: false,
                reason: Some(refused.to_string()),
            }),
        }
    }

    /// Puts back what `orderId` holds; idempotent.
    #[graphql(inaccessible)]
    async fn release_stock(&self, ctx: &Context<'_>, order_id: ID) -> Result<bool> {
        data::release(ctx.data::<Db>()?, &order_id).await?;
        Ok(true)
    }
}

/// The executable schema over `db`.
pub fn build_schema(db: Db) -> InventorySchema {
    build_schema_with(db, None)
}

/// How long `shippingEstimate` waits before answering (`weft demo --slow-field-ms`), to show
/// what `@defer` does for a slow field.
struct SlowField(std::time::Duration);

/// [`build_schema`], with `shippingEstimate` answering after `slow_field` when given.
pub fn build_schema_with(db: Db, slow_field: Option<std::time::Duration>) -> InventorySchema {
    let mut builder = Schema::build(Query, Mutation, Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .data(weft_subgraph_kit::loader(StockLoader(db.clone())))
        .data(db);
    if let Some(delay) = slow_field {
        builder = builder.data(SlowField(delay));
    }
    builder.finish()
}

/// The federation SDL (what `{ _service { sdl } }` returns).
pub fn sdl() -> String {
    Schema::build(Query, Mutation, Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
