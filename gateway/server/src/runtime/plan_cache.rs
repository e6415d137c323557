//! The caches of prepared operations (validated, normalized, planned) and of restricted plans,
//! sized by the memory they hold rather than by entries (`query_plan.cache_mb`): an operation
//! of ten fields and one of a thousand do not cost the same. And the warm-up: before a new
//! supergraph or configuration takes traffic, the most used operations of the cache being
//! replaced are prepared again against it (`query_plan.warm_up`), so a reload does not make
//! the next requests wait for planning.

use std::sync::Arc;
use std::time::Instant;

use weft_config::model::QueryPlanConfig;
use weft_federation::operation::{Operation, Selection};
use weft_federation::plan::model::{PlanNode, QueryPlan};

use super::pipeline;
use super::{CacheKey, Prepared, Restricted, SchemaRuntime};

/// Memory held besides what grows with the operation: the entry, its key, the counters.
const FIXED_BYTES: usize = 1024;

/// Bytes per selection (field or inline fragment) of the normalized operation: its names,
/// arguments, directives and the vectors that hold them. Measured by
/// `tests/plan_cache_weight.rs`: 400-1,000 per field, lower for many alike.
const PER_SELECTION: usize = 420;

/// Bytes per byte of the subgraph operations a plan sends: their text, the fetch nodes, the
/// paths and what they require (measured: 5-8).
const PER_PLAN_BYTE: usize = 6;

/// Bytes per significant character held by the validated document, which is kept only for
/// operations that ask for introspection (`Prepared::introspection`; measured: 25-55).
const PER_DOCUMENT_CHAR: usize = 35;

/// What the process holds for a cached operation, per byte the operation itself holds: the
/// allocator's size classes, and pages that a churning cache leaves partly used. Measured on
/// the public benchmark's distinct-document load: 4 -> 32 -> 64 MiB of budget weighed by live
/// bytes added 41 and 89 MiB of RSS (1.45-1.48x). As a ratio, in halves: 3/2.
const PROCESS_PER_LIVE_BYTE: (usize, usize) = (3, 2);

/// The weight of a prepared operation in the cache, in bytes of the process's memory: its
/// [`live_bytes`] and what the allocator holds around them. Saturates at `u32::MAX`, which no
/// cache of 4 GiB or less keeps.
pub fn operation_weight(
    query: &str,
    operation: &Operation,
    plan: &QueryPlan,
    keeps_document: bool,
) -> u32 {
    held_by_process(live_bytes(query, operation, plan, keeps_document))
}

/// `live` bytes as the process's memory, saturating at `u32::MAX`.
fn held_by_process(live: usize) -> u32 {
    let (num, den) = PROCESS_PER_LIVE_BYTE;
    u32::try_from(live.saturating_mul(num) / den).unwrap_or(u32::MAX)
}

/// An estimate of the bytes a prepared operation holds live: its text, what its normalized
/// operation and its plan's subgraph operations grow with, and, when `keeps_document`, the
/// validated document (grows with the document's significant characters: whitespace and
/// commas make no nodes). Linear in the operation; `tests/plan_cache_weight.rs` keeps it
/// within a third of what dhat counts.
pub fn live_bytes(
    query: &str,
    operation: &Operation,
    plan: &QueryPlan,
    keeps_document: bool,
) -> usize {
    let document = if keeps_document {
        query
            .bytes()
            .filter(|b| !b.is_ascii_whitespace() && *b != b',')
            .count()
            .saturating_mul(PER_DOCUMENT_CHAR)
    } else {
        0
    };
    FIXED_BYTES
        .saturating_add(query.len())
        .saturating_add(selections(operation).saturating_mul(PER_SELECTION))
        .saturating_add(plan_bytes(plan).saturating_mul(PER_PLAN_BYTE))
        .saturating_add(document)
}

/// The selections of `operation`, at every depth (a stack, not recursion: no depth is too
/// deep to count).
fn selections(operation: &Operation) -> usize {
    let mut count = 0;
    let mut sets = vec![&operation.selection_set];
    while let Some(set) = sets.pop() {
        count += set.items.len();
        for item in &set.items {
            match item {
                Selection::Field(f) => sets.extend(f.selection_set.as_ref()),
                Selection::InlineFragment(i) => sets.push(&i.selection_set),
            }
        }
    }
    count
}

