//! Runs a query plan against the subgraphs (DESIGN §5): root fetches merge at the root;
//! entity fetches collect objects at their path, build and de-duplicate representations, send
//! one `_entities` request, and merge each result into every object that needed it. One task
//! owns the response data; parallel fetches are sent together and merged one at a time.
//! A failed fetch leaves only its own fields missing, with an error naming the subgraph.
//! Each subgraph request carries the headers the rules give it (`headers.rs`) and is timed and
//! counted in the metrics (`metrics.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use futures::future::{BoxFuture, join_all};
use serde_json::{Map, Value, json};
use tracing::Instrument;
use weft_engine::{FetchError, GraphQLRequest};
use weft_federation::plan::model::{
    FetchNode, LIST, OperationKind, PlanNode, QueryPlan, Rewrite, Selection,
};

use super::headers::{self, HeaderRules};
use super::metrics::{FetchErrorKind, Metrics};
use super::{telemetry, traffic};

/// A step of a concrete response path.
#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    pub fn to_json(&self) -> Value {
        match self {
            Seg::Key(k) => Value::String(k.clone()),
            Seg::Index(i) => json!(i),
        }
    }
}

/// The merged subgraph data and the errors met on the way.
pub struct Output {
    pub data: Value,
    pub errors: Vec<Value>,
}

pub struct Executor {
    subgraphs: HashMap<String, traffic::Subgraph>,
    metrics: Arc<Metrics>,
    rules: HeaderRules,
}

/// A fetch that got no usable answer: the error's `extensions.code` and message.
pub struct FetchFailure {
    code: &'static str,
    message: String,
}

impl FetchFailure {
    fn http(message: String) -> FetchFailure {
        FetchFailure {
            code: "SUBREQUEST_HTTP_ERROR",
            message,
        }
    }
}

/// What one execution shares across its fetches.
#[derive(Clone, Copy)]
struct Request<'a> {
    variables: &'a Map<String, Value>,
    /// The client's request headers, from which each subgraph's are computed.
    headers: &'a HeaderMap,
}

/// A fetch ready to send: its request and where results go.
struct Ready<'p> {
    fetch: &'p FetchNode,
    /// For entity fetches: for each representation sent, every object path it came from.
    slots: Vec<Vec<Vec<Seg>>>,
    /// Root fetch (`None`) or the concrete paths prefix used for errors.
    entity: bool,
    variables: Map<String, Value>,
    /// Path used on errors when nothing better is known.
    error_path: Vec<Seg>,
}

impl Executor {
    pub fn new(
        subgraphs: HashMap<String, traffic::Subgraph>,
        metrics: Arc<Metrics>,
        rules: HeaderRules,
    ) -> Executor {
        Executor {
            subgraphs,
            metrics,
            rules,
        }
    }

    /// Runs `plan` for a client request with `variables` and request headers `headers`.
    pub async fn execute(
        &self,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
    ) -> Output {
        let mut out = Output {
            data: Value::Object(Map::new()),
            errors: Vec::new(),
        };
        if let Some(node) = &plan.node {
            let request = Request { variables, headers };
            self.run(node, request, &mut out).await;
        }
        out
    }

