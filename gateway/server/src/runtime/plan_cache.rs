//! The caches of prepared operations (validated, normalized, planned) and of restricted plans,
//! sized by the memory they hold rather than by entries (`query_plan.cache_mb`): an operation
//! of ten fields and one of a thousand do not cost the same. And the warm-up: before a new
//! supergraph or configuration takes traffic, the most used operations of the cache being
//! replaced are prepared again against it (`query_plan.warm_up`), so a reload does not make
//! the next requests wait for planning.

use std::sync::Arc;
use std::time::Instant;

use moka::policy::EvictionPolicy;
use weft_config::model::QueryPlanConfig;
use weft_federation::operation::{Operation, Selection};
use weft_federation::plan::model::{PlanNode, QueryPlan};

use super::doorkeeper::Doorkeeper;
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
    // The schedule: a few bytes per wait (PER_PLAN_BYTE counts each byte's share of a node).
    let waits: usize = plan
        .schedule
        .as_ref()
        .map_or(0, |s| s.waits.iter().map(|w| 1 + w.len()).sum());
    plan.node.as_ref().map_or(0, walk) + waits * std::mem::size_of::<u32>()
}

fn capacity(mb: u32) -> u64 {
    u64::from(mb) * 1024 * 1024
}

/// The share of `query_plan.cache_mb` given to the window, as a divisor: 1/16 (2 MiB of the
/// default 32) holds the few dozen largest operations or thousands of small ones.
const WINDOW_DIVISOR: u64 = 16;

/// Documents the doorkeeper remembers per MiB of `query_plan.cache_mb` (8 bytes each: 8 KiB
/// per MiB, 256 KiB for the default), many more than the cache holds plans.
const SEEN_PER_MB: usize = 1024;

/// At most 2^20 of them (8 MiB): the table is allocated whole at start-up, where the cache
/// only grows as it fills, and `cache_mb` has no upper bound.
const MAX_SEEN: usize = 1 << 20;

/// The cache of prepared operations (`query_plan.cache_mb`).
pub type PreparedCache = TwoPartCache<Arc<Prepared>>;

/// A cache in two parts, as W-TinyLFU caches are: a small window that every newly planned
/// document enters, and the main part, for documents asked for more than once: found in the
/// window (a second request while it is there) or planned again after leaving it (the
/// doorkeeper remembers documents planned before). A stream of documents each sent once —
/// generated queries, values written into the text, a scan — churns the window only: it does
/// not push the documents in use out of the main part, and the memory it takes is the
/// window's, reused while it is still in the processor's caches, not the whole cache's
/// (docs/decisions.md, "A window before the plan cache").
pub struct TwoPartCache<V> {
    main: moka::sync::Cache<CacheKey, V>,
    window: moka::sync::Cache<CacheKey, V>,
    /// The window's capacity, in the weigher's bytes.
    window_bytes: u64,
    weigh: fn(&V) -> u32,
    seen: Doorkeeper,
}

impl PreparedCache {
    pub fn new(config: &QueryPlanConfig) -> PreparedCache {
        TwoPartCache::with_capacity(config.cache_mb.get(), |p: &Arc<Prepared>| p.weight())
    }
}

