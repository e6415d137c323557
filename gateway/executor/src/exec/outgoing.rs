//! One subgraph request, owned (so that it can be shared or sent from a task of its own),
//! and what makes two of them identical.

use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::metrics::ExecutorMetrics;
use crate::{GraphQLRequest, traffic};

/// Representations as the JSON text they were written in: built once from the store, sent
/// as they are, never made into values and printed again.
pub(super) type Reps = Vec<Box<RawValue>>;

/// A subgraph request's variables: the map (the client's, the context's), and the lists of
/// representations under their names (`representations`, `representations_0`, …), written
/// after it as one JSON object.
#[derive(Clone, Copy)]
pub(super) struct Variables<'a> {
    pub(super) map: &'a Map<String, Value>,
    pub(super) lists: &'a [(&'a str, &'a [Box<RawValue>])],
}

impl Serialize for Variables<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(Some(self.map.len() + self.lists.len()))?;
        for (name, value) in self.map {
            out.serialize_entry(name, value)?;
        }
        for (name, list) in self.lists {
            out.serialize_entry(name, list)?;
        }
        out.end()
    }
}

/// What makes two subgraph requests identical: where, what and with which headers.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct SubgraphRequestKey {
    pub(super) url: String,
    /// The encoded request: operation, variables and extensions.
    pub(super) body: Vec<u8>,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
}

pub(super) type SharedAnswer = Result<Arc<traffic::Answer>, Arc<traffic::Failure>>;

/// One subgraph request, owned, so that it can be shared or sent from a task of its own.
pub(super) struct Outgoing {
    pub(super) subgraph: Arc<traffic::Subgraph>,
    pub(super) operation: String,
    pub(super) extensions: Option<Value>,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) idempotent: bool,
    pub(super) metrics: Arc<dyn ExecutorMetrics>,
}

impl Outgoing {
    /// The headers that make requests different: all but trace context (each request has
    /// its own, and it changes no answer).
    pub(super) fn shared_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.headers
            .iter()
            .filter(|(n, _)| n != "traceparent" && n != "tracestate")
            .cloned()
            .collect()
    }

    /// The request as sent, with `variables`: `{query, variables, extensions}` in JSON.
    pub(super) fn encode(&self, variables: Variables<'_>) -> Vec<u8> {
        let request = GraphQLRequest {
            query: &self.operation,
            operation_name: None,
            variables: Some(&variables),
            extensions: self.extensions.as_ref(),
        };
        serde_json::to_vec(&request).unwrap_or_default()
    }

    pub(super) async fn send_encoded(self, body: Vec<u8>) -> SharedAnswer {
        self.subgraph
            .send(&body, &self.headers, self.idempotent, self.metrics.as_ref())
            .await
            .map(Arc::new)
            .map_err(Arc::new)
    }
}
