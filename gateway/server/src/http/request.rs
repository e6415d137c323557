//! GraphQL over HTTP, the request side: a GraphQL request from a POST JSON body or GET query
//! parameters, and which response media type the client accepts. What the decoding yields
//! (`GraphQLRequest`, `MediaType`) is the pipeline's input, so its types live in
//! `runtime::request`.

use axum::http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value};
use weft_executor::{ErrorCode, GraphQLError};

pub use crate::runtime::request::{GraphQLRequest, MediaType};

/// What a client asked for, or why its HTTP request is not a GraphQL request.
#[derive(Debug)]
pub enum Parsed {
    Request(GraphQLRequest),
    /// A POST body that is a non-empty JSON array: each item a request, or why it is not one.
    Batch(Vec<Result<GraphQLRequest, Rejection>>),
    Invalid(Rejection),
}

/// A POST body: one request or a batch.
enum Shape {
    One(GraphQLRequest),
    Batch(Vec<Result<GraphQLRequest, Rejection>>),
}

/// An HTTP request refused before any GraphQL processing: the status (400 or 415 whatever the
/// response media type: the request is not a well-formed GraphQL request), and one error.
#[derive(Debug)]
pub struct Rejection {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl Rejection {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Rejection {
        Rejection {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Rejection {
        Rejection {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::BadRequest,
            message: message.into(),
        }
    }

    fn unsupported(message: impl Into<String>) -> Rejection {
        Rejection {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: ErrorCode::UnsupportedMediaType,
            message: message.into(),
        }
    }

    /// The GraphQL error of this rejection (the whole response body).
    pub fn error(&self) -> GraphQLError {
        GraphQLError::new(self.code, self.message.clone())
    }
}

/// The response type for an `Accept` header, `None` when it allows neither (406).
///
/// No header, or an empty one, means `application/json`. Otherwise the supported type with the
/// highest `q` wins: `application/graphql-response+json`, `application/json`, and
/// `application/*` or `*/*` standing for `application/json`. On equal `q`,
/// `application/graphql-response+json` wins, then an exact `application/json` over a wildcard.
/// `q=0` excludes a type, and so does a `charset` other than UTF-8 (we answer in UTF-8 only).
pub fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.iter().all(|v| v.trim().is_empty()) {
        return Some(MediaType::Json);
    }
    // (q in thousandths, rank on ties, type): the greatest wins.
    let mut best: Option<(u16, u8, MediaType)> = None;
    for range in values.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let (rank, kind) = match media.as_str() {
            "application/graphql-response+json" => (2, MediaType::GraphQLResponse),
            "application/json" => (1, MediaType::Json),
            "application/*" | "*/*" => (0, MediaType::Json),
            _ => continue,
        };
        let mut q = 1000;
        let mut charset_ok = true;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "q" => q = parse_q(value).unwrap_or(0),
                "charset" => charset_ok = is_utf8(value),
                _ => {}
            }
        }
        if q == 0 || !charset_ok {
            continue;
        }
        if best.is_none_or(|(bq, br, _)| (q, rank) > (bq, br)) {
            best = Some((q, rank, kind));
        }
    }
    best.map(|(_, _, kind)| kind)
}

/// `q` as thousandths (`0.5` → 500), `None` if it is not a valid qvalue.
/// Whether the client accepts an incremental response to `@defer`: `multipart/mixed` with
/// `deferSpec=20220824` (what Apollo Client, Relay and urql send), or with no `deferSpec` (the
/// only format Weft writes is then the one it gets), not excluded by `q=0`. A
/// `multipart/mixed` asking for another `deferSpec`, or only for `subscriptionSpec`, is not
/// one.
pub fn accepts_incremental(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';');
            if !parts
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("multipart/mixed")
            {
                return false;
            }
            let mut ok = true;
            for param in parts {
                let Some((name, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match name.trim().to_ascii_lowercase().as_str() {
                    "q" => ok &= parse_q(value).unwrap_or(0) > 0,
                    "deferspec" => ok &= value == "20220824",
                    "subscriptionspec" => ok = false,
                    _ => {}
                }
            }
            ok
        })
}

