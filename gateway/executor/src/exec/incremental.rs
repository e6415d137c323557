//! Incremental delivery (`@defer`): the primary part is handed over as soon as its fetches
//! are done; each deferred fragment's fetches start as soon as the fetches they start from
//! are done (often the primary part's first), and its part is handed over when its own are
//! (a fast fragment never waits for a slow one; none before the primary part); a fragment
//! inside another starts once that one's part is out.
//!
//! The parts share one store: each part's fetches read the objects the earlier parts put
//! there. They run concurrently in this one task, so the store is behind a lock that is only
//! taken between awaits (preparing a fetch, merging its answer): never contended. Each part
//! keeps the errors its own fetches met.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use futures::StreamExt;
use futures::future::{self, BoxFuture, Either};
use futures::stream::FuturesUnordered;
use serde_json::{Map, Value};
use tokio::sync::watch;
use weft_federation::plan::model::{DeferredNode, PlanNode, QueryPlan};

use super::{Executor, Output, Request};
use crate::error::ResponseError;
use crate::forwarded::Forwarded;
use crate::store::Store;

/// Which deferred fragments are deferred in one request (`@defer(if: $v)`), and the part
/// each one's fields come in. Worked out once per request, in time linear in the fragments.
pub struct Parts<'p> {
    deferred: &'p [DeferredNode],
    /// By position in `deferred`: the part its fields come in (itself when deferred; `None`:
    /// the primary part).
    owner: Vec<Option<u32>>,
    /// By part (`None`: the primary): the positions of the fragments whose fetches run with
    /// it (its own first, then the ones inside it not deferred this time), parents first.
    run_with: HashMap<Option<u32>, Vec<usize>>,
    /// By part: the positions of the deferred fragments whose parts start once it is out.
    next_after: HashMap<Option<u32>, Vec<usize>>,
}

impl<'p> Parts<'p> {
    /// The parts of `plan` for these variables (none when the plan has no `Defer` node).
    pub fn of(plan: &'p QueryPlan, variables: &Map<String, Value>) -> Parts<'p> {
        let deferred: &[DeferredNode] = match &plan.node {
            Some(PlanNode::Defer { deferred, .. }) => deferred,
            _ => &[],
        };
        let mut owner_of: HashMap<u32, Option<u32>> = HashMap::new();
        let mut parts = Parts {
            deferred,
            owner: Vec::with_capacity(deferred.len()),
            run_with: HashMap::new(),
            next_after: HashMap::new(),
        };
        // Parents come before the fragments inside them (ids in document order).
        for (i, d) in deferred.iter().enumerate() {
            let active = d
                .condition
                .as_ref()
                .is_none_or(|v| variables.get(v).and_then(Value::as_bool) == Some(true));
            let parent_part = d.parent.and_then(|p| owner_of.get(&p).copied().flatten());
            let owner = if active { Some(d.id) } else { parent_part };
            owner_of.insert(d.id, owner);
            parts.owner.push(owner);
            parts.run_with.entry(owner).or_default().push(i);
            if active {
                parts.next_after.entry(parent_part).or_default().push(i);
            }
        }
        parts
    }

    /// The deferred fragments that come in parts of their own, in id order.
    pub fn deferred(&self) -> impl Iterator<Item = &'p DeferredNode> + '_ {
        self.deferred
            .iter()
            .zip(&self.owner)
            .filter(|(d, owner)| **owner == Some(d.id))
            .map(|(d, _)| d)
    }

    /// The fragments whose fetches run with part `part` (`None`: the primary).
    fn run_with(&self, part: Option<u32>) -> impl Iterator<Item = &'p DeferredNode> + '_ {
        let deferred = self.deferred;
        self.run_with
            .get(&part)
            .into_iter()
            .flatten()
            .map(move |&i| &deferred[i])
    }

    /// The deferred fragments whose parts start once part `part` is out.
    fn next_after(&self, part: Option<u32>) -> impl Iterator<Item = &'p DeferredNode> + '_ {
        let deferred = self.deferred;
        self.next_after
            .get(&part)
            .into_iter()
            .flatten()
            .map(move |&i| &deferred[i])
    }
}

/// What has run so far: the fetches done (by plan id), and whether the primary part's fetches
/// are all done. Deferred parts wait on it for the fetches they start from.
#[derive(Default)]
struct Done {
    fetches: HashSet<u32>,
    primary: bool,
}

/// A part whose fetches are done: its id (`None`: the primary) and the errors they met.
type Finished = (Option<u32>, Vec<ResponseError>);

/// What the concurrent runs of one execution share.
struct Shared<'a> {
    out: Mutex<Output>,
    done: watch::Sender<Done>,
    parts: Parts<'a>,
}

