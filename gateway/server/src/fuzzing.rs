//! The entry points of the fuzz targets (`fuzz/`, docs/fuzzing.md): one per target, each taking
//! the fuzzer's bytes and driving the real code path. `tests/fuzz_corpus.rs` replays the
//! committed corpus through the same functions, so CI runs every seed.
//!
//! Each returns `Err` when a promise of the gateway is broken (the fuzz targets turn that into
//! a crash); it never panics itself. A panic anywhere below is a crash too: libFuzzer's panic
//! hook aborts, and in the replay test a panicking request task closes its connection without
//! an answer, which is reported as such.
//!
//! The request decoder and the subgraph answer reader are private to `serve`, so their targets
//! go through the most public API that reaches them: the gateway's router, served on loopback,
//! in front of a canned subgraph that answers what the fuzzer wrote. That is the whole path a
//! hostile client or subgraph takes (HTTP framing, edge, decoder, pipeline, execution,
//! projection, coercion, shaping).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use apollo_compiler::executable::{ExecutableDocument, Field, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Node, Schema};
use axum::http::{HeaderName, HeaderValue, header};
use serde_json::Value;
use weft_config::Config;
use weft_config::model::{Limits, SubgraphOverride};
use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::normalize_within;
use weft_federation::plan::model::QueryPlan;
use weft_federation::plan::{DEFAULT_MAX_PLANNING_STEPS, plan_within};

use crate::observability::metrics::Metrics;
use crate::runtime::limits;
use crate::runtime::{Live, SchemaRuntime};

/// The demo supergraph: five subgraphs, entities across them, lists, enums, non-null fields.
const SUPERGRAPH: &str = include_str!("../../../schema/supergraph.graphql");

/// A broken promise: what the gateway did that it must not.
#[derive(Debug)]
pub struct Violation(String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

fn violation(what: impl Into<String>) -> Violation {
    Violation(what.into())
}

/// Bytes split at `0xFF`, which never occurs in UTF-8 text: the fields of one input.
fn fields(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == 0xFF)
}

// ---------------------------------------------------------------------------------------------
// Target `operation`: parse (limits) → validate → limits::check → normalize → plan.

struct Planner {
    supergraph: Arc<Supergraph>,
    graph: QueryGraph,
}

fn planner() -> Option<&'static Planner> {
    static PLANNER: OnceLock<Option<Planner>> = OnceLock::new();
    PLANNER
        .get_or_init(|| {
            let supergraph = Arc::new(Supergraph::parse(SUPERGRAPH, "supergraph.graphql").ok()?);
            Some(Planner {
                graph: QueryGraph::new(supergraph.clone()),
                supergraph,
            })
        })
        .as_ref()
}

/// Every limit switched off (the planner keeps its default budget).
fn limits_off() -> Limits {
    Limits {
        max_planning_steps: Limits::default().max_planning_steps,
        ..Limits::off()
    }
}

/// Where an operation stopped, or its plan.
enum Outcome {
    Refused,
    Planned(Box<QueryPlan>),
}

/// The gateway's operation pipeline (`runtime/pipeline.rs` runs the same steps in this order).
fn pipeline(p: &Planner, limits: &Limits, query: &str, name: Option<&str>) -> Outcome {
    let api = p.supergraph.api_schema();
    let Ok(ast) = limits::parse(limits, query) else {
        return Outcome::Refused;
    };
    let Ok(document) = ast.to_executable_validate(api) else {
        return Outcome::Refused;
    };
    if limits::check(limits, &document, name).is_err() {
        return Outcome::Refused;
    }
    let max_selections = limits.max_selections.map(|n| n.get() as usize);
    let Ok(operation) = normalize_within(api, &document, name, max_selections) else {
        return Outcome::Refused;
    };
    let budget = limits
        .max_planning_steps
        .map_or(DEFAULT_MAX_PLANNING_STEPS, |n| n.get() as usize);
    match plan_within(&p.graph, &operation, &BTreeSet::new(), Some(budget)) {
        Ok(plan) => Outcome::Planned(Box::new(plan)),
        Err(_) => Outcome::Refused,
    }
}

