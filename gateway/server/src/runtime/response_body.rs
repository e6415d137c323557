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

    /// The body as JSON text.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        // Writing JSON into a Vec cannot fail.
        match self {
            ResponseBody::Value(v) => {
                let _ = serde_json::to_writer(&mut *out, v);
            }
            ResponseBody::Errors { errors, extensions } => {
                out.extend_from_slice(b"{\"errors\":");
                let _ = serde_json::to_writer(&mut *out, errors);
                if !extensions.is_empty() {
                    out.extend_from_slice(b",\"extensions\":");
                    let _ = serde_json::to_writer(&mut *out, extensions);
                }
                out.push(b'}');
            }
            ResponseBody::Executed {
                errors,
                data,
                extensions,
            } => {
                out.reserve(data.len() + 64);
                out.push(b'{');
                if !errors.is_empty() {
                    out.extend_from_slice(b"\"errors\":");
                    let _ = serde_json::to_writer(&mut *out, errors);
                    out.push(b',');
                }
                out.extend_from_slice(b"\"data\":");
                out.extend_from_slice(data);
                if !extensions.is_empty() {
                    out.extend_from_slice(b",\"extensions\":");
                    let _ = serde_json::to_writer(&mut *out, extensions);
                }
                out.push(b'}');
            }
            ResponseBody::Batch(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
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
        }
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
}
