//! Batching across requests (`entity_batching`, the DataLoader idea at the gateway): entity
//! fetches from concurrent client requests for the same subgraph, selection, variables and
//! headers join one `_entities` request. The first opens a batch for `window_ms`; fetches
//! that arrive meanwhile add their representations; then one request goes out (from a task
//! of its own, so no client's departure can strand the others) and each fetch gets back its
//! own slice of `_entities`, with the errors whose paths fall in it. Each slice is handed on as
//! the text the subgraph sent (so numbers keep their text, and each fetch reads only what it
//! asked for: `projection.rs`); an answer of the wrong length fails every fetch in the batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::FetchError;
use crate::traffic::{Answer, Failure};

/// What fetches must share to join a batch.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BatchKey {
    pub url: String,
    pub operation: String,
    /// The fetch's variables other than `representations`, and its extensions, as JSON.
    pub rest: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// The subgraph's answer to a whole batch, as sent.
pub type Outcome = Result<Arc<Answer>, Arc<Failure>>;

/// The answer to a whole batch, read once and shared by its fetches.
struct Read {
    answer: Arc<Answer>,
    body: BatchAnswer,
}

/// A batch's answer: each entity left as the text the subgraph sent.
#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    data: Option<BatchData>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct BatchData {
    #[serde(rename = "_entities")]
    entities: Option<Vec<Box<RawValue>>>,
}

type Shared = Result<Arc<Read>, Arc<Failure>>;

struct Batch {
    representations: Mutex<Vec<Box<RawValue>>>,
    done: watch::Receiver<Option<Shared>>,
}

pub struct Coalescer {
    window: Duration,
    max_size: usize,
    open: Arc<Mutex<HashMap<BatchKey, Arc<Batch>>>>,
}

/// Sends one batch: the representations of everyone in it (as JSON text), in order.
pub type Send =
    Box<dyn FnOnce(Vec<Box<RawValue>>) -> BoxFuture<'static, Outcome> + std::marker::Send>;

impl Coalescer {
    pub fn new(window: Duration, max_size: usize) -> Coalescer {
        Coalescer {
            window,
            max_size: max_size.max(1),
            open: Arc::default(),
        }
    }

    /// Adds `representations` to the open batch for `key` (opening one, sent after the
    /// window by `send`, if there is none or it is full) and returns this fetch's part of
    /// the answer: `{"data": {"_entities": [...]}, "errors": [...]}`.
    pub async fn submit(
        &self,
        key: BatchKey,
        representations: Vec<Box<RawValue>>,
        send: Send,
    ) -> Result<(Bytes, Arc<Answer>), Arc<Failure>> {
        let count = representations.len();
        let (batch, offset) = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let joinable = open.get(&key).filter(|b| {
                b.representations
                    .lock()
                    .map(|r| r.len() + count <= self.max_size)
                    .unwrap_or(false)
            });
            match joinable {
                Some(batch) => {
                    let mut reps = batch
                        .representations
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    let offset = reps.len();
                    reps.extend(representations);
                    (batch.clone(), offset)
                }
                None => {
                    let (tx, rx) = watch::channel(None);
                    let batch = Arc::new(Batch {
                        representations: Mutex::new(representations),
                        done: rx,
                    });
                    open.insert(key.clone(), batch.clone());
                    self.dispatch(key, batch.clone(), tx, send);
                    (batch, 0)
                }
            }
        };
        let mut done = batch.done.clone();
        let outcome = done
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|v| v.clone());
        match outcome {
            Some(Ok(read)) => Ok((slice(&read.body, offset, count), read.answer.clone())),
            Some(Err(e)) => Err(e),
            // The sending task ended without an answer (the runtime is shutting down).
            None => Err(Arc::new(Failure::Dropped)),
        }
    }

    /// After the window: close the batch, send it, publish the answer.
    fn dispatch(
        &self,
        key: BatchKey,
        batch: Arc<Batch>,
        tx: watch::Sender<Option<Shared>>,
        send: Send,
    ) {
        let open = self.open.clone();
        let window = self.window;
        tokio::spawn(async move {
            tokio::time::sleep(window).await;
            {
                let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
                if open.get(&key).is_some_and(|b| Arc::ptr_eq(b, &batch)) {
                    open.remove(&key);
                }
            }
            let all = std::mem::take(
                &mut *batch
                    .representations
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            );
            // Read once here, not once per fetch in the batch.
            let sent = all.len();
            let read = send(all).await.and_then(|answer| {
                let body: BatchAnswer = serde_json::from_slice(&answer.body)
                    .map_err(|e| Arc::new(Failure::Fetch(FetchError::InvalidJson(e))))?;
                let got = body.data.as_ref().and_then(|d| d.entities.as_ref());
                match got.map(Vec::len) {
                    Some(n) if n != sent => Err(Arc::new(Failure::Unusable(format!(
                        "`_entities` returned {n} results for {sent} representations"
                    )))),
                    _ => Ok(Arc::new(Read { answer, body })),
                }
            });
            let _ = tx.send(Some(read));
        });
    }
}

