//! One GraphQL request through the gateway: parse and validate against the API schema
//! (cached), coerce variables, plan (cached), execute, shape, and answer introspection from
//! the API schema. Errors carry locations and a stable `extensions.code`. The configuration
//! can turn introspection off and limit operations' size, checked before planning.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use apollo_compiler::response::JsonMap;
use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use weft_federation::operation::{self, OperationKind, normalize_within};
use weft_federation::plan::model::PlanNode;
use weft_federation::plan::plan_within;

use weft_executor::error::Location;
use weft_executor::{ErrorCode, GraphQLError, ResponseError};

use crate::runtime::auth::{self, Identity, access};
use crate::runtime::limits;
use crate::runtime::request::{GraphQLRequest, MediaType};
use crate::runtime::response_body::ResponseBody;
use crate::runtime::{CacheKey, Prepared, Restricted, SchemaRuntime};
use crate::runtime::{shared_exec, shared_plans, validation};

/// An HTTP status and a GraphQL response body.
pub struct Outcome {
    pub status: StatusCode,
    pub body: ResponseBody,
}

/// A GraphQL request error (the document does not parse or validate, unknown operation,
/// variables that do not coerce, no plan): no `data`. Status 400 for
/// `application/graphql-response+json`; 200 for `application/json`, whose clients read the
/// errors from a 200 (GraphQL-over-HTTP, "application/json" responses).
fn request_error(media: MediaType, code: ErrorCode, errors: Vec<GraphQLError>) -> Outcome {
    let errors = errors
        .into_iter()
        .map(|e| GraphQLError {
            code: Some(code),
            ..e
        })
        .collect::<Vec<_>>();
    Outcome {
        status: match media {
            MediaType::GraphQLResponse => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        },
        body: ResponseBody::errors(errors),
    }
}

fn message(text: impl Into<String>) -> GraphQLError {
    GraphQLError::message(text)
}

/// The code of an error of weft-federation's (normalizing, planning), which names its codes
/// as text; every one is an [`ErrorCode`] (`every_federation_code_is_an_error_code`).
fn federation_code(code: &str) -> ErrorCode {
    ErrorCode::from_name(code).unwrap_or(ErrorCode::QueryPlanningFailed)
}

/// The most errors one response reports about a document: a document can have as many
/// errors as characters (`{{{{…`), and each costs its location to compute and its bytes to send.
const MAX_REPORTED_ERRORS: usize = 100;

/// A document's errors as GraphQL errors with locations, each once, the first
/// [`MAX_REPORTED_ERRORS`] only (then one saying that there were more), said as
/// `validation` tells them. `cut`: the list is of a prefix of the document, its last entry
/// the parser's note that it stopped there. `validated`: errors of validating this document
/// against this schema (else of parsing).
fn diagnostics(
    list: &apollo_compiler::validation::DiagnosticList,
    cut: bool,
    validated: Option<(&apollo_compiler::ast::Document, &apollo_compiler::Schema)>,
) -> Vec<GraphQLError> {
    let mut out: Vec<GraphQLError> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut more = 0usize;
    let take = list.len() - usize::from(cut && !list.is_empty());
    let written = validated.map(|(ast, _)| validation::Subselected::of(ast));
    for d in list.iter().take(take) {
        if written
            .as_ref()
            .is_some_and(|w| validation::spurious(&d, w))
        {
            continue;
        }
        if out.len() >= MAX_REPORTED_ERRORS {
            more += 1;
            continue;
        }
        let mut e = d.to_json();
        e.message = validation::reworded(&e.message, validated.map(|(_, schema)| schema));
        let locations: Vec<(usize, usize)> =
            e.locations.iter().map(|l| (l.line, l.column)).collect();
        if !seen.insert((e.message.clone(), locations.clone())) {
            continue;
        }
        let mut v = GraphQLError::message(e.message);
        v.locations = locations
            .iter()
            .map(|&(line, column)| Location { line, column })
            .collect();
        out.push(v);
    }
    if more > 0 || cut {
        out.push(message(
            "The document has more errors, which are not reported.".to_owned(),
        ));
    }
    out
}