/// Target `operation`: the bytes are a GraphQL document (lossy UTF-8); a first line
/// `# NAME` names the operation to run. The document goes through the pipeline with the
/// default limits and with every limit off. An operation planned within the limits must be
/// planned alike without them (limits refuse, they never change a plan).
pub fn operation(data: &[u8]) -> Result<(), Violation> {
    let Some(p) = planner() else {
        return Err(violation("the demo supergraph did not load"));
    };
    let query = String::from_utf8_lossy(data);
    let name = query
        .strip_prefix('#')
        .and_then(|rest| rest.lines().next())
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let within = pipeline(p, &Limits::default(), &query, name);
    let without = pipeline(p, &limits_off(), &query, name);
    match (within, without) {
        (Outcome::Planned(a), Outcome::Planned(b)) if a != b => Err(violation(
            "the plan with the default limits differs from the plan without limits",
        )),
        (Outcome::Planned(_), Outcome::Refused) => Err(violation(
            "planned with the default limits, refused with every limit off",
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// The gateway on loopback, in front of a canned subgraph (targets `request` and
// `subgraph_answer`).

/// What the canned subgraph answers: the n-th request gets the n-th answer, later ones the
/// last (none set: `{"data":null}`).
#[derive(Default)]
struct Answers(Mutex<(Vec<Vec<u8>>, usize)>);

impl Answers {
    fn set(&self, answers: Vec<Vec<u8>>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = (answers, 0);
    }

    fn next(&self) -> Vec<u8> {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (answers, served) = &mut *queue;
        let answer = answers.get(*served).or(answers.last()).cloned();
        *served += 1;
        answer.unwrap_or_else(|| b"{\"data\":null}".to_vec())
    }
}

struct Gateway {
    /// One thread: the servers' tasks run while a request is awaited, deterministically.
    runtime: tokio::runtime::Runtime,
    /// `http://127.0.0.1:PORT`
    base: String,
    client: reqwest::Client,
    answers: Arc<Answers>,
    /// One input at a time (the replay test runs targets on several threads).
    turn: Mutex<()>,
    api: Valid<Schema>,
    queries: Vec<Valid<ExecutableDocument>>,
}

fn gateway() -> Option<&'static Gateway> {
    static GATEWAY: OnceLock<Option<Gateway>> = OnceLock::new();
    GATEWAY.get_or_init(Gateway::start).as_ref()
}

impl Gateway {
    fn start() -> Option<Gateway> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let supergraph = Arc::new(Supergraph::parse(SUPERGRAPH, "supergraph.graphql").ok()?);
        let api = supergraph.api_schema().clone();
        let queries = QUERIES
            .iter()
            .map(|q| ExecutableDocument::parse_and_validate(&api, *q, "query.graphql").ok())
            .collect::<Option<Vec<_>>>()?;
        let answers = Arc::new(Answers::default());
        let canned = answers.clone();
        let base = runtime.block_on(async move {
            let subgraph = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
            let subgraph_url = format!("http://{}/graphql", subgraph.local_addr().ok()?);
            let app = axum::Router::new().route(
                "/graphql",
                axum::routing::post(move || {
                    let canned = canned.clone();
                    async move { ([(header::CONTENT_TYPE, "application/json")], canned.next()) }
                }),
            );
            tokio::spawn(async move { axum::serve(subgraph, app).await });
            let mut config = Config::default();
            for s in supergraph.subgraphs() {
                config.subgraphs.named.insert(
                    s.name.clone(),
                    SubgraphOverride {
                        url: subgraph_url.parse().ok(),
                        ..SubgraphOverride::default()
                    },
                );
            }
            let schema =
                SchemaRuntime::new(supergraph, Arc::new(config), Arc::new(Metrics::new())).ok()?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
            let base = format!("http://{}", listener.local_addr().ok()?);
            let router = crate::http::router(Arc::new(Live::new(schema)));
            tokio::spawn(async move { axum::serve(listener, router).await });
            Some(base)
        })?;
        let client = reqwest::Client::builder().no_proxy().build().ok()?;
        Some(Gateway {
            runtime,
            base,
            client,
            answers,
            turn: Mutex::new(()),
            api,
            queries,
        })
    }

    /// Sends `request` and reads the answer: status, content type, content encoding, body.
    fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, Violation> {
        self.runtime.block_on(async {
            let sent = async {
                let response = request.send().await?;
                let status = response.status().as_u16();
                let text_header = |name| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let content_type = text_header(header::CONTENT_TYPE);
                let encoding = text_header(header::CONTENT_ENCODING);
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>(Answer {
                    status,
                    content_type,
                    encoding,
                    body: body.to_vec(),
                })
            };
            match tokio::time::timeout(Duration::from_secs(10), sent).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(e)) => Err(violation(format!("no answer from the gateway: {e}"))),
                Err(_) => Err(violation("no answer from the gateway within 10 s")),
            }
        })
    }
}