/// One fetch's part of a batch's answer, as JSON text: `_entities[offset..offset + count]`,
/// the errors whose `_entities` index falls there (re-indexed), and the errors without one.
fn slice(body: &BatchAnswer, offset: usize, count: usize) -> Bytes {
    let mut out = String::from("{\"data\":");
    match body.data.as_ref().map(|d| d.entities.as_ref()) {
        Some(Some(all)) => {
            out.push_str("{\"_entities\":[");
            for (i, entity) in all.iter().skip(offset).take(count).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(entity.get());
            }
            out.push_str("]}");
        }
        // No `_entities` in `data`: the fetch finds none and says so.
        Some(None) => out.push_str("{}"),
        None => out.push_str("null"),
    }
    if let Some(errors) = &body.errors {
        let mine: Vec<Value> = errors
            .iter()
            .filter_map(|e| {
                let path = e.get("path").and_then(Value::as_array);
                let index = path
                    .filter(|p| p.first().and_then(Value::as_str) == Some("_entities"))
                    .and_then(|p| p.get(1))
                    .and_then(Value::as_u64)
                    .map(|i| i as usize);
                match index {
                    None => Some(e.clone()),
                    Some(i) if (offset..offset + count).contains(&i) => {
                        let mut e = e.clone();
                        if let Some(slot) = e.pointer_mut("/path/1") {
                            *slot = json!(i - offset);
                        }
                        Some(e)
                    }
                    Some(_) => None,
                }
            })
            .collect();
        if !mine.is_empty() {
            out.push_str(",\"errors\":");
            out.push_str(&Value::Array(mine).to_string());
        }
    }
    out.push('}');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fetch_gets_its_entities_and_errors() {
        let text = json!({
            "data": { "_entities": [{ "n": 0 }, { "n": 1 }, { "n": 2 }, { "n": 3 }] },
            "errors": [
                { "message": "a", "path": ["_entities", 1, "x"] },
                { "message": "b", "path": ["_entities", 3] },
                { "message": "everyone" }
            ]
        })
        .to_string();
        let body: BatchAnswer = serde_json::from_str(&text).unwrap();
        let slice = |offset, count| {
            serde_json::from_slice::<Value>(&slice(&body, offset, count)).unwrap_or_default()
        };
        assert_eq!(
            slice(0, 2),
            json!({
                "data": { "_entities": [{ "n": 0 }, { "n": 1 }] },
                "errors": [{ "message": "a", "path": ["_entities", 1, "x"] }, { "message": "everyone" }]
            })
        );
        assert_eq!(
            slice(2, 2),
            json!({
                "data": { "_entities": [{ "n": 2 }, { "n": 3 }] },
                "errors": [{ "message": "b", "path": ["_entities", 1] }, { "message": "everyone" }]
            })
        );
    }
}
