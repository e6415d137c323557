//! The errors of a fetch as the client sees them: a failed fetch (its code and message; the
//! detail goes to the log), a subgraph's own errors with their paths made client paths.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::Ready;
use crate::error::{ErrorCode, GraphQLError};
use crate::store::{ObjId, Seg, Store};
use crate::traffic::Subgraph;
use crate::{FetchError, traffic};

/// A fetch that got no usable answer: the error's `extensions.code` and message.
pub(super) struct FetchFailure {
    pub(super) code: ErrorCode,
    pub(super) message: String,
    /// Everything known about it, for the log only (it may name the subgraph's address).
    pub(super) detail: String,
}

impl FetchFailure {
    pub(super) fn http(message: String) -> FetchFailure {
        FetchFailure {
            code: ErrorCode::SubrequestHttpError,
            detail: message.clone(),
            message,
        }
    }

    pub(super) fn with_code(mut self, code: ErrorCode) -> FetchFailure {
        self.code = code;
        self
    }
}

/// The places of a fetch's objects, found (by one walk) when the first error needs them.
#[derive(Default)]
pub(super) struct Places(Option<HashMap<ObjId, Vec<Vec<Seg>>>>);

impl Places {
    /// Every place of the objects of `slot`.
    pub(super) fn of<'a>(
        &'a mut self,
        r: &Ready<'_>,
        data: &Store,
        slot: usize,
    ) -> Vec<&'a Vec<Seg>> {
        let all = self.0.get_or_insert_with(|| {
            let targets: Vec<ObjId> = r.slots.iter().flatten().copied().collect();
            data.places(r.path, &targets)
        });
        let Some(targets) = r.slots.get(slot) else {
            return Vec::new();
        };
        targets
            .iter()
            .filter_map(|t| all.get(&data.resolve(*t)))
            .flatten()
            .collect()
    }

    /// The places of the objects of all `members`, found by one walk, when they are all at
    /// one path (a context fetch's groups); `None` otherwise (each member walks for its own).
    pub(super) fn shared(members: &[&Ready<'_>], data: &Store) -> Option<Places> {
        let first = members.first()?;
        if members.len() < 2 || members.iter().any(|r| r.path != first.path) {
            return None;
        }
        let targets: Vec<ObjId> = members
            .iter()
            .flat_map(|r| r.slots.iter().flatten().copied())
            .collect();
        Some(Places(Some(data.places(first.path, &targets))))
    }

    /// The path given to an error about the whole fetch: the first object's first place.
    pub(super) fn first(&mut self, r: &Ready<'_>, data: &Store) -> Vec<Seg> {
        self.of(r, data, 0)
            .first()
            .map(|p| (*p).clone())
            .unwrap_or_default()
    }
}

/// The client's error for a fetch that got no usable answer (and its detail for the log).
pub(super) fn failure_of(failure: &traffic::Failure) -> FetchFailure {
    let mut client = client_failure(failure);
    if let traffic::Failure::Fetch(e) = failure {
        // The whole chain: reqwest's own message says little ("error sending request").
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        client.detail = detail;
    }
    client
}

pub(super) fn client_failure(failure: &traffic::Failure) -> FetchFailure {
    match failure {
        traffic::Failure::CircuitOpen => FetchFailure::http(
            "the subgraph's circuit breaker is open; nothing was sent".to_owned(),
        )
        .with_code(ErrorCode::SubgraphCircuitOpen),
        traffic::Failure::RateLimited => FetchFailure::http(
            "the subgraph's rate limit (`rate_limit.subgraph`) is reached; nothing was sent"
                .to_owned(),
        )
        .with_code(ErrorCode::RequestRateLimited),
        traffic::Failure::Fetch(FetchError::Status { status, .. }) => {
            FetchFailure::http(format!("the subgraph answered HTTP {status}"))
        }
        traffic::Failure::Fetch(e) if e.is_timeout() => {
            FetchFailure::http("the subgraph did not answer in time".to_owned())
        }
        traffic::Failure::Fetch(FetchError::TooLarge { limit }) => FetchFailure::http(format!(
            "the subgraph's response is larger than {limit} bytes"
        ))
        .with_code(ErrorCode::SubrequestResponseTooLarge),
        // What the transport says names the subgraph's address: the log has it, the client
        // gets the stage that failed.
        traffic::Failure::Fetch(FetchError::Transport(e)) => FetchFailure::http(
            if e.is_connect() {
                "the subgraph could not be reached"
            } else if e.is_body() || e.is_decode() {
                "the subgraph's response could not be read"
            } else {
                "the request to the subgraph failed"
            }
            .to_owned(),
        ),
        traffic::Failure::Fetch(FetchError::InvalidJson(_)) => {
            FetchFailure::http("the subgraph's response is not JSON".to_owned())
        }
        traffic::Failure::Fetch(FetchError::Encode(_)) => {
            FetchFailure::http("the request could not be encoded".to_owned())
        }
        traffic::Failure::Dropped => {
            FetchFailure::http("the shared request ended without an answer".to_owned())
        }
        traffic::Failure::Unusable(why) => FetchFailure::http(why.clone()),
    }
}

