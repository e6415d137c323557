//! Incremental delivery (`@defer`): the primary part's fetches run first and the part is
//! handed over as soon as they are done; then every deferred fragment's fetches run at once,
//! each part handed over when its own fetches are done (a fast fragment never waits for a
//! slow one), and a fragment inside another starts once that one's part is out.
//!
//! The parts share one store: each part's fetches read the objects the earlier parts put
//! there. They run concurrently in this one task, so the store is behind a lock that is only
//! taken between awaits (preparing a fetch, merging its answer): never contended.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use serde_json::{Map, Value};
use weft_federation::plan::model::{DeferredNode, PlanNode, QueryPlan};

use super::{Executor, Output, Request};
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

    fn run_with(&self, part: Option<u32>) -> impl Iterator<Item = &'p DeferredNode> + '_ {
        let deferred = self.deferred;
        self.run_with
            .get(&part)
            .into_iter()
            .flatten()
            .map(move |&i| &deferred[i])
    }

    fn next_after(&self, part: Option<u32>) -> impl Iterator<Item = &'p DeferredNode> + '_ {
        let deferred = self.deferred;
        self.next_after
            .get(&part)
            .into_iter()
            .flatten()
            .map(move |&i| &deferred[i])
    }
}

impl Executor {
    /// Runs `plan` part by part, calling `ready` with each part as soon as its fetches are
    /// done: `None` for the primary part (first), then each deferred fragment's id, and
    /// whether more parts follow. `ready` sees the whole output so far (the data of every
    /// part done, and the errors not yet taken). A plan without a `Defer` node is one part.
    pub async fn execute_incremental(
        &self,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        headers: &http::HeaderMap,
        forwarded: &Forwarded,
        ready: &mut (dyn FnMut(Option<u32>, bool, &mut Output) + Send),
    ) {
        let mut out = Output {
            data: Store::new(),
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
            return;
        };
        let parts = Parts::of(plan, variables);
        if let Some(node) = &primary.node {
            self.run(node, request, &mut out).await;
        }
        for d in parts.run_with(None) {
            if let Some(node) = &d.node {
                self.run(node, request, &mut out).await;
            }
        }
        let shared = Mutex::new(out);
        let mut running = FuturesUnordered::new();
        for d in parts.next_after(None) {
            running.push(self.run_part(d.id, &parts, request, &shared));
        }
        if let Ok(mut out) = shared.lock() {
            ready(None, !running.is_empty(), &mut out);
        }
        while let Some(id) = running.next().await {
            for d in parts.next_after(Some(id)) {
                running.push(self.run_part(d.id, &parts, request, &shared));
            }
            if let Ok(mut out) = shared.lock() {
                ready(Some(id), !running.is_empty(), &mut out);
            }
        }
    }

    /// The fetches of deferred part `id`; returns `id` once they are done.
    async fn run_part<'a>(
        &'a self,
        id: u32,
        parts: &'a Parts<'a>,
        request: Request<'a>,
        out: &'a Mutex<Output>,
    ) -> u32 {
        for d in parts.run_with(Some(id)) {
            if let Some(node) = &d.node {
                self.run_shared(node, request, out).await;
            }
        }
        id
    }

    /// [`Executor::run`] over an output other parts share: the lock is taken to prepare
    /// fetches and to merge answers, never across a request.
    fn run_shared<'a>(
        &'a self,
        node: &'a PlanNode,
        request: Request<'a>,
        out: &'a Mutex<Output>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match node {
                PlanNode::Sequence { nodes } => {
                    for n in nodes {
                        self.run_shared(n, request, out).await;
                    }
                }
                PlanNode::Parallel { nodes } => {
                    let mut jobs = Vec::new();
                    let mut nested = Vec::new();
                    if let Ok(mut out) = out.lock() {
                        for n in nodes {
                            match self.job(n, request, &mut out.data) {
                                Some(job) => jobs.extend(job),
                                None => nested.push(n),
                            }
                        }
                    }
                    self.run_shared_jobs(jobs, request, out).await;
                    for n in nested {
                        self.run_shared(n, request, out).await;
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
                        self.run_shared(n, request, out).await;
                    }
                }
                PlanNode::Fetch(_) | PlanNode::Flatten(_) | PlanNode::BatchFetch(_) => {
                    let job = match out.lock() {
                        Ok(mut out) => self.job(node, request, &mut out.data).flatten(),
                        Err(_) => None,
                    };
                    self.run_shared_jobs(job.into_iter().collect(), request, out)
                        .await;
                }
                // Only ever the top node: not nested in a part.
                PlanNode::Defer { .. } => {}
            }
        })
    }

    async fn run_shared_jobs(
        &self,
        mut jobs: Vec<super::merged::Job<'_>>,
        request: Request<'_>,
        out: &Mutex<Output>,
    ) {
        if jobs.is_empty() {
            return;
        }
        let responses = self.send_jobs(&mut jobs, request).await;
        if let Ok(mut out) = out.lock() {
            self.merge_jobs(&jobs, responses, request, &mut out);
        }
    }
}
