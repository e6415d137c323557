//! Stock rows: deterministic demo data, the batched look-up, and the reservations the checkout
//! saga makes and releases (idempotent per order, each with its event in the outbox, and a
//! [`STOCK_CHANGED`] notice per product once committed, for `stockChanged` subscriptions).

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::events::outbox;
use weft_subgraph_kit::{Bind, Db, DbError, Event, Notice, Tx};

/// The topic of the notice a committed stock change sends (key: the upc; payload:
/// `{"stock": <units now in stock>}`).
pub const STOCK_CHANGED: &str = "StockChanged";

/// How many products inventory tracks; upcs "1" ..= "PRODUCTS", the same as `products` seeds.
pub const PRODUCTS: usize = 30;

/// Whether demo product `i` is in stock: every fourth one is sold out.
pub fn demo_in_stock(i: usize) -> bool {
    !i.is_multiple_of(4)
}

/// How many units of demo product `i` are in stock: none for every fourth, else 10 to 14.
pub fn demo_stock(i: usize) -> i64 {
    if demo_in_stock(i) {
        10 + (i % 5) as i64
    } else {
        0
    }
}

/// Seeds stock levels when the table is empty.
pub async fn seed(db: &Db) -> Result<(), DbError> {
    if !db.table_is_empty("inventory").await? {
        return Ok(());
    }
    let inserts = (1..=PRODUCTS)
        .map(|i| {
            (
                "INSERT INTO inventory (upc, in_stock, stock) VALUES ($1, $2, $3)".to_owned(),
                vec![
                    Bind::Text(i.to_string()),
                    Bind::Int(demo_in_stock(i).into()),
                    Bind::Int(demo_stock(i)),
                ],
            )
        })
        .collect::<Vec<_>>();
    db.execute_batch(&inserts).await
}

/// The stock count of each known upc, in one query.
pub async fn stock_by_upc(db: &Db, upcs: &[String]) -> Result<HashMap<String, i64>, DbError> {
    if upcs.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT upc, stock FROM inventory WHERE upc IN ({})",
        placeholders(upcs.len())
    );
    let binds: Vec<Bind> = upcs.iter().cloned().map(Bind::Text).collect();
    let rows = db.fetch_all(&sql, &binds).await?;
    rows.iter()
        .map(|row| {
            let upc: String = row.try_get("upc")?;
            let stock: i64 = row.try_get("stock")?;
            Ok((upc, stock))
        })
        .collect()
}

/// Why a reservation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    #[error("insufficient stock for product {0}")]
    Insufficient(String),
    #[error("quantity for product {0} must be positive")]
    Quantity(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Takes `items` (upc, quantity) out of stock for `order_id`, all or nothing, with a
/// `StockReserved` event. Reserving again for the same order changes nothing and succeeds: the
/// saga retries a step whose answer it did not see.
pub async fn reserve(db: &Db, order_id: &str, items: &[(String, i64)]) -> Result<(), ReserveError> {
    let mut tx = db.begin().await?;
    // The marker row is written first: on SQLite it takes the write lock at once, on PostgreSQL
    // a concurrent retry of the same order waits here and then finds it.
    let fresh = tx
        .execute(
            "INSERT INTO reservations (order_id, upc, quantity) VALUES ($1, '', 0) \
             ON CONFLICT DO NOTHING",
            &[Bind::Text(order_id.to_owned())],
        )
        .await?;
    if fresh == 0 {
        return Ok(());
    }
    let mut levels = Levels::default();
    for (upc, quantity) in items {
        if *quantity <= 0 {
            return Err(ReserveError::Quantity(upc.clone()));
        }
        // RETURNING: the level this transaction leaves, which is what its notice tells.
        let taken = tx
            .fetch_all(
                "UPDATE inventory SET stock = stock - $1 WHERE upc = $2 AND stock >= $1 \
                 RETURNING stock",
                &[Bind::Int(*quantity), Bind::Text(upc.clone())],
            )
            .await?;
        let Some(row) = taken.first() else {
            // Dropping the transaction rolls back what earlier items took.
            return Err(ReserveError::Insufficient(upc.clone()));
        };
        levels.set(upc, row.try_get("stock").map_err(DbError::from)?);
        tx.execute(
            "INSERT INTO reservations (order_id, upc, quantity) VALUES ($1, $2, $3) \
             ON CONFLICT (order_id, upc) DO UPDATE SET quantity = reservations.quantity + $3",
            &[
                Bind::Text(order_id.to_owned()),
                Bind::Text(upc.clone()),
                Bind::Int(*quantity),
            ],
        )
        .await?;
    }
    let items: Vec<_> = items
        .iter()
        .map(|(upc, quantity)| serde_json::json!({ "upc": upc, "quantity": quantity }))
        .collect();
    let event = Event::new(
        "StockReserved",
        order_id,
        serde_json::json!({ "orderId": order_id, "items": items }),
    );
    outbox::append(&mut tx, &event).await?;
    levels.notify(&mut tx);
    tx.commit().await?;
    Ok(())
}

/// Puts back what `order_id` holds, with a `StockReleased` event; releasing twice (or an order
/// that reserved nothing) changes nothing.
pub async fn release(db: &Db, order_id: &str) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    // Marks first (the write lock, as in `reserve`); only rows it marked are put back.
    let marked = tx
        .execute(
            "UPDATE reservations SET released = 2 WHERE order_id = $1 AND released = 0",
            &[Bind::Text(order_id.to_owned())],
        )
        .await?;
    if marked == 0 {
        return Ok(());
    }
    let rows = tx
        .fetch_all(
            "SELECT upc, quantity FROM reservations WHERE order_id = $1 AND released = 2 AND upc <> ''",
            &[Bind::Text(order_id.to_owned())],
        )
        .await?;
    let mut items = Vec::new();
    let mut levels = Levels::default();
    for row in &rows {
        let upc: String = row.try_get("upc")?;
        let quantity: i64 = row.try_get("quantity")?;
        let put_back = tx
            .fetch_all(
                "UPDATE inventory SET stock = stock + $1 WHERE upc = $2 RETURNING stock",
                &[Bind::Int(quantity), Bind::Text(upc.clone())],
            )
            .await?;
        if let Some(row) = put_back.first() {
            levels.set(&upc, row.try_get("stock")?);
        }
        items.push(serde_json::json!({ "upc": upc, "quantity": quantity }));
    }
    tx.execute(
        "UPDATE reservations SET released = 1 WHERE order_id = $1 AND released = 2",
        &[Bind::Text(order_id.to_owned())],
    )
    .await?;
    let event = Event::new(
        "StockReleased",
        order_id,
        serde_json::json!({ "orderId": order_id, "items": items }),
    );
    outbox::append(&mut tx, &event).await?;
    levels.notify(&mut tx);
    tx.commit().await?;
    Ok(())
}

/// The stock levels a transaction leaves, per product, in the order it first changed them: a
/// product listed twice in one reservation is one change, to its final level.
#[derive(Default)]
struct Levels(Vec<(String, i64)>);

impl Levels {
    fn set(&mut self, upc: &str, stock: i64) {
        match self.0.iter_mut().find(|(u, _)| u == upc) {
            Some((_, level)) => *level = stock,
            None => self.0.push((upc.to_owned(), stock)),
        }
    }

    /// Queues a [`STOCK_CHANGED`] notice per product, told once `tx` commits.
    fn notify(self, tx: &mut Tx) {
        for (upc, stock) in self.0 {
            tx.notify(Notice {
                topic: STOCK_CHANGED,
                key: upc,
                payload: serde_json::json!({ "stock": stock }),
            });
        }
    }
}