struct Answer {
    status: u16,
    content_type: Option<String>,
    encoding: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    /// A GraphQL response body: a JSON object with `data` or `errors`, each error with a
    /// message. `None` when the body is not one to read (compressed, not JSON, or empty).
    fn graphql(&self) -> Result<Option<serde_json::Map<String, Value>>, Violation> {
        let json = self
            .content_type
            .as_deref()
            .is_some_and(|t| t.contains("json"));
        if !json || self.encoding.is_some() || self.body.is_empty() {
            return Ok(None);
        }
        let value: Value = match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            // Valid JSON that serde_json cannot hold as `f64` (a custom scalar's `1e400`).
            Err(e) if e.to_string().contains("number out of range") => return Ok(None),
            Err(e) => return Err(violation(format!("the answer is not JSON: {e}"))),
        };
        let Value::Object(body) = value else {
            return Err(violation("the answer is not a JSON object"));
        };
        if !body.contains_key("data") && !body.contains_key("errors") {
            return Err(violation("the answer has neither `data` nor `errors`"));
        }
        if let Some(errors) = body.get("errors") {
            let well_formed = errors.as_array().is_some_and(|list| {
                !list.is_empty()
                    && list
                        .iter()
                        .all(|e| e.get("message").is_some_and(Value::is_string))
            });
            if !well_formed {
                return Err(violation(
                    "`errors` is not a non-empty list of errors with messages",
                ));
            }
        }
        Ok(Some(body))
    }
}

// ---------------------------------------------------------------------------------------------
// Target `request`: one HTTP request from the bytes.

const METHODS: [&str; 6] = ["GET", "POST", "HEAD", "PUT", "OPTIONS", "DELETE"];

/// Framing the HTTP client owns: a fuzzed `content-length` would only make the server wait for
/// bytes that never come.
const FRAMING: [HeaderName; 6] = [
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::HOST,
    header::CONNECTION,
    header::EXPECT,
    header::UPGRADE,
];

/// Target `request`: the first byte picks the method; the rest is `query string 0xFF headers
/// 0xFF body`, the headers as `name: value` lines. The request goes to `/graphql`; the
/// gateway must answer it (no dropped connection, no 5xx but 503), and a JSON answer must be
/// a GraphQL response.
pub fn request(data: &[u8]) -> Result<(), Violation> {
    let Some(g) = gateway() else {
        return Err(violation("the gateway did not start"));
    };
    let _turn = g.turn.lock().unwrap_or_else(PoisonError::into_inner);
    g.answers.set(Vec::new());
    let (method, rest) = match data.split_first() {
        Some((&m, rest)) => (METHODS[usize::from(m) % METHODS.len()], rest),
        None => ("GET", data),
    };
    let mut parts = rest.splitn(3, |&b| b == 0xFF);
    let query_string = parts.next().unwrap_or_default();
    let header_lines = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let mut url = format!("{}/graphql", g.base);
    if !query_string.is_empty() {
        url.push('?');
        url.push_str(&String::from_utf8_lossy(query_string));
    }
    let Ok(url) = reqwest::Url::parse(&url) else {
        return Ok(());
    };
    let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return Ok(());
    };
    let mut headers = reqwest::header::HeaderMap::new();
    for line in header_lines.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            && !FRAMING.contains(&name)
        {
            headers.append(name, value);
        }
    }
    let answer = g.send(
        g.client
            .request(method, url)
            .headers(headers)
            .body(body.to_vec()),
    )?;
    if answer.status >= 500 && answer.status != 503 {
        return Err(violation(format!("answered {}", answer.status)));
    }
    answer.graphql().map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Target `subgraph_answer`: a client query, and what the subgraphs answer to its fetches.

