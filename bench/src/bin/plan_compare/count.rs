//! How fetches are counted in Weft's plans. The same rule is applied to Apollo's plans by
//! `bench/peers/apollo-plan.mjs`; keep the two in step.
//!
//! A `Fetch` is one request; a `BatchFetch` (entity fetches of one level to one subgraph) is
//! one request too. Under a `Condition` (`@skip`/`@include` on a variable), only one branch
//! runs, so the count is that of the larger branch: the most requests one client request can
//! cause. The static count (both branches) is kept beside it.

use std::collections::BTreeMap;

use weft_federation::plan::model::PlanNode;

/// Which branches of a `Condition` count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branches {
    /// The larger branch: what one request can send at most.
    Larger,
    /// Both branches: every fetch written in the plan.
    Both,
}

/// The fetches of a plan under `rule`.
pub fn fetches(node: Option<&PlanNode>, rule: Branches) -> usize {
    let Some(node) = node else { return 0 };
    match node {
        PlanNode::Fetch(_) | PlanNode::BatchFetch(_) => 1,
        PlanNode::Flatten(f) => fetches(Some(&f.node), rule),
        PlanNode::Sequence { nodes } | PlanNode::Parallel { nodes } => {
            nodes.iter().map(|n| fetches(Some(n), rule)).sum()
        }
        PlanNode::Condition {
            if_clause,
            else_clause,
            ..
        } => {
            let a = fetches(if_clause.as_deref(), rule);
            let b = fetches(else_clause.as_deref(), rule);
            match rule {
                Branches::Larger => a.max(b),
                Branches::Both => a + b,
            }
        }
        PlanNode::Defer { primary, deferred } => {
            fetches(primary.node.as_deref(), rule)
                + deferred
                    .iter()
                    .map(|d| fetches(d.node.as_deref(), rule))
                    .sum::<usize>()
        }
        // The request that subscribes, then what runs for each event (counted once).
        PlanNode::Subscription { rest, .. } => 1 + fetches(rest.as_deref(), rule),
    }
}

/// Fetches per subgraph, both branches of a condition counted: a hint for reading an
/// exception, not a total.
pub fn by_subgraph(node: Option<&PlanNode>, into: &mut BTreeMap<String, usize>) {
    let Some(node) = node else { return };
    match node {
        PlanNode::Fetch(f) => *into.entry(f.subgraph.clone()).or_default() += 1,
        PlanNode::BatchFetch(b) => *into.entry(b.subgraph.clone()).or_default() += 1,
        PlanNode::Flatten(f) => by_subgraph(Some(&f.node), into),
        PlanNode::Sequence { nodes } | PlanNode::Parallel { nodes } => {
            nodes.iter().for_each(|n| by_subgraph(Some(n), into));
        }
        PlanNode::Condition {
            if_clause,
            else_clause,
            ..
        } => {
            by_subgraph(if_clause.as_deref(), into);
            by_subgraph(else_clause.as_deref(), into);
        }
        PlanNode::Defer { primary, deferred } => {
            by_subgraph(primary.node.as_deref(), into);
            for d in deferred {
                by_subgraph(d.node.as_deref(), into);
            }
        }
        PlanNode::Subscription { primary, rest } => {
            *into.entry(primary.subgraph.clone()).or_default() += 1;
            by_subgraph(rest.as_deref(), into);
        }
    }
}

#[cfg(test)]
mod tests {
    use weft_federation::plan::model::{
        BatchEntity, BatchFetchNode, FetchNode, FlattenNode, OperationKind,
    };
    use weft_federation::supergraph::SubgraphId;

    use super::*;

    fn fetch(subgraph: &str) -> FetchNode {
        FetchNode {
            subgraph: subgraph.to_owned(),
            graph: SubgraphId::none(),
            operation: String::new(),
            operation_kind: OperationKind::Query,
            variable_usages: Vec::new(),
            requires: Vec::new(),
            key_fields: Vec::new(),
            input_rewrites: Vec::new(),
            output_rewrites: Vec::new(),
            context_rewrites: Vec::new(),
            id: None,
        }
    }

    fn flat(subgraph: &str) -> PlanNode {
        PlanNode::Flatten(FlattenNode {
            path: vec!["a".to_owned()],
            node: Box::new(PlanNode::Fetch(fetch(subgraph))),
        })
    }

    fn batch(subgraph: &str, members: usize) -> PlanNode {
        let entities = (0..members)
            .map(|i| BatchEntity {
                alias: format!("_entities_{i}"),
                variable: format!("representations_{i}"),
                path: vec![format!("p{i}")],
                fetch: fetch(subgraph),
            })
            .collect();
        PlanNode::BatchFetch(BatchFetchNode {
            subgraph: subgraph.to_owned(),
            graph: SubgraphId::none(),
            operation: String::new(),
            variable_usages: Vec::new(),
            entities,
            id: None,
        })
    }

    #[test]
    fn a_batch_fetch_is_one_request_whatever_its_paths() {
        let plan = PlanNode::Sequence {
            nodes: vec![
                PlanNode::Fetch(fetch("accounts")),
                PlanNode::Parallel {
                    nodes: vec![batch("products", 3), flat("inventory")],
                },
            ],
        };
        assert_eq!(fetches(Some(&plan), Branches::Larger), 3);
        let mut per = BTreeMap::new();
        by_subgraph(Some(&plan), &mut per);
        assert_eq!(per.get("products"), Some(&1));
        assert_eq!(per.values().sum::<usize>(), 3);
    }

    #[test]
    fn a_condition_counts_its_larger_branch_or_both() {
        let plan = PlanNode::Sequence {
            nodes: vec![
                PlanNode::Fetch(fetch("accounts")),
                PlanNode::Condition {
                    condition: "v".to_owned(),
                    if_clause: Some(Box::new(PlanNode::Parallel {
                        nodes: vec![flat("reviews"), flat("products")],
                    })),
                    else_clause: Some(Box::new(flat("inventory"))),
                },
            ],
        };
        assert_eq!(fetches(Some(&plan), Branches::Larger), 3);
        assert_eq!(fetches(Some(&plan), Branches::Both), 4);
        assert_eq!(fetches(None, Branches::Larger), 0);
    }
}
