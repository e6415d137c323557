//! What the clients saw, over every subscription of one run: events, their delivery latency
//! (while recording), gaps in the ticks, and errors by kind.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use serde::Deserialize;

use crate::clock;

#[derive(Default)]
pub struct Tally {
    /// Subscriptions the gateway accepted (SSE: a 200 with a stream; WebSocket: the
    /// `connection_ack`, and the `subscribe` sent).
    established: AtomicUsize,
    /// Subscriptions that have read at least one whole event.
    receiving: AtomicUsize,
    /// Events delivered whole: `stockChanged` with the other subgraph's `name`, no error.
    delivered: AtomicU64,
    /// Ticks that never reached a client: the gaps between the `stock` numbers one
    /// subscription read.
    gaps: AtomicU64,
    recording: AtomicBool,
    /// Delivery latencies in µs, of the events read while recording.
    latencies: Mutex<Vec<u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
}

/// One GraphQL result as a gateway sends it for an event.
#[derive(Deserialize)]
pub struct EventResult {
    data: Option<Data>,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "stockChanged")]
    stock_changed: Option<Event>,
}

#[derive(Deserialize)]
struct Event {
    upc: Option<String>,
    stock: Option<u64>,
    #[serde(rename = "emittedAt")]
    emitted_at: Option<f64>,
    name: Option<String>,
}

/// The state one subscription keeps between its events.
#[derive(Default)]
pub struct Seen {
    /// The product subscribed to: every event must be about it.
    pub upc: String,
    last_tick: Option<u64>,
}

impl Seen {
    pub fn new(upc: &str) -> Seen {
        Seen {
            upc: upc.to_owned(),
            last_tick: None,
        }
    }
}

impl Tally {
    pub fn established(&self) -> usize {
        self.established.load(Ordering::Relaxed)
    }

    pub fn mark_established(&self) {
        self.established.fetch_add(1, Ordering::Relaxed);
    }

    pub fn receiving(&self) -> usize {
        self.receiving.load(Ordering::Relaxed)
    }

    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    pub fn gaps(&self) -> u64 {
        self.gaps.load(Ordering::Relaxed)
    }

    /// From now on, latencies are kept.
    pub fn record(&self, on: bool) {
        self.recording.store(on, Ordering::Relaxed);
    }

    /// The latencies kept so far, sorted.
    pub fn latencies_sorted(&self) -> Vec<u64> {
        let mut all = self.latencies.lock().map(|l| l.clone()).unwrap_or_default();
        all.sort_unstable();
        all
    }

    pub fn error(&self, kind: impl Into<String>) {
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(kind.into()).or_default() += 1;
        }
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// One event's result, as JSON text.
    pub fn event_text(&self, text: &[u8], seen: &mut Seen) {
        match serde_json::from_slice::<EventResult>(text) {
            Ok(result) => self.event(result, seen),
            Err(_) => self.error("unreadable event"),
        }
    }

    /// One event's result.
    pub fn event(&self, result: EventResult, seen: &mut Seen) {
        let now = clock::micros();
        if let Some(first) = result.errors.first() {
            let code = first["extensions"]["code"]
                .as_str()
                .or_else(|| first["message"].as_str())
                .unwrap_or("?");
            self.error(format!("GraphQL error: {}", clip(code)));
            return;
        }
        let Some(event) = result.data.and_then(|d| d.stock_changed) else {
            self.error("event without stockChanged");
            return;
        };
        let (Some(tick), Some(emitted_at)) = (event.stock, event.emitted_at) else {
            self.error("event without stock or emittedAt");
            return;
        };
        if event.upc.as_deref() != Some(seen.upc.as_str()) {
            self.error("event for another product than subscribed");
            return;
        }
        if event.name.is_none() {
            self.error("event without name (the entity fetch)");
            return;
        }
        if let Some(last) = seen.last_tick {
            if tick <= last {
                self.error("event out of order or repeated");
                return;
            }
            self.gaps.fetch_add(tick - last - 1, Ordering::Relaxed);
        } else {
            self.receiving.fetch_add(1, Ordering::Relaxed);
        }
        seen.last_tick = Some(tick);
        self.delivered.fetch_add(1, Ordering::Relaxed);
        if self.recording.load(Ordering::Relaxed)
            && let Ok(mut latencies) = self.latencies.lock()
        {
            // A float of whole microseconds: exact up to 2^53.
            latencies.push(now.saturating_sub(emitted_at as u64));
        }
    }
}

/// At most 60 characters of an error's text, for the report's error column.
fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

/// The `q`-quantile (0..=1) of sorted `values`, nearest rank.
pub fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tick: u64) -> Vec<u8> {
        format!(
            r#"{{"data":{{"stockChanged":{{"upc":"1","stock":{tick},"emittedAt":0,"name":"Oak Table"}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn gaps_in_the_ticks_are_counted_and_errors_sorted_by_kind() {
        let tally = Tally::default();
        let mut seen = Seen::new("1");
        tally.event_text(&event(4), &mut seen);
        tally.event_text(&event(5), &mut seen);
        tally.event_text(&event(8), &mut seen);
        tally.event_text(&event(8), &mut seen);
        tally.event_text(br#"{"data":null,"errors":[{"message":"x","extensions":{"code":"SUBREQUEST_HTTP_ERROR"}}]}"#, &mut seen);
        tally.event_text(
            br#"{"data":{"stockChanged":{"upc":"1","stock":9,"emittedAt":0,"name":null}}}"#,
            &mut seen,
        );
        assert_eq!(tally.delivered(), 3);
        assert_eq!(tally.receiving(), 1);
        assert_eq!(tally.gaps(), 2);
        let errors = tally.errors();
        assert_eq!(errors["event out of order or repeated"], 1);
        assert_eq!(errors["GraphQL error: SUBREQUEST_HTTP_ERROR"], 1);
        assert_eq!(errors["event without name (the entity fetch)"], 1);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&values, 0.5), Some(50));
        assert_eq!(quantile(&values, 0.99), Some(99));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
