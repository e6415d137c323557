//! GraphQL over HTTP, the request side: a GraphQL request from a POST JSON body or GET query
//! parameters, and which response media type the client accepts.

use axum::http::{HeaderMap, Method, header};
use serde::Deserialize;
use serde_json::{Map, Value};

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

/// What a client asked for, or why its HTTP request is not a GraphQL request.
#[derive(Debug)]
pub enum Parsed {
    Request(GraphQLRequest),
    Invalid(String),
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

/// The response type for an `Accept` header: `application/graphql-response+json` when listed
/// (or for `*/*`-only clients per spec guidance, `application/json`), `None` if neither fits.
pub fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    let mut json = false;
    let mut any = false;
    for part in accept.split(',') {
        let media = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/graphql-response+json" => return Some(MediaType::GraphQLResponse),
            "application/json" => json = true,
            "*/*" | "application/*" => any = true,
            _ => {}
        }
    }
    if json || any || accept.trim().is_empty() {
        Some(MediaType::Json)
    } else {
        None
    }
}

/// Reads a GraphQL request from a GET query string or a POST body.
pub fn parse(
    method: &Method,
    headers: &HeaderMap,
    query_string: Option<&str>,
    body: &[u8],
) -> Parsed {
    if method == Method::GET {
        let mut req = GraphQLRequest::default();
        for (k, v) in url_pairs(query_string.unwrap_or("")) {
            match k.as_str() {
                "query" => req.query = Some(v),
                "operationName" => req.operation_name = Some(v),
                "variables" => match serde_json::from_str(&v) {
                    Ok(value) => req.variables = Some(value),
                    Err(e) => return Parsed::Invalid(format!("`variables` is not JSON: {e}")),
                },
                "extensions" => match serde_json::from_str(&v) {
                    Ok(value) => req.extensions = Some(value),
                    Err(e) => return Parsed::Invalid(format!("`extensions` is not JSON: {e}")),
                },
                _ => {}
            }
        }
        return Parsed::Request(req);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if content_type != "application/json" && content_type != "application/graphql-response+json" {
        return Parsed::Invalid(format!(
            "unsupported content type `{content_type}`: send application/json"
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => from_object(map),
        Ok(_) => Parsed::Invalid("the body must be a JSON object".to_owned()),
        Err(e) => Parsed::Invalid(format!("the body is not valid JSON: {e}")),
    }
}

fn from_object(map: Map<String, Value>) -> Parsed {
    let mut req = GraphQLRequest::default();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("query", Value::String(s)) => req.query = Some(s),
            ("query", Value::Null) => {}
            ("query", _) => return Parsed::Invalid("`query` must be a string".to_owned()),
            ("operationName", Value::String(s)) => req.operation_name = Some(s),
            ("operationName", Value::Null) => {}
            ("operationName", _) => {
                return Parsed::Invalid("`operationName` must be a string".to_owned());
            }
            ("variables", v @ (Value::Object(_) | Value::Null)) => req.variables = Some(v),
            ("variables", _) => return Parsed::Invalid("`variables` must be an object".to_owned()),
            ("extensions", v @ (Value::Object(_) | Value::Null)) => req.extensions = Some(v),
            ("extensions", _) => {
                return Parsed::Invalid("`extensions` must be an object".to_owned());
            }
            _ => {}
        }
    }
    Parsed::Request(req)
}

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` as space).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex =
                    std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) if hex.len() == 2 => {
                        out.push(b);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query_strings() {
        assert_eq!(decode("a%20b+c%7B"), "a b c{");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(
            url_pairs("query=%7B%20me%20%7D&x"),
            [
                ("query".to_owned(), "{ me }".to_owned()),
                ("x".to_owned(), String::new())
            ]
        );
    }

    #[test]
    fn negotiates() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(&h), Some(MediaType::Json));
        h.insert(
            header::ACCEPT,
            "application/graphql-response+json, application/json"
                .parse()
                .unwrap(),
        );
        assert_eq!(negotiate(&h), Some(MediaType::GraphQLResponse));
        h.insert(header::ACCEPT, "text/html".parse().unwrap());
        assert_eq!(negotiate(&h), None);
    }
}
