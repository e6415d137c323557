//! Everything that depends on one supergraph and one configuration, built once and shared by
//! every request: the model, its query graph, the executor with one HTTP pool per subgraph,
//! the caches of validated documents and plans, and the request policy (CSRF, introspection,
//! limits). [`Live`] holds the one being served; a reload builds a new one and swaps it whole.
//!
//! The runtime layer of the server: below `http` (which decodes requests and serves these),
//! above `observability`. Its modules: the operation `pipeline` with what it calls (`auth`,
//! `limits`, `cost`, `apq`, `shared_exec`, `shared_plans`, `labels`, the plan cache
//! `plan_cache` with its `doorkeeper`) and what it takes and gives (`request`,
//! `response_body`); `reload` and `watch` (the files, read again when they change);
//! `composed` (a supergraph from running subgraphs); `validation` (apollo-compiler's
//! diagnostics as told); `preflight` (what is checked before serving, by `weft serve` and
//! `weft config check`).

pub(crate) mod apq;
pub(crate) mod auth;
pub(crate) mod composed;
pub(crate) mod cost;
pub(crate) mod doorkeeper;
pub(crate) mod incremental;
pub(crate) mod labels;
pub(crate) mod limits;
pub(crate) mod pipeline;
pub(crate) mod plan_cache;
pub(crate) mod preflight;
pub(crate) mod rate_limits;
pub(crate) mod reload;
pub(crate) mod request;
pub(crate) mod response_body;
pub(crate) mod shared_exec;
pub(crate) mod shared_plans;
pub(crate) mod source;
pub(crate) mod subscriptions;
pub(crate) mod validation;
pub(crate) mod watch;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use apollo_compiler::executable::Operation as ExecutableOperation;
use apollo_compiler::schema::Implementers;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name};
use weft_config::Config;
use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::Operation;
use weft_federation::plan::model::QueryPlan;

use auth::Auth;
use weft_executor::Engine;
use weft_executor::batch::Coalescer;
use weft_executor::entity_cache;
use weft_executor::traffic::random_unit;

use crate::observability::metrics::Metrics;
use crate::observability::telemetry;
use shared_exec::SharedExecutions;

/// A validated, normalized and planned operation, cached by document and operation name.
///
/// What it keeps is what a request needs, no more: the validated document is most of an
/// operation's memory and a request reads it only to coerce variables (the operation's
/// variable definitions: `signature`) and to answer introspection (`introspection`, kept only
/// for operations that ask for it). Dropping it lets a cache of a given size hold about twice
/// as many operations.
pub struct Prepared {
    /// The operation's name, type and variable definitions, its selections left out: what
    /// the request's variable values are coerced against.
    pub signature: ExecutableOperation,
    /// The validated document, for an operation with `__schema` or `__type` at its root.
    pub introspection: Option<Valid<ExecutableDocument>>,
    pub operation: Operation,
    pub plan: QueryPlan,
    /// The document's text: what a reload plans again (`plan_cache::warm_up`).
    pub query: Box<str>,
    /// Requests that found it in the cache: the most used are warmed up first.
    hits: AtomicU64,
    /// Its estimated memory, in bytes (`plan_cache::operation_weight`).
    weight: u32,
    /// Its estimated cost and slicing error (`cost::estimate`), once computed: kept only for
    /// an operation without variables, whose estimate they cannot change.
    pub cost: std::sync::OnceLock<(u64, Option<cost::SlicingError>)>,
}

impl Prepared {
    /// `signature` is `document`'s operation that `operation` normalizes.
    pub fn new(
        query: &str,
        document: Valid<ExecutableDocument>,
        signature: &ExecutableOperation,
        operation: Operation,
        plan: QueryPlan,
    ) -> Prepared {
        let signature = ExecutableOperation {
            operation_type: signature.operation_type,
            name: signature.name.clone(),
            variables: signature.variables.clone(),
            directives: Default::default(),
            selection_set: apollo_compiler::executable::SelectionSet::new(
                signature.selection_set.ty.clone(),
            ),
        };
        let introspection = pipeline::has_introspection(&operation).then_some(document);
        Prepared {
            weight: plan_cache::operation_weight(query, &operation, &plan, introspection.is_some()),
            signature,
            introspection,
            operation,
            plan,
            query: query.into(),
            hits: AtomicU64::new(0),
            cost: std::sync::OnceLock::new(),
        }
    }