impl Executor {
    /// Runs `plan` part by part, calling `ready` with each part as soon as it may go out: `None`
    /// for the primary part (first), then each deferred fragment's id, and whether more parts
    /// follow. `ready` sees the whole output so far (the data of every part done) and this
    /// part's errors. A plan without a `Defer` node is one part. Returns the output in the
    /// end (the errors `ready` left in it).
    ///
    /// The primary part's fetches run; each deferred part's start as soon as the fetches
    /// they start from (the plan's `depends`) are done, not when the whole primary part is;
    /// a part that finishes before the primary one waits for it, and a fragment inside a
    /// deferred one starts once that one's part is out.
    pub async fn execute_incremental(
        &self,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        headers: &http::HeaderMap,
        forwarded: &Forwarded,
        ready: &mut (dyn FnMut(Option<u32>, bool, &mut Output) + Send),
    ) -> Output {
        let mut out = Output {
            data: Store::for_plan(plan),
            errors: Vec::new(),
            timings: Vec::new(),
        };
        let request = Request {
            variables,
            headers,
            forwarded,
            clock: None,
        };
        let Some(PlanNode::Defer { primary, .. }) = &plan.node else {
            if let Some(node) = &plan.node {
                self.run(node, request, &mut out).await;
            }
            ready(None, false, &mut out);
            return out;
        };
        let state = Shared {
            out: Mutex::new(out),
            done: watch::channel(Done::default()).0,
            parts: Parts::of(plan, variables),
        };
        let shared = &state;
        let mut first = Box::pin(async move {
            let mut errors = Vec::new();
            if let Some(node) = &primary.node {
                self.run_shared(node, request, shared, &mut errors).await;
            }
            for d in shared.parts.run_with(None) {
                if let Some(node) = &d.node {
                    self.run_shared(node, request, shared, &mut errors).await;
                }
            }
            shared.done.send_modify(|done| done.primary = true);
            (None, errors)
        });
        let mut running = FuturesUnordered::new();
        for d in shared.parts.next_after(None) {
            running.push(self.run_part(d, request, shared));
        }
        // Parts done before the primary one, in the order they finished.
        let mut early: VecDeque<Finished> = VecDeque::new();
        let primary_done = loop {
            match future::select(&mut first, running.next()).await {
                Either::Left((done, _)) => break done,
                Either::Right((Some(done), _)) => early.push_back(done),
                Either::Right((None, _)) => break (&mut first).await,
            }
        };
        early.push_front(primary_done);
        loop {
            let next = match early.pop_front() {
                Some(done) => Some(done),
                None => running.next().await,
            };
            let Some((part, errors)) = next else {
                break;
            };
            // The parts after the primary one were started at once (they wait for their
            // inputs); those inside a deferred fragment start once its part is out.
            if part.is_some() {
                for d in shared.parts.next_after(part) {
                    running.push(self.run_part(d, request, shared));
                }
            }
            if let Ok(mut out) = shared.out.lock() {
                out.errors = errors;
                ready(part, !early.is_empty() || !running.is_empty(), &mut out);
            }
        }
        drop((first, running));
        state
            .out
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The fetches of deferred part `d`, once the fetches it starts from are done.
    async fn run_part<'a>(
        &'a self,
        d: &'a DeferredNode,
        request: Request<'a>,
        shared: &'a Shared<'a>,
    ) -> Finished {
        let mut done = shared.done.subscribe();
        let _ = done
            .wait_for(|done| done.primary || d.depends.iter().all(|id| done.fetches.contains(id)))
            .await;
        let mut errors = Vec::new();
        for d in shared.parts.run_with(Some(d.id)) {
            if let Some(node) = &d.node {
                self.run_shared(node, request, shared, &mut errors).await;
            }
        }
        (Some(d.id), errors)
    }