/// The text of every subgraph operation in `plan` (a batch's members' own too: they are kept).
fn plan_bytes(plan: &QueryPlan) -> usize {
    fn walk(node: &PlanNode) -> usize {
        match node {
            PlanNode::Fetch(f) => f.operation.len(),
            PlanNode::BatchFetch(b) => {
                b.operation.len()
                    + b.entities
                        .iter()
                        .map(|e| e.fetch.operation.len())
                        .sum::<usize>()
            }
            PlanNode::Flatten(f) => walk(&f.node),
            PlanNode::Sequence { nodes } | PlanNode::Parallel { nodes } => {
                nodes.iter().map(walk).sum()
            }
            PlanNode::Condition {
                if_clause,
                else_clause,
                ..
            } => [if_clause, else_clause]
                .into_iter()
                .flatten()
                .map(|n| walk(n))
                .sum(),
            PlanNode::Defer { primary, deferred } => primary
                .node
                .iter()
                .chain(deferred.iter().filter_map(|d| d.node.as_ref()))
                .map(|n| walk(n))
                .sum(),
            PlanNode::Subscription { primary, rest } => {
                primary.operation.len() + rest.as_deref().map_or(0, walk)
            }
        }
    }
    plan.node.as_ref().map_or(0, walk)
}

fn capacity(mb: u32) -> u64 {
    u64::from(mb) * 1024 * 1024
}

/// The cache of prepared operations: `query_plan.cache_mb`.
pub fn prepared(config: &QueryPlanConfig) -> moka::sync::Cache<CacheKey, Arc<Prepared>> {
    moka::sync::Cache::builder()
        .max_capacity(capacity(config.cache_mb.get()))
        .weigher(|_, p: &Arc<Prepared>| p.weight())
        .build()
}

/// The cache of restricted plans: a quarter of `query_plan.cache_mb` (a plan without the
/// document it came from).
pub fn restricted(
    config: &QueryPlanConfig,
) -> moka::sync::Cache<(CacheKey, Vec<Vec<String>>), Arc<Restricted>> {
    moka::sync::Cache::builder()
        .max_capacity(capacity(config.cache_mb.get()) / 4)
        .weigher(|_, r: &Arc<Restricted>| {
            held_by_process(FIXED_BYTES + plan_bytes(&r.plan).saturating_mul(PER_PLAN_BYTE))
        })
        .build()
}

/// What a warm-up did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WarmUp {
    /// Operations in the cache being replaced.
    pub cached: usize,
    /// Operations prepared again and put in the new cache.
    pub prepared: usize,
    /// Operations the new schema or configuration refuses (they would be refused anyway).
    pub refused: usize,
}

/// Prepares the `new` runtime's share (`query_plan.warm_up`) of `old`'s cached operations,
/// most used first, with the override labels each was cached with. Blocking: call it where
/// the new runtime is built, off the async threads, before it takes traffic.
pub fn warm_up(old: &SchemaRuntime, new: &SchemaRuntime) -> WarmUp {
    let share = new.config.query_plan.warm_up.get();
    let mut hot: Vec<(Arc<CacheKey>, Arc<Prepared>)> = old.prepared.iter().collect();
    let mut done = WarmUp {
        cached: hot.len(),
        ..WarmUp::default()
    };
    if share <= 0.0 || hot.is_empty() {
        return done;
    }
    hot.sort_by_key(|(_, p)| std::cmp::Reverse(p.hits()));
    let take = ((hot.len() as f64) * share).ceil() as usize;
    let started = Instant::now();
    for (key, old_prepared) in hot.into_iter().take(take) {
        let (_, operation_name, labels) = key.as_ref();
        let labels = labels.iter().cloned().collect();
        match pipeline::build(new, &old_prepared.query, operation_name.as_deref(), &labels) {
            Ok(prepared) => {
                // The same text, name and labels: the same key in the new cache.
                new.prepared
                    .insert(key.as_ref().clone(), Arc::new(prepared));
                done.prepared += 1;
            }
            Err(_) => done.refused += 1,
        }
    }
    tracing::info!(
        cached = done.cached,
        prepared = done.prepared,
        refused = done.refused,
        ms = started.elapsed().as_millis() as u64,
        "plan cache warmed up before taking traffic"
    );
    done
}
