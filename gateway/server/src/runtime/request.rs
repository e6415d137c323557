//! What the operation pipeline is given: a client's GraphQL request, and the response media
//! type the client accepts (which decides the status of a GraphQL request error). Decoding them
//! from an HTTP request is `http::request`'s.

use serde::Deserialize;
use serde_json::Value;

/// A client's GraphQL request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

/// Media types of responses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: status codes follow the GraphQL-over-HTTP spec.
    GraphQLResponse,
    /// `application/json`: the legacy type, 200 for any well-formed GraphQL response.
    Json,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphQLResponse => "application/graphql-response+json",
            MediaType::Json => "application/json",
        }
    }
}