/// A failed fetch in full (address, transport detail) for the operator: a warning in the log
/// (at most one per subgraph per `failure_log::WINDOW`, with how many were not logged since
/// the last) and on the fetch's span (every one). The client's error has the code and the
/// subgraph's name only.
pub(super) fn log_failure(subgraph: &Subgraph, failure: &FetchFailure, span: &tracing::Span) {
    span.record("otel.status_code", "ERROR");
    let Some(not_logged) = subgraph.log_failure_now() else {
        return;
    };
    tracing::warn!(
        parent: span,
        subgraph = subgraph.name(),
        url = subgraph.url(),
        code = failure.code.as_str(),
        detail = %failure.detail,
        not_logged,
        "subgraph fetch failed{}",
        held_back(not_logged)
    );
}

/// What a log line says of the failures of its subgraph that were not logged.
pub(super) fn held_back(not_logged: u64) -> String {
    match not_logged {
        0 => String::new(),
        n => format!(" ({n} more of this subgraph's failures since its last line were not logged)"),
    }
}

/// A subgraph error as shown when `include_errors` is off: no message of the subgraph's,
/// its path kept (it says where data is missing), and its code when it has one.
pub(super) fn redacted(error: &Value) -> Value {
    let mut e = json!({ "message": "Subgraph errors redacted" });
    if let Some(path) = error.get("path") {
        e["path"] = path.clone();
    }
    if let Some(code) = error.pointer("/extensions/code").filter(|c| c.is_string()) {
        e["extensions"] = json!({ "code": code });
    }
    e
}

/// A failed fetch as the client sees it: `code` (`SUBREQUEST_HTTP_ERROR` unless the failure
/// says otherwise), the subgraph's name, and the first place it was to fill.
pub(super) fn fetch_error(service: &str, why: &str, path: &[Seg], code: ErrorCode) -> GraphQLError {
    let mut e = GraphQLError::new(code, format!("HTTP fetch failed from '{service}': {why}"))
        .with_extension("serviceName", service);
    if !path.is_empty() {
        e = e.at(path.iter().map(Seg::to_json).collect());
    }
    e
}

/// A subgraph error as the client sees it: `_entities` paths become the paths of every object
/// that used the representation; `extensions.serviceName` names the subgraph.
pub(super) fn map_error(
    error: &Value,
    service: &str,
    r: &Ready<'_>,
    data: &Store,
    places: &mut Places,
) -> Vec<Value> {
    let mut base = match error {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert("message".to_owned(), Value::String(other.to_string()));
            m
        }
    };
    // An error is the subgraph's word, but its shape is the spec's: a string message, an
    // object of extensions (with the subgraph's name), a list path; anything else is replaced
    // rather than passed on to clients (found by the `subgraph_answer` fuzz target).
    if !base.get("message").is_some_and(Value::is_string) {
        base.insert(
            "message".to_owned(),
            Value::String("subgraph error".to_owned()),
        );
    }
    base.remove("locations");
    if !base.get("path").is_none_or(Value::is_array) {
        base.remove("path");
    }
    let extensions = base
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
    if !extensions.is_object() {
        *extensions = Value::Object(Map::new());
    }
    if let Value::Object(ext) = extensions {
        ext.insert("serviceName".to_owned(), Value::String(service.to_owned()));
    }
    let path = base.get("path").and_then(Value::as_array).cloned();
    if !r.entity {
        return vec![Value::Object(base)];
    }
    match path.as_deref() {
        Some([first, index, rest @ ..]) if first == "_entities" => {
            let Some(i) = index.as_u64().map(|i| i as usize) else {
                return vec![Value::Object(base)];
            };
            // `_entities` indexes the representations sent, not the cache hits.
            let Some(slot) = r.sent.get(i) else {
                return vec![Value::Object(base)];
            };
            places
                .of(r, data, *slot)
                .into_iter()
                .map(|p| {
                    let mut e = base.clone();
                    let mut full: Vec<Value> = p.iter().map(Seg::to_json).collect();
                    full.extend(rest.iter().cloned());
                    e.insert("path".to_owned(), Value::Array(full));
                    Value::Object(e)
                })
                .collect()
        }
        _ => {
            base.remove("path");
            let path = places.first(r, data);
            if !path.is_empty() {
                base.insert(
                    "path".to_owned(),
                    Value::Array(path.iter().map(Seg::to_json).collect()),
                );
            }
            vec![Value::Object(base)]
        }
    }
}
