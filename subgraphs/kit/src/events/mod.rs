//! Domain events between services: written to an outbox in the same transaction as the change
//! ([`outbox`]), relayed to a [`Bus`] at least once, and applied exactly once by consumers that
//! remember what they applied ([`inbox`]).

pub mod bus;
pub mod inbox;
pub mod outbox;
mod rabbit;

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

pub use bus::{Bus, Delivery};
pub use inbox::{Apply, spawn_consumer};
pub use outbox::{Relay, spawn_relay};

/// Something that happened in one service, told to the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique per event: consumers deduplicate on it.
    pub id: String,
    /// `ProductUpdated`, `OrderConfirmed`, ...: the routing key.
    pub kind: String,
    /// The id of the entity it is about (a upc, an order id).
    pub key: String,
    pub payload: serde_json::Value,
    /// Milliseconds since the Unix epoch, when the change committed.
    pub occurred_ms: i64,
}

impl Event {
    /// A new event with a fresh id, stamped now.
    pub fn new(kind: &str, key: &str, payload: serde_json::Value) -> Event {
        Event {
            id: new_id(),
            kind: kind.to_owned(),
            key: key.to_owned(),
            payload,
            occurred_ms: now_ms(),
        }
    }
}

/// The kind of the events that tell caches (the gateway's entity cache) an entity changed.
pub const ENTITY_CHANGED: &str = "EntityChanged";

/// An [`ENTITY_CHANGED`] event: entity `typename` with `key` (its `@key` fields, e.g.
/// `{"upc": "1"}`) changed; a `null` key means every entity of the type may have.
pub fn entity_changed(typename: &str, key: serde_json::Value) -> Event {
    let id = if key.is_null() {
        typename.to_owned()
    } else {
        format!("{typename}:{key}")
    };
    Event::new(
        ENTITY_CHANGED,
        &id,
        serde_json::json!({ "typename": typename, "key": key }),
    )
}

/// An error publishing or consuming events.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("event is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Db(#[from] crate::DbError),
    #[error("RabbitMQ did not confirm the publication of event {0}")]
    NotConfirmed(String),
    #[error("not connected to RabbitMQ")]
    NotConnected,
}

/// A unique, roughly time-ordered id: milliseconds, process id, and a per-process counter.
/// Unique across processes on one host and across restarts, which is what idempotency needs.
pub fn new_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    format!(
        "{:013}-{}-{}",
        now_ms(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
