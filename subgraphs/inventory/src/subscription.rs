//! `Subscription.stockChanged(upc:)`: the product each time its stock changes.
//!
//! Fed in process by the database's commit notices ([`weft_subgraph_kit::notices`]): the
//! reservations and releases of the checkout saga ([`crate::data`]) send a
//! [`data::STOCK_CHANGED`] notice per product once their transaction has committed, carrying
//! the level that transaction left. A notice rather than the outbox: the outbox relay polls and
//! marks rows for the bus (at least once, minutes late if the bus is down), while a watcher
//! wants each committed level, at once, exactly once. Inventory keeps one database per process,
//! so every writer of its stock is heard.

use std::sync::Arc;

use async_graphql::{Context, Error, ID, Result, Subscription as GraphQLSubscription};
use futures::Stream;
use futures::stream;
use tokio::sync::broadcast::{self, error::RecvError};
use weft_subgraph_kit::{Db, Notice};

use crate::data;
use crate::schema::Product;

pub struct Subscription;

#[GraphQLSubscription]
impl Subscription {
    /// The product each time its stock changes (an order reserves it, or a cancelled order
    /// puts it back), with `stock` and `inStock` as that change left them.
    async fn stock_changed(
        &self,
        ctx: &Context<'_>,
        upc: ID,
    ) -> Result<impl Stream<Item = Result<Product>> + use<>> {
        let db = ctx.data::<Db>()?.clone();
        // Listening before the look-up: a change committed in between is still delivered.
        let notices = db.listen();
        let upc = upc.0;
        if data::stock_by_upc(&db, std::slice::from_ref(&upc))
            .await?
            .is_empty()
        {
            return Err(Error::new(format!(
                "inventory does not track product {upc}"
            )));
        }
        Ok(changes(db, notices, upc))
    }
}

/// The product `upc` after each committed change of its stock.
fn changes(
    db: Db,
    notices: broadcast::Receiver<Arc<Notice>>,
    upc: String,
) -> impl Stream<Item = Result<Product>> {
    stream::unfold((db, notices, upc), |(db, mut notices, upc)| async move {
        loop {
            let level = match notices.recv().await {
                Ok(notice) if notice.topic == data::STOCK_CHANGED && notice.key == upc => {
                    match notice.payload["stock"].as_i64() {
                        Some(stock) => Ok(stock),
                        None => current(&db, &upc).await,
                    }
                }
                Ok(_) => continue,
                // Fell behind (changes of other products count too): the level now stands for
                // the changes missed, so the watcher still ends on the truth.
                Err(RecvError::Lagged(_)) => current(&db, &upc).await,
                Err(RecvError::Closed) => return None,
            };
            let product = level.map(|stock| Product::with_stock(upc.clone(), None, None, stock));
            return Some((product, (db, notices, upc)));
        }
    })
}

/// The stock of `upc` now.
async fn current(db: &Db, upc: &str) -> Result<i64> {
    let levels = data::stock_by_upc(db, &[upc.to_owned()]).await?;
    levels
        .get(upc)
        .copied()
        .ok_or_else(|| Error::new(format!("inventory no longer tracks product {upc}")))
}
