//! The order event store: append-only streams, one per order, with optimistic concurrency on
//! the stream version. Each append also updates the read model and the outbox in the same
//! transaction, so neither can disagree with the events, and once committed sends an
//! [`APPENDED`] notice (in process) for those who watch the stream.

use sqlx::Row;
use weft_subgraph_kit::events::outbox;
use weft_subgraph_kit::{Bind, Db, DbError, Event, Notice, Tx};

use crate::order::{Order, OrderEvent};
use crate::read_model;

/// An error reading or appending to the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone appended to the stream since it was read: reload and decide again.
    #[error("order {stream} changed concurrently (expected version {expected})")]
    Conflict { stream: String, expected: i64 },
    #[error("stored event of order {stream} is not valid: {source}")]
    Corrupt {
        stream: String,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> StoreError {
        StoreError::Db(DbError::from(err))
    }
}

/// The topic of the notice an append sends once committed (key: the order id; payload:
/// `{"version": <the stream's version now>}`).
pub const APPENDED: &str = "OrderEventsAppended";

/// The order with id `stream`, folded from its events (version 0: no such order).
pub async fn load(db: &Db, stream: &str) -> Result<Order, StoreError> {
    let mut order = Order::new(stream);
    for (event, at) in events_after(db, stream, 0).await? {
        order.apply(&event, at);
    }
    Ok(order)
}

/// The events of `stream` after `version`, in order, each with when it happened (milliseconds
/// since the Unix epoch).
pub async fn events_after(
    db: &Db,
    stream: &str,
    version: i64,
) -> Result<Vec<(OrderEvent, i64)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT payload, occurred_ms FROM order_events WHERE stream_id = $1 AND version > $2 \
             ORDER BY version",
            &[Bind::Text(stream.to_owned()), Bind::Int(version)],
        )
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let payload: String = row.try_get("payload")?;
        let event: OrderEvent =
            serde_json::from_str(&payload).map_err(|source| StoreError::Corrupt {
                stream: stream.to_owned(),
                source,
            })?;
        events.push((event, row.try_get("occurred_ms")?));
    }
    Ok(events)
}

/// Appends `events` to `order`'s stream, expecting it still at `order.version`; returns the new
/// state. Fails with [`StoreError::Conflict`] if another writer got there first.
pub async fn append(db: &Db, order: &Order, events: &[OrderEvent]) -> Result<Order, StoreError> {
    let mut next = order.clone();
    let mut tx = db.begin().await?;
    for event in events {
        let at = weft_subgraph_kit::events::now_ms();
        next.apply(event, at);
        let payload = serde_json::to_string(event).map_err(|source| StoreError::Corrupt {
            stream: order.id.clone(),
            source,
        })?;
        let inserted = tx
            .execute(
                "INSERT INTO order_events (stream_id, version, kind, payload, occurred_ms) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    Bind::Text(order.id.clone()),
                    Bind::Int(next.version),
                    Bind::Text(event.kind().to_owned()),
                    Bind::Text(payload),
                    Bind::Int(at),
                ],
            )
            .await;
        match inserted {
            Ok(_) => {}
            Err(err) if err.is_unique_violation() => {
                return Err(StoreError::Conflict {
                    stream: order.id.clone(),
                    expected: order.version,
                });
            }
            Err(err) => return Err(err.into()),
        }
        publish(&mut tx, &next, event).await?;
    }
    read_model::upsert(&mut tx, &next).await?;
    tx.notify(Notice {
        topic: APPENDED,
        key: next.id.clone(),
        payload: serde_json::json!({ "version": next.version }),
    });
    tx.commit().await?;
    Ok(next)
}

/// Tells other services about the events they care about, through the outbox.
async fn publish(tx: &mut Tx, order: &Order, event: &OrderEvent) -> Result<(), DbError> {
    let kind = match event {
        OrderEvent::OrderPlaced { .. } => "OrderPlaced",
        OrderEvent::OrderConfirmed => "OrderConfirmed",
        OrderEvent::OrderCancelled { .. } => "OrderCancelled",
        _ => return Ok(()),
    };
    let payload = serde_json::json!({
        "orderId": order.id,
        "userId": order.user_id,
        "items": order.items,
        "reason": order.failure,
    });
    outbox::append(tx, &Event::new(kind, &order.id, payload)).await
}

/// Every stream id, oldest first (for rebuilding the read model).
pub async fn stream_ids(db: &Db) -> Result<Vec<String>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT stream_id FROM order_events WHERE version = 1 ORDER BY occurred_ms, stream_id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("stream_id")?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Item;

    #[tokio::test]
    async fn a_stale_writer_gets_a_conflict_and_nothing_is_written() {
        let db = weft_subgraph_kit::subgraph::open::<crate::Orders>(None)
            .await
            .unwrap();
        let placed = OrderEvent::OrderPlaced {
            user_id: "u".into(),
            items: vec![Item {
                upc: "1".into(),
                quantity: 1,
            }],
            payment_token: "tok_ok".into(),
        };
        let order = append(&db, &Order::new("o"), &[placed]).await.unwrap();
        assert_eq!(order.version, 1);
        // Two writers read version 1; the first appends, the second must not.
        let first = append(&db, &order, &[OrderEvent::StockReserved]).await;
        assert_eq!(first.unwrap().version, 2);
        let second = append(
            &db,
            &order,
            &[OrderEvent::OrderFailed {
                reason: "late".into(),
            }],
        )
        .await;
        assert!(matches!(
            second,
            Err(StoreError::Conflict { expected: 1, .. })
        ));
        let stored = load(&db, "o").await.unwrap();
        assert_eq!(stored.version, 2);
        assert!(stored.reserved && stored.failure.is_none());
        // Nor did the read model see the rejected event.
        let view = crate::read_model::by_ids(&db, &["o".to_owned()])
            .await
            .unwrap();
        assert_eq!(view["o"].version, 2);
    }
}