/// How a client takes answers that come in several parts: an incremental response (`@defer`,
/// `multipart/mixed; deferSpec=20220824` accepted), and the stream a subscription's events go
/// in (`None`: the client accepts none, and a subscription is refused).
#[derive(Clone, Copy, Debug, Default)]
pub struct Delivery {
    pub incremental: bool,
    pub stream: Option<crate::runtime::subscriptions::Format>,
}

/// What the client asked to see of the query plan (`weft-query-plan` request header).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PlanExposure {
    None,
    /// Execute, and add the plan to `extensions.queryPlan`.
    Include,
    /// Plan only: nothing is sent to subgraphs.
    DryRun,
}

impl PlanExposure {
    /// The header's value, when plans may be exposed at all (ignored otherwise); a value it
    /// does not know is an error (the header's text), not a request executed without a plan.
    pub fn from_headers(
        headers: &axum::http::HeaderMap,
        allowed: bool,
    ) -> Result<PlanExposure, UnknownPlanExposure> {
        let Some(value) = headers.get("weft-query-plan").filter(|_| allowed) else {
            return Ok(PlanExposure::None);
        };
        let text = String::from_utf8_lossy(value.as_bytes());
        match text.trim().to_ascii_lowercase().as_str() {
            "include" | "true" => Ok(PlanExposure::Include),
            "dry-run" => Ok(PlanExposure::DryRun),
            _ => Err(UnknownPlanExposure(text.into_owned())),
        }
    }
}

/// A `weft-query-plan` header value that is neither `include` nor `dry-run`.
#[derive(Debug, thiserror::Error)]
#[error(
    "The `weft-query-plan` header is {0:?}: it must be `include` (run, and add the plan to \
     `extensions.queryPlan`) or `dry-run` (plan only)."
)]
pub struct UnknownPlanExposure(pub String);

/// `extensions.queryPlan`: the plan as JSON (Apollo's node shapes) and as text.
fn plan_extension(plan: &weft_federation::plan::model::QueryPlan) -> Value {
    json!({
        "object": serde_json::to_value(plan).unwrap_or(Value::Null),
        "text": plan.to_string(),
    })
}

/// `extensions.fetchTimings`: each fetch as it ran, in the order they were sent
/// (docs/http.md#query-plans). Milliseconds, to the microsecond.
fn timings_extension(timings: &[weft_executor::FetchTiming]) -> Value {
    let ms = |d: std::time::Duration| (d.as_micros() as f64) / 1000.0;
    Value::Array(
        timings
            .iter()
            .map(|t| {
                json!({
                    "subgraph": t.subgraph,
                    "kind": t.kind,
                    "path": t.path,
                    "startMs": ms(t.start),
                    "durationMs": ms(t.duration),
                    "cached": t.cached,
                })
            })
            .collect(),
    )
}

