//! The errors Weft puts in GraphQL responses: [`ErrorCode`], every `extensions.code` the
//! gateway emits (the list docs/ refer to), and [`GraphQLError`], one error as the client sees
//! it. Both live here, the lowest crate that emits a code: the executor (a failed fetch, a
//! subgraph value that does not fit) and the server (every refusal) build the same type, and
//! the metrics count the codes from it. Subgraph errors passed on keep their own codes (any
//! string); composition and check diagnostics are another family (weft-federation).

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// Every `extensions.code` Weft itself puts on a GraphQL error, serialized as the
        /// string shown. Subgraph errors passed on to clients keep whatever code they had.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of their declaration.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in `extensions.code`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $text, )*
                }
            }

            /// The code written `text` (the federation crate's codes arrive as strings).
            pub fn from_name(text: &str) -> Option<ErrorCode> {
                match text {
                    $( $text => Some(ErrorCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    // The document and the operation.
    /// The document does not parse (syntax), HTTP 400 with `application/graphql-response+json`.
    GraphqlParseFailed = "GRAPHQL_PARSE_FAILED",
    /// The document does not validate against the API schema.
    GraphqlValidationFailed = "GRAPHQL_VALIDATION_FAILED",
    /// `operationName` names no operation of the document (or it has several and none is named).
    GraphqlUnknownOperationName = "GRAPHQL_UNKNOWN_OPERATION_NAME",
    /// The variables do not coerce to the operation's variable types.
    ValidationInvalidTypeVariable = "VALIDATION_INVALID_TYPE_VARIABLE",
    /// An introspection query while `introspection: false`.
    IntrospectionDisabled = "INTROSPECTION_DISABLED",
    // Operation limits (`limits:`).
    /// The document has more tokens than `limits.max_tokens`.
    MaxTokensLimit = "MAX_TOKENS_LIMIT",
    /// The parser nested deeper than `limits.max_recursion`.
    MaxRecursionLimit = "MAX_RECURSION_LIMIT",
    /// The operation is deeper than `limits.max_depth`.
    MaxDepthLimit = "MAX_DEPTH_LIMIT",
    /// The operation has more aliases than `limits.max_aliases`.
    MaxAliasesLimit = "MAX_ALIASES_LIMIT",
    /// The operation has more deferred fragments than `limits.max_defers`.
    MaxDefersLimit = "MAX_DEFERS_LIMIT",
    /// The operation has more root fields than `limits.max_root_fields`.
    MaxRootFieldsLimit = "MAX_ROOT_FIELDS_LIMIT",
    /// The operation selects more distinct fields than `limits.max_height`.
    MaxHeightLimit = "MAX_HEIGHT_LIMIT",
    /// Normalizing selected more than `limits.max_selections` (weft-federation's
    /// `NormalizeError::code`).
    MaxSelectionsLimit = "MAX_SELECTIONS_LIMIT",
    /// Planning took more than `limits.max_planning_steps` (weft-federation's `PlanError::code`).
    QueryPlanningBudgetExceeded = "QUERY_PLANNING_BUDGET_EXCEEDED",
    /// No plan could be found for the operation (weft-federation's `PlanError::code`).
    QueryPlanningFailed = "QUERY_PLANNING_FAILED",
    /// The operation's estimated cost is above `demand_control.max` (in `enforce`) or
    /// `limits.max_estimated_cost`.
    CostEstimatedTooExpensive = "COST_ESTIMATED_TOO_EXPENSIVE",
    /// A required `@listSize` slicing argument is missing (`requireOneSlicingArgument`, in
    /// `enforce`).
    CostInvalidSlicingArguments = "COST_INVALID_SLICING_ARGUMENTS",
    // Persisted documents.
    /// An APQ hash the gateway has not seen: the client sends the document with it.
    PersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND",
    /// The persisted-query extension is used while APQ is off.
    PersistedQueryNotSupported = "PERSISTED_QUERY_NOT_SUPPORTED",
    /// The document sent does not hash to the APQ hash sent with it.
    PersistedQueryHashMismatch = "PERSISTED_QUERY_HASH_MISMATCH",
    /// A document not in the safelist while `persisted_documents.require` is on.
    PersistedQueryNotInList = "PERSISTED_QUERY_NOT_IN_LIST",
    // Authentication and authorization.
    /// A token is missing (when required), malformed, or does not verify.
    AuthError = "AUTH_ERROR",
    /// A field or type removed because the request may not see it (`@authenticated`,
    /// `@requiresScopes`, `@policy`); one error per removed path.
    UnauthorizedFieldOrType = "UNAUTHORIZED_FIELD_OR_TYPE",
    // HTTP.
    /// Not a GraphQL request: no query, a body or parameters that do not decode.
    BadRequest = "BAD_REQUEST",
    /// A `weft-query-plan` header other than `include` or `dry-run`, on a gateway exposing
    /// plans (400).
    InvalidQueryPlanHeader = "INVALID_QUERY_PLAN_HEADER",
    /// A request body of a media type the gateway does not read.
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
    /// `Accept` names no media type the gateway answers with (406).
    NotAcceptable = "NOT_ACCEPTABLE",
    /// A mutation or subscription sent with GET (405).
    MethodNotAllowed = "METHOD_NOT_ALLOWED",
    /// A request without the headers the CSRF check asks for.
    CsrfError = "CSRF_ERROR",
    /// The request headers are larger than `limits.max_header_bytes` (431).
    RequestHeaderFieldsTooLarge = "REQUEST_HEADER_FIELDS_TOO_LARGE",
    /// The body is larger than `limits.max_body_bytes` (413).
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    /// The body did not arrive within `server.body_read_timeout_ms` (408).
    BodyReadTimeout = "BODY_READ_TIMEOUT",
    /// A batch (a JSON array of requests) while batching is off.
    BatchingNotEnabled = "BATCHING_NOT_ENABLED",
    /// A batch of more requests than `batching.max_size`.
    BatchLimitExceeded = "BATCH_LIMIT_EXCEEDED",
    /// A rate limit (`rate_limit.global`, `rate_limit.client`) refused the request (429, with
    /// `Retry-After`); or a subgraph's (`rate_limit.subgraph`) refused its fetch.
    RequestRateLimited = "REQUEST_RATE_LIMITED",
    /// Load shedding refused the request: `server.max_in_flight` reached (503).
    ServerOverloaded = "SERVER_OVERLOADED",
    /// The request did not finish within `server.request_timeout_ms` (504).
    GatewayTimeout = "GATEWAY_TIMEOUT",
    /// The response is larger than `server.max_response_bytes` (500, nothing of the answer).
    ResponseTooLarge = "RESPONSE_TOO_LARGE",
    /// The request's work ended without an answer (its task failed): 500.
    InternalServerError = "INTERNAL_SERVER_ERROR",
    /// A WebSocket connection runs as many operations as it may at once.
    MaxSubscriptionsLimit = "MAX_SUBSCRIPTIONS_LIMIT",
    /// The gateway swapped in a new supergraph or configuration: its subscriptions end, and
    /// clients subscribe again.
    SubscriptionSchemaReload = "SUBSCRIPTION_SCHEMA_RELOAD",
    /// The gateway is shutting down: its subscriptions end.
    SubscriptionServerShutdown = "SUBSCRIPTION_SERVER_SHUTDOWN",
    /// A subscription's client let its queue of events fill: the subscription is closed.
    SubscriptionClientTooSlow = "SUBSCRIPTION_CLIENT_TOO_SLOW",
    // Subgraphs.
    /// A subgraph fetch failed (HTTP status, timeout, transport, not JSON, unusable answer).
    SubrequestHttpError = "SUBREQUEST_HTTP_ERROR",
    /// A subgraph's response was larger than its `max_response_bytes`.
    SubrequestResponseTooLarge = "SUBREQUEST_RESPONSE_TOO_LARGE",
    /// The subgraph's circuit breaker is open: nothing was sent.
    SubgraphCircuitOpen = "SUBGRAPH_CIRCUIT_OPEN",
    /// A subgraph value that is not of its field's type (or an object whose concrete type
    /// cannot be known); the field is null.
    InvalidSubgraphValue = "INVALID_SUBGRAPH_VALUE",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A place in the document, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One GraphQL error of Weft's own. Serialized as `message`, `locations` (when any), `path`
/// (when set), `extensions` (when it has a code or other fields: `code` first).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphQLError {
    pub message: String,
    pub locations: Vec<Location>,
    /// The response path, when the error is about a place in `data`.
    pub path: Option<Vec<Value>>,
    pub code: Option<ErrorCode>,
    /// Extension fields after `code` (e.g. `serviceName`).
    pub extensions: Map<String, Value>,
}

impl GraphQLError {
    /// An error with a message and a code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> GraphQLError {
        GraphQLError {
            code: Some(code),
            ..GraphQLError::message(message)
        }
    }

    /// An error with a message only.
    pub fn message(message: impl Into<String>) -> GraphQLError {
        GraphQLError {
            message: message.into(),
            locations: Vec::new(),
            path: None,
            code: None,
            extensions: Map::new(),
        }
    }

    /// With the response path `path`.
    pub fn at(mut self, path: Vec<Value>) -> GraphQLError {
        self.path = Some(path);
        self
    }

    /// With an extension field after `code`.
    pub fn with_extension(mut self, key: &str, value: impl Into<Value>) -> GraphQLError {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// The error as a JSON value (same fields, same order).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A response of this error alone: `{"errors":[…]}`.
    pub fn into_response(self) -> Value {
        errors_response(&[self])
    }
}

/// A response of errors only: `{"errors":[…]}` (no `data`: the request did not run).
pub fn errors_response(errors: &[GraphQLError]) -> Value {
    let mut body = Map::new();
    body.insert(
        "errors".to_owned(),
        Value::Array(errors.iter().map(GraphQLError::to_value).collect()),
    );
    Value::Object(body)
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("line", &self.line)?;
        map.serialize_entry("column", &self.column)?;
        map.end()
    }
}

impl Serialize for GraphQLError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("message", &self.message)?;
        if !self.locations.is_empty() {
            map.serialize_entry("locations", &self.locations)?;
        }
        if let Some(path) = &self.path {
            map.serialize_entry("path", path)?;
        }
        if self.code.is_some() || !self.extensions.is_empty() {
            map.serialize_entry("extensions", &Extensions(self))?;
        }
        map.end()
    }
}