    /// [`Executor::run`] over an output other parts share: the lock is taken to prepare
    /// fetches and to merge answers, never across a request. The errors the fetches meet go
    /// to `errors` (the part's own); each fetch done is told to the parts waiting for it.
    fn run_shared<'a>(
        &'a self,
        node: &'a PlanNode,
        request: Request<'a>,
        shared: &'a Shared<'a>,
        errors: &'a mut Vec<ResponseError>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match node {
                PlanNode::Sequence { nodes } => {
                    for n in nodes {
                        self.run_shared(n, request, shared, errors).await;
                    }
                }
                PlanNode::Parallel { nodes } => {
                    let mut jobs = Vec::new();
                    let mut leaves = Vec::new();
                    let mut nested = Vec::new();
                    if let Ok(mut out) = shared.out.lock() {
                        for n in nodes
                            .iter()
                            .filter_map(|n| super::chosen(n, request.variables))
                        {
                            match self.job(n, request, &mut out.data) {
                                Some(job) => {
                                    jobs.extend(job);
                                    leaves.push(n);
                                }
                                None => nested.push(n),
                            }
                        }
                    }
                    self.run_shared_jobs(jobs, request, shared, errors).await;
                    mark_done(shared, &leaves);
                    for n in nested {
                        self.run_shared(n, request, shared, errors).await;
                    }
                }
                PlanNode::Condition {
                    condition,
                    if_clause,
                    else_clause,
                } => {
                    let on = request
                        .variables
                        .get(condition)
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    if let Some(n) = if on { if_clause } else { else_clause } {
                        self.run_shared(n, request, shared, errors).await;
                    }
                }
                PlanNode::Fetch(_) | PlanNode::Flatten(_) | PlanNode::BatchFetch(_) => {
                    let jobs = match shared.out.lock() {
                        Ok(mut out) => self.job(node, request, &mut out.data).unwrap_or_default(),
                        Err(_) => Vec::new(),
                    };
                    self.run_shared_jobs(jobs, request, shared, errors).await;
                    mark_done(shared, &[node]);
                }
                // Only ever the top node: not nested in a part.
                PlanNode::Defer { .. } | PlanNode::Subscription { .. } => {}
            }
        })
    }

    async fn run_shared_jobs(
        &self,
        mut jobs: Vec<super::merged::Job<'_>>,
        request: Request<'_>,
        shared: &Shared<'_>,
        errors: &mut Vec<ResponseError>,
    ) {
        if jobs.is_empty() {
            return;
        }
        let responses = self.send_jobs(&mut jobs, request).await;
        if let Ok(mut out) = shared.out.lock() {
            let before = out.errors.len();
            self.merge_jobs(&jobs, responses, request, &mut out);
            errors.extend(out.errors.drain(before..));
        }
    }
}

/// Tells the waiting parts that the fetches of `leaves` are done.
fn mark_done(shared: &Shared<'_>, leaves: &[&PlanNode]) {
    fn ids(node: &PlanNode, out: &mut Vec<u32>) {
        match node {
            PlanNode::Fetch(f) => out.extend(f.id),
            PlanNode::Flatten(f) => ids(&f.node, out),
            PlanNode::BatchFetch(b) => {
                out.extend(b.id);
                out.extend(b.entities.iter().filter_map(|e| e.fetch.id));
            }
            _ => {}
        }
    }
    let mut done = Vec::new();
    for leaf in leaves {
        ids(leaf, &mut done);
    }
    if !done.is_empty() {
        shared
            .done
            .send_modify(|d| d.fetches.extend(done.iter().copied()));
    }
}