/// The client queries: a root fetch, entity fetches over lists and across subgraphs, enums,
/// non-null fields, aliases, `__typename`, fragments.
const QUERIES: [&str; 7] = [
    "{ users { id name username } }",
    "{ me { id name reviews { id body product { upc name price } } } }",
    "{ topProducts(first: 2) { upc name price weight inStock shippingEstimate \
     reviews { body author { username } } } }",
    "{ users { name reviews { body product { upc name reviews { author { username reviews { \
     product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }",
    "{ a: user(id: \"1\") { __typename id n: name } b: product(upc: \"1\") { __typename upc \
     stock } tracked(upc: \"1\") }",
    "query Q { topProducts { ...P reviews { ...R author { ...U } } } } \
     fragment U on User { id username name } fragment R on Review { id body } \
     fragment P on Product { upc name price weight }",
    "{ ordersByStatus(status: CONFIRMED) { id status failureReason user { id name } \
     items { quantity product { upc name stock } } } }",
];

/// Target `subgraph_answer`: the first byte picks a client query; the rest, split at `0xFF`,
/// are the answers of the subgraph requests in order (the last one repeated). Whatever the
/// subgraphs answer, the client's `data` holds only what it selected, each value of its
/// schema type (non-null fields never null, enums among their values, `Int` within 32 bits).
pub fn subgraph_answer(data: &[u8]) -> Result<(), Violation> {
    let Some(g) = gateway() else {
        return Err(violation("the gateway did not start"));
    };
    let _turn = g.turn.lock().unwrap_or_else(PoisonError::into_inner);
    let (pick, rest) = match data.split_first() {
        Some((&b, rest)) => (usize::from(b) % QUERIES.len(), rest),
        None => (0, data),
    };
    g.answers.set(fields(rest).map(<[u8]>::to_vec).collect());
    let body = serde_json::json!({ "query": QUERIES[pick] }).to_string();
    let answer = g.send(
        g.client
            .post(format!("{}/graphql", g.base))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body),
    )?;
    if answer.status != 200 {
        return Err(violation(format!("answered {}", answer.status)));
    }
    let Some(response) = answer.graphql()? else {
        return Err(violation("the answer is not a JSON GraphQL response"));
    };
    let Some(document) = g.queries.get(pick) else {
        return Ok(());
    };
    let Ok(operation) = document.operations.get(None) else {
        return Ok(());
    };
    match response.get("data") {
        None | Some(Value::Null) => Ok(()),
        Some(data) => Check {
            api: &g.api,
            document,
        }
        .object(&[&operation.selection_set], data, "data"),
    }
}

/// Checks a response value against the client's selection and the API schema.
struct Check<'a> {
    api: &'a Schema,
    document: &'a ExecutableDocument,
}