/// Runs one GraphQL request. `incremental`: the client accepts an incremental response
/// (`multipart/mixed; deferSpec=20220824`), which an operation with `@defer` then gets.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    rt: &Arc<SchemaRuntime>,
    method: &Method,
    req: GraphQLRequest,
    media: MediaType,
    exposure: PlanExposure,
    headers: &axum::http::HeaderMap,
    identity: &Identity,
    delivery: Delivery,
) -> Outcome {
    let Delivery {
        incremental,
        stream,
    } = delivery;
    let Some(query) = req.query.as_deref().filter(|q| !q.trim().is_empty()) else {
        // Not a GraphQL request at all: 400 for both media types.
        return Outcome {
            status: StatusCode::BAD_REQUEST,
            body: GraphQLError::new(ErrorCode::BadRequest, "Must provide query string.").into(),
        };
    };
    let labels = rt.pick_labels(headers, identity);
    let (prepared, key) = match prepare(rt, query, req.operation_name.as_deref(), labels).await {
        Ok(p) => p,
        Err(outcome) => return outcome(media),
    };
    if !rt.config.introspection && has_introspection(&prepared.operation) {
        return request_error(
            media,
            ErrorCode::IntrospectionDisabled,
            vec![message(
                "Introspection is disabled on this gateway (`introspection: false`).",
            )],
        );
    }
    if method == Method::GET && prepared.operation.kind != OperationKind::Query {
        return Outcome {
            status: StatusCode::METHOD_NOT_ALLOWED,
            body: GraphQLError::new(
                ErrorCode::MethodNotAllowed,
                "Mutations and subscriptions cannot be sent with GET; use POST.",
            )
            .into(),
        };
    }
    let variables = match req.variables {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let api = rt.supergraph.api_schema();
    let coerced = match serde_json::from_value::<JsonMap>(Value::Object(variables))
        .map_err(|e| e.to_string())
        .and_then(|map| {
            apollo_compiler::request::coerce_variable_values(api, &prepared.signature, &map)
                .map_err(|e| e.message().to_string())
        }) {
        Ok(v) => v,
        Err(e) => {
            return request_error(
                media,
                ErrorCode::ValidationInvalidTypeVariable,
                vec![message(e)],
            );
        }
    };
    let variables: Map<String, Value> = match serde_json::to_value(coerced.clone().into_inner()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };

    // Authorization: what this request may not see is removed before planning, and answered
    // with null and an error (or the whole request refused, by configuration).
    let allowed = |access: &access::Access| rt.auth.allows(identity, access);
    let mut auth_errors = Vec::new();
    let restricted = match access::filter(&prepared.operation, &rt.auth.requirements, &allowed) {
        None => None,
        Some((operation, removed)) => {
            if rt.auth.config.reject_unauthorized {
                return Outcome {
                    status: StatusCode::FORBIDDEN,
                    body: ResponseBody::errors(auth::unauthorized_errors(&removed)),
                };
            }
            auth_errors = auth::unauthorized_errors(&removed);
            match restrict(rt, &key, operation, removed).await {
                Ok(r) => Some(r),
                Err(outcome) => return outcome(media),
            }
        }
    };
    let plan = restricted.as_ref().map_or(&prepared.plan, |r| &r.plan);

    let cost = match crate::runtime::cost::demand_control(rt, &prepared, &variables) {
        Ok(cost) => cost,
        Err(refused) => {
            let mut outcome = request_error(media, refused.code, vec![message(refused.message)]);
            if let ResponseBody::Errors { extensions, .. } = &mut outcome.body {
                extensions.insert("cost".to_owned(), json!({ "estimated": refused.estimated }));
            }
            return outcome;
        }
    };
    if exposure == PlanExposure::DryRun {
        return Outcome {
            status: StatusCode::OK,
            body: json!({ "extensions": { "queryPlan": plan_extension(plan) } }).into(),
        };
    }
    let forwarded = rt.auth.forwarded(identity);
    if prepared.operation.kind == OperationKind::Subscription {
        let Some(format) = stream else {
            return Outcome {
                status: StatusCode::NOT_ACCEPTABLE,
                body: GraphQLError::new(
                    ErrorCode::NotAcceptable,
                    "A subscription is answered as a stream of events: accept \
                     `text/event-stream` (GraphQL over SSE) or \
                     `multipart/mixed;subscriptionSpec=\"1.0\"`.",
                )
                .into(),
            };
        };
        let Some(slot) = rt
            .subscriptions
            .admit(rt.config.limits.max_subscriptions, &rt.metrics)
        else {
            return Outcome {
                status: StatusCode::SERVICE_UNAVAILABLE,
                body: GraphQLError::new(
                    ErrorCode::MaxSubscriptionsLimit,
                    format!(
                        "The gateway serves its limit of {} subscriptions at once \
                         (`limits.max_subscriptions`); try again later.",
                        rt.subscriptions.active()
                    ),
                )
                .into(),
            };
        };
        let payloads = crate::runtime::subscriptions::start(crate::runtime::subscriptions::Start {
            slot,
            expires: identity.expires(),
            rt: rt.clone(),
            prepared: prepared.clone(),
            restricted: restricted.clone(),
            variables,
            headers: headers.clone(),
            forwarded,
            errors: auth_errors.into_iter().map(ResponseError::from).collect(),
            format,
        });
        return Outcome {
            status: StatusCode::OK,
            body: ResponseBody::Events(payloads),
        };
    }
    if incremental
        && exposure == PlanExposure::None
        && matches!(plan.node, Some(PlanNode::Defer { .. }))
        && !has_introspection(&prepared.operation)
    {
        let mut extensions = Map::new();
        if let Some(estimated) = cost {
            extensions.insert("cost".to_owned(), json!({ "estimated": estimated }));
        }
        let payloads = crate::runtime::incremental::start(crate::runtime::incremental::Start {
            rt: rt.clone(),
            prepared: prepared.clone(),
            restricted: restricted.clone(),
            variables,
            headers: headers.clone(),
            forwarded,
            errors: auth_errors.into_iter().map(ResponseError::from).collect(),
            extensions,
        });
        return Outcome {
            status: StatusCode::OK,
            body: ResponseBody::Parts(payloads),
        };
    }
    let max_bytes = rt.response_cap();
    let run = weft_executor::Execution {
        plan,
        operation: &prepared.operation,
        variables: &variables,
        api,
        headers,
        forwarded: &forwarded,
        max_bytes,
    };
    let mut timings = None;
    let (data, errors) = if exposure == PlanExposure::Include {
        // Timed on its own: a shared execution's timings would be another request's.
        let (data, errors, timed) = rt.engine.execute_timed(run).await;
        timings = Some(timed);
        (data, errors)
    } else if rt.config.dedupe.client_requests && prepared.operation.kind == OperationKind::Query {
        let shared = shared_exec::Key::new(&key, &variables, headers);
        rt.executions.run(shared, rt.engine.execute(run)).await
    } else {
        rt.engine.execute(run).await
    };
    let auth_errors = auth_errors.into_iter().map(ResponseError::from);
    let mut errors: Vec<ResponseError> = auth_errors.chain(errors).collect();
    let mut data = data;
    // Introspection is answered from the API schema (unless the data was cut at the response
    // cap: then it is not JSON, and is refused as it is).
    let cut = rt
        .config
        .server
        .max_response_bytes()
        .is_some_and(|cap| data.len() as u64 > cap);
    if let Some(document) = &prepared.introspection
        && !cut
        && let Ok(executable_op) = document.operations.get(req.operation_name.as_deref())
        && let Ok(resp) = apollo_compiler::introspection::partial_execute(
            api,
            &rt.implementers,
            document,
            executable_op,
            &coerced,
        )
    {
        if let Ok(Value::Object(intro)) = serde_json::to_value(&resp.data) {
            let shaped = serde_json::from_slice(&data).unwrap_or(Value::Null);
            let merged = merge_root(&prepared.operation, shaped, intro);
            data = serde_json::to_vec(&merged).unwrap_or_default().into();
        }
        for e in &resp.errors {
            errors.push(match serde_json::to_value(e) {
                Ok(e) => ResponseError::passed(e),
                Err(_) => message("introspection failed").into(),
            });
        }
    }
    let mut extensions = Map::new();
    if exposure == PlanExposure::Include {
        extensions.insert("queryPlan".to_owned(), plan_extension(plan));
    }
    if let Some(timings) = timings {
        extensions.insert("fetchTimings".to_owned(), timings_extension(&timings));
    }
    if let Some(estimated) = cost {
        extensions.insert("cost".to_owned(), json!({ "estimated": estimated }));
    }
    Outcome {
        status: StatusCode::OK,
        body: ResponseBody::Executed {
            errors,
            data,
            extensions,
        },
    }
}

type ErrorOutcome = Box<dyn FnOnce(MediaType) -> Outcome + Send>;

/// Runs CPU-bound work (parsing, validating, planning an operation not seen before) on a
/// thread of its own, once a turn is free (`SchemaRuntime::planning`: one per core), and
/// waits for it without holding up the runtime: the other requests go on, `/health` answers,
/// and the request's timeout can still answer for it. The turn is held until the work ends,
/// even if the request is dropped meanwhile, so abandoned requests cannot pile up threads.
/// The work itself is bounded by the limits. Only cache misses come here: a thread hand-over
/// costs more than a cache look-up.
async fn off_the_runtime<T: Send + 'static>(
    rt: &Arc<SchemaRuntime>,
    work: impl FnOnce(&SchemaRuntime) -> Result<T, ErrorOutcome> + Send + 'static,
) -> Result<T, ErrorOutcome> {
    let turn = rt.planning.clone().acquire_owned().await;
    let runtime = rt.clone();
    // The request's span, so that the parse, validate and plan spans are its children.
    let span = tracing::Span::current();
    let done = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let _entered = span.enter();
        work(&runtime)
    })
    .await;
    done.unwrap_or_else(|e| {
        tracing::error!("planning an operation failed: {e}");
        Err(Box::new(|media| {
            request_error(
                media,
                ErrorCode::InternalServerError,
                vec![message("The gateway failed to plan this operation.")],
            )
        }))
    })
}