struct Extensions<'a>(&'a GraphQLError);

impl Serialize for Extensions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(code) = self.0.code {
            map.serialize_entry("code", &code)?;
        }
        for (k, v) in &self.0.extensions {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One error of an executed response: Weft's own, or one passed on as it was written (a
/// subgraph's, with `serviceName` and a client path; an introspection error), whose code is
/// read once, when it is taken in.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseError {
    Own(GraphQLError),
    Passed(PassedError),
}

/// An error Weft passes on: its JSON as written, and its `extensions.code` (when a string).
#[derive(Debug, Clone, PartialEq)]
pub struct PassedError {
    code: Option<String>,
    error: Value,
}

impl PassedError {
    pub fn new(error: Value) -> PassedError {
        let code = error
            .pointer("/extensions/code")
            .and_then(Value::as_str)
            .map(str::to_owned);
        PassedError { code, error }
    }

    /// The error as it is sent.
    pub fn value(&self) -> &Value {
        &self.error
    }
}

impl ResponseError {
    /// An error passed on (see [`PassedError`]).
    pub fn passed(error: Value) -> ResponseError {
        ResponseError::Passed(PassedError::new(error))
    }

    /// Its `extensions.code`, when it has one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ResponseError::Own(e) => e.code.map(ErrorCode::as_str),
            ResponseError::Passed(e) => e.code.as_deref(),
        }
    }

    /// Its `path`, when it has one.
    pub fn path(&self) -> Option<&[Value]> {
        match self {
            ResponseError::Own(e) => e.path.as_deref(),
            ResponseError::Passed(e) => e
                .error
                .get("path")
                .and_then(Value::as_array)
                .map(Vec::as_slice),
        }
    }
}

