//! Runs a query plan against the subgraphs (DESIGN §5): root fetches merge at the root;
//! entity fetches collect objects at their path, build and de-duplicate representations, send
//! one `_entities` request, and merge each result into the objects that needed it (identical
//! objects reached alike share one node: `data.rs`). One task owns the response data;
//! parallel fetches are sent together and merged one at a time.
//! A failed fetch leaves only its own fields missing, with an error naming the subgraph (its
//! address and transport detail go to the log, not to the client). Each answer is read keeping
//! only what its fetch asked for (`projection.rs`); an `_entities` list of the wrong length
//! fails the whole fetch.
//! Each subgraph request carries the headers the rules give it (`headers.rs`) and is timed and
//! counted in the metrics (`metrics.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::{HeaderName, HeaderValue};
use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use serde_json::{Map, Value, json};
use tracing::Instrument;
use weft_config::headers::HeaderRules;
use weft_executor::{FetchError, GraphQLRequest, Inflight};
use weft_federation::plan::model::{
    FetchNode, OperationKind, PlanNode, QueryPlan, Rewrite, Selection,
};

use super::auth::Forwarded;
use super::coalesce::{self, BatchKey, Coalescer};
use super::data::{Frozen, ObjId, Seg, Store, Val, write_str};
use super::entity_cache::{self, EntityCache};
use super::headers;
use super::metrics::{FetchErrorKind, Metrics};
use super::projection::{Projection, Projections};
use super::{telemetry, traffic};

/// A subgraph's answer (JSON text as received, shared by requests that shared the fetch, or
/// cut out of a batch's answer), and how long the entity cache may keep it (`None`: not at
/// all).
struct Fetched {
    body: axum::body::Bytes,
    ttl: Option<std::time::Duration>,
}

/// The merged subgraph data and the errors met on the way.
pub struct Output {
    pub data: Store,
    pub errors: Vec<Value>,
}

pub struct Executor {
    subgraphs: HashMap<String, Arc<traffic::Subgraph>>,
    metrics: Arc<Metrics>,
    rules: HeaderRules,
    cache: Option<Arc<EntityCache>>,
    /// Subgraph requests in flight, shared by identical ones (`dedupe.subgraph_requests`).
    dedupe: Option<Inflight<SubgraphRequestKey, SharedAnswer>>,
    /// Entity fetches of concurrent requests batched together (`entity_batching`).
    coalescer: Option<Coalescer>,
    /// What each fetch's answer may hold, per operation sent.
    projections: Projections,
}

/// What makes two subgraph requests identical: where, what and with which headers.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SubgraphRequestKey {
    url: String,
    /// The encoded request: operation, variables and extensions.
    body: Vec<u8>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

type SharedAnswer = Result<Arc<traffic::Answer>, Arc<traffic::Failure>>;
/// A fetch that got no usable answer: the error's `extensions.code` and message.
pub struct FetchFailure {
    code: &'static str,
    message: String,
    /// Everything known about it, for the log only (it may name the subgraph's address).
    detail: String,
}

impl FetchFailure {
    fn http(message: String) -> FetchFailure {
        FetchFailure {
            code: "SUBREQUEST_HTTP_ERROR",
            detail: message.clone(),
            message,
        }
    }

    fn with_code(mut self, code: &'static str) -> FetchFailure {
        self.code = code;
        self
    }
}

/// What one execution shares across its fetches.
#[derive(Clone, Copy)]
struct Request<'a> {
    variables: &'a Map<String, Value>,
    /// The client's request headers, from which each subgraph's are computed.
    headers: &'a HeaderMap,
    /// The verified token's claims, as configured to reach subgraphs.
    forwarded: &'a Forwarded,
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
    variables: Map<String, Value>,
}

impl Executor {
    pub fn new(
        subgraphs: HashMap<String, Arc<traffic::Subgraph>>,
        metrics: Arc<Metrics>,
        rules: HeaderRules,
        cache: Option<Arc<EntityCache>>,
        dedupe: bool,
        coalescer: Option<Coalescer>,
    ) -> Executor {
        Executor {
            subgraphs,
            metrics,
            rules,
            cache,
            dedupe: dedupe.then(Inflight::default),
            coalescer,
            projections: Projections::default(),
        }
    }

