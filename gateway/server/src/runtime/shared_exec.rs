//! Identical client queries in flight share one execution (`dedupe.client_requests`): the
//! first runs the plan; the others with the same key wait for its result. If the first is
//! abandoned (its client went away), the waiting ones run the plan themselves.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::HeaderMap;
use serde_json::Value;
use tokio::sync::watch;

use crate::runtime::CacheKey;

/// Data (JSON text) and errors of one execution.
pub type Executed = (axum::body::Bytes, Vec<weft_executor::ResponseError>);

/// What makes two client requests the same: the operation (document, name, override labels),
/// the variables, and every header but trace context (the token and anything a header rule
/// may forward are among them).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    operation: CacheKey,
    variables: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl Key {
    pub fn new(
        operation: &CacheKey,
        variables: &serde_json::Map<String, Value>,
        headers: &HeaderMap,
    ) -> Key {
        let mut list: Vec<(String, Vec<u8>)> = headers
            .iter()
            .filter(|(name, _)| *name != "traceparent" && *name != "tracestate")
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        list.sort();
        Key {
            operation: operation.clone(),
            variables: Value::Object(variables.clone()).to_string(),
            headers: list,
        }
    }
}

type Table = Arc<Mutex<HashMap<Key, watch::Receiver<Option<Arc<Executed>>>>>>;

#[derive(Default)]
pub struct SharedExecutions {
    table: Table,
}

/// Takes the key out of the table when the leading execution ends or is dropped.
struct Leader {
    table: Table,
    key: Key,
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl SharedExecutions {
    /// Runs `work` unless an identical execution is in flight, whose result is returned
    /// instead.
    pub async fn run(&self, key: Key, work: impl Future<Output = Executed>) -> Executed {
        let role = {
            let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
            match table.get(&key) {
                Some(rx) => Err(rx.clone()),
                None => {
                    let (tx, rx) = watch::channel(None);
                    table.insert(key.clone(), rx);
                    Ok(tx)
                }
            }
        };
        match role {
            Ok(tx) => {
                let _leader = Leader {
                    table: self.table.clone(),
                    key,
                };
                let out = work.await;
                let _ = tx.send(Some(Arc::new(out.clone())));
                out
            }
            Err(mut rx) => {
                let shared = rx
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|v| v.as_ref().map(|r| (**r).clone()));
                match shared {
                    Some(out) => out,
                    // The first request was abandoned before it finished.
                    None => work.await,
                }
            }
        }
    }
}
