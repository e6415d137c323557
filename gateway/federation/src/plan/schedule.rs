//! When each fetch of a plan may start (docs/decisions.md, "Fetches start when their data is
//! there"). A plan is emitted as levels — a `Sequence` of `Parallel` groups — and run level by
//! level, a fetch waits for every fetch of the levels before it, even those that write
//! nowhere near the objects it reads: one slow subgraph holds back work that does not need
//! its answer. The schedule says, for each fetch, which earlier fetches it may read from;
//! the engine starts a fetch as soon as those are merged.
//!
//! An entity fetch reads, in the objects at its path, the fields its representations are made
//! of (keys, `@requires`) and whatever is under them; it writes the response keys it selects
//! into those objects. A root fetch reads nothing, but
//! its root fields count as read too, so that two fetches writing the same one keep the
//! plan's order. Fetch `b` waits for an earlier
//! fetch `a` when one of `a`'s written places and one of `b`'s paths are prefixes of one
//! another (type conditions left out: they only narrow which objects are reached). That is
//! conservative: when a fetch's keys cannot be read from its operation, its whole path counts
//! as written. Fetches of one level never wait for each other (the planner put them side by
//! side). Plans with conditions, `@fromContext` arguments (which read ancestors' fields), a
//! mutation (whose root fields run in order), `@defer` or a subscription get no schedule and
//! run level by level.

use super::model::{FetchNode, OperationKind, PlanNode, Selection as RequiredSelection};
use super::response_keys::written_keys;

const TYPENAME: &str = "__typename";

/// Above this many comparisons of a read place with an earlier written place, no schedule:
/// an operation of thousands of fields (aliases) would otherwise cost planning time growing
/// with their square. A plan of ordinary size makes a few hundred or thousand.
const MAX_COMPARISONS: usize = 1 << 16;

/// Above this many fetches, no schedule: its waits (and the work of finding them) grow with
/// the square of the fetches, so a plan this large runs level by level as before. At most
/// 128 × 127 / 2 waits: 32 KiB.
const MAX_FETCHES: usize = 128;

/// For each fetch of the plan, in the order [`leaves`] gives them, the earlier fetches it
/// waits for (their indices in that order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub waits: Vec<Vec<u32>>,
}

impl Schedule {
    /// The schedule of `node`, when it is a sequence of two or more levels of plain fetches
    /// (see the module's documentation); `None` otherwise.
    pub fn of(node: &PlanNode) -> Option<Schedule> {
        let levels = levels(node)?;
        let count: usize = levels.iter().map(Vec::len).sum();
        if levels.len() < 2 || count > MAX_FETCHES {
            return None;
        }
        let levels: Vec<Vec<Access>> = levels
            .iter()
            .map(|level| level.iter().map(|n| access(n)).collect::<Option<_>>())
            .collect::<Option<_>>()?;
        // Each read place is compared with each earlier written place: the count grows with
        // the square of the operation's fields, so it is bounded (linear work to count).
        let mut written = 0usize;
        let mut comparisons = 0usize;
        for level in &levels {
            let reads: usize = level.iter().map(|a| a.reads.len()).sum();
            comparisons = comparisons.saturating_add(reads.saturating_mul(written));
            written += level.iter().map(|a| a.writes.len()).sum::<usize>();
        }
        if comparisons > MAX_COMPARISONS {
            return None;
        }
        let mut done: Vec<&Access> = Vec::with_capacity(count);
        let mut waits = Vec::with_capacity(count);
        for level in &levels {
            for fetch in level {
                let on: Vec<u32> = (0..done.len())
                    .filter(|&j| done[j].writes_under(&fetch.reads))
                    .map(|j| j as u32)
                    .collect();
                waits.push(on);
            }
            done.extend(level);
        }
        Some(Schedule { waits })
    }
}

/// The fetches of a plan [`Schedule::of`] gives a schedule for, levels in order and each
/// level's in order.
pub fn leaves(node: &PlanNode) -> Vec<&PlanNode> {
    levels(node).into_iter().flatten().flatten().collect()
}

