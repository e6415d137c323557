//! The query side (CQRS): `order_view`, one row per order, shaped for the GraphQL queries and
//! derived only from the event store. It can be dropped and rebuilt by replaying every stream.

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::{Bind, Db, DbError, Tx};

use crate::order::{Item, Order, OrderStatus};
use crate::store::{self, StoreError};

/// One row of the read model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub id: String,
    pub user_id: String,
    pub status: OrderStatus,
    pub failure_reason: Option<String>,
    pub items: Vec<Item>,
    pub version: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl OrderView {
    /// The row for `order`.
    pub fn of(order: &Order) -> OrderView {
        let status = order.status.unwrap_or(OrderStatus::Pending);
        OrderView {
            id: order.id.clone(),
            user_id: order.user_id.clone(),
            status,
            // Only a cancelled order shows why: a pending one may still be compensating.
            failure_reason: (status == OrderStatus::Cancelled)
                .then(|| order.failure.clone())
                .flatten(),
            items: order.items.clone(),
            version: order.version,
            created_ms: order.created_ms,
            updated_ms: order.updated_ms,
        }
    }
}

const COLUMNS: &str = "id, user_id, status, failure_reason, items, version, created_ms, updated_ms";

/// Writes `order`'s row inside `tx` (the transaction that appended its events).
pub async fn upsert(tx: &mut Tx, order: &Order) -> Result<(), DbError> {
    let view = OrderView::of(order);
    let items = serde_json::to_string(&view.items).unwrap_or_else(|_| "[]".to_owned());
    tx.execute(
        &format!(
            "INSERT INTO order_view ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, \
             status = excluded.status, failure_reason = excluded.failure_reason, \
             items = excluded.items, version = excluded.version, \
             created_ms = excluded.created_ms, updated_ms = excluded.updated_ms"
        ),
        &[
            Bind::Text(view.id),
            Bind::Text(view.user_id),
            Bind::Text(view.status.as_str().to_owned()),
            Bind::OptText(view.failure_reason),
            Bind::Text(items),
            Bind::Int(view.version),
            Bind::Int(view.created_ms),
            Bind::Int(view.updated_ms),
        ],
    )
    .await?;
    Ok(())
}

/// Replays every stream of the event store into a fresh read model; returns how many orders.
pub async fn rebuild(db: &Db) -> Result<usize, StoreError> {
    let ids = store::stream_ids(db).await?;
    let mut orders = Vec::with_capacity(ids.len());
    for id in &ids {
        orders.push(store::load(db, id).await?);
    }
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM order_view", &[]).await?;
    for order in &orders {
        upsert(&mut tx, order).await?;
    }
    tx.commit().await?;
    Ok(orders.len())
}

/// Every row, by id (to compare a rebuilt read model with the live one).
pub async fn all(db: &Db) -> Result<Vec<OrderView>, DbError> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM order_view ORDER BY id"),
            &[],
        )
        .await?;
    rows.iter().map(to_view).collect()
}

/// The orders with the given ids, in one query.
pub async fn by_ids(db: &Db, ids: &[String]) -> Result<HashMap<String, OrderView>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let binds: Vec<Bind> = ids.iter().cloned().map(Bind::Text).collect();
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM order_view WHERE id IN ({})",
                placeholders(ids.len())
            ),
            &binds,
        )
        .await?;
    rows.iter()
        .map(|row| to_view(row).map(|v| (v.id.clone(), v)))
        .collect()
}

/// The orders of each of `users`, oldest first, in one query.
pub async fn by_users(
    db: &Db,
    users: &[String],
) -> Result<HashMap<String, Vec<OrderView>>, DbError> {
    let mut grouped: HashMap<String, Vec<OrderView>> = HashMap::new();
    if users.is_empty() {
        return Ok(grouped);
    }
    let binds: Vec<Bind> = users.iter().cloned().map(Bind::Text).collect();
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM order_view WHERE user_id IN ({}) ORDER BY created_ms, id",
                placeholders(users.len())
            ),
            &binds,
        )
        .await?;
    for row in &rows {
        let view = to_view(row)?;
        grouped.entry(view.user_id.clone()).or_default().push(view);
    }
    Ok(grouped)
}

/// The orders in `status`, oldest first.
pub async fn by_status(db: &Db, status: OrderStatus) -> Result<Vec<OrderView>, DbError> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM order_view WHERE status = $1 ORDER BY created_ms, id"),
            &[Bind::Text(status.as_str().to_owned())],
        )
        .await?;
    rows.iter().map(to_view).collect()
}

/// Pending orders last changed before `before_ms`: sagas a crash or an outage left unfinished.
pub async fn stalled(db: &Db, before_ms: i64) -> Result<Vec<String>, DbError> {
    let rows = db
        .fetch_all(
            "SELECT id FROM order_view WHERE status = 'PENDING' AND updated_ms < $1 ORDER BY created_ms",
            &[Bind::Int(before_ms)],
        )
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("id")?))
        .collect()
}

fn to_view(row: &sqlx::any::AnyRow) -> Result<OrderView, DbError> {
    let status: String = row.try_get("status")?;
    let items: String = row.try_get("items")?;
    Ok(OrderView {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Pending),
        failure_reason: row.try_get("failure_reason")?,
        items: serde_json::from_str(&items).unwrap_or_default(),
        version: row.try_get("version")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}