/// The planner's budget (`limits.max_planning_steps`).
fn plan_op(
    rt: &SchemaRuntime,
    operation: &operation::Operation,
    labels: &std::collections::BTreeSet<String>,
) -> Result<weft_federation::plan::model::QueryPlan, ErrorOutcome> {
    let budget = rt
        .config
        .limits
        .max_planning_steps
        .map(|n| n.get() as usize);
    rt.metrics.record_plan_computed();
    plan_within(&rt.graph, operation, labels, budget).map_err(|e| -> ErrorOutcome {
        let code = federation_code(e.code());
        let text = e.to_string();
        Box::new(move |media| request_error(media, code, vec![message(text)]))
    })
}

/// The plan of `operation` (the request's operation, cached under `key`, minus the paths
/// `removed`), from the cache when seen before.
async fn restrict(
    rt: &Arc<SchemaRuntime>,
    key: &CacheKey,
    operation: operation::Operation,
    removed: Vec<Vec<String>>,
) -> Result<Arc<Restricted>, ErrorOutcome> {
    let cache_key = (key.clone(), removed);
    if let Some(hit) = rt.restricted.get(&cache_key) {
        return Ok(hit);
    }
    // Nothing left at the root: nothing to fetch.
    let plan = if operation.selection_set.items.is_empty() {
        weft_federation::plan::model::QueryPlan::default()
    } else {
        let labels = key.2.iter().cloned().collect();
        off_the_runtime(rt, move |rt| plan_op(rt, &operation, &labels)).await?
    };
    let restricted = Arc::new(Restricted { plan });
    rt.restricted.insert(cache_key, restricted.clone());
    Ok(restricted)
}

