//! The orders GraphQL schema: queries read the read model; `checkout` runs the saga;
//! `orderStatusChanged` watches an order's event stream ([`crate::subscription`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    ComplexObject, Context, Error, ID, InputObject, Object, Result, Schema, SimpleObject,
};
use weft_subgraph_kit::{Db, DbError};

use crate::order::{Item, OrderEvent, OrderStatus};
use crate::read_model::{self, OrderView};
use crate::saga::Saga;
use crate::store;
use crate::subscription::Subscription;

/// An order placed through `checkout`.
#[derive(Clone, Debug)]
pub struct Order(pub OrderView);

// Per user and changing while the saga runs: never cached, never shared.
#[Object(cache_control(no_cache, private))]
impl Order {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// `PENDING` while the checkout saga runs, then `CONFIRMED` or `CANCELLED`.
    async fn status(&self) -> OrderStatus {
        self.0.status
    }

    /// Why a cancelled order was cancelled.
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }

    /// Who placed it (resolved by `accounts`).
    async fn user(&self) -> User {
        User {
            id: ID(self.0.user_id.clone()),
        }
    }

    async fn items(&self) -> Vec<OrderItem> {
        self.0
            .items
            .iter()
            .map(|i| OrderItem {
                product: Product { upc: i.upc.clone() },
                quantity: i32::try_from(i.quantity).unwrap_or(i32::MAX),
            })
            .collect()
    }
}

/// One line of an order.
#[derive(SimpleObject, Clone, Debug)]
pub struct OrderItem {
    pub product: Product,
    pub quantity: i32,
}

// A product, owned by `products`. (Plain comment: only the owning subgraph describes it.)
#[derive(SimpleObject, Clone, Debug)]
pub struct Product {
    pub upc: String,
}

// A user, owned by `accounts`; orders adds their orders.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
}

#[ComplexObject]
impl User {
    /// Orders this user placed, oldest first.
    #[graphql(cache_control(no_cache, private))]
    async fn orders(&self, ctx: &Context<'_>) -> Result<Vec<Order>> {
        let loader = ctx.data::<DataLoader<UserOrdersLoader>>()?;
        let orders = loader.load_one(self.id.to_string()).await?;
        Ok(orders.unwrap_or_default().into_iter().map(Order).collect())
    }
}

/// One line of a checkout.
#[derive(InputObject, Clone, Debug)]
pub struct CheckoutItemInput {
    pub upc: String,
    pub quantity: i32,
}

/// What to buy, for whom, paid how (payment token `tok_ok` is authorized, `tok_decline`
/// declined).
#[derive(InputObject, Clone, Debug)]
pub struct CheckoutInput {
    pub user_id: ID,
    pub items: Vec<CheckoutItemInput>,
    /// `tok_ok` is authorized, `tok_decline` declined.
    pub payment_token: String,
}

pub type OrdersSchema = Schema<Query, Mutation, Subscription>;

/// Batches `User.orders` look-ups into one query.
pub struct UserOrdersLoader(Db);

impl Loader<String> for UserOrdersLoader {
    type Value = Vec<OrderView>;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<OrderView>>, Self::Error> {
        read_model::by_users(&self.0, keys).await.map_err(Arc::new)
    }
}

/// Batches order look-ups by id into one query.
pub struct OrderLoader(Db);

impl Loader<String> for OrderLoader {
    type Value = OrderView;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, OrderView>, Self::Error> {
        read_model::by_ids(&self.0, keys).await.map_err(Arc::new)
    }
}

pub struct Query;

#[Object]
impl Query {
    /// One order by id.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>> {
        let loader = ctx.data::<DataLoader<OrderLoader>>()?;
        Ok(loader.load_one(id.to_string()).await?.map(Order))
    }

    /// Every order in `status`, oldest first.
    async fn orders_by_status(&self, ctx: &Context<'_>, status: OrderStatus) -> Result<Vec<Order>> {
        let rows = read_model::by_status(ctx.data::<Db>()?, status).await?;
        Ok(rows.into_iter().map(Order).collect())
    }

    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>> {
        self.order(ctx, id).await
    }

    /// Any user id is a valid reference: users are owned by accounts.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }

    /// Any upc is a valid reference: products are owned by products.
    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Product {
        Product { upc }
    }
}

pub struct Mutation;

#[Object(cache_control(no_cache))]
impl Mutation {
    /// Places an order and runs the checkout saga: reserve stock, authorize payment, confirm;
    /// on failure the stock is released and the order cancelled with a `failureReason`.
    async fn checkout(&self, ctx: &Context<'_>, input: CheckoutInput) -> Result<Option<Order>> {
        if input.items.is_empty() {
            return Err(Error::new("checkout needs at least one item"));
        }
        if let Some(bad) = input.items.iter().find(|i| i.quantity <= 0) {
            return Err(Error::new(format!(
                "quantity for product {} must be positive",
                bad.upc
            )));
        }
        let saga = ctx.data::<Saga>()?;
        let id = weft_subgraph_kit::events::new_id();
        let placed = OrderEvent::OrderPlaced {
            user_id: input.user_id.to_string(),
            items: input
                .items
                .iter()
                .map(|i| Item {
                    upc: i.upc.clone(),
                    quantity: i64::from(i.quantity),
                })
                .collect(),
            payment_token: input.payment_token,
        };
        store::append(&saga.db, &crate::order::Order::new(&id), &[placed]).await?;
        if let Err(err) = saga.drive(&id).await {
            // The order stays pending; the recovery pass finishes it later.
            tracing::warn!(order = %id, %err, "checkout saga paused");
        }
        let views = read_model::by_ids(&saga.db, std::slice::from_ref(&id)).await?;
        Ok(views.get(&id).cloned().map(Order))
    }
}

/// The executable schema running sagas with `saga`.
pub fn build_schema(saga: Saga) -> OrdersSchema {
    let db = saga.db.clone();
    Schema::build(Query, Mutation, Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .data(weft_subgraph_kit::loader(UserOrdersLoader(db.clone())))
        .data(weft_subgraph_kit::loader(OrderLoader(db.clone())))
        .data(db)
        .data(saga)
        .finish()
}

/// The federation SDL (what `{ _service { sdl } }` returns).
pub fn sdl() -> String {
    Schema::build(Query, Mutation, Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