/// The plan's levels, when it is a `Sequence` whose items are fetches or `Parallel` groups of
/// fetches.
fn levels(node: &PlanNode) -> Option<Vec<Vec<&PlanNode>>> {
    let PlanNode::Sequence { nodes } = node else {
        return None;
    };
    nodes
        .iter()
        .map(|item| match item {
            PlanNode::Parallel { nodes } => nodes
                .iter()
                .map(|n| is_fetch(n).then_some(n))
                .collect::<Option<Vec<_>>>(),
            n => is_fetch(n).then(|| vec![n]),
        })
        .collect()
}

fn is_fetch(node: &PlanNode) -> bool {
    match node {
        PlanNode::Fetch(_) | PlanNode::BatchFetch(_) => true,
        PlanNode::Flatten(f) => matches!(*f.node, PlanNode::Fetch(_)),
        _ => false,
    }
}

/// Where one fetch reads and writes, as paths of response keys (borrowed from the plan).
struct Access<'p> {
    reads: Vec<Vec<&'p str>>,
    writes: Vec<Vec<&'p str>>,
}

impl Access<'_> {
    /// Whether something this fetch writes is on the way to, or under, one of `reads`.
    fn writes_under(&self, reads: &[Vec<&str>]) -> bool {
        self.writes
            .iter()
            .any(|w| reads.iter().any(|r| prefixed(w, r)))
    }
}

/// Whether one of `a` and `b` is a prefix of the other.
fn prefixed(a: &[&str], b: &[&str]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// `path` and then `key`.
fn under<'p>(path: &[&'p str], key: &'p str) -> Vec<&'p str> {
    let mut p = Vec::with_capacity(path.len() + 1);
    p.extend_from_slice(path);
    p.push(key);
    p
}

/// A fetch's accesses; `None` when it cannot be scheduled (see the module's documentation).
fn access(node: &PlanNode) -> Option<Access<'_>> {
    let members: Vec<(&[String], &FetchNode)> = match node {
        PlanNode::Fetch(f) => vec![(&[][..], f)],
        PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
            PlanNode::Fetch(f) => vec![(&flatten.path[..], f)],
            _ => return None,
        },
        PlanNode::BatchFetch(b) => b.entities.iter().map(|e| (&e.path[..], &e.fetch)).collect(),
        _ => return None,
    };
    let mut access = Access {
        reads: Vec::new(),
        writes: Vec::new(),
    };
    for (path, fetch) in members {
        if fetch.operation_kind != OperationKind::Query || !fetch.context_rewrites.is_empty() {
            return None;
        }
        // Type conditions are left out of the path; the `__typename` each one is checked
        // against is read (an `@interfaceObject` fetch may have written it).
        let mut kept: Vec<&str> = Vec::with_capacity(path.len());
        for segment in path {
            if segment.starts_with("... on ") {
                access.reads.push(under(&kept, TYPENAME));
            } else {
                kept.push(segment);
            }
        }
        let path = kept;
        let entity = !fetch.requires.is_empty();
        let writes: Vec<Vec<&str>> = match written_keys(&fetch.operation, entity) {
            Some(keys) => keys.into_iter().map(|k| under(&path, k)).collect(),
            None => vec![path.clone()],
        };
        // An entity fetch reads the fields its representations are made of, in the objects
        // at its path; a root fetch reads nothing, but goes after an earlier one writing the
        // same root fields, as in the plan.
        if entity {
            // The representation's `__typename` picks its fragments.
            let mut keys = vec![TYPENAME];
            required_keys(&fetch.requires, &mut keys);
            access
                .reads
                .extend(keys.into_iter().map(|k| under(&path, k)));
        } else if path.is_empty() {
            access.reads.extend(writes.iter().cloned());
        } else {
            access.reads.push(path);
        }
        access.writes.extend(writes);
    }
    Some(access)
}