impl From<GraphQLError> for ResponseError {
    fn from(error: GraphQLError) -> Self {
        ResponseError::Own(error)
    }
}

impl Serialize for ResponseError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ResponseError::Own(e) => e.serialize(serializer),
            ResponseError::Passed(e) => e.error.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_serialize_in_the_spec_order() {
        let mut e = GraphQLError::new(ErrorCode::SubrequestHttpError, "m")
            .at(vec![json!("a"), json!(0)])
            .with_extension("serviceName", "s");
        e.locations.push(Location { line: 1, column: 2 });
        assert_eq!(
            serde_json::to_string(&e).unwrap_or_default(),
            r#"{"message":"m","locations":[{"line":1,"column":2}],"path":["a",0],"extensions":{"code":"SUBREQUEST_HTTP_ERROR","serviceName":"s"}}"#
        );
        assert_eq!(
            serde_json::to_string(&GraphQLError::message("x").into_response()).unwrap_or_default(),
            r#"{"errors":[{"message":"x"}]}"#
        );
    }

    /// Every code is named in docs/ (the reference pages say when each is emitted).
    #[test]
    fn every_code_is_documented() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        let mut text = String::new();
        for entry in std::fs::read_dir(&docs).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "md") {
                text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        let missing: Vec<&str> = ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|c| !text.contains(&format!("`{c}`")))
            .collect();
        assert!(missing.is_empty(), "not in docs/*.md: {missing:?}");
    }

    #[test]
    fn passed_errors_keep_their_text_and_code() {
        let raw = json!({"path": ["a"], "message": "m", "extensions": {"x": 1, "code": "C"}});
        let e = ResponseError::passed(raw.clone());
        assert_eq!(e.code(), Some("C"));
        assert_eq!(e.path(), Some(&[json!("a")][..]));
        assert_eq!(
            serde_json::to_string(&e).unwrap_or_default(),
            serde_json::to_string(&raw).unwrap_or_default()
        );
        assert_eq!(ResponseError::passed(json!({"message": "m"})).code(), None);
    }

    #[test]
    fn codes_read_back() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(*code));
            assert_eq!(json!(code), json!(code.as_str()));
        }
        assert_eq!(ErrorCode::from_name("NOPE"), None);
    }
}
