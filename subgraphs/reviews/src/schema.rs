//! The reviews GraphQL schema.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema,
    SimpleObject,
};
use weft_subgraph_kit::{Db, DbError};

use crate::data::{self, By, ReviewRow};

/// A review of a product, written by a user.
#[derive(Clone, Debug, PartialEq)]
pub struct Review(pub ReviewRow);

// Reviews do not change once written: cacheable for a minute (the product-name copy is
// announced by `EntityChanged` when it changes).
#[Object(cache_control(max_age = 60))]
impl Review {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn body(&self) -> Option<&str> {
        Some(&self.0.body)
    }

    /// Who wrote it (resolved by `accounts`).
    async fn author(&self) -> Option<User> {
        Some(User {
            id: ID(self.0.author_id.clone()),
        })
    }

    /// The reviewed product's name from reviews' own read copy, updated by `ProductUpdated`
    /// events: eventually consistent with `product { name }`.
    async fn product_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let loader = ctx.data::<DataLoader<ProductNameLoader>>()?;
        Ok(loader.load_one(self.0.product_upc.clone()).await?)
    }

    /// What it reviews (resolved by `products`).
    async fn product(&self) -> Option<Product> {
        Some(Product {
            upc: self.0.product_upc.clone(),
        })
    }
}

// A user, owned by `accounts`; reviews adds the reviews they wrote. (Plain comment: only the
// owning subgraph describes the type, so composition sees one description.)
#[derive(SimpleObject, Clone, Debug, PartialEq)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
}

#[ComplexObject]
impl User {
    /// Reviews this user wrote, oldest first.
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<Review>> {
        reviews_of(ctx, By::Author, self.id.to_string()).await
    }
}

// A product, owned by `products`; reviews adds the reviews written about it.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
#[graphql(complex)]
pub struct Product {
    pub upc: String,
}

#[ComplexObject]
impl Product {
    /// Reviews of this product, oldest first.
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<Review>> {
        reviews_of(ctx, By::Product, self.upc.clone()).await
    }
}

pub type ReviewsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Batches review look-ups on one column (id, author or product) into one query.
pub struct ReviewLoader {
    db: Db,
    by: By,
}

impl Loader<String> for ReviewLoader {
    type Value = Vec<ReviewRow>;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<ReviewRow>>, Self::Error> {
        data::reviews_by(&self.db, self.by, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Batches look-ups of the local product-name copy into one query.
pub struct ProductNameLoader(Db);

impl Loader<String> for ProductNameLoader {
    type Value = String;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, String>, Self::Error> {
        data::product_names(&self.0, keys).await.map_err(Arc::new)
    }
}

/// The three loaders, one per look-up column.
struct Loaders {
    by_id: DataLoader<ReviewLoader>,
    by_author: DataLoader<ReviewLoader>,
    by_product: DataLoader<ReviewLoader>,
}

impl Loaders {
    fn get(&self, by: By) -> &DataLoader<ReviewLoader> {
        match by {
            By::Id => &self.by_id,
            By::Author => &self.by_author,
            By::Product => &self.by_product,
        }
    }
}

async fn reviews_of(ctx: &Context<'_>, by: By, key: String) -> Result<Vec<Review>> {
    let rows = ctx.data::<Loaders>()?.get(by).load_one(key).await?;
    Ok(rows.unwrap_or_default().into_iter().map(Review).collect())
}

pub struct Query;

#[Object]
impl Query {
    /// One review by id.
    async fn review(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Review>> {
        Ok(reviews_of(ctx, By::Id, id.to_string())
            .await?
            .into_iter()
            .next())
    }

    #[graphql(entity)]
    async fn find_review_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Review>> {
        self.review(ctx, id).await
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

/// The executable schema over `db`.
pub fn build_schema(db: Db) -> ReviewsSchema {
    let loader = |by| weft_subgraph_kit::loader(ReviewLoader { db: db.clone(), by });
    let loaders = Loaders {
        by_id: loader(By::Id),
        by_author: loader(By::Author),
        by_product: loader(By::Product),
    };
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .data(loaders)
        .data(weft_subgraph_kit::loader(ProductNameLoader(db.clone())))
        .data(db)
        .finish()
}

/// The federation SDL (what `{ _service { sdl } }` returns).
pub fn sdl() -> String {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