/// The stream a client accepts a subscription's events as: `text/event-stream` (GraphQL over
/// SSE) or `multipart/mixed` with `subscriptionSpec=1.0` (Apollo's multipart subscriptions),
/// whichever its `Accept` names first (not excluded by `q=0`); `None`: neither.
pub fn subscription_format(headers: &HeaderMap) -> Option<crate::runtime::subscriptions::Format> {
    use crate::runtime::subscriptions::Format;
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q_ok = true;
            let mut spec = None;
            for param in parts {
                let Some((name, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match name.trim().to_ascii_lowercase().as_str() {
                    "q" => q_ok &= parse_q(value).unwrap_or(0) > 0,
                    "subscriptionspec" => spec = Some(value.to_owned()),
                    _ => {}
                }
            }
            match media.as_str() {
                "text/event-stream" if q_ok => Some(Format::Sse),
                "multipart/mixed" if q_ok && spec.as_deref() == Some("1.0") => {
                    Some(Format::Multipart)
                }
                _ => None,
            }
        })
}

fn parse_q(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{frac:0<3}").parse::<u16>().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn is_utf8(charset: &str) -> bool {
    charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
}

/// Reads a GraphQL request from a GET query string or a POST body.
///
/// POST bodies must be `application/json` (or `application/graphql-response+json`) in UTF-8,
/// else 415. A body that is not a JSON object, or whose `query`, `operationName`, `variables`
/// or `extensions` has the wrong type, is a 400 whatever the response media type. The presence
/// of `query` is checked later (a persisted-query extension could stand for it). A POST body
/// that is a non-empty JSON array is a batch, each item checked as a body of its own.
pub fn parse(
    method: &Method,
    headers: &HeaderMap,
    query_string: Option<&str>,
    body: &[u8],
) -> Parsed {
    match parse_shape(method, headers, query_string, body) {
        Ok(Shape::One(req)) => Parsed::Request(req),
        Ok(Shape::Batch(items)) => Parsed::Batch(items),
        Err(rejection) => Parsed::Invalid(rejection),
    }
}

/// One request; a batch is refused as a body that is not an object.
#[cfg(test)]
fn parse_request(
    method: &Method,
    headers: &HeaderMap,
    query_string: Option<&str>,
    body: &[u8],
) -> Result<GraphQLRequest, Rejection> {
    match parse_shape(method, headers, query_string, body)? {
        Shape::One(req) => Ok(req),
        Shape::Batch(_) => Err(Rejection::bad_request(
            "the request body must be a JSON object",
        )),
    }
}

