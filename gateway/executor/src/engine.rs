//! The executor as the server uses it: run a plan, then shape the merged data into the
//! client's response.

use std::sync::Arc;

use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};
use tracing::Instrument;
use weft_config::headers::HeaderRules;
use weft_config::model::Subgraphs;
use weft_federation::operation::{
    InlineFragment, Operation, OperationKind, Selection, SelectionSet,
};
use weft_federation::plan::model::QueryPlan;

use crate::batch::Coalescer;
use crate::entity_cache::{self, EntityCache};
use crate::exec::{Executor, FetchTiming};
use crate::forwarded::Forwarded;
use crate::metrics::ExecutorMetrics;
use crate::shape::{PartItem, shape, shape_part, shape_without};
use crate::trace::Propagate;

mod subscribe;
use crate::traffic;
pub use subscribe::Event;

/// Runs plans against one set of subgraphs (one supergraph and configuration).
pub struct Engine {
    executor: Executor,
    cache: Option<Arc<EntityCache>>,
    /// The subgraph streams of subscriptions.
    streams: subscribe::Streams,
    /// `Subscription` fields fed by a broker (`subscription_sources`).
    sources: Vec<crate::subscription::broker::EventSource>,
}

impl Engine {
    /// An engine sending subgraph requests to `urls` (each subgraph's name and URL, in the
    /// supergraph's order: the one at index `i` is `SubgraphId(i)`, as plans name it) with each subgraph's timeout, retries
    /// and circuit breaker from `policies`, recording them in `metrics` (shared by every
    /// runtime of the process), with the request headers `rules` give each subgraph.
    pub fn build(
        urls: &[(String, String)],
        policies: &Subgraphs,
        metrics: Arc<dyn ExecutorMetrics>,
        rules: HeaderRules,
        cache: Option<Arc<EntityCache>>,
        dedupe: bool,
        coalescer: Option<Coalescer>,
    ) -> Result<Engine, traffic::ClientBuildError> {
        let subgraphs = urls
            .iter()
            .map(|(name, url)| {
                let subgraph = traffic::Subgraph::new(name, url, &policies.policy(name))?;
                Ok(Arc::new(subgraph))
            })
            .collect::<Result<Vec<_>, traffic::ClientBuildError>>()?;
        Ok(Engine {
            executor: Executor::new(subgraphs, metrics, rules, cache.clone(), dedupe, coalescer),
            cache,
            streams: subscribe::Streams::default(),
            sources: Vec::new(),
        })
    }

    /// The entity cache, when configured.
    pub fn entity_cache(&self) -> Option<&Arc<EntityCache>> {
        self.cache.as_ref()
    }

    /// The engine with `propagate` putting each fetch span's trace context in its subgraph
    /// request (the server's OpenTelemetry propagator; by default nothing is added).
    pub fn with_propagation(mut self, propagate: Propagate) -> Engine {
        self.executor = self.executor.with_propagation(propagate);
        self
    }

    /// The engine with each subgraph's requests limited to the rate `limit` gives it by name
    /// (`rate_limit.subgraph`, `rate_limit.subgraphs.<name>`).
    pub fn with_subgraph_rate_limits(
        self,
        limit: impl Fn(&str) -> Option<Arc<crate::rate_limit::Limiter>>,
    ) -> Engine {
        for subgraph in self.executor.traffic() {
            if let Some(limiter) = limit(subgraph.name()) {
                subgraph.limit_rate(limiter);
            }
        }
        self
    }

    /// Executes a plan for a client request and shapes the result: `(data, errors)`. The data
    /// written stops past `max_bytes` (then it is longer than that and not JSON: the caller
    /// refuses it, `server.max_response_bytes`).
    pub async fn execute(&self, run: Execution<'_>) -> (Bytes, Vec<crate::ResponseError>) {
        let (data, errors, _) = self.run(run, false).await;
        (data, errors)
    }

    /// [`Engine::execute`], with each fetch's subgraph and time (for a client that asked to
    /// see them: the server's `extensions.fetchTimings`).
    pub async fn execute_timed(
        &self,
        run: Execution<'_>,
    ) -> (Bytes, Vec<crate::ResponseError>, Vec<FetchTiming>) {
        self.run(run, true).await
    }

    async fn run(
        &self,
        run: Execution<'_>,
        timed: bool,
    ) -> (Bytes, Vec<crate::ResponseError>, Vec<FetchTiming>) {
        let Execution {
            plan,
            operation,
            variables,
            api,
            headers,
            forwarded,
            max_bytes,
        } = run;
        let output = self
            .executor
            .execute(plan, variables, headers, forwarded, timed)
            .instrument(tracing::info_span!(
                "graphql.execute",
                graphql.operation.type = operation_type(operation),
                graphql.operation.name = operation.name.as_deref().unwrap_or(""),
            ))
            .await;
        let mut errors = output.errors;
        let data = shape(
            operation,
            &output.data,
            variables,
            api,
            &mut errors,
            max_bytes,
        );
        // What a mutation returns has changed: cached copies of it must go.
        if let Some(cache) = &self.cache
            && operation.kind == OperationKind::Mutation
        {
            let shaped = serde_json::from_slice(&data).unwrap_or(Value::Null);
            for (typename, fields) in entity_cache::returned_entities(operation, &shaped) {
                cache.invalidate(&typename, &fields).await;
            }
        }
        (Bytes::from(data), errors, output.timings)
    }
}

