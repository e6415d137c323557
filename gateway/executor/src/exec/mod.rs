//! Runs a query plan against the subgraphs (DESIGN §5): root fetches merge at the root;
//! entity fetches collect objects at their path, build and de-duplicate representations, send
//! one `_entities` request, and merge each result into the objects that needed it (identical
//! objects reached alike share one node: `store`). One task owns the response data;
//! parallel fetches are sent together and merged one at a time.
//! A failed fetch leaves only its own fields missing, with an error naming the subgraph (its
//! address and transport detail go to the log, not to the client). Each answer is read keeping
//! only what its fetch asked for (`projection`); an `_entities` list of the wrong length
//! fails the whole fetch.
//! Each subgraph request carries the headers the rules give it (`headers`) and is timed and
//! counted in the metrics (`metrics`). Representations are built in `representation`,
//! rewrites applied in `rewrite`, requests sent in `outgoing`, answers read and merged in
//! `answer`, errors made in `errors`; a batch fetch (several paths, one request) is run by
//! `merged`; a `@fromContext` fetch's groups (objects given other values by their
//! ancestors) go out in one request of aliased `_entities` fields (`context`, `aliased`).

use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use http::HeaderMap;
use merged::Job;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tracing::Instrument;
use weft_config::headers::{HeaderRule, HeaderRules};
use weft_federation::plan::model::{FetchNode, OperationKind, PlanNode, QueryPlan};
use weft_federation::supergraph::SubgraphId;

mod aliased;
mod answer;
mod context;
mod errors;
mod incremental;
mod merged;
mod outgoing;
mod representation;
mod rewrite;
mod scheduled;
mod subscription;
pub(crate) use subscription::SubscriptionRequest;
mod timing;

pub use incremental::Parts;
pub use timing::FetchTiming;

use crate::batch::{self, BatchKey, Coalescer};
use crate::entity_cache::{self, EntityCache};
use crate::error::ResponseError;
use crate::forwarded::Forwarded;
use crate::metrics::ExecutorMetrics;
use crate::projection::Projections;
use crate::store::{Frozen, ObjId, Store, Val};
use crate::trace::{self, Propagate};
use crate::{Inflight, headers, traffic};
use errors::{FetchFailure, failure_of, log_failure};
use outgoing::{Outgoing, Reps, SharedAnswer, SubgraphRequestKey, Variables};
use representation::{Twice, select, write_selection};
use rewrite::rewrite;

/// A job's answer, and when it was sent and answered (when timed).
type Sent = (
    Result<Fetched, FetchFailure>,
    Option<(std::time::Instant, std::time::Instant)>,
);

/// What `node` runs with these variables: itself, or for a `Condition` the branch taken
/// (`None`: nothing).
fn chosen<'p>(mut node: &'p PlanNode, variables: &Map<String, Value>) -> Option<&'p PlanNode> {
    while let PlanNode::Condition {
        condition,
        if_clause,
        else_clause,
    } = node
    {
        let on = variables
            .get(condition)
            .and_then(Value::as_bool)
            .unwrap_or(false);
        node = if on { if_clause } else { else_clause }.as_deref()?;
    }
    Some(node)
}

/// The client's variables `fetch` uses, to send with it.
fn client_variables(fetch: &FetchNode, request: Request<'_>) -> Map<String, Value> {
    fetch
        .variable_usages
        .iter()
        .filter_map(|v| request.variables.get(v).map(|x| (v.clone(), x.clone())))
        .collect()
}

/// A subgraph's answer (JSON text as received, shared by requests that shared the fetch, or
/// cut out of a batch's answer), and how long the entity cache may keep it (`None`: not at
/// all).
struct Fetched {
    body: Bytes,
    ttl: Option<std::time::Duration>,
}

/// The merged subgraph data and the errors met on the way.
pub struct Output {
    pub data: Store,
    pub errors: Vec<ResponseError>,
    /// Each fetch's time, when asked for ([`Executor::execute`]'s `timed`); else empty.
    pub timings: Vec<FetchTiming>,
}