/// The cache key of `query`'s operation `operation_name` with `labels` switched on.
pub(crate) fn cache_key(
    query: &str,
    operation_name: Option<&str>,
    labels: &std::collections::BTreeSet<String>,
) -> CacheKey {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    query.hash(&mut hasher);
    (
        hasher.finish(),
        operation_name.map(str::to_owned),
        labels.iter().cloned().collect(),
    )
}

/// Parsed, validated, normalized and planned with `labels` switched on, from the cache when
/// seen before.
async fn prepare(
    rt: &Arc<SchemaRuntime>,
    query: &str,
    operation_name: Option<&str>,
    labels: std::collections::BTreeSet<String>,
) -> Result<(Arc<Prepared>, CacheKey), ErrorOutcome> {
    let key = cache_key(query, operation_name, &labels);
    if let Some(hit) = cached(rt, &key) {
        return Ok((hit, key));
    }
    let (query, name, planned) = (
        query.to_owned(),
        operation_name.map(str::to_owned),
        key.clone(),
    );
    let prepared = off_the_runtime(rt, move |rt| {
        // Planned by another request while this one waited for its turn.
        if let Some(hit) = cached(rt, &planned) {
            return Ok(hit);
        }
        rt.metrics.plan_cache(false);
        let prepared = Arc::new(build(rt, &query, name.as_deref(), &labels)?);
        rt.prepared.insert(planned, prepared.clone());
        Ok(prepared)
    })
    .await?;
    Ok((prepared, key))
}