    fn run<'a>(
        &'a self,
        node: &'a PlanNode,
        request: Request<'a>,
        out: &'a mut Output,
    ) -> BoxFuture<'a, ()> {
        let variables = request.variables;
        Box::pin(async move {
            match node {
                PlanNode::Sequence { nodes } => {
                    for n in nodes {
                        self.run(n, request, out).await;
                    }
                }
                PlanNode::Parallel { nodes } => {
                    // Leaves go out together; anything nested runs in order after them.
                    let mut ready = Vec::new();
                    let mut nested = Vec::new();
                    for n in nodes {
                        match leaf(n) {
                            Some((fetch, path)) => {
                                ready.extend(self.prepare(fetch, path, variables, &out.data))
                            }
                            None => nested.push(n),
                        }
                    }
                    let responses =
                        join_all(ready.iter().map(|r| self.send(r, request.headers))).await;
                    for (r, response) in ready.iter().zip(responses) {
                        self.merge(r, response, out);
                    }
                    for n in nested {
                        self.run(n, request, out).await;
                    }
                }
                PlanNode::Condition {
                    condition,
                    if_clause,
                    else_clause,
                } => {
                    let on = variables
                        .get(condition)
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let branch = if on { if_clause } else { else_clause };
                    if let Some(n) = branch {
                        self.run(n, request, out).await;
                    }
                }
                PlanNode::Fetch(_) | PlanNode::Flatten(_) => {
                    if let Some((fetch, path)) = leaf(node)
                        && let Some(r) = self.prepare(fetch, path, variables, &out.data)
                    {
                        let response = self.send(&r, request.headers).await;
                        self.merge(&r, response, out);
                    }
                }
            }
        })
    }

    /// The request for a fetch given the data so far; `None` when an entity fetch finds no
    /// object to fetch for.
    fn prepare<'p>(
        &self,
        fetch: &'p FetchNode,
        path: &[String],
        variables: &Map<String, Value>,
        data: &Value,
    ) -> Option<Ready<'p>> {
        let mut vars: Map<String, Value> = fetch
            .variable_usages
            .iter()
            .filter_map(|v| variables.get(v).map(|x| (v.clone(), x.clone())))
            .collect();
        if fetch.requires.is_empty() {
            return Some(Ready {
                fetch,
                slots: Vec::new(),
                entity: false,
                variables: vars,
                error_path: Vec::new(),
            });
        }
        let mut objects = Vec::new();
        collect(data, path, &mut Vec::new(), &mut objects);
        let mut representations: Vec<Value> = Vec::new();
        let mut slots: Vec<Vec<Vec<Seg>>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (object_path, object) in objects {
            let Some(mut rep) = select(object, &fetch.requires) else {
                continue;
            };
            // A null key identifies no entity: nothing to fetch for this object.
            if fetch
                .key_fields
                .iter()
                .any(|k| rep.get(k).is_none_or(Value::is_null))
            {
                continue;
            }
            rewrite(&mut rep, object, &fetch.input_rewrites);
            let key = Value::Object(rep.clone()).to_string();
            match index.get(&key) {
                Some(i) => slots[*i].push(object_path),
                None => {
                    index.insert(key, representations.len());
                    representations.push(Value::Object(rep));
                    slots.push(vec![object_path]);
                }
            }
        }
        if representations.is_empty() {
            return None;
        }
        let error_path = slots
            .first()
            .and_then(|s| s.first())
            .cloned()
            .unwrap_or_default();
        vars.insert("representations".to_owned(), Value::Array(representations));
        Some(Ready {
            fetch,
            slots,
            entity: true,
            variables: vars,
            error_path,
        })
    }

    /// Sends one fetch with the headers the rules give its subgraph, through its traffic
    /// policy (timeout, retries, circuit breaker: `traffic/`).
    async fn send(&self, r: &Ready<'_>, client_headers: &HeaderMap) -> Result<Value, FetchFailure> {
        let name = &r.fetch.subgraph;
        let Some(subgraph) = self.subgraphs.get(name) else {
            return Err(FetchFailure::http(format!("no URL for subgraph `{name}`")));
        };
        let variables = Value::Object(r.variables.clone());
        let request = GraphQLRequest {
            query: &r.fetch.operation,
            operation_name: None,
            variables: Some(&variables),
        };
        let mut headers = headers::outgoing(&self.rules, name, client_headers);
        let kind = r.fetch.operation_kind;
        let span = telemetry::fetch_span(name, kind_name(kind), subgraph.url());
        telemetry::inject(&span, &mut headers);
        subgraph
            .send(
                &request,
                &headers,
                kind == OperationKind::Query,
                &self.metrics,
            )
            .instrument(span)
            .await
            .map_err(|failure| match failure {
                traffic::Failure::CircuitOpen => FetchFailure {
                    code: "SUBGRAPH_CIRCUIT_OPEN",
                    message: "the subgraph's circuit breaker is open; nothing was sent".to_owned(),
                },
                traffic::Failure::Fetch(FetchError::Status { status, .. }) => {
                    FetchFailure::http(format!("the subgraph answered HTTP {status}"))
                }
                traffic::Failure::Fetch(e) if e.is_timeout() => {
                    FetchFailure::http("the subgraph did not answer in time".to_owned())
                }
                traffic::Failure::Fetch(e) => FetchFailure::http(e.to_string()),
            })
    }

    /// A subgraph answer the gateway cannot use: an error for the client, and a count.
    fn unusable(&self, r: &Ready<'_>, why: &str, out: &mut Output) {
        self.metrics
            .record_fetch_error(&r.fetch.subgraph, FetchErrorKind::Invalid);
        out.errors
            .push(fetch_error(&r.fetch.subgraph, why, &r.error_path));
    }

    fn merge(&self, r: &Ready<'_>, response: Result<Value, FetchFailure>, out: &mut Output) {
        let service = &r.fetch.subgraph;
        let body = match response {
            Ok(body) => body,
            Err(failure) => {
                let mut error = fetch_error(service, &failure.message, &r.error_path);
                error["extensions"]["code"] = json!(failure.code);
                out.errors.push(error);
                return;
            }
        };
        if let Some(errors) = body.get("errors").and_then(Value::as_array) {
            for e in errors {
                out.errors.extend(map_error(e, service, r));
            }
        }
        let Some(data) = body.get("data").filter(|d| !d.is_null()) else {
            if body.get("errors").is_none() {
                self.unusable(r, "the response has no data", out);
            }
            return;
        };
        if !r.entity {
            let mut data = data.clone();
            apply_output_rewrites(&mut data, &r.fetch.output_rewrites);
            deep_merge(&mut out.data, data);
            return;
        }
        let entities = data.get("_entities").and_then(Value::as_array);
        let Some(entities) = entities else {
            self.unusable(r, "the response has no `_entities`", out);
            return;
        };
        if entities.len() != r.slots.len() {
            let why = format!(
                "`_entities` returned {} results for {} representations",
                entities.len(),
                r.slots.len()
            );
            self.unusable(r, &why, out);
        }
        for (entity, paths) in entities.iter().zip(&r.slots) {
            let mut entity = entity.clone();
            apply_output_rewrites(&mut entity, &r.fetch.output_rewrites);
            if entity.is_null() {
                continue;
            }
            for p in paths {
                if let Some(target) = get_mut(&mut out.data, p) {
                    deep_merge(target, entity.clone());
                }
            }
        }
    }
}