/// What the executor keeps per subgraph, at the subgraph's [`SubgraphId`] in
/// [`Executor::subgraphs`].
struct Target {
    /// Client, URL, timeout, retries, circuit breaker.
    traffic: Arc<traffic::Subgraph>,
    /// The subgraph's own header rules (`headers.subgraphs.<name>`), after `headers.all`.
    headers: Vec<HeaderRule>,
}

impl Executor {
    /// Each subgraph's traffic, in the supergraph's order.
    pub(crate) fn traffic(&self) -> impl Iterator<Item = &Arc<traffic::Subgraph>> {
        self.subgraphs.iter().map(|t| &t.traffic)
    }
}

pub struct Executor {
    /// Indexed by [`SubgraphId`]: a fetch finds its subgraph by `FetchNode::graph`, not by
    /// name.
    subgraphs: Vec<Target>,
    metrics: Arc<dyn ExecutorMetrics>,
    /// The `headers.all` rules (each subgraph's own are in its [`Target`]).
    all_headers: Vec<HeaderRule>,
    cache: Option<Arc<EntityCache>>,
    /// Subgraph requests in flight, shared by identical ones (`dedupe.subgraph_requests`).
    dedupe: Option<Inflight<SubgraphRequestKey, SharedAnswer>>,
    /// Entity fetches of concurrent requests batched together (`entity_batching`).
    coalescer: Option<Coalescer>,
    /// What each fetch's answer may hold, per operation sent.
    projections: Projections,
    /// Puts each fetch span's trace context in its request's headers.
    propagate: Propagate,
}

/// What one execution shares across its fetches.
#[derive(Clone, Copy)]
struct Request<'a> {
    variables: &'a Map<String, Value>,
    /// The client's request headers, from which each subgraph's are computed.
    headers: &'a HeaderMap,
    /// The verified token's claims, as configured to reach subgraphs.
    forwarded: &'a Forwarded,
    /// When the execution started, if each fetch is to be timed (`Output::timings`).
    clock: Option<std::time::Instant>,
}

/// A fetch ready to send: its request and where results go.
struct Ready<'p> {
    fetch: &'p FetchNode,
    /// For entity fetches: for each distinct representation, the objects it came from
    /// (usually one: identical objects share a node).
    slots: Vec<Vec<ObjId>>,
    /// Where the fetch's objects are (its flatten path).
    path: &'p [String],
    /// The slots whose representations are sent, in order (the others are cache hits).
    sent: Vec<usize>,
    /// Cache hits: a slot and its cached result.
    hits: Vec<(usize, Arc<Frozen>)>,
    /// Where each sent representation (or the root fetch) goes in the entity cache.
    cache_keys: Vec<(entity_cache::Key, entity_cache::Identity)>,
    /// Root fetch (`None`) or the concrete paths prefix used for errors.
    entity: bool,
    /// The client's variables the fetch uses (and a context fetch's arguments).
    variables: Map<String, Value>,
    /// An entity fetch's `$representations`: the sent slots', in order.
    representations: Reps,
}

impl Ready<'_> {
    /// The entity cache answered all of it: nothing is sent.
    fn answered_by_cache(&self) -> bool {
        if self.entity {
            self.sent.is_empty()
        } else {
            !self.hits.is_empty()
        }
    }
}

/// One subgraph request, as `send` takes it.
struct Call<'a> {
    graph: SubgraphId,
    operation: &'a str,
    kind: OperationKind,
    /// Borrowed: most requests are encoded straight from them (representations can be many;
    /// only the cross-request batcher needs its own copy).
    variables: Variables<'a>,
    /// An entity fetch with one `$representations` list, which may join the cross-request
    /// batcher.
    coalesce: bool,
}

/// A subgraph answer as read: its `data` (`None`: nothing usable, already reported), its
/// errors (as the client may see them), and how long the entity cache may keep it.
struct Read {
    data: Option<Val>,
    errors: Vec<Value>,
    /// The answer had an `errors` entry: it is never cached.
    had_errors: bool,
    ttl: Option<std::time::Duration>,
}