/// The cached operation under `key`, counted as a hit.
fn cached(rt: &SchemaRuntime, key: &CacheKey) -> Option<Arc<Prepared>> {
    let hit = rt.prepared.get(key)?;
    hit.used();
    rt.metrics.plan_cache(true);
    Some(hit)
}

/// `query`'s operation parsed, validated, normalized and planned with `labels` switched on.
pub(crate) fn build(
    rt: &SchemaRuntime,
    query: &str,
    operation_name: Option<&str>,
    labels: &std::collections::BTreeSet<String>,
) -> Result<Prepared, ErrorOutcome> {
    let api = rt.supergraph.api_schema();
    // Syntax first (GRAPHQL_PARSE_FAILED), then everything the schema says
    // (GRAPHQL_VALIDATION_FAILED).
    let span = tracing::info_span!("graphql.parse").entered();
    let ast = match limits::parse(&rt.config.limits, query) {
        Ok(ast) => ast,
        Err(limits::ParseFailure::Tokens(e) | limits::ParseFailure::Recursion(e)) => {
            return Err(Box::new(move |media| {
                request_error(media, e.code, vec![message(e.message)])
            }));
        }
        Err(limits::ParseFailure::Syntax { errors, cut }) => {
            let errors = diagnostics(&errors.errors, cut, None);
            return Err(Box::new(move |media| {
                request_error(media, ErrorCode::GraphqlParseFailed, errors)
            }));
        }
    };
    drop(span);
    let span = tracing::info_span!("graphql.validate").entered();
    let document = match ast.to_executable_validate(api) {
        Ok(doc) => doc,
        Err(with_errors) => {
            let errors = diagnostics(&with_errors.errors, false, Some((&ast, api)));
            return Err(Box::new(move |media| {
                request_error(media, ErrorCode::GraphqlValidationFailed, errors)
            }));
        }
    };
    let reserved = validation::typename_aliases(&ast);
    if !reserved.is_empty() {
        let errors: Vec<GraphQLError> = reserved
            .into_iter()
            .take(MAX_REPORTED_ERRORS)
            .map(|(text, at)| {
                let mut e = message(text);
                e.locations = at
                    .map(|(line, column)| Location { line, column })
                    .into_iter()
                    .collect();
                e
            })
            .collect();
        return Err(Box::new(move |media| {
            request_error(media, ErrorCode::GraphqlValidationFailed, errors)
        }));
    }
    drop(span);
    let span = tracing::info_span!("graphql.plan").entered();
    // Before normalizing and planning, whose cost the limits bound. Cached operations passed
    // them: the cache belongs to this runtime, and so do the limits.
    if let Err(e) = limits::check(&rt.config.limits, &document, operation_name) {
        return Err(Box::new(move |media| {
            request_error(media, e.code, vec![message(e.message)])
        }));
    }
    let max_selections = rt.config.limits.max_selections.map(|n| n.get() as usize);
    let operation = match normalize_within(api, &document, operation_name, max_selections) {
        // `query_plan.defer: false`: `@defer` is accepted and ignored (docs/decisions.md).
        Ok(mut op) if !rt.config.query_plan.defer => {
            operation::defer::without_defers(&mut op);
            op
        }
        Ok(op) => op,
        Err(e) => {
            let code = federation_code(e.code());
            let text = e.to_string();
            return Err(Box::new(move |media| {
                request_error(media, code, vec![message(text)])
            }));
        }
    };
    // Each deferred fragment is a part of the response and fetches of its own.
    if let Some(max) = rt.config.limits.max_defers {
        let defers = operation::defer::deferred(&operation).len();
        if defers > max.get() as usize {
            return Err(Box::new(move |media| {
                request_error(
                    media,
                    ErrorCode::MaxDefersLimit,
                    vec![message(format!(
                        "The operation has {defers} deferred fragments, over the limit of \
                         {max} (`limits.max_defers`)."
                    ))],
                )
            }));
        }
    }
    // Planning only may be skipped: a plan another gateway made for this supergraph.
    let plan = shared_plans::plan_or_shared(rt, query, operation_name, labels, || {
        plan_op(rt, &operation, labels)
    })?;
    drop(span);
    // `normalize_within` found this operation: its absence would be a bug, said as such.
    let Ok(signature) = document.operations.get(operation_name) else {
        return Err(Box::new(|media| {
            request_error(
                media,
                ErrorCode::GraphqlUnknownOperationName,
                vec![message("Unknown operation.")],
            )
        }));
    };
    let signature = signature.clone();
    Ok(Prepared::new(query, document, &signature, operation, plan))
}