    /// Runs `plan` for a client request with `variables` and request headers `headers`.
    pub async fn execute(
        &self,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
        forwarded: &Forwarded,
    ) -> Output {
        let mut out = Output {
            data: Store::new(),
            errors: Vec::new(),
        };
        if let Some(node) = &plan.node {
            let request = Request {
                variables,
                headers,
                forwarded,
            };
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
                                ready.extend(self.prepare(fetch, path, request, &mut out.data))
                            }
                            None => nested.push(n),
                        }
                    }
                    join_all(ready.iter_mut().map(|r| self.second_level(r))).await;
                    let responses = join_all(ready.iter().map(|r| self.fetch(r, request))).await;
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
                        && let Some(mut r) = self.prepare(fetch, path, request, &mut out.data)
                    {
                        self.second_level(&mut r).await;
                        let response = self.fetch(&r, request).await;
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
        path: &'p [String],
        request: Request<'_>,
        data: &mut Store,
    ) -> Option<Ready<'p>> {
        let variables = request.variables;
        let mut vars: Map<String, Value> = fetch
            .variable_usages
            .iter()
            .filter_map(|v| variables.get(v).map(|x| (v.clone(), x.clone())))
            .collect();
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
                path,
            };
            // Root query fields, when configured: keyed by operation and variables.
            if let Some(cache) = cache.filter(|c| c.caches_root_fields())
                && !fetch.operation.trim_start().starts_with("mutation")
            {
                let scope = self.scope(&fetch.subgraph, request);
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
        // Each distinct representation as a value, when the map path built one; its JSON text
        // (the de-duplication and cache key) is its key in `index`.
        let mut representations: Vec<Option<Value>> = Vec::new();
        let mut slots: Vec<Vec<ObjId>> = Vec::new();
        let mut index: rustc_hash::FxHashMap<String, usize> = Default::default();
        let mut contents: rustc_hash::FxHashMap<(u64, u64), Vec<ObjId>> = Default::default();
        let mut text = Vec::new();
        let mut fields = Vec::new();
        for (object, reach) in data.find(path) {
            // Identical objects reached alike become one: the answer is merged once, and
            // later fetches walk it once. The first of them stands for all (its
            // representation is theirs).
            let alike = contents
                .entry((reach, data.fingerprint(object)))
                .or_default();
            if let Some(same) = alike.iter().find(|o| data.same_object(**o, object)) {
                data.forward(object, *same);
                continue;
            }
            alike.push(object);
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
            let scope = self.scope(&fetch.subgraph, request);
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
            let rep = if let (Some(cache), Some(shared)) = (cache, shared) {
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
                cache_keys.push((key, identity));
                rep
            } else {
                value(rep)
            };
            sent.push(slot);
            to_send.push(rep);
        }
        if cache.is_some() {
            self.metrics
                .entity_cache(&fetch.subgraph, hit_count, miss_count);
        }
        vars.insert("representations".to_owned(), Value::Array(to_send));
        Some(Ready {
            fetch,
            slots,
            sent,
            hits,
            cache_keys,
            entity: true,
            variables: vars,
            path,
        })
    }

    /// The headers (and forwarded claims) a subgraph request carries, hashed: entity cache
    /// entries are shared only by requests that would send the same.
    fn scope(&self, subgraph: &str, client: Request<'_>) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        for (name, value) in headers::outgoing(&self.rules, subgraph, client.headers) {
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
        let Some(Value::Array(representations)) = r.variables.get_mut("representations") else {
            return;
        };
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
        let answered = if r.entity {
            r.sent.is_empty()
        } else {
            !r.hits.is_empty()
        };
        if answered {
            return Ok(Fetched {
                body: axum::body::Bytes::new(),
                ttl: None,
            });
        }
        self.send(r, client).await
    }

    /// Sends one fetch with the headers the rules give its subgraph, through its traffic
    /// policy (timeout, retries, circuit breaker: `traffic/`). Queries identical to one in
    /// flight share its answer (`dedupe`); entity fetches may join a batch of concurrent
    /// requests' fetches (`entity_batching`).
    async fn send(&self, r: &Ready<'_>, client: Request<'_>) -> Result<Fetched, FetchFailure> {
        let name = &r.fetch.subgraph;
        let Some(subgraph) = self.subgraphs.get(name) else {
            return Err(FetchFailure::http("no URL is configured for it".to_owned()));
        };
        let mut headers = headers::outgoing(&self.rules, name, client.headers);
        if let Some((header, value)) = &client.forwarded.header {
            headers.retain(|(n, _)| n != header);
            headers.push((header.clone(), value.clone()));
        }
        let kind = r.fetch.operation_kind;
        let span = telemetry::fetch_span(name, kind_name(kind), subgraph.url());
        telemetry::inject(&span, &mut headers);
        let query = kind == OperationKind::Query;
        let mut outgoing = Outgoing {
            subgraph: subgraph.clone(),
            operation: r.fetch.operation.clone(),
            variables: r.variables.clone(),
            extensions: client.forwarded.extensions.clone(),
            headers,
            idempotent: query,
            metrics: self.metrics.clone(),
        };
        let answer = match (&self.coalescer, &self.dedupe) {
            (Some(coalescer), _) if r.entity && query => {
                return self
                    .coalesced(coalescer, outgoing)
                    .instrument(span.clone())
                    .await
                    .inspect_err(|f| log_failure(name, subgraph.url(), f, &span));
            }
            (_, Some(inflight)) if query => {
                // Encoded once: the key compares it, and it is what goes out.
                let body = outgoing.encode();
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
            _ => outgoing.send().instrument(span.clone()).await,
        };
        match answer {
            Ok(answer) => Ok(Fetched {
                body: answer.body.clone(),
                ttl: self.ttl(&answer),
            }),
            Err(failure) => {
                let failure = failure_of(&failure);
                log_failure(name, subgraph.url(), &failure, &span);
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
        mut outgoing: Outgoing,
    ) -> Result<Fetched, FetchFailure> {
        let representations = match outgoing.variables.remove("representations") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        let mut rest = Value::Object(outgoing.variables.clone()).to_string();
        if let Some(e) = &outgoing.extensions {
            rest.push_str(&e.to_string());
        }
        let batch = BatchKey {
            url: outgoing.subgraph.url().to_owned(),
            operation: outgoing.operation.clone(),
            rest,
            headers: outgoing.shared_headers(),
        };
        let send: coalesce::Send = Box::new(move |all| {
            outgoing
                .variables
                .insert("representations".to_owned(), Value::Array(all));
            outgoing.send().boxed()
        });
        match coalescer.submit(batch, representations, send).await {
            Ok((body, answer)) => Ok(Fetched {
                body,
                ttl: self.ttl(&answer),
            }),
            Err(failure) => Err(failure_of(&failure)),
        }
    }

    /// A subgraph answer the gateway cannot use: an error for the client, a count, and a
    /// warning in the log.
    fn unusable(&self, r: &Ready<'_>, why: &str, out: &mut Output) {
        self.metrics
            .record_fetch_error(&r.fetch.subgraph, FetchErrorKind::Invalid);
        tracing::warn!(subgraph = %r.fetch.subgraph, reason = why, "unusable subgraph answer");
        let path = Places::default().first(r, &out.data);
        out.errors.push(fetch_error(&r.fetch.subgraph, why, &path));
    }

    fn merge(&self, r: &Ready<'_>, response: Result<Fetched, FetchFailure>, out: &mut Output) {
        let service = &r.fetch.subgraph;
        let projection = self.projections.of(&r.fetch.operation);
        // An operation that cannot be read (never one the planner wrote) keeps nothing.
        let empty = Projection::default();
        let projection = Option::as_ref(&projection).unwrap_or(&empty);
        // Cached parts first: they need no answer (kept projected, as this fetch asked).
        for (slot, hit) in &r.hits {
            if !r.entity {
                let value = out.data.thaw(hit);
                out.data.merge_value(Store::ROOT, value);
                return;
            }
            for target in r.slots.get(*slot).into_iter().flatten() {
                let value = out.data.thaw(hit);
                out.data.merge_value(*target, value);
            }
        }
        if r.entity && r.sent.is_empty() {
            return;
        }
        let (body, ttl) = match response {
            Ok(fetched) => (fetched.body, fetched.ttl),
            Err(failure) => {
                let path = Places::default().first(r, &out.data);
                let mut error = fetch_error(service, &failure.message, &path);
                error["extensions"]["code"] = json!(failure.code);
                out.errors.push(error);
                return;
            }
        };
        let body = match out.data.parse(&body, Some(projection)) {
            Ok(Val::Object(body)) => body,
            Ok(_) => {
                self.unusable(r, "the subgraph's response is not a JSON object", out);
                return;
            }
            Err(e) => {
                self.unusable(r, &format!("the subgraph's response is not JSON: {e}"), out);
                return;
            }
        };
        let errors = out.data.get(body, "errors").map(|e| out.data.to_value(e));
        let include = self
            .subgraphs
            .get(service)
            .is_none_or(|s| s.include_errors());
        // Never keep an answer that has errors: some of it may be missing or wrong.
        let keep = self.cache.as_ref().zip(ttl).filter(|_| errors.is_none());
        if let Some(Value::Array(errors)) = &errors
            && !errors.is_empty()
        {
            let mut places = Places::default();
            for e in errors {
                let e = if include { e } else { &redacted(e) };
                out.errors
                    .extend(map_error(e, service, r, &out.data, &mut places));
            }
        }
        let data = match out.data.take(body, "data") {
            Some(d) if !d.is_null() => d,
            _ => {
                if errors.is_none() {
                    self.unusable(r, "the response has no data", out);
                }
                return;
            }
        };
        let rewrites = &r.fetch.output_rewrites;
        if !r.entity {
            let data = rewritten(&mut out.data, data, rewrites);
            if let (Some((cache, ttl)), Some((key, identity))) = (keep, r.cache_keys.first()) {
                let value = Arc::new(out.data.freeze(&data));
                let text = || text_of(&out.data, &data);
                cache.insert(key.clone(), value, text, identity.clone(), ttl);
            }
            out.data.merge_value(Store::ROOT, data);
            return;
        }
        let entities = match data {
            Val::Object(d) => out.data.take(d, "_entities"),
            _ => None,
        };
        let Some(Val::List(entities)) = entities else {
            self.unusable(r, "the response has no `_entities`", out);
            return;
        };
        if entities.len() != r.sent.len() {
            let why = format!(
                "`_entities` returned {} results for {} representations",
                entities.len(),
                r.sent.len()
            );
            // Which result belongs to which representation is unknown: none is used.
            self.unusable(r, &why, out);
            return;
        }
        for (i, (entity, slot)) in entities.into_vec().into_iter().zip(&r.sent).enumerate() {
            if entity.is_null() {
                continue;
            }
            let entity = rewritten(&mut out.data, entity, rewrites);
            if let (Some((cache, ttl)), Some((key, identity))) = (keep, r.cache_keys.get(i)) {
                let value = Arc::new(out.data.freeze(&entity));
                let text = || text_of(&out.data, &entity);
                cache.insert(key.clone(), value, text, identity.clone(), ttl);
            }
            let Some((first, others)) = r.slots.get(*slot).and_then(|t| t.split_first()) else {
                continue;
            };
            // Objects that differ in their own content each get their own copy.
            for target in others {
                let copy = out.data.copy(&entity);
                out.data.merge_value(*target, copy);
            }
            out.data.merge_value(*first, entity);
        }
    }
}

/// A value as JSON text, for Redis (numbers keep the subgraph's text).
fn text_of(data: &Store, value: &Val) -> String {
    let mut out = Vec::new();
    data.write(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// An entry Redis had, as JSON text, frozen for the memory level; `None` when it is not JSON.
fn frozen(text: &str) -> Option<Arc<Frozen>> {
    let mut store = Store::new();
    let value = store.parse(text.as_bytes(), None).ok()?;
    Some(Arc::new(store.freeze(&value)))
}

/// `value` with the fetch's output rewrites applied (rare: most fetches have none).
fn rewritten(data: &mut Store, value: Val, rewrites: &[Rewrite]) -> Val {
    if rewrites.is_empty() {
        return value;
    }
    let mut json = data.to_value(&value);
    apply_output_rewrites(&mut json, rewrites);
    data.import(&json)
}

/// The places of a fetch's objects, found (by one walk) when the first error needs them.
#[derive(Default)]
struct Places(Option<HashMap<ObjId, Vec<Vec<Seg>>>>);

impl Places {
    /// Every place of the objects of `slot`.
    fn of<'a>(&'a mut self, r: &Ready<'_>, data: &Store, slot: usize) -> Vec<&'a Vec<Seg>> {
        let all = self.0.get_or_insert_with(|| {
            let targets: Vec<ObjId> = r.slots.iter().flatten().copied().collect();
            data.places(r.path, &targets)
        });
        let Some(targets) = r.slots.get(slot) else {
            return Vec::new();
        };
        targets
            .iter()
            .filter_map(|t| all.get(&data.resolve(*t)))
            .flatten()
            .collect()
    }

    /// The path given to an error about the whole fetch: the first object's first place.
    fn first(&mut self, r: &Ready<'_>, data: &Store) -> Vec<Seg> {
        self.of(r, data, 0)
            .first()
            .map(|p| (*p).clone())
            .unwrap_or_default()
    }
}

/// One subgraph request, owned, so that it can be shared or sent from a task of its own.
struct Outgoing {
    subgraph: Arc<traffic::Subgraph>,
    operation: String,
    variables: Map<String, Value>,
    extensions: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    idempotent: bool,
    metrics: Arc<Metrics>,
}

impl Outgoing {
    /// The headers that make requests different: all but trace context (each request has
    /// its own, and it changes no answer).
    fn shared_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.headers
            .iter()
            .filter(|(n, _)| n != "traceparent" && n != "tracestate")
            .cloned()
            .collect()
    }

    /// The request as sent: `{query, variables, extensions}` in JSON.
    fn encode(&mut self) -> Vec<u8> {
        // Borrowed into a `Value` and back: representations can be large, so no copy.
        let variables = Value::Object(std::mem::take(&mut self.variables));
        let request = GraphQLRequest {
            query: &self.operation,
            operation_name: None,
            variables: Some(&variables),
            extensions: self.extensions.as_ref(),
        };
        let body = serde_json::to_vec(&request).unwrap_or_default();
        if let Value::Object(map) = variables {
            self.variables = map;
        }
        body
    }

    async fn send(mut self) -> SharedAnswer {
        let body = self.encode();
        self.send_encoded(body).await
    }

    async fn send_encoded(self, body: Vec<u8>) -> SharedAnswer {
        self.subgraph
            .send(&body, &self.headers, self.idempotent, &self.metrics)
            .await
            .map(Arc::new)
            .map_err(Arc::new)
    }
}

/// The client's error for a fetch that got no usable answer (and its detail for the log).
fn failure_of(failure: &traffic::Failure) -> FetchFailure {
    let mut client = client_failure(failure);
    if let traffic::Failure::Fetch(e) = failure {
        // The whole chain: reqwest's own message says little ("error sending request").
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        client.detail = detail;
    }
    client
}

fn client_failure(failure: &traffic::Failure) -> FetchFailure {
    match failure {
        traffic::Failure::CircuitOpen => FetchFailure::http(
            "the subgraph's circuit breaker is open; nothing was sent".to_owned(),
        )
        .with_code("SUBGRAPH_CIRCUIT_OPEN"),
        traffic::Failure::Fetch(FetchError::Status { status, .. }) => {
            FetchFailure::http(format!("the subgraph answered HTTP {status}"))
        }
        traffic::Failure::Fetch(e) if e.is_timeout() => {
            FetchFailure::http("the subgraph did not answer in time".to_owned())
        }
        traffic::Failure::Fetch(FetchError::TooLarge { limit }) => FetchFailure::http(format!(
            "the subgraph's response is larger than {limit} bytes"
        ))
        .with_code("SUBREQUEST_RESPONSE_TOO_LARGE"),
        // What the transport says names the subgraph's address: the log has it, the client
        // gets the stage that failed.
        traffic::Failure::Fetch(FetchError::Transport(e)) => FetchFailure::http(
            if e.is_connect() {
                "the subgraph could not be reached"
            } else if e.is_body() || e.is_decode() {
                "the subgraph's response could not be read"
            } else {
                "the request to the subgraph failed"
            }
            .to_owned(),
        ),
        traffic::Failure::Fetch(FetchError::InvalidJson(_)) => {
            FetchFailure::http("the subgraph's response is not JSON".to_owned())
        }
        traffic::Failure::Fetch(FetchError::Encode(_)) => {
            FetchFailure::http("the request could not be encoded".to_owned())
        }
        traffic::Failure::Dropped => {
            FetchFailure::http("the shared request ended without an answer".to_owned())
        }
        traffic::Failure::Unusable(why) => FetchFailure::http(why.clone()),
    }
}

/// A failed fetch in full (address, transport detail) for the operator: a warning in the log
/// and on the fetch's span. The client's error has the code and the subgraph's name only.
fn log_failure(subgraph: &str, url: &str, failure: &FetchFailure, span: &tracing::Span) {
    tracing::warn!(
        parent: span,
        subgraph,
        url,
        code = failure.code,
        detail = %failure.detail,
        "subgraph fetch failed"
    );
    span.record("otel.status_code", "ERROR");
}

/// A subgraph error as shown when `include_errors` is off: no message of the subgraph's,
/// its path kept (it says where data is missing), and its code when it has one.
fn redacted(error: &Value) -> Value {
    let mut e = json!({ "message": "Subgraph errors redacted" });
    if let Some(path) = error.get("path") {
        e["path"] = path.clone();
    }
    if let Some(code) = error.pointer("/extensions/code").filter(|c| c.is_string()) {
        e["extensions"] = json!({ "code": code });
    }
    e
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

/// A representation: the `requires` selection read from the object; `None` when no type
/// condition matches the object.
fn select(data: &Store, object: ObjId, selections: &[Selection]) -> Option<Map<String, Value>> {
    let typename = data.typename(object);
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
                let value = data.get(object, read).unwrap_or(&Val::Null);
                let value = if selections.is_empty() {
                    data.to_value(value)
                } else {
                    select_value(data, value, selections)
                };
                out.insert(name.clone(), value);
            }
            Selection::InlineFragment {
                possible_types,
                selections,
                type_condition,
            } => {
                if applies(typename, type_condition, possible_types)
                    && let Some(inner) = select(data, object, selections)
                {
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

fn select_value(data: &Store, value: &Val, selections: &[Selection]) -> Value {
    match value {
        Val::Object(o) => select(data, *o, selections).map_or(Value::Null, Value::Object),
        Val::List(items) => Value::Array(
            items
                .iter()
                .map(|v| select_value(data, v, selections))
                .collect(),
        ),
        other => data.to_value(other),
    }
}

/// Whether a `requires` fragment applies to an object of type `typename` (one without a
/// type condition applies to all).
fn applies(typename: Option<&str>, condition: &str, possible_types: &[String]) -> bool {
    possible_types.is_empty() && condition.is_empty()
        || typename.is_some_and(|t| possible_types.iter().any(|p| p == t) || t == condition)
}

/// A response name selected twice in one object: the later value replaces the earlier one in
/// its place, which text written in one pass cannot do.
struct Twice;

/// Writes the `requires` selection of `object` as JSON text, the same text as serializing
/// what `select` gives, without building it; `fields` gets the names written at the top and
/// whether their value is null. `Ok(false)`: no type condition matches the object.
fn write_selection<'s>(
    data: &Store,
    object: ObjId,
    selections: &'s [Selection],
    out: &mut Vec<u8>,
    fields: &mut Vec<(&'s str, bool)>,
) -> Result<bool, Twice> {
    out.push(b'{');
    let matched = write_fields(data, object, selections, out, fields)?;
    out.push(b'}');
    Ok(matched)
}

fn write_fields<'s>(
    data: &Store,
    object: ObjId,
    selections: &'s [Selection],
    out: &mut Vec<u8>,
    fields: &mut Vec<(&'s str, bool)>,
) -> Result<bool, Twice> {
    let mut matched = false;
    for s in selections {
        match s {
            Selection::Field {
                name,
                alias,
                selections,
            } => {
                matched = true;
                if fields.iter().any(|(n, _)| n == name) {
                    return Err(Twice);
                }
                if !fields.is_empty() {
                    out.push(b',');
                }
                write_str(name, out);
                out.push(b':');
                let read = alias.as_ref().unwrap_or(name);
                let value = data.get(object, read).unwrap_or(&Val::Null);
                let null = if selections.is_empty() {
                    data.write(value, out);
                    value.is_null()
                } else {
                    write_selected(data, value, selections, out)?
                };
                fields.push((name, null));
            }
            Selection::InlineFragment {
                possible_types,
                selections,
                type_condition,
            } => {
                if applies(data.typename(object), type_condition, possible_types)
                    && write_fields(data, object, selections, out, fields)?
                {
                    matched = true;
                }
            }
        }
    }
    Ok(matched)
}

/// `select_value` as text; whether it wrote null.
fn write_selected(
    data: &Store,
    value: &Val,
    selections: &[Selection],
    out: &mut Vec<u8>,
) -> Result<bool, Twice> {
    match value {
        Val::Object(o) => {
            let start = out.len();
            if write_selection(data, *o, selections, out, &mut Vec::new())? {
                return Ok(false);
            }
            out.truncate(start);
            out.extend_from_slice(b"null");
            Ok(true)
        }
        Val::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_selected(data, item, selections, out)?;
            }
            out.push(b']');
            Ok(false)
        }
        other => {
            data.write(other, out);
            Ok(other.is_null())
        }
    }
}

/// Input rewrites: `["... on Book", "__typename"]` sets `__typename` when the object is a Book.
fn rewrite(rep: &mut Map<String, Value>, typename: Option<&str>, rewrites: &[Rewrite]) {
    let typename = typename.unwrap_or("");
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
fn map_error(
    error: &Value,
    service: &str,
    r: &Ready<'_>,
    data: &Store,
    places: &mut Places,
) -> Vec<Value> {
    let mut base = match error {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert("message".to_owned(), Value::String(other.to_string()));
            m
        }
    };
    // An error is the subgraph's word, but its shape is the spec's: a string message, an
    // object of extensions (with the subgraph's name), a list path; anything else is replaced
    // rather than passed on to clients (found by the `subgraph_answer` fuzz target).
    if !base.get("message").is_some_and(Value::is_string) {
        base.insert(
            "message".to_owned(),
            Value::String("subgraph error".to_owned()),
        );
    }
    base.remove("locations");
    if !base.get("path").is_none_or(Value::is_array) {
        base.remove("path");
    }
    let extensions = base
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
    if !extensions.is_object() {
        *extensions = Value::Object(Map::new());
    }
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
            // `_entities` indexes the representations sent, not the cache hits.
            let Some(slot) = r.sent.get(i) else {
                return vec![Value::Object(base)];
            };
            places
                .of(r, data, *slot)
                .into_iter()
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
            let path = places.first(r, data);
            if !path.is_empty() {
                base.insert(
                    "path".to_owned(),
                    Value::Array(path.iter().map(Seg::to_json).collect()),
                );
            }
            vec![Value::Object(base)]
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn selections(value: Value) -> Vec<Selection> {
        serde_json::from_value(value).unwrap_or_default()
    }

    fn field(name: &str, inner: Value) -> Value {
        json!({ "kind": "Field", "responseName": name, "selections": inner })
    }

    fn on(ty: &str, inner: Value) -> Value {
        json!({ "kind": "InlineFragment", "typeCondition": ty, "possibleTypes": [ty], "selections": inner })
    }

    /// The text written in one pass is the text of the map `select` builds.
    #[test]
    fn written_representations_are_the_selected_ones() {
        let mut store = Store::new();
        let objects = json!([
            {"__typename": "Product", "upc": "1", "extra": 1},
            {"__typename": "Product", "upc": null},
            {"__typename": "Book", "id": "b\"1", "org": {"id": 7, "name": "x"}, "tags": [{"id": 1}, null]},
            {"__typename": "Movie", "id": "m"},
            {"id": "no type"},
        ]);
        let Val::List(objects) = store.import(&objects) else {
            panic!("a list")
        };
        let requires = selections(json!([
            on(
                "Product",
                json!([field("__typename", json!([])), field("upc", json!([]))])
            ),
            on(
                "Book",
                json!([
                    field("__typename", json!([])),
                    field("id", json!([])),
                    field("org", json!([field("id", json!([]))])),
                    field("tags", json!([field("id", json!([]))])),
                ])
            ),
        ]));
        for object in objects.iter() {
            let Val::Object(id) = object else { continue };
            let mut text = Vec::new();
            let mut fields = Vec::new();
            let written = write_selection(&store, *id, &requires, &mut text, &mut fields);
            let selected = select(&store, *id, &requires);
            match (written, selected) {
                (Ok(true), Some(map)) => {
                    assert_eq!(text, serde_json::to_vec(&map).unwrap_or_default());
                    for (name, null) in fields {
                        assert_eq!(map.get(name).is_none_or(Value::is_null), null, "{name}");
                    }
                }
                (Ok(false), None) => {}
                _ => panic!("written and selected disagree on {object:?}"),
            }
        }
        // A name selected twice cannot be written in one pass.
        let twice = selections(json!([
            field("upc", json!([])),
            on("Product", json!([field("upc", json!([]))])),
        ]));
        let Some(Val::Object(first)) = objects.first() else {
            panic!("an object")
        };
        let written = write_selection(&store, *first, &twice, &mut Vec::new(), &mut Vec::new());
        assert!(matches!(written, Err(Twice)));
    }
}