impl Executor {
    /// An executor for `subgraphs`, in the supergraph's order: the one at index `i` is
    /// `SubgraphId(i)`.
    pub fn new(
        subgraphs: Vec<Arc<traffic::Subgraph>>,
        metrics: Arc<dyn ExecutorMetrics>,
        rules: HeaderRules,
        cache: Option<Arc<EntityCache>>,
        dedupe: bool,
        coalescer: Option<Coalescer>,
    ) -> Executor {
        let subgraphs = subgraphs
            .into_iter()
            .map(|traffic| Target {
                headers: rules
                    .subgraphs
                    .get(traffic.name())
                    .cloned()
                    .unwrap_or_default(),
                traffic,
            })
            .collect();
        Executor {
            subgraphs,
            metrics,
            all_headers: rules.all,
            cache,
            dedupe: dedupe.then(Inflight::default),
            coalescer,
            projections: Projections::default(),
            propagate: trace::no_propagation,
        }
    }

    /// The executor with `propagate` putting each fetch span's trace context in its request.
    pub fn with_propagation(mut self, propagate: Propagate) -> Executor {
        self.propagate = propagate;
        self
    }

    /// Runs `plan` for a client request with `variables` and request headers `headers`,
    /// timing each fetch into `Output::timings` when `timed`.
    pub async fn execute(
        &self,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
        forwarded: &Forwarded,
        timed: bool,
    ) -> Output {
        let mut out = Output {
            data: Store::for_plan(plan),
            errors: Vec::new(),
            timings: Vec::new(),
        };
        if let Some(PlanNode::Defer { .. }) = &plan.node
            && !timed
        {
            // One response for all parts: the parts' fetches still start as soon as their
            // inputs exist, side by side, as for a client reading the parts.
            let mut errors = Vec::new();
            let mut keep = |_: Option<u32>, _: bool, out: &mut Output| {
                errors.append(&mut out.errors);
            };
            let mut out = self
                .execute_incremental(plan, variables, headers, forwarded, &mut keep)
                .await;
            out.errors = errors;
            return out;
        }
        if let Some(node) = &plan.node {
            let request = Request {
                variables,
                headers,
                forwarded,
                clock: timed.then(std::time::Instant::now),
            };
            // Fetch by fetch when the plan has a schedule; otherwise level by level.
            let scheduled = (plan.schedule.as_ref())
                .map(|s| (s, weft_federation::plan::schedule::leaves(node)));
            match scheduled {
                Some((s, fetches)) if s.waits.len() == fetches.len() => {
                    self.run_scheduled(&fetches, s, request, &mut out).await;
                }
                _ => self.run(node, request, &mut out).await,
            }
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
                    let mut jobs = Vec::new();
                    let mut nested = Vec::new();
                    // A fetch under conditions goes out with the others when they hold.
                    for n in nodes.iter().filter_map(|n| chosen(n, variables)) {
                        match self.job(n, request, &mut out.data) {
                            Some(job) => jobs.extend(job),
                            None => nested.push(n),
                        }
                    }
                    self.run_jobs(jobs, request, out).await;
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
                PlanNode::Fetch(_) | PlanNode::Flatten(_) | PlanNode::BatchFetch(_) => {
                    if let Some(jobs) = self.job(node, request, &mut out.data) {
                        self.run_jobs(jobs, request, out).await;
                    }
                }
                // One response for all parts (the client did not ask for an incremental one):
                // the primary part's fetches, then each deferred fragment's, parents first.
                // A subscription runs per event (`execute_event`), from a stream the server
                // opens: never as one response.
                PlanNode::Subscription { .. } => {
                    out.errors.push(
                        crate::error::GraphQLError::new(
                            crate::error::ErrorCode::InternalServerError,
                            "A subscription is answered as a stream of events, not at once.",
                        )
                        .into(),
                    );
                }
                PlanNode::Defer { primary, deferred } => {
                    if let Some(n) = &primary.node {
                        self.run(n, request, out).await;
                    }
                    for d in deferred {
                        if let Some(n) = &d.node {
                            self.run(n, request, out).await;
                        }
                    }
                }
            }
        })
    }

    /// What a leaf node (a fetch, maybe under a flatten, or a batch) needs sent, given the
    /// data so far: `None` when `node` is not a leaf, no job when it has nothing to fetch
    /// for.
    fn job<'p>(
        &self,
        node: &'p PlanNode,
        request: Request<'_>,
        data: &mut Store,
    ) -> Option<Vec<Job<'p>>> {
        if let PlanNode::BatchFetch(batch) = node {
            return Some(
                self.prepare_batch(batch, request, data)
                    .map(Job::Batch)
                    .into_iter()
                    .collect(),
            );
        }
        let (fetch, path) = leaf(node)?;
        if !fetch.context_rewrites.is_empty() {
            return Some(self.prepare_in_contexts(fetch, path, request, data));
        }
        Some(
            self.prepare(fetch, path, request, data)
                .map(Job::One)
                .into_iter()
                .collect(),
        )
    }

    /// A fetch passing `@fromContext` arguments: its objects grouped by the values their
    /// ancestors give; one group is the fetch as planned, several go in one request of
    /// aliased `_entities` fields (at most [`aliased::MAX_GROUPS`] a request). Never from the
    /// entity cache: its keys do not hold the arguments.
    fn prepare_in_contexts<'p>(
        &self,
        fetch: &'p FetchNode,
        path: &'p [String],
        request: Request<'_>,
        data: &mut Store,
    ) -> Vec<Job<'p>> {
        let client = client_variables(fetch, request);
        let (complete, incomplete): (Vec<_>, Vec<_>) =
            context::groups(data, path, &fetch.context_rewrites)
                .into_iter()
                .partition(|g| g.complete);
        let mut prepare = |group: context::Group| {
            let mut vars = client.clone();
            vars.extend(group.values);
            self.prepare_entities(fetch, path, request, data, group.objects, vars, None)
        };
        // A group missing a non-null value goes alone: the subgraph refuses its request as a
        // whole, which then fails only that group's objects.
        let mut jobs: Vec<Job<'p>> = incomplete
            .into_iter()
            .filter_map(&mut prepare)
            .map(Job::One)
            .collect();
        let mut ready = complete.into_iter().filter_map(prepare);
        loop {
            let mut chunk: Vec<Ready<'p>> = ready.by_ref().take(aliased::MAX_GROUPS).collect();
            match chunk.len() {
                0 => break,
                1 => jobs.extend(chunk.pop().map(Job::One)),
                _ => match aliased::Aliased::new(fetch, path, chunk) {
                    Ok(a) => jobs.push(Job::Aliased(a)),
                    // An operation that cannot be aliased: one request per group.
                    Err(chunk) => jobs.extend(chunk.into_iter().map(Job::One)),
                },
            }
        }
        jobs
    }

    /// Leaves that run at the same moment: cache look-ups, then every request together, then
    /// the answers merged one at a time.
    async fn run_jobs(&self, mut jobs: Vec<Job<'_>>, request: Request<'_>, out: &mut Output) {
        let responses = self.send_jobs(&mut jobs, request).await;
        self.merge_jobs(&jobs, responses, request, out);
    }

    /// [`Self::run_jobs`]'s sending: cache look-ups, then every request together.
    async fn send_jobs(&self, jobs: &mut [Job<'_>], request: Request<'_>) -> Vec<Sent> {
        join_all(jobs.iter_mut().map(|job| async move {
            match job {
                Job::One(r) => self.second_level(r).await,
                // Never from the entity cache.
                Job::Aliased(_) => {}
                Job::Batch(m) => {
                    for (_, r) in &mut m.members {
                        self.second_level(r).await;
                    }
                    m.assemble();
                }
            }
        }))
        .await;
        let timed = request.clock.is_some();
        join_all(jobs.iter().map(|job| async move {
            let sent = timed.then(std::time::Instant::now);
            let response = match job {
                Job::One(r) => self.fetch(r, request).await,
                Job::Batch(m) => self.fetch_batch(m, request).await,
                Job::Aliased(a) => self.fetch_aliased(a, request).await,
            };
            (response, sent.map(|sent| (sent, std::time::Instant::now())))
        }))
        .await
    }

    /// [`Self::run_jobs`]'s merging: the answers merged one at a time.
    fn merge_jobs(
        &self,
        jobs: &[Job<'_>],
        responses: Vec<Sent>,
        request: Request<'_>,
        out: &mut Output,
    ) {
        let mut merged = Vec::with_capacity(responses.len());
        for (job, (response, times)) in jobs.iter().zip(responses) {
            if let (Some(clock), Some((sent, done))) = (request.clock, times) {
                out.timings.push(FetchTiming::of(job, clock, sent, done));
            }
            merged.push(response);
        }
        for (job, response) in jobs.iter().zip(merged) {
            match job {
                Job::One(r) => self.merge(r, response, out),
                Job::Batch(m) => self.merge_batch(m, response, out),
                Job::Aliased(a) => self.merge_aliased(a, response, out),
            }
        }
    }

    /// The request for a fetch given the data so far; `None` when an entity fetch finds no
    /// object to fetch for.
    fn prepare<'p>(
        &self,
        fetch: &'p FetchNode,
        path: &'p [String],
        request: Request<'_>,
        data: &mut Store,
    ) -> Option<Ready<'p>> {
        let vars = client_variables(fetch, request);
        let cache = self.cache.as_ref();
        if fetch.requires.is_empty() {
            let mut ready = Ready {
                fetch,
                slots: Vec::new(),
                sent: Vec::new(),
                hits: Vec::new(),
                cache_keys: Vec::new(),
                entity: false,
                variables: vars,
                representations: Vec::new(),
                path,
            };
            // Root query fields, when configured: keyed by operation and variables.
            if let Some(cache) = cache.filter(|c| c.caches_root_fields())
                && fetch.operation_kind != OperationKind::Mutation
            {
                let scope = self.scope(fetch.graph, request);
                let key = (
                    entity_cache::fetch_hash(&fetch.subgraph, &fetch.operation, scope),
                    serde_json::to_string(&ready.variables).unwrap_or_default(),
                );
                match cache.get(&key) {
                    Some(hit) => {
                        self.metrics.entity_cache(&fetch.subgraph, 1, 0);
                        ready.hits.push((0, hit));
                    }
                    None => {
                        self.metrics.entity_cache(&fetch.subgraph, 0, 1);
                        let identity = entity_cache::Identity {
                            typename: String::new(),
                            key: Map::new(),
                        };
                        ready.cache_keys.push((key, identity));
                    }
                }
            }
            return Some(ready);
        }
        let objects = data.find(path);
        self.prepare_entities(fetch, path, request, data, objects, vars, cache)
    }

    /// An entity fetch's request for `objects` (those at its path, or some of them), sent
    /// with `vars`, answered from `cache` where it can be.
    #[allow(clippy::too_many_arguments)]
    fn prepare_entities<'p>(
        &self,
        fetch: &'p FetchNode,
        path: &'p [String],
        request: Request<'_>,
        data: &mut Store,
        objects: Vec<(ObjId, crate::store::Reach)>,
        vars: Map<String, Value>,
        cache: Option<&Arc<EntityCache>>,
    ) -> Option<Ready<'p>> {
        // Each distinct representation as a value, when the map path built one; its JSON text
        // (the de-duplication and cache key) is its key in `index`.
        let mut representations: Vec<Option<Value>> = Vec::new();
        let mut slots: Vec<Vec<ObjId>> = Vec::new();
        let mut index: rustc_hash::FxHashMap<String, usize> = Default::default();
        let mut contents: rustc_hash::FxHashMap<(u64, u64), Vec<ObjId>> = Default::default();
        let mut text = Vec::new();
        let mut fields = Vec::new();
        for (object, reach) in objects {
            // Identical objects reached alike become one: the answer is merged once, and
            // later fetches walk it once. The first of them stands for all (its
            // representation is theirs). Not when the plan reads contexts: each place keeps
            // its own object, as the same object under other ancestors may differ.
            if data.shares() {
                let alike = contents
                    .entry((reach, data.fingerprint(object)))
                    .or_default();
                if let Some(same) = alike.iter().find(|o| data.same_object(**o, object)) {
                    data.forward(object, *same);
                    continue;
                }
                alike.push(object);
            }
            // The text straight from the store; through a map only when that cannot be done
            // in one pass (input rewrites, a name selected twice).
            text.clear();
            fields.clear();
            let written = if fetch.input_rewrites.is_empty() {
                write_selection(data, object, &fetch.requires, &mut text, &mut fields)
            } else {
                Err(Twice)
            };
            let (key, rep) = match written {
                Ok(false) => continue,
                Ok(true) => {
                    // A null key identifies no entity: nothing to fetch for this object.
                    let keyed = fetch
                        .key_fields
                        .iter()
                        .all(|k| fields.iter().any(|(name, null)| name == k && !null));
                    if !keyed {
                        continue;
                    }
                    (String::from_utf8_lossy(&text), None)
                }
                Err(Twice) => {
                    let Some(mut rep) = select(data, object, &fetch.requires) else {
                        continue;
                    };
                    if fetch
                        .key_fields
                        .iter()
                        .any(|k| rep.get(k).is_none_or(Value::is_null))
                    {
                        continue;
                    }
                    rewrite(&mut rep, data.typename(object), &fetch.input_rewrites);
                    let key = serde_json::to_string(&rep).unwrap_or_default();
                    (key.into(), Some(Value::Object(rep)))
                }
            };
            match index.get(key.as_ref()) {
                Some(i) => slots[*i].push(object),
                None => {
                    index.insert(key.into_owned(), representations.len());
                    representations.push(rep);
                    slots.push(vec![object]);
                }
            }
        }
        if representations.is_empty() {
            return None;
        }
        let mut texts = vec![String::new(); representations.len()];
        for (text, i) in index {
            texts[i] = text;
        }
        // Cache hits are answered from the cache; only the misses are sent.
        let mut sent = Vec::with_capacity(representations.len());
        let mut hits = Vec::new();
        let mut cache_keys = Vec::new();
        let mut to_send = Vec::with_capacity(representations.len());
        let shared = cache.map(|_| {
            let scope = self.scope(fetch.graph, request);
            entity_cache::fetch_hash(&fetch.subgraph, &fetch.operation, scope)
        });
        let (mut hit_count, mut miss_count) = (0, 0);
        for (slot, (rep, text)) in representations.into_iter().zip(texts).enumerate() {
            // Built only for what is sent; its first object stands for all (same text, same
            // selection).
            let value = |rep: Option<Value>| match rep {
                Some(rep) => rep,
                None => {
                    select(data, slots[slot][0], &fetch.requires).map_or(Value::Null, Value::Object)
                }
            };
            let text = if let (Some(cache), Some(shared)) = (cache, shared) {
                let key = (shared, text);
                if let Some(hit) = cache.get(&key) {
                    hit_count += 1;
                    hits.push((slot, hit));
                    continue;
                }
                miss_count += 1;
                let rep = value(rep);
                let identity = entity_cache::Identity {
                    typename: rep
                        .get("__typename")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    key: entity_cache::key_fields(&rep, &fetch.key_fields),
                };
                let text = key.1.clone();
                cache_keys.push((key, identity));
                text
            } else {
                text
            };
            // The text is JSON as written from the store (or printed from a value): sent as
            // it is. Were it not, the slot's objects would get nothing rather than a request
            // the subgraph cannot read.
            let Ok(raw) = RawValue::from_string(text) else {
                continue;
            };
            sent.push(slot);
            to_send.push(raw);
        }
        if cache.is_some() {
            self.metrics
                .entity_cache(&fetch.subgraph, hit_count, miss_count);
        }
        Some(Ready {
            fetch,
            slots,
            sent,
            hits,
            cache_keys,
            entity: true,
            variables: vars,
            representations: to_send,
            path,
        })
    }

    /// The headers (and forwarded claims) a subgraph request carries, hashed: entity cache
    /// entries are shared only by requests that would send the same.
    fn scope(&self, subgraph: SubgraphId, client: Request<'_>) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        for (name, value) in self.headers(subgraph, client.headers) {
            // Trace context differs on every request and changes no answer.
            if name != "traceparent" && name != "tracestate" {
                std::hash::Hash::hash(name.as_str(), &mut h);
                std::hash::Hash::hash(value.as_bytes(), &mut h);
            }
        }
        if let Some((name, value)) = &client.forwarded.header {
            std::hash::Hash::hash(name.as_str(), &mut h);
            std::hash::Hash::hash(value.as_bytes(), &mut h);
        }
        if let Some(extensions) = &client.forwarded.extensions {
            std::hash::Hash::hash(&extensions.to_string(), &mut h);
        }
        std::hash::Hasher::finish(&h)
    }

    /// Looks the in-memory misses up in the shared (Redis) level, when there is one; what it
    /// has becomes hits (and is kept in memory), and is no longer sent.
    async fn second_level(&self, r: &mut Ready<'_>) {
        let Some(cache) = &self.cache else { return };
        let Some(shared) = cache.shared() else { return };
        if r.cache_keys.is_empty() || (!r.entity && !r.hits.is_empty()) {
            return;
        }
        let keys: Vec<entity_cache::Key> = r.cache_keys.iter().map(|(k, _)| k.clone()).collect();
        let found = shared.get_many(&keys).await;
        if !r.entity {
            if let (Some(Some((text, identity, ttl))), Some(key)) =
                (found.into_iter().next(), keys.first())
                && let Some(value) = frozen(&text)
            {
                cache.insert_local(key.clone(), value.clone(), identity, ttl);
                r.hits.push((0, value));
                r.cache_keys.clear();
            }
            return;
        }
        let representations = &mut r.representations;
        let mut sent = Vec::new();
        let mut cache_keys = Vec::new();
        let mut still = Vec::new();
        for (i, entry) in found.into_iter().enumerate() {
            let (Some(slot), Some(key), Some(rep)) =
                (r.sent.get(i), r.cache_keys.get(i), representations.get(i))
            else {
                continue;
            };
            match entry.and_then(|(text, identity, ttl)| Some((frozen(&text)?, identity, ttl))) {
                Some((value, identity, ttl)) => {
                    cache.insert_local(key.0.clone(), value.clone(), identity, ttl);
                    r.hits.push((*slot, value));
                }
                None => {
                    sent.push(*slot);
                    cache_keys.push(key.clone());
                    still.push(rep.clone());
                }
            }
        }
        *representations = still;
        r.sent = sent;
        r.cache_keys = cache_keys;
    }

    /// Sends the fetch, unless the cache answered all of it.
    async fn fetch(&self, r: &Ready<'_>, client: Request<'_>) -> Result<Fetched, FetchFailure> {
        if r.answered_by_cache() {
            return Ok(Fetched {
                body: Bytes::new(),
                ttl: None,
            });
        }
        let lists = [("representations", r.representations.as_slice())];
        let call = Call {
            graph: r.fetch.graph,
            operation: &r.fetch.operation,
            kind: r.fetch.operation_kind,
            variables: Variables {
                map: &r.variables,
                lists: if r.entity { &lists } else { &[] },
            },
            // Cross-request batches share one operation's variables: not for context values.
            coalesce: r.entity && r.fetch.context_rewrites.is_empty(),
        };
        self.send(call, client).await
    }

    /// The headers the rules give a request to `subgraph` (`headers.all`, then its own).
    fn headers(
        &self,
        subgraph: SubgraphId,
        client: &HeaderMap,
    ) -> Vec<(http::HeaderName, http::HeaderValue)> {
        let own = self
            .subgraphs
            .get(subgraph.index())
            .map_or(&[][..], |t| t.headers.as_slice());
        headers::outgoing_with(&self.all_headers, own, client)
    }

    /// Sends one fetch with the headers the rules give its subgraph, through its traffic
    /// policy (timeout, retries, circuit breaker: `traffic/`). Queries identical to one in
    /// flight share its answer (`dedupe`); entity fetches may join a batch of concurrent
    /// requests' fetches (`entity_batching`).
    async fn send(&self, call: Call<'_>, client: Request<'_>) -> Result<Fetched, FetchFailure> {
        let Some(target) = self.subgraphs.get(call.graph.index()) else {
            return Err(FetchFailure::http("no URL is configured for it".to_owned()));
        };
        let subgraph = &target.traffic;
        let name = subgraph.name();
        let mut headers =
            headers::outgoing_with(&self.all_headers, &target.headers, client.headers);
        if let Some((header, value)) = &client.forwarded.header {
            headers.retain(|(n, _)| n != header);
            headers.push((header.clone(), value.clone()));
        }
        let kind = call.kind;
        let span = trace::fetch_span(name, kind_name(kind), subgraph.url());
        (self.propagate)(&span, &mut headers);
        let query = kind == OperationKind::Query;
        let outgoing = Outgoing {
            subgraph: subgraph.clone(),
            operation: call.operation.to_owned(),
            extensions: client.forwarded.extensions.clone(),
            headers,
            idempotent: query,
            metrics: self.metrics.clone(),
        };
        let answer = match (&self.coalescer, &self.dedupe) {
            (Some(coalescer), _) if call.coalesce && query => {
                return self
                    .coalesced(coalescer, outgoing, call.variables)
                    .instrument(span.clone())
                    .await
                    .inspect_err(|f| log_failure(subgraph, f, &span));
            }
            (_, Some(inflight)) if query => {
                // Encoded once: the key compares it, and it is what goes out.
                let body = outgoing.encode(call.variables);
                let key = SubgraphRequestKey {
                    url: outgoing.subgraph.url().to_owned(),
                    body: body.clone(),
                    headers: outgoing.shared_headers(),
                };
                inflight
                    .run(key, move || outgoing.send_encoded(body).boxed())
                    .instrument(span.clone())
                    .await
                    .0
            }
            _ => {
                let body = outgoing.encode(call.variables);
                outgoing.send_encoded(body).instrument(span.clone()).await
            }
        };
        match answer {
            Ok(answer) => Ok(Fetched {
                body: answer.body.clone(),
                ttl: self.ttl(&answer),
            }),
            Err(failure) => {
                let failure = failure_of(&failure);
                log_failure(subgraph, &failure, &span);
                Err(failure)
            }
        }
    }

    /// How long the entity cache may keep `answer` (`None`: not at all, or no cache).
    fn ttl(&self, answer: &traffic::Answer) -> Option<std::time::Duration> {
        self.cache
            .as_ref()
            .and_then(|c| c.ttl(answer.cache_control.as_deref(), answer.age.as_deref()))
    }

    /// An entity fetch through the cross-request batcher: its representations join those of
    /// concurrent requests with the same subgraph, selection, variables and headers.
    async fn coalesced(
        &self,
        coalescer: &Coalescer,
        outgoing: Outgoing,
        variables: Variables<'_>,
    ) -> Result<Fetched, FetchFailure> {
        let representations: Reps = variables
            .lists
            .iter()
            .find(|(name, _)| *name == "representations")
            .map(|(_, list)| list.to_vec())
            .unwrap_or_default();
        let variables = variables.map.clone();
        let mut rest = serde_json::to_string(&variables).unwrap_or_default();
        if let Some(e) = &outgoing.extensions {
            rest.push_str(&e.to_string());
        }
        let batch = BatchKey {
            url: outgoing.subgraph.url().to_owned(),
            operation: outgoing.operation.clone(),
            rest,
            headers: outgoing.shared_headers(),
        };
        let send: batch::Send = Box::new(move |all| {
            let body = outgoing.encode(Variables {
                map: &variables,
                lists: &[("representations", all.as_slice())],
            });
            outgoing.send_encoded(body).boxed()
        });
        match coalescer.submit(batch, representations, send).await {
            Ok((body, answer)) => Ok(Fetched {
                body,
                ttl: self.ttl(&answer),
            }),
            Err(failure) => Err(failure_of(&failure)),
        }
    }
}

/// An entry Redis had, as JSON text, frozen for the memory level; `None` when it is not JSON.
fn frozen(text: &str) -> Option<Arc<Frozen>> {
    let mut store = Store::new();
    let value = store.parse(text.as_bytes(), None).ok()?;
    Some(Arc::new(store.freeze(&value)))
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