fn kind_name(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Query => "query",
        OperationKind::Mutation => "mutation",
        OperationKind::Subscription => "subscription",
    }
}

fn leaf(node: &PlanNode) -> Option<(&FetchNode, &[String])> {
    match node {
        PlanNode::Fetch(f) => Some((f, &[])),
        PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
            PlanNode::Fetch(f) => Some((f, &flatten.path)),
            _ => None,
        },
        _ => None,
    }
}

/// Every object at `path` ("@" = each list element), with its concrete path.
fn collect<'d>(
    value: &'d Value,
    path: &[String],
    at: &mut Vec<Seg>,
    out: &mut Vec<(Vec<Seg>, &'d Map<String, Value>)>,
) {
    match value {
        Value::Array(items) => {
            // A list where the plan expects an object: walk its elements (path "@" or not).
            let rest = if path.first().is_some_and(|p| p == LIST) {
                &path[1..]
            } else {
                path
            };
            for (i, item) in items.iter().enumerate() {
                at.push(Seg::Index(i));
                collect(item, rest, at, out);
                at.pop();
            }
        }
        Value::Object(map) => match path.split_first() {
            None => out.push((at.clone(), map)),
            Some((key, rest)) if key != LIST => {
                if let Some(next) = map.get(key) {
                    at.push(Seg::Key(key.clone()));
                    collect(next, rest, at, out);
                    at.pop();
                }
            }
            Some((_, rest)) => collect(value, rest, at, out),
        },
        _ => {}
    }
}

/// A representation: the `requires` selection read from the object; `None` when no type
/// condition matches the object.
fn select(object: &Map<String, Value>, selections: &[Selection]) -> Option<Map<String, Value>> {
    let typename = object.get("__typename").and_then(Value::as_str);
    let mut out = Map::new();
    let mut matched = false;
    for s in selections {
        match s {
            Selection::Field {
                name,
                alias,
                selections,
            } => {
                matched = true;
                let read = alias.as_ref().unwrap_or(name);
                let value = object.get(read).cloned().unwrap_or(Value::Null);
                let value = if selections.is_empty() {
                    value
                } else {
                    select_value(&value, selections)
                };
                out.insert(name.clone(), value);
            }
            Selection::InlineFragment {
                possible_types,
                selections,
                type_condition,
            } => {
                let applies = possible_types.is_empty() && type_condition.is_empty()
                    || typename.is_some_and(|t| {
                        possible_types.iter().any(|p| p == t) || t == type_condition
                    });
                if applies && let Some(inner) = select(object, selections) {
                    matched = true;
                    for (k, v) in inner {
                        out.insert(k, v);
                    }
                }
            }
        }
    }
    matched.then_some(out)
}