fn parse_shape(
    method: &Method,
    headers: &HeaderMap,
    query_string: Option<&str>,
    body: &[u8],
) -> Result<Shape, Rejection> {
    if method == Method::GET {
        let mut map = Map::new();
        for (k, v) in url_pairs(query_string.unwrap_or("")) {
            match k.as_str() {
                "query" | "operationName" => {
                    map.insert(k, Value::String(v));
                }
                // An empty parameter is an absent one.
                "variables" | "extensions" if v.trim().is_empty() => {}
                "variables" | "extensions" => match serde_json::from_str(&v) {
                    Ok(value) => {
                        map.insert(k, value);
                    }
                    Err(e) => {
                        return Err(Rejection::bad_request(format!(
                            "`{k}` is not URL-encoded JSON: {e}"
                        )));
                    }
                },
                _ => {}
            }
        }
        return from_object(map).map(Shape::One);
    }
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Rejection::unsupported(
            "missing content-type: send the request as application/json",
        ));
    };
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if media != "application/json" && media != "application/graphql-response+json" {
        return Err(Rejection::unsupported(format!(
            "unsupported content-type `{media}`: send the request as application/json"
        )));
    }
    for param in parts {
        if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
            && !is_utf8(value.trim().trim_matches('"'))
        {
            return Err(Rejection::unsupported(format!(
                "unsupported charset `{}`: send the request in utf-8",
                value.trim()
            )));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejection::bad_request(
            "the request body is empty: send a JSON object with `query`",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => from_object(map).map(Shape::One),
        Ok(Value::Array(items)) if !items.is_empty() => Ok(Shape::Batch(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => from_object(map),
                    _ => Err(Rejection::bad_request(
                        "each request of a batch must be a JSON object",
                    )),
                })
                .collect(),
        )),
        Ok(Value::Array(_)) => Err(Rejection::bad_request(
            "the batch is empty: send a JSON array of one or more requests, or one JSON object",
        )),
        Ok(_) => Err(Rejection::bad_request(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(Rejection::bad_request(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

fn from_object(map: Map<String, Value>) -> Result<GraphQLRequest, Rejection> {
    let mut req = GraphQLRequest::default();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("query", Value::String(s)) => req.query = Some(s),
            ("query", Value::Null) => {}
            ("query", _) => return Err(Rejection::bad_request("`query` must be a string")),
            ("operationName", Value::String(s)) => req.operation_name = Some(s),
            ("operationName", Value::Null) => {}
            ("operationName", _) => {
                return Err(Rejection::bad_request("`operationName` must be a string"));
            }
            ("variables", v @ (Value::Object(_) | Value::Null)) => req.variables = Some(v),
            ("variables", _) => {
                return Err(Rejection::bad_request("`variables` must be an object"));
            }
            ("extensions", v @ (Value::Object(_) | Value::Null)) => req.extensions = Some(v),
            ("extensions", _) => {
                return Err(Rejection::bad_request("`extensions` must be an object"));
            }
            _ => {}
        }
    }
    Ok(req)
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

    fn accept(value: &'static str) -> Option<MediaType> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, value.parse().unwrap());
        negotiate(&h)
    }

    #[test]
    fn negotiates_by_quality() {
        use MediaType::{GraphQLResponse, Json};
        assert_eq!(accept("*/*"), Some(Json));
        assert_eq!(accept(""), Some(Json));
        assert_eq!(accept("application/*"), Some(Json));
        assert_eq!(accept("application/json"), Some(Json));
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Some(GraphQLResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.9, application/json"),
            Some(Json)
        );
        assert_eq!(
            accept("application/json;q=0.5, application/graphql-response+json;q=0.51"),
            Some(GraphQLResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0, */*;q=0.1"),
            Some(Json)
        );
        assert_eq!(accept("application/json; charset=utf-8"), Some(Json));
        assert_eq!(accept("application/json; charset=latin1"), None);
        assert_eq!(accept("application/json;q=0"), None);
        assert_eq!(accept("text/html, application/xml;q=0.9"), None);
        assert_eq!(parse_q("0.005"), Some(5));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
    }

    fn post(content_type: Option<&'static str>, body: &str) -> Result<GraphQLRequest, Rejection> {
        let mut h = HeaderMap::new();
        if let Some(ct) = content_type {
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        }
        parse_request(&Method::POST, &h, None, body.as_bytes())
    }

    #[test]
    fn post_bodies() {
        let json = Some("application/json");
        let ok = post(
            json,
            r#"{"query":"{ a }","variables":null,"operationName":null}"#,
        );
        assert_eq!(ok.unwrap().query.as_deref(), Some("{ a }"));
        assert!(
            post(
                Some("application/json; charset=UTF-8"),
                r#"{"query":"{ a }"}"#
            )
            .is_ok()
        );
        for (ct, body, status) in [
            (None, r#"{"query":"{ a }"}"#, 415),
            (Some("text/plain"), r#"{"query":"{ a }"}"#, 415),
            (Some("application/graphql"), "{ a }", 415),
            (Some("application/json; charset=utf-16"), "{}", 415),
            (json, "", 400),
            (json, r#"{ "not a JSON"#, 400),
            (json, "[]", 400),
            (json, r#"{"query":1}"#, 400),
            (json, r#"{"query":"{ a }","variables":"x"}"#, 400),
            (json, r#"{"query":"{ a }","variables":[]}"#, 400),
            (json, r#"{"query":"{ a }","extensions":false}"#, 400),
            (json, r#"{"query":"{ a }","operationName":{}}"#, 400),
        ] {
            let err = post(ct, body).unwrap_err();
            assert_eq!(
                err.status.as_u16(),
                status,
                "{ct:?} {body}: {}",
                err.message
            );
        }
        // An empty batch is called one, not "not a JSON object".
        let empty = post(json, " [ ] ").unwrap_err();
        assert!(
            empty.message.starts_with("the batch is empty"),
            "{}",
            empty.message
        );
        assert_eq!(empty.error().code, Some(ErrorCode::BadRequest));
    }

    #[test]
    fn get_parameters() {
        let get = |qs: &str| parse_request(&Method::GET, &HeaderMap::new(), Some(qs), b"");
        let req = get("query=query%20T(%24n%3AString!)%7B__type(name%3A%24n)%7Bname%7D%7D&variables=%7B%22n%22%3A%22x%22%7D&operationName=T&extensions=").unwrap();
        assert_eq!(req.variables, Some(serde_json::json!({ "n": "x" })));
        assert_eq!(req.operation_name.as_deref(), Some("T"));
        assert!(req.extensions.is_none());
        assert_eq!(
            get("query=%7Ba%7D&variables=%5B%5D").unwrap_err().status,
            400
        );
        assert_eq!(get("query=%7Ba%7D&variables=%7B").unwrap_err().status, 400);
        assert_eq!(get("query=%7Ba%7D&extensions=1").unwrap_err().status, 400);
    }
}