    /// Counts a request that found it in the cache.
    pub fn used(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub fn weight(&self) -> u32 {
        self.weight
    }
}

/// Cache key: the document text's hash, the operation name, and the progressive-override
/// labels switched on. The schema is implied: each runtime has its own caches, dropped
/// together with it on reload.
pub type CacheKey = (u64, Option<String>, Vec<String>);

/// An operation with the fields a request may not see removed (`auth::access`), planned:
/// cached by the full operation's key and the removed paths.
pub struct Restricted {
    pub plan: QueryPlan,
}

pub struct SchemaRuntime {
    pub supergraph: Arc<Supergraph>,
    pub graph: QueryGraph,
    pub implementers: apollo_compiler::collections::HashMap<Name, Implementers>,
    /// Every progressive-override label of the supergraph.
    pub labels: BTreeSet<String>,
    pub engine: Engine,
    /// The process's metrics (the engine reports into the same registry).
    pub metrics: Arc<Metrics>,
    pub prepared: plan_cache::PreparedCache,
    pub restricted: moka::sync::Cache<(CacheKey, Vec<Vec<String>>), Arc<Restricted>>,
    /// The plan cache's second level in Redis, shared by gateways (`query_plan.redis`).
    pub shared_plans: Option<shared_plans::SharedPlans>,
    pub auth: Auth,
    /// Client queries in flight, when `dedupe.client_requests`.
    pub executions: SharedExecutions,
    /// Operations being parsed, validated and planned at once (cache misses): one per core.
    /// The others wait their turn without a thread: each one planning holds a thread (and
    /// that thread's allocator heap), so without a bound a burst of new documents grows the
    /// process by a thread per request in flight, and gains nothing on the cores there are.
    pub planning: Arc<tokio::sync::Semaphore>,
    /// The client rate limits (`rate_limit`): the same across reloads that keep the section.
    pub rate_limits: Arc<rate_limits::RateLimits>,
    /// The configuration this runtime serves with: a request sees one config throughout.
    pub config: Arc<Config>,
    /// The process's subscriptions (the same across reloads).
    pub subscriptions: Arc<subscriptions::Registry>,
    /// The subscriptions' generation this runtime serves ([`subscriptions::Registry::end_all`]).
    pub generation: u64,
}

/// Why a runtime cannot be built for a supergraph and a configuration.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A JWKS file of `auth.jwks` cannot be read (or the key fetcher cannot start).
    #[error(transparent)]
    Keys(#[from] auth::keys::JwksError),
    #[error(transparent)]
    SubgraphClient(#[from] weft_executor::traffic::ClientBuildError),
    /// A `subscription_sources` entry does not fit the supergraph.
    #[error("subscription_sources: {0}")]
    Sources(String),
}

impl SchemaRuntime {
    /// `server.max_response_bytes` as the executor takes it: the most bytes of `data` one
    /// response (all its parts, for `@defer`) may have.
    pub(crate) fn response_cap(&self) -> Option<usize> {
        self.config
            .server
            .max_response_bytes()
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn new(
        supergraph: Arc<Supergraph>,
        config: Arc<Config>,
        metrics: Arc<Metrics>,
    ) -> Result<SchemaRuntime, RuntimeError> {
        let names: Vec<&str> = supergraph
            .subgraphs()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        for name in config.subgraphs.named.keys() {
            if !names.contains(&name.as_str()) {
                tracing::warn!(
                    "subgraphs.{name}: the supergraph has no subgraph `{name}` (it has {})",
                    names.join(", ")
                );
            }
        }
        // In the supergraph's order: the engine keeps subgraphs indexed by `SubgraphId`.
        let urls: Vec<(String, String)> = supergraph
            .subgraphs()
            .iter()
            .map(|s| {
                let url = config.subgraphs.url_for(&s.name).unwrap_or(&s.url);
                (s.name.clone(), url.to_owned())
            })
            .collect();
        let graph = QueryGraph::new(supergraph.clone());
        let labels = graph.labels();
        for rule in &config.override_labels {
            if !labels.contains(&rule.label) {
                // Ignored, not refused: the config may be ahead of (or behind) a supergraph.
                tracing::warn!(
                    "override_labels: the supergraph has no @override with label `{}`",
                    rule.label
                );
            }
        }
        let auth = Auth::new(&config.auth, &supergraph)?;
        let entity_cache = config
            .entity_cache
            .enabled
            .then(|| entity_cache::redis::build(&config.entity_cache, &executor_metrics(&metrics)));
        let rate_limits = Arc::new(rate_limits::RateLimits::new(&config.rate_limit));
        let sources =
            subscriptions::event_sources(&config, &supergraph).map_err(RuntimeError::Sources)?;
        Ok(SchemaRuntime {
            implementers: supergraph.api_schema().implementers_map(),
            labels,
            graph,
            engine: Engine::build(
                &urls,
                &config.subgraphs,
                executor_metrics(&metrics),
                config.headers.clone(),
                entity_cache,
                config.dedupe.subgraph_requests,
                config.entity_batching.enabled.then(|| {
                    Coalescer::new(
                        std::time::Duration::from_millis(config.entity_batching.window_ms),
                        config.entity_batching.max_size.get() as usize,
                    )
                }),
            )?
            .with_propagation(telemetry::inject)
            .with_subscription_dedupe(config.dedupe.subscriptions)
            .with_event_sources(sources)
            .with_subgraph_rate_limits(|name| rate_limits.subgraph(&config.rate_limit, name)),
            metrics,
            prepared: plan_cache::PreparedCache::new(&config.query_plan),
            restricted: plan_cache::restricted(&config.query_plan),
            shared_plans: shared_plans::SharedPlans::new(
                &config.query_plan.redis,
                supergraph.schema_id(),
            ),
            auth,
            executions: SharedExecutions::default(),
            planning: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            )),
            supergraph,
            rate_limits,
            config,
            subscriptions: Arc::default(),
            generation: 0,
        })
    }
}

/// The runtime being served. Each request clones the `Arc` once and keeps it to the end, so a
/// swap never disturbs a request in flight; the old runtime (and its caches) is dropped when
/// its last request finishes. Beside it, which supergraph it serves (`/ready` says).
pub struct Live {
    runtime: RwLock<Arc<SchemaRuntime>>,
    version: RwLock<Option<source::SupergraphVersion>>,
}

impl Live {
    pub fn new(runtime: SchemaRuntime) -> Live {
        Live {
            runtime: RwLock::new(Arc::new(runtime)),
            version: RwLock::new(None),
        }
    }

