//! A GraphQL response body. An execution's `data` is already JSON text (`shape.rs` writes it
//! straight from the store); it is spliced in when the body is written, never parsed again.

use axum::body::Bytes;
use serde_json::{Map, Value};
use weft_executor::{ErrorCode, GraphQLError, ResponseError};

use crate::observability::metrics::ErrorCodes;

pub enum ResponseBody {
    /// A body made of values (plans, introspection).
    Value(Value),
    /// A request that did not run: `errors`, no `data`, `extensions` when any.
    Errors {
        errors: Vec<GraphQLError>,
        extensions: Map<String, Value>,
    },
    /// An execution's result: `errors` (when any), `data` as JSON text, `extensions` (when
    /// any), in that order.
    Executed {
        errors: Vec<ResponseError>,
        data: Bytes,
        extensions: Map<String, Value>,
    },
    /// The answers of a batch, in order.
    Batch(Vec<ResponseBody>),
    /// An incremental response (`@defer`): JSON payloads as they come, which the HTTP layer
    /// writes as the parts of a `multipart/mixed` body; never written here.
    Parts(super::incremental::Payloads),
    /// A subscription's events as they come, which the HTTP layer writes as server-sent
    /// events or multipart parts (`Payloads::format`); never written here.
    Events(super::subscriptions::Payloads),
}

impl From<Value> for ResponseBody {
    fn from(value: Value) -> Self {
        ResponseBody::Value(value)
    }
}

impl From<GraphQLError> for ResponseBody {
    fn from(error: GraphQLError) -> Self {
        ResponseBody::errors(vec![error])
    }
}

impl ResponseBody {
    /// A body of errors only.
    pub fn errors(errors: Vec<GraphQLError>) -> ResponseBody {
        ResponseBody::Errors {
            errors,
            extensions: Map::new(),
        }
    }

    /// The body as JSON text (in one piece: for tests).
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        self.chunks().concat()
    }

    /// The body as JSON text in pieces, in order: an execution's `data` is shared, not copied
    /// (identical requests that shared one execution all answer with the same bytes).
    pub fn chunks(&self) -> Vec<Bytes> {
        let mut out = Chunks::default();
        self.write(&mut out);
        out.finish()
    }

    fn write(&self, out: &mut Chunks) {
        // Writing JSON into a Vec cannot fail.
        match self {
            ResponseBody::Value(v) => {
                let _ = serde_json::to_writer(&mut out.text, v);
            }
            ResponseBody::Errors { errors, extensions } => {
                out.text.extend_from_slice(b"{\"errors\":");
                let _ = serde_json::to_writer(&mut out.text, errors);
                if !extensions.is_empty() {
                    out.text.extend_from_slice(b",\"extensions\":");
                    let _ = serde_json::to_writer(&mut out.text, extensions);
                }
                out.text.push(b'}');
            }
            ResponseBody::Executed {
                errors,
                data,
                extensions,
            } => {
                out.text.push(b'{');
                if !errors.is_empty() {
                    out.text.extend_from_slice(b"\"errors\":");
                    let _ = serde_json::to_writer(&mut out.text, errors);
                    out.text.push(b',');
                }
                out.text.extend_from_slice(b"\"data\":");
                out.shared(data);
                if !extensions.is_empty() {
                    out.text.extend_from_slice(b",\"extensions\":");
                    let _ = serde_json::to_writer(&mut out.text, extensions);
                }
                out.text.push(b'}');
            }
            ResponseBody::Batch(items) => {
                out.text.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.text.push(b',');
                    }
                    item.write(out);
                }
                out.text.push(b']');
            }
            ResponseBody::Parts(_) | ResponseBody::Events(_) => {}
        }
    }

    /// The `extensions.code` of every error in the body (each response's, for a batch), from
    /// the typed errors: nothing is read back from JSON.
    pub fn error_codes(&self) -> ErrorCodes {
        let mut codes = ErrorCodes::default();
        self.collect_codes(&mut codes);
        codes
    }

    fn collect_codes(&self, codes: &mut ErrorCodes) {
        match self {
            // A body of values has no errors (a plan, for `weft-query-plan: dry-run`).
            ResponseBody::Value(_) => {}
            ResponseBody::Errors { errors, .. } => {
                errors
                    .iter()
                    .for_each(|e| codes.push(e.code.map(ErrorCode::as_str)));
            }
            ResponseBody::Executed { errors, .. } => {
                errors.iter().for_each(|e| codes.push(e.code()));
            }
            ResponseBody::Batch(items) => items.iter().for_each(|b| b.collect_codes(codes)),
            // Each payload's errors are written as they come, not counted here.
            ResponseBody::Parts(_) | ResponseBody::Events(_) => {}
        }
    }
}

/// Below this size shared data is copied into the text around it: one more piece to write
/// costs more than copying a few kilobytes.
const SHARE_FROM_BYTES: usize = 8 * 1024;

/// The pieces of a body being written: those finished, and the text being written now.
#[derive(Default)]
struct Chunks {
    done: Vec<Bytes>,
    text: Vec<u8>,
}

impl Chunks {
    fn shared(&mut self, data: &Bytes) {
        if data.len() < SHARE_FROM_BYTES {
            self.text.extend_from_slice(data);
            return;
        }
        if !self.text.is_empty() {
            self.done.push(Bytes::from(std::mem::take(&mut self.text)));
        }
        // A reference-counted handle on the same bytes.
        self.done.push(data.clone());
    }

    fn finish(mut self) -> Vec<Bytes> {
        if !self.text.is_empty() {
            self.done.push(Bytes::from(self.text));
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn executed_bodies_splice_data_between_errors_and_extensions() {
        let mut extensions = Map::new();
        extensions.insert("cost".into(), json!({"estimated": 3}));
        let body = ResponseBody::Executed {
            errors: vec![ResponseError::passed(
                json!({"message": "m", "extensions": {"code": "X"}}),
            )],
            data: Bytes::from_static(b"{\"a\":1}"),
            extensions,
        };
        let refused = GraphQLError::new(ErrorCode::BadRequest, "r").into();
        let batch = ResponseBody::Batch(vec![body, json!({"data": null}).into(), refused]);
        let text = String::from_utf8(batch.to_vec()).unwrap_or_default();
        assert_eq!(
            text,
            r#"[{"errors":[{"message":"m","extensions":{"code":"X"}}],"data":{"a":1},"extensions":{"cost":{"estimated":3}}},{"data":null},{"errors":[{"message":"r","extensions":{"code":"BAD_REQUEST"}}]}]"#
        );
        assert_eq!(
            batch.error_codes().0,
            vec!["X".to_owned(), "BAD_REQUEST".to_owned()]
        );
    }

    #[test]
    fn large_data_is_one_shared_piece_between_the_text_around_it() {
        let data = Bytes::from(format!("[{}0]", "0,".repeat(SHARE_FROM_BYTES)));
        let body = ResponseBody::Executed {
            errors: Vec::new(),
            data: data.clone(),
            extensions: Map::new(),
        };
        let chunks = body.chunks();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].as_ref(), b"{\"data\":");
        // The same allocation, not a copy.
        assert_eq!(chunks[1].as_ptr(), data.as_ptr());
        assert_eq!(chunks[2].as_ref(), b"}");
        let text = body.to_vec();
        assert!(text.starts_with(b"{\"data\":[0,0,") && text.ends_with(b"0]}"));
        assert_eq!(text.len(), data.len() + 9);
    }
}
