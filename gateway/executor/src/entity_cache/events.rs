//! The entity cache listening to the services (`entity_cache.events`): `EntityChanged` events
//! that subgraphs publish on their RabbitMQ exchange when an entity changes (through the
//! outbox, so exactly when the change commits; docs/patterns/service-caching.md) evict that
//! entity, here and — through Redis, when shared — on every gateway. Each gateway reads them
//! from a queue of its own (exclusive, deleted with the connection), so every gateway hears
//! every event. A broken connection is re-made after a second; the cache keeps serving
//! meanwhile, on lifetimes alone.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Map, Value};
use weft_config::entity_cache::EntityEventsConfig;

use super::EntityCache;

/// The routing key (event kind) of the events that matter here.
pub const ENTITY_CHANGED: &str = "EntityChanged";

/// What an `EntityChanged` event says: the type, and its key fields (`null`: every entity of
/// the type may have changed).
pub fn eviction(message: &[u8]) -> Option<(String, Map<String, Value>)> {
    let event: Value = serde_json::from_slice(message).ok()?;
    if event.get("kind").and_then(Value::as_str) != Some(ENTITY_CHANGED) {
        return None;
    }
    let payload = event.get("payload")?;
    let typename = payload.get("typename")?.as_str()?.to_owned();
    let key = match payload.get("key") {
        Some(Value::Object(fields)) => fields.clone(),
        _ => Map::new(),
    };
    Some((typename, key))
}

/// Starts listening for as long as `cache` lives.
pub fn listen(config: &EntityEventsConfig, cache: &Arc<EntityCache>) {
    let Some(url) = config.amqp_url.clone() else {
        return;
    };
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let exchange = config.exchange.clone();
    let cache = Arc::downgrade(cache);
    handle.spawn(async move {
        loop {
            if cache.upgrade().is_none() {
                return;
            }
            if let Err(e) = consume(&url, &exchange, &cache).await {
                tracing::warn!(
                    "entity_cache.events: {e}; entries live out their lifetimes until the \
                     connection is back (retrying in 1s)"
                );
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// One connection's worth of events; returns when it breaks or the cache is gone.
async fn consume(url: &str, exchange: &str, cache: &Weak<EntityCache>) -> Result<(), lapin::Error> {
    let (_connection, mut deliveries) =
        crate::amqp::consumer(url, exchange, ENTITY_CHANGED, "weft-gateway").await?;
    tracing::info!(exchange, "entity_cache.events: listening for EntityChanged");
    let mut alive = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            delivery = deliveries.next() => {
                let Some(delivery) = delivery else { return Ok(()) };
                let delivery = delivery?;
                let Some(cache) = cache.upgrade() else { return Ok(()) };
                if let Some((typename, key)) = eviction(&delivery.data) {
                    cache.invalidate(&typename, &key).await;
                    cache.flush();
                }
            }
            // A reload replaced the cache: stop listening for it.
            _ = alive.tick() => {
                if cache.upgrade().is_none() {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn entity_changed_events_name_what_to_evict() {
        let event = json!({ "id": "1", "kind": "EntityChanged", "key": "Product:1",
            "payload": { "typename": "Product", "key": { "upc": "1" } }, "occurred_ms": 0 });
        let (typename, key) = eviction(event.to_string().as_bytes()).unwrap_or_default();
        assert_eq!(typename, "Product");
        assert_eq!(Value::Object(key), json!({ "upc": "1" }));
        let all =
            json!({ "kind": "EntityChanged", "payload": { "typename": "Review", "key": null } });
        assert_eq!(
            eviction(all.to_string().as_bytes()).map(|e| e.1.len()),
            Some(0)
        );
        let other = json!({ "kind": "OrderPlaced", "payload": {} });
        assert!(eviction(other.to_string().as_bytes()).is_none());
        assert!(eviction(b"not json").is_none());
    }
}