/// One part of an incremental response (`@defer`), shaped.
pub enum Part {
    /// The first part: every field not deferred.
    Primary {
        data: Bytes,
        errors: Vec<crate::ResponseError>,
        /// More parts follow.
        has_next: bool,
    },
    /// A deferred fragment's fields, once per object it applies to.
    Deferred {
        label: Option<String>,
        items: Vec<PartItem>,
        errors: Vec<crate::ResponseError>,
        has_next: bool,
    },
    /// The parts so far and this one are over `max_bytes`: the response stops here.
    TooLarge,
}

impl Engine {
    /// Executes a plan part by part (`@defer`), handing each part to `send` shaped, as soon
    /// as its fetches are done: the primary part first, then each deferred fragment's. The
    /// bytes of all parts together stop at `max_bytes` ([`Part::TooLarge`], then nothing).
    pub async fn execute_incremental(
        &self,
        run: Execution<'_>,
        send: &mut (dyn FnMut(Part) + Send),
    ) {
        let Execution {
            plan,
            operation,
            variables,
            api,
            headers,
            forwarded,
            max_bytes,
        } = run;
        let parts = crate::exec::Parts::of(plan, variables);
        let later: rustc_hash::FxHashSet<u32> = parts.deferred().map(|d| d.id).collect();
        let fragments = deferred_fragments(operation);
        let nodes: rustc_hash::FxHashMap<u32, &weft_federation::plan::model::DeferredNode> =
            parts.deferred().map(|d| (d.id, d)).collect();
        let mut written = 0usize;
        let mut stopped = false;
        let mut ready = |part: Option<u32>, has_next: bool, out: &mut crate::exec::Output| {
            if stopped {
                return;
            }
            let mut errors = std::mem::take(&mut out.errors);
            let Some(id) = part else {
                let data = shape_without(
                    operation,
                    &out.data,
                    variables,
                    api,
                    &mut errors,
                    max_bytes,
                    &later,
                );
                written += data.len();
                if max_bytes.is_some_and(|m| data.len() > m) {
                    stopped = true;
                    send(Part::TooLarge);
                    return;
                }
                send(Part::Primary {
                    data: Bytes::from(data),
                    errors,
                    has_next,
                });
                return;
            };
            let Some(node) = nodes.get(&id) else {
                return;
            };
            let Some(fragment) = fragments.get(&id) else {
                return;
            };
            match shape_part(
                fragment,
                &node.query_path,
                &out.data,
                variables,
                api,
                &mut errors,
                max_bytes,
                written,
                &later,
            ) {
                Some(items) => {
                    written += items.iter().map(|i| i.data.len()).sum::<usize>();
                    send(Part::Deferred {
                        label: node.label.clone(),
                        items,
                        errors,
                        has_next,
                    });
                }
                None => {
                    stopped = true;
                    send(Part::TooLarge);
                }
            }
        };
        self.executor
            .execute_incremental(plan, variables, headers, forwarded, &mut ready)
            .instrument(tracing::info_span!(
                "graphql.execute",
                graphql.operation.type = operation_type(operation),
                graphql.operation.name = operation.name.as_deref().unwrap_or(""),
            ))
            .await;
    }
}

/// The deferred fragments of `operation`, by id.
fn deferred_fragments(operation: &Operation) -> rustc_hash::FxHashMap<u32, &InlineFragment> {
    fn walk<'o>(set: &'o SelectionSet, out: &mut rustc_hash::FxHashMap<u32, &'o InlineFragment>) {
        for item in &set.items {
            match item {
                Selection::Field(f) => {
                    if let Some(sub) = &f.selection_set {
                        walk(sub, out);
                    }
                }
                Selection::InlineFragment(i) => {
                    if let Some(d) = &i.defer {
                        out.insert(d.id, i);
                    }
                    walk(&i.selection_set, out);
                }
            }
        }
    }
    let mut out = rustc_hash::FxHashMap::default();
    walk(&operation.selection_set, &mut out);
    out
}

/// One execution's inputs, as [`Engine::execute`] takes them: the plan of the client's
/// operation, its coerced variables, the API schema, the client's headers, the verified
/// token's claims as forwarded, and where to stop writing data (`server.max_response_bytes`).
#[derive(Clone, Copy)]
pub struct Execution<'a> {
    pub plan: &'a QueryPlan,
    pub operation: &'a Operation,
    pub variables: &'a Map<String, Value>,
    pub api: &'a Valid<Schema>,
    pub headers: &'a HeaderMap,
    pub forwarded: &'a Forwarded,
    pub max_bytes: Option<usize>,
}

/// The subgraph a subscription's plan subscribes on (`None`: not a subscription's plan).
pub fn subscription_subgraph(plan: &QueryPlan) -> Option<String> {
    Executor::subscription_fetch(plan).map(|f| f.subgraph.clone())
}

/// The operation's type as OpenTelemetry's GraphQL conventions name it.
fn operation_type(operation: &Operation) -> &'static str {
    use weft_federation::operation::OperationKind;
    match operation.kind {
        OperationKind::Query => "query",
        OperationKind::Mutation => "mutation",
        OperationKind::Subscription => "subscription",
    }
}
