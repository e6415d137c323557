//! The transactional outbox: a service writes its events into `weft_outbox` in the same
//! transaction as the change they describe, so a change without its event (a lost event) or an
//! event without its change (a phantom event) cannot commit. A relay then publishes unpublished
//! rows to the bus and marks them; a crash between the two publishes again, so delivery is at
//! least once and consumers deduplicate ([`super::inbox`]).

use std::time::Duration;

use sqlx::Row;
use tokio::task::JoinHandle;

use super::{Bus, Event, EventError};
use crate::db::{Bind, Db, DbError, Migration, Tx};

/// The outbox and inbox tables; every service that publishes or consumes events lists it among
/// its migrations.
pub const MIGRATION: Migration = Migration {
    version: 100,
    name: "events",
    sql: "CREATE TABLE weft_outbox (
              id TEXT PRIMARY KEY,
              kind TEXT NOT NULL,
              event_key TEXT NOT NULL,
              payload TEXT NOT NULL,
              occurred_ms BIGINT NOT NULL,
              published BIGINT NOT NULL DEFAULT 0
          );
          CREATE INDEX weft_outbox_unpublished ON weft_outbox (published, occurred_ms);
          CREATE TABLE weft_inbox (
              consumer TEXT NOT NULL,
              event_id TEXT NOT NULL,
              PRIMARY KEY (consumer, event_id)
          );",
};

/// How often the relay looks for unpublished events.
const POLL: Duration = Duration::from_millis(25);
/// How many events one relay pass publishes at most.
const BATCH: i64 = 100;

/// Records `event` in the outbox inside `tx`: it is published only if `tx` commits.
pub async fn append(tx: &mut Tx, event: &Event) -> Result<(), DbError> {
    let (sql, binds) = insert(event);
    tx.execute(&sql, &binds).await?;
    Ok(())
}

/// The statement recording `event` in the outbox, for a consumer's [`super::Apply`] that
/// publishes in turn (in the transaction that applies the event it consumed).
pub fn insert(event: &Event) -> (String, Vec<Bind>) {
    (
        "INSERT INTO weft_outbox (id, kind, event_key, payload, occurred_ms) \
         VALUES ($1, $2, $3, $4, $5)"
            .to_owned(),
        vec![
            Bind::Text(event.id.clone()),
            Bind::Text(event.kind.clone()),
            Bind::Text(event.key.clone()),
            Bind::Text(event.payload.to_string()),
            Bind::Int(event.occurred_ms),
        ],
    )
}

/// Publishes a service's outbox to a bus.
#[derive(Debug, Clone)]
pub struct Relay {
    db: Db,
    bus: Bus,
}

impl Relay {
    /// A relay from `db`'s outbox to `bus`. Its polling is not counted in `db`'s statement
    /// count, which tests use to measure request work.
    pub fn new(db: &Db, bus: Bus) -> Relay {
        Relay {
            db: db.uncounted(),
            bus,
        }
    }

    /// Publishes the oldest unpublished events, in order; returns how many.
    pub async fn relay_once(&self) -> Result<usize, EventError> {
        let rows = self
            .db
            .fetch_all(
                "SELECT id, kind, event_key, payload, occurred_ms FROM weft_outbox \
                 WHERE published = 0 ORDER BY occurred_ms, id LIMIT $1",
                &[Bind::Int(BATCH)],
            )
            .await?;
        let mut published = 0;
        for row in rows {
            let payload: String = row.try_get("payload").map_err(DbError::from)?;
            let event = Event {
                id: row.try_get("id").map_err(DbError::from)?,
                kind: row.try_get("kind").map_err(DbError::from)?,
                key: row.try_get("event_key").map_err(DbError::from)?,
                payload: serde_json::from_str(&payload)?,
                occurred_ms: row.try_get("occurred_ms").map_err(DbError::from)?,
            };
            self.bus.publish(&event).await?;
            self.db
                .execute(
                    "UPDATE weft_outbox SET published = 1 WHERE id = $1",
                    &[Bind::Text(event.id)],
                )
                .await?;
            published += 1;
        }
        Ok(published)
    }
}

/// Runs a [`Relay`] in the background until the task is aborted.
pub fn spawn_relay(db: &Db, bus: Bus) -> JoinHandle<()> {
    let relay = Relay::new(db, bus);
    tokio::spawn(async move {
        loop {
            match relay.relay_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "outbox relay failed; retrying"),
            }
            tokio::time::sleep(POLL).await;
        }
    })
}