fn select_value(value: &Value, selections: &[Selection]) -> Value {
    match value {
        Value::Object(o) => select(o, selections).map_or(Value::Null, Value::Object),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| select_value(v, selections)).collect())
        }
        other => other.clone(),
    }
}

/// Input rewrites: `["... on Book", "__typename"]` sets `__typename` when the object is a Book.
fn rewrite(rep: &mut Map<String, Value>, object: &Map<String, Value>, rewrites: &[Rewrite]) {
    let typename = object
        .get("__typename")
        .and_then(Value::as_str)
        .unwrap_or("");
    for r in rewrites {
        if let Rewrite::ValueSetter { path, set_value_to } = r {
            let (condition, key) = match path.as_slice() {
                [c, k] if c.starts_with("... on ") => (Some(&c[7..]), k),
                [k] => (None, k),
                _ => continue,
            };
            if condition.is_none_or(|c| c == typename) {
                rep.insert(key.clone(), set_value_to.clone());
            }
        }
    }
}

/// Output rewrites: a `KeyRenamer` renames the last key of its path in every object the path
/// reaches (lists are walked through; `... on T` keeps only objects of type T).
fn apply_output_rewrites(value: &mut Value, rewrites: &[Rewrite]) {
    for r in rewrites {
        if let Rewrite::KeyRenamer {
            path,
            rename_key_to,
        } = r
        {
            rename_at(value, path, rename_key_to);
        }
    }
}

fn rename_at(value: &mut Value, path: &[String], to: &str) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| rename_at(v, path, to)),
        Value::Object(map) => match path {
            [] => {}
            [key] => {
                if let Some(v) = map.remove(key) {
                    map.insert(to.to_owned(), v);
                }
            }
            [first, rest @ ..] => match first.strip_prefix("... on ") {
                Some(ty) => {
                    if map.get("__typename").and_then(Value::as_str) == Some(ty) {
                        rename_at(value, rest, to);
                    }
                }
                None => {
                    if let Some(next) = map.get_mut(first) {
                        rename_at(next, rest, to);
                    }
                }
            },
        },
        _ => {}
    }
}

fn get_mut<'d>(value: &'d mut Value, path: &[Seg]) -> Option<&'d mut Value> {
    let mut current = value;
    for seg in path {
        current = match (seg, current) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Merges `src` into `dst`: objects key by key, lists element by element, else replace.
pub fn deep_merge(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        d.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(s)) if d.len() == s.len() => {
            for (x, y) in d.iter_mut().zip(s) {
                deep_merge(x, y);
            }
        }
        (d, s) => *d = s,
    }
}

fn fetch_error(service: &str, why: &str, path: &[Seg]) -> Value {
    let mut e = json!({
        "message": format!("HTTP fetch failed from '{service}': {why}"),
        "extensions": { "code": "SUBREQUEST_HTTP_ERROR", "serviceName": service },
    });
    if !path.is_empty() {
        e["path"] = Value::Array(path.iter().map(Seg::to_json).collect());
    }
    e
}

/// A subgraph error as the client sees it: `_entities` paths become the paths of every object
/// that used the representation; `extensions.serviceName` names the subgraph.
fn map_error(error: &Value, service: &str, r: &Ready<'_>) -> Vec<Value> {
    let mut base = match error {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert("message".to_owned(), Value::String(other.to_string()));
            m
        }
    };
    base.entry("message")
        .or_insert_with(|| Value::String("subgraph error".to_owned()));
    base.remove("locations");
    let extensions = base
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
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
            let Some(paths) = r.slots.get(i) else {
                return vec![Value::Object(base)];
            };
            paths
                .iter()
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
            if !r.error_path.is_empty() {
                base.insert(
                    "path".to_owned(),
                    Value::Array(r.error_path.iter().map(Seg::to_json).collect()),
                );
            }
            vec![Value::Object(base)]
        }
    }
}