impl Check<'_> {
    /// The fields selected under `sets` (through fragments), by response key.
    fn collect<'d>(&'d self, set: &'d SelectionSet, out: &mut Vec<&'d Node<Field>>, depth: u8) {
        if depth > 16 {
            return;
        }
        for selection in &set.selections {
            match selection {
                Selection::Field(f) => out.push(f),
                Selection::InlineFragment(i) => self.collect(&i.selection_set, out, depth + 1),
                Selection::FragmentSpread(s) => {
                    if let Some(f) = self.document.fragments.get(&s.fragment_name) {
                        self.collect(&f.selection_set, out, depth + 1);
                    }
                }
            }
        }
    }

    fn object(&self, sets: &[&SelectionSet], value: &Value, path: &str) -> Result<(), Violation> {
        let Value::Object(map) = value else {
            return Err(violation(format!(
                "{path}: an object was expected, got {value}"
            )));
        };
        let mut selected = Vec::new();
        for set in sets {
            self.collect(set, &mut selected, 0);
        }
        for (key, v) in map {
            let fields: Vec<&Node<Field>> = selected
                .iter()
                .copied()
                .filter(|f| f.response_key().as_str() == key)
                .collect();
            let Some(first) = fields.first() else {
                return Err(violation(format!(
                    "{path}.{key}: not selected by the client"
                )));
            };
            let inner: Vec<&SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
            self.value(first.ty(), &inner, v, &format!("{path}.{key}"))?;
        }
        Ok(())
    }

    fn value(
        &self,
        ty: &Type,
        sets: &[&SelectionSet],
        value: &Value,
        path: &str,
    ) -> Result<(), Violation> {
        if value.is_null() {
            return if ty.is_non_null() {
                Err(violation(format!(
                    "{path}: null for the non-null type {ty}"
                )))
            } else {
                Ok(())
            };
        }
        if let Type::List(item) | Type::NonNullList(item) = ty {
            let Value::Array(items) = value else {
                return Err(violation(format!("{path}: a list was expected ({ty})")));
            };
            for (i, v) in items.iter().enumerate() {
                self.value(item, sets, v, &format!("{path}.{i}"))?;
            }
            return Ok(());
        }
        let name = ty.inner_named_type();
        let ok = match self.api.types.get(name) {
            Some(ExtendedType::Scalar(_)) => match name.as_str() {
                "Int" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                "Float" => value.is_number(),
                "String" | "ID" => value.is_string(),
                "Boolean" => value.is_boolean(),
                _ => true,
            },
            Some(ExtendedType::Enum(e)) => value
                .as_str()
                .is_some_and(|v| e.values.keys().any(|k| k.as_str() == v)),
            Some(_) => return self.object(sets, value, path),
            None => true,
        };
        if ok {
            Ok(())
        } else {
            Err(violation(format!("{path}: {value} is not a {ty}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(query: &str, data: Value) -> Result<(), Violation> {
        let supergraph = Supergraph::parse(SUPERGRAPH, "supergraph.graphql").unwrap();
        let api = supergraph.api_schema();
        let document = ExecutableDocument::parse_and_validate(api, query, "q.graphql").unwrap();
        let operation = document.operations.get(None).unwrap();
        Check {
            api,
            document: &document,
        }
        .object(&[&operation.selection_set], &data, "data")
    }

    #[test]
    fn the_answer_check_refuses_what_was_not_selected_or_not_of_its_type() {
        let q = "{ users { id n: name } topProducts(first: 1) { price } \
                 ordersByStatus(status: PENDING) { status } }";
        let good = json!({ "users": [{ "id": "1", "n": null }], "topProducts": [],
                           "ordersByStatus": [{ "status": "CANCELLED" }] });
        assert!(check(q, good).is_ok());
        for bad in [
            json!({ "users": [{ "id": "1", "email": "leaked@x" }] }),
            json!({ "users": [{ "id": "1", "name": "not the alias" }] }),
            json!({ "users": [{ "id": null }] }),
            json!({ "users": null }),
            json!({ "users": [{ "id": 1 }] }),
            json!({ "users": { "id": "1" } }),
            json!({ "topProducts": [{ "price": 2_147_483_648_i64 }] }),
            json!({ "topProducts": [{ "price": "1" }] }),
            json!({ "ordersByStatus": [{ "status": "LOST" }] }),
        ] {
            assert!(check(q, bad.clone()).is_err(), "{bad}");
        }
    }
}