pub(crate) fn has_introspection(op: &operation::Operation) -> bool {
    root_fields(&op.selection_set)
        .iter()
        .any(|f| f.name == "__schema" || f.name == "__type")
}

fn root_fields(set: &operation::SelectionSet) -> Vec<&operation::Field> {
    let mut out = Vec::new();
    for item in &set.items {
        match item {
            operation::Selection::Field(f) => out.push(f),
            operation::Selection::InlineFragment(i) => out.extend(root_fields(&i.selection_set)),
        }
    }
    out
}

/// The root object with introspection results placed in the operation's field order.
fn merge_root(op: &operation::Operation, data: Value, intro: Map<String, Value>) -> Value {
    let Value::Object(shaped) = data else {
        return data;
    };
    let mut out = Map::new();
    for f in root_fields(&op.selection_set) {
        let key = &f.response_key;
        if out.contains_key(key) {
            continue;
        }
        if let Some(v) = intro
            .get(key)
            .filter(|_| f.name == "__schema" || f.name == "__type")
        {
            out.insert(key.clone(), v.clone());
        } else if let Some(v) = shaped.get(key) {
            out.insert(key.clone(), v.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use weft_config::model::Limits;

    /// weft-federation names its codes as text: each must be an `ErrorCode`, or
    /// `federation_code` would answer `QUERY_PLANNING_FAILED` instead.
    #[test]
    fn every_federation_code_is_an_error_code() {
        use weft_federation::operation::NormalizeError;
        use weft_federation::plan::PlanError;
        let codes = [
            NormalizeError::OperationNotFound(String::new()).code(),
            NormalizeError::TooManySelections(1).code(),
            PlanError {
                message: String::new(),
                over_budget: true,
            }
            .code(),
            PlanError {
                message: String::new(),
                over_budget: false,
            }
            .code(),
        ];
        for code in codes {
            assert_eq!(federation_code(code).as_str(), code);
        }
    }

    #[test]
    fn a_document_with_thousands_of_errors_reports_a_hundred() {
        // `{` 5,000 times then `}` 5,000 times: within the default token limit, one syntax
        // error per brace.
        let braces = format!("{}{}", "{".repeat(5000), "}".repeat(5000));
        let Err(limits::ParseFailure::Syntax { errors, cut }) =
            limits::parse(&Limits::default(), &braces)
        else {
            panic!("not a syntax error");
        };
        assert!(cut, "only a prefix is parsed");
        let errors = diagnostics(&errors.errors, cut, None);
        assert_eq!(errors.len(), MAX_REPORTED_ERRORS + 1);
        assert!(errors[0].locations.first().is_some_and(|l| l.line > 0));
        let last = errors[MAX_REPORTED_ERRORS].message.as_str();
        assert_eq!(
            last,
            "The document has more errors, which are not reported."
        );
        assert!(
            errors.iter().all(|e| !e.message.contains("limit")),
            "the parser's note that it stopped is not the client's error"
        );
    }
}