    /// The supergraph served now, when it came from a source (not in `weft demo`).
    pub fn version(&self) -> Option<source::SupergraphVersion> {
        match self.version.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_version(&self, version: source::SupergraphVersion) {
        match self.version.write() {
            Ok(mut guard) => *guard = Some(version),
            Err(poisoned) => *poisoned.into_inner() = Some(version),
        }
    }

    pub fn current(&self) -> Arc<SchemaRuntime> {
        // A poisoned lock still holds a whole `Arc` (assignment cannot be half done).
        match self.runtime.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, runtime: SchemaRuntime) {
        let new = Arc::new(runtime);
        let old = match self.runtime.write() {
            Ok(mut guard) => std::mem::replace(&mut *guard, new),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), new),
        };
        // Dropped after the lock is released: freeing caches must not stall readers.
        drop(old);
    }
}

impl SchemaRuntime {
    /// The supergraph's labels this request switches on: by the `override_labels` rules
    /// (its headers, its verified claims), else `percent(N)` labels with probability N%.
    pub fn pick_labels(
        &self,
        headers: &axum::http::HeaderMap,
        identity: &auth::Identity,
    ) -> BTreeSet<String> {
        labels::switched_on(
            &self.labels,
            &self.config.override_labels,
            headers,
            identity.claims.as_ref(),
            random_unit,
        )
    }
}

/// The process's metrics as the executor reports into them.
fn executor_metrics(metrics: &Arc<Metrics>) -> Arc<dyn weft_executor::ExecutorMetrics> {
    metrics.clone()
}
