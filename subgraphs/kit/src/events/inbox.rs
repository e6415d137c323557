//! Idempotent consumers: a consumer records each event id it applied in `weft_inbox`, in the
//! same transaction as the change the event causes. A redelivered event finds its id there and
//! changes nothing, so at-least-once delivery becomes exactly-once application.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::{Bus, Event};
use crate::db::{Bind, Db, DbError};

/// The statements an event causes in the consumer's database (pure: decided by the event).
pub type Apply = fn(&Event) -> Vec<(String, Vec<Bind>)>;

/// Applies `event` once per `consumer`: returns `false` when it was already applied.
pub async fn apply_once(
    db: &Db,
    consumer: &str,
    event: &Event,
    apply: Apply,
) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    // Writing first also takes SQLite's write lock at once, so two consumers cannot deadlock
    // upgrading read locks.
    let fresh = tx
        .execute(
            "INSERT INTO weft_inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[
                Bind::Text(consumer.to_owned()),
                Bind::Text(event.id.clone()),
            ],
        )
        .await?;
    if fresh == 0 {
        return Ok(false);
    }
    for (sql, binds) in apply(event) {
        tx.execute(&sql, &binds).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Consumes events of `kinds` from `bus` as `consumer`, applying each once to `db`, until the
/// task is aborted. A failed application is retried; an event is acknowledged only once applied.
pub fn spawn_consumer(
    db: &Db,
    bus: Bus,
    consumer: &'static str,
    kinds: &'static [&'static str],
    apply: Apply,
) -> JoinHandle<()> {
    let db = db.uncounted();
    tokio::spawn(async move {
        loop {
            let mut deliveries = match bus.subscribe(consumer, kinds).await {
                Ok(rx) => rx,
                Err(err) => {
                    tracing::warn!(consumer, %err, "cannot subscribe; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            while let Some(delivery) = deliveries.recv().await {
                let mut attempt = 0u32;
                loop {
                    match apply_once(&db, consumer, &delivery.event, apply).await {
                        Ok(_) => break,
                        Err(err) => {
                            attempt += 1;
                            tracing::warn!(consumer, event = %delivery.event.id, %err, attempt, "applying event failed");
                            tokio::time::sleep(Duration::from_millis(
                                50 * u64::from(attempt.min(20)),
                            ))
                            .await;
                        }
                    }
                }
                if let Err(err) = delivery.ack().await {
                    // Not acknowledged: the broker redelivers it and the inbox skips it.
                    tracing::warn!(consumer, %err, "acknowledging an event failed");
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}