/// The response keys a representation reads at the top of its object (what is under them is
/// theirs), through type conditions.
fn required_keys<'s>(requires: &'s [RequiredSelection], keys: &mut Vec<&'s str>) {
    for s in requires {
        match s {
            RequiredSelection::Field { name, alias, .. } => {
                keys.push(alias.as_deref().unwrap_or(name));
            }
            RequiredSelection::InlineFragment { selections, .. } => {
                required_keys(selections, keys);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(fixture: &str, query: &str) -> (Vec<String>, Option<Schedule>) {
        let plan = super::super::tests::planned(fixture, query, &[]);
        let node = plan.node.as_ref().expect("a plan");
        let names = leaves(node)
            .into_iter()
            .map(|n| match n {
                PlanNode::Fetch(f) => format!("{}@", f.subgraph),
                PlanNode::Flatten(f) => match f.node.as_ref() {
                    PlanNode::Fetch(x) => format!("{}@{}", x.subgraph, f.path.join(".")),
                    _ => unreachable!(),
                },
                PlanNode::BatchFetch(b) => format!("{}@batch", b.subgraph),
                _ => unreachable!(),
            })
            .collect();
        (names, Schedule::of(node))
    }

    #[test]
    fn a_fetch_waits_only_for_the_fetches_that_write_where_it_reads() {
        let (names, s) = schedule(
            "reference",
            "{ me { username reviews { body product { name inStock } } } \
               topProducts { name inStock reviews { body author { username } } } }",
        );
        assert_eq!(
            names,
            [
                "accounts@",
                "products@",
                "reviews@batch",
                "inventory@topProducts.@",
                "products@me.reviews.@.product",
                "inventory@me.reviews.@.product",
                "accounts@topProducts.@.reviews.@.author",
            ]
        );
        let waits: Vec<Vec<u32>> = vec![
            vec![],
            vec![],
            // Reviews of `me` and of the top products: both root fetches.
            vec![0, 1],
            // The top products' stock: not `me`'s fetch.
            vec![1],
            // Under `me`'s reviews: `me`, then the reviews.
            vec![0, 2],
            vec![0, 2],
            // The top products' review authors: not held back by their stock.
            vec![1, 2],
        ];
        assert_eq!(s, Some(Schedule { waits }));
    }

    #[test]
    fn plans_that_are_not_levels_of_plain_queries_get_none() {
        // One level: nothing to gain.
        assert_eq!(schedule("reference", "{ me { username } }").1, None);
        // A mutation's root fields run in order.
        let (_, s) = schedule(
            "reference",
            "mutation { renameProduct(upc: \"1\", name: \"n\") { name reviews { body } } }",
        );
        assert_eq!(s, None);
        // A condition: run level by level.
        let (_, s) = schedule(
            "reference",
            "query($a: Boolean!) { me { username reviews @include(if: $a) { body } } }",
        );
        assert_eq!(s, None);
    }

    /// A fetch sending `operation`, with representations of `requires` when there are some.
    fn fetch_of(operation: &str, requires: &[&str]) -> FetchNode {
        FetchNode {
            subgraph: "a".to_owned(),
            graph: crate::supergraph::SubgraphId::none(),
            operation: operation.to_owned(),
            operation_kind: OperationKind::Query,
            variable_usages: Vec::new(),
            requires: requires
                .iter()
                .map(|name| RequiredSelection::Field {
                    name: (*name).to_owned(),
                    alias: None,
                    selections: Vec::new(),
                })
                .collect(),
            key_fields: Vec::new(),
            input_rewrites: Vec::new(),
            output_rewrites: Vec::new(),
            context_rewrites: Vec::new(),
            id: None,
        }
    }

    /// An entity fetch at `path` (`/` between elements).
    fn entity_at(path: &str, selected: &str, requires: &[&str]) -> PlanNode {
        PlanNode::Flatten(super::super::model::FlattenNode {
            path: path.split('/').map(str::to_owned).collect(),
            node: Box::new(PlanNode::Fetch(fetch_of(
                &format!(
                    "query($r: [_Any!]!) {{ _entities(representations: $r) {{ {selected} }} }}"
                ),
                requires,
            ))),
        })
    }

    #[test]
    fn a_type_condition_in_the_path_reads_the_typename_there() {
        let plan = |second: &str| PlanNode::Sequence {
            nodes: vec![
                PlanNode::Fetch(fetch_of("{ things { id } }", &[])),
                entity_at("things/@", second, &["id"]),
                entity_at(
                    "things/@/... on Book/author",
                    "... on Author { name }",
                    &["id"],
                ),
            ],
        };
        // An `@interfaceObject` fetch answering the concrete type: the third waits for it.
        let s = Schedule::of(&plan("... on Thing { __typename }")).expect("a schedule");
        assert_eq!(s.waits[2], [0, 1]);
        // A fetch writing a field beside `author`: not waited for.
        let s = Schedule::of(&plan("... on Thing { title }")).expect("a schedule");
        assert_eq!(s.waits[2], [0]);
        // One writing `author` itself: waited for.
        let s = Schedule::of(&plan("... on Book { author { id } }")).expect("a schedule");
        assert_eq!(s.waits[2], [0, 1]);
    }

    #[test]
    fn a_fetch_reads_only_the_fields_of_its_representations() {
        // Inventory under the products reads their `upc`, not the authors deeper down.
        let plan = PlanNode::Sequence {
            nodes: vec![
                PlanNode::Fetch(fetch_of(
                    "{ products { upc reviews { author { id } } } }",
                    &[],
                )),
                PlanNode::Parallel {
                    nodes: vec![
                        entity_at(
                            "products/@/reviews/@/author",
                            "... on User { name }",
                            &["id"],
                        ),
                        entity_at("products/@", "... on Product { price }", &["upc"]),
                    ],
                },
                entity_at(
                    "products/@",
                    "... on Product { inStock }",
                    &["upc", "price"],
                ),
            ],
        };
        let s = Schedule::of(&plan).expect("a schedule");
        assert_eq!(s.waits, [vec![], vec![0], vec![0], vec![0, 2]]);
    }

    #[test]
    fn a_plan_of_more_than_128_fetches_runs_level_by_level() {
        let fetch = |i: usize| PlanNode::Fetch(fetch_of(&format!("{{ f{i} }}"), &[]));
        let plan = |n: usize| PlanNode::Sequence {
            nodes: vec![
                PlanNode::Parallel {
                    nodes: (0..n - 1).map(fetch).collect(),
                },
                fetch(n),
            ],
        };
        let s = Schedule::of(&plan(MAX_FETCHES)).expect("a schedule");
        assert_eq!(s.waits.len(), MAX_FETCHES);
        // Root fields apart: nothing to wait for.
        assert!(s.waits.iter().all(Vec::is_empty));
        assert_eq!(Schedule::of(&plan(MAX_FETCHES + 1)), None);
    }

    #[test]
    fn a_plan_of_too_many_fields_runs_level_by_level() {
        let root = |fields: std::ops::Range<usize>| {
            let selected: Vec<String> = fields.map(|i| format!("f{i}")).collect();
            PlanNode::Fetch(fetch_of(&format!("{{ {} }}", selected.join(" ")), &[]))
        };
        let plan = |n: usize| PlanNode::Sequence {
            nodes: vec![root(0..n), root(n..2 * n)],
        };
        // 256 root fields written, then 256 read: 65,536 comparisons, the bound.
        assert!(Schedule::of(&plan(256)).is_some());
        assert_eq!(Schedule::of(&plan(257)), None);
    }

    #[test]
    fn prefixes_in_either_direction_conflict() {
        let p = |s: &'static str| -> Vec<&'static str> { s.split('.').collect() };
        assert!(prefixed(&p("users"), &p("users.@.reviews")));
        assert!(prefixed(
            &p("users.@.reviews.@.body"),
            &p("users.@.reviews")
        ));
        assert!(!prefixed(
            &p("topProducts.@.inStock"),
            &p("topProducts.@.reviews.@.author")
        ));
        assert!(!prefixed(&p("users"), &p("topProducts")));
    }
}