impl<V: Clone + Send + Sync + 'static> TwoPartCache<V> {
    /// `mb` MiB in all, entries weighed in bytes by `weigh`.
    fn with_capacity(mb: u32, weigh: fn(&V) -> u32) -> TwoPartCache<V> {
        let total = capacity(mb);
        let window = total / WINDOW_DIVISOR;
        let part = |bytes: u64, policy: EvictionPolicy| {
            moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(move |_, v: &V| weigh(v))
                .eviction_policy(policy)
                .build()
        };
        TwoPartCache {
            // The main part admits by frequency (moka's TinyLFU); the window by recency
            // alone: a new document must get in, to be found by its second request.
            main: part(total - window, EvictionPolicy::tiny_lfu()),
            window: part(window, EvictionPolicy::lru()),
            window_bytes: window,
            weigh,
            seen: Doorkeeper::new((mb as usize).saturating_mul(SEEN_PER_MB).min(MAX_SEEN)),
        }
    }

    /// The entry under `key`. Found in the window, it is asked for a second time: it moves
    /// to the main part.
    pub fn get(&self, key: &CacheKey) -> Option<V> {
        if let Some(hit) = self.main.get(key) {
            return Some(hit);
        }
        match self.window.remove(key) {
            Some(hit) => {
                self.seen.check_and_mark(key_hash(key));
                self.main.insert(key.clone(), hit.clone());
                Some(hit)
            }
            // Another request may have just moved it.
            None => self.main.get(key),
        }
    }

    /// Caches a newly planned entry: in the main part if it was planned before, or if it is
    /// larger than the whole window (it could never be found there); else in the window.
    pub fn insert(&self, key: CacheKey, value: V) {
        let seen = self.seen.check_and_mark(key_hash(&key));
        if seen || u64::from((self.weigh)(&value)) > self.window_bytes {
            self.main.insert(key, value);
        } else {
            self.window.insert(key, value);
        }
    }

    /// Caches an entry known to be in use (a warm-up's: it was used under the replaced
    /// schema) in the main part.
    pub fn admit(&self, key: CacheKey, value: V) {
        self.seen.check_and_mark(key_hash(&key));
        self.main.insert(key, value);
    }

    /// Every entry, both parts.
    pub fn iter(&self) -> impl Iterator<Item = (Arc<CacheKey>, V)> + '_ {
        self.main.iter().chain(self.window.iter())
    }

    /// Runs the parts' pending evictions now (moka applies them lazily).
    #[cfg(test)]
    fn settle(&self) {
        self.main.run_pending_tasks();
        self.window.run_pending_tasks();
    }
}

/// A hash of the whole key (document, operation name, override labels) for the doorkeeper.
fn key_hash(key: &CacheKey) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key)
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
                new.prepared.admit(key.as_ref().clone(), Arc::new(prepared));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> CacheKey {
        (n, None, Vec::new())
    }

    /// 1 MiB in all: a 64 KiB window; entries of 16 KiB (four fit in the window).
    fn cache() -> TwoPartCache<u32> {
        TwoPartCache::with_capacity(1, |w: &u32| *w)
    }

    const ENTRY: u32 = 16 * 1024;

    /// A stream of one-off documents, `keys`, each planned once.
    fn flood(cache: &TwoPartCache<u32>, keys: std::ops::Range<u64>) {
        for n in keys {
            cache.insert(key(n), ENTRY);
            cache.settle();
        }
    }

    #[test]
    fn the_second_request_hits_and_moves_the_entry_to_the_main_part() {
        let cache = cache();
        cache.insert(key(1), ENTRY);
        assert_eq!(cache.get(&key(1)), Some(ENTRY), "found in the window");
        // A flood of one-off documents churns the window, not the main part.
        flood(&cache, 100..200);
        assert_eq!(cache.get(&key(1)), Some(ENTRY), "kept in the main part");
        let kept = cache.iter().filter(|(k, _)| k.0 >= 100).count();
        assert!(
            kept <= 4,
            "{kept} one-off entries kept: more than the window holds"
        );
    }

    #[test]
    fn a_document_planned_again_after_leaving_the_window_goes_to_the_main_part() {
        let cache = cache();
        cache.insert(key(1), ENTRY);
        flood(&cache, 100..200);
        assert_eq!(cache.get(&key(1)), None, "pushed out of the window");
        // Planned again: the doorkeeper remembers it.
        cache.insert(key(1), ENTRY);
        flood(&cache, 200..300);
        assert_eq!(cache.get(&key(1)), Some(ENTRY));
    }

    #[test]
    fn an_entry_larger_than_the_window_goes_to_the_main_part_at_once() {
        let cache = cache();
        // 64 KiB is the whole window: an entry one byte larger could never be found there.
        cache.insert(key(1), 64 * 1024 + 1);
        cache.settle();
        assert_eq!(cache.get(&key(1)), Some(64 * 1024 + 1));
        flood(&cache, 100..200);
        assert_eq!(
            cache.get(&key(1)),
            Some(64 * 1024 + 1),
            "kept in the main part"
        );
    }

    #[test]
    fn the_doorkeeper_is_bounded_however_large_the_cache() {
        let cache: TwoPartCache<u32> = TwoPartCache::with_capacity(u32::MAX, |w: &u32| *w);
        cache.insert(key(1), ENTRY);
        assert_eq!(cache.get(&key(1)), Some(ENTRY));
    }

    #[test]
    fn warmed_up_entries_go_to_the_main_part() {
        let cache = cache();
        cache.admit(key(1), ENTRY);
        flood(&cache, 100..200);
        assert_eq!(cache.get(&key(1)), Some(ENTRY));
        assert!(cache.iter().any(|(k, _)| k.0 == 1));
    }
}
