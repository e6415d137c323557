//! What a proposed supergraph does to client operations' query plans: how many subgraph
//! requests each operation costs before and after, in how many sequential waves, and which
//! subgraphs it reaches. A field whose only resolver moves, or a new `@requires` chain, leaves
//! the API schema alone but shows here.

use std::collections::BTreeSet;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::validation::Valid;

use crate::graph::QueryGraph;
use crate::operation::{NormalizeError, normalize};
use crate::plan::model::{PlanNode, QueryPlan};
use crate::plan::{PlanError, plan};

/// The cost shape of one plan. For a `@skip`/`@include` condition the costlier branch counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanShape {
    /// Subgraph requests (fetch nodes).
    pub requests: usize,
    /// Requests that must wait for one another: the longest chain of sequential fetches.
    pub waves: usize,
    /// The subgraphs fetched from, by name.
    pub subgraphs: BTreeSet<String>,
}

impl PlanShape {
    pub fn of(plan: &QueryPlan) -> PlanShape {
        plan.node.as_ref().map(shape).unwrap_or_default()
    }
}

fn shape(node: &PlanNode) -> PlanShape {
    match node {
        PlanNode::Fetch(f) => PlanShape {
            requests: 1,
            waves: 1,
            subgraphs: BTreeSet::from([f.subgraph.clone()]),
        },
        PlanNode::BatchFetch(b) => PlanShape {
            requests: 1,
            waves: 1,
            subgraphs: BTreeSet::from([b.subgraph.clone()]),
        },
        PlanNode::Flatten(f) => shape(&f.node),
        PlanNode::Sequence { nodes } => combine(nodes, |a, b| a + b),
        PlanNode::Parallel { nodes } => combine(nodes, usize::max),
        PlanNode::Condition {
            if_clause,
            else_clause,
            ..
        } => {
            let [a, b] =
                [if_clause, else_clause].map(|c| c.as_deref().map(shape).unwrap_or_default());
            PlanShape {
                requests: a.requests.max(b.requests),
                waves: a.waves.max(b.waves),
                subgraphs: a.subgraphs.union(&b.subgraphs).cloned().collect(),
            }
        }
        // Deferred parts run after the primary one: in sequence with it.
        PlanNode::Defer { primary, deferred } => {
            let parts: Vec<PlanNode> = primary
                .node
                .iter()
                .chain(deferred.iter().filter_map(|d| d.node.as_ref()))
                .map(|n| (**n).clone())
                .collect();
            combine(&parts, |a, b| a + b)
        }
        // Per event: the subscription's own request is made once.
        PlanNode::Subscription { primary, rest } => {
            let mut parts = vec![PlanNode::Fetch(primary.clone())];
            parts.extend(rest.as_deref().cloned());
            combine(&parts, |a, b| a + b)
        }
    }
}

fn combine(nodes: &[PlanNode], waves: fn(usize, usize) -> usize) -> PlanShape {
    nodes
        .iter()
        .map(shape)
        .fold(PlanShape::default(), |acc, s| PlanShape {
            requests: acc.requests + s.requests,
            waves: waves(acc.waves, s.waves),
            subgraphs: acc.subgraphs.union(&s.subgraphs).cloned().collect(),
        })
}

/// One operation whose plan changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanImpact {
    /// The operation's name (`None`: the document's anonymous operation).
    pub operation: Option<String>,
    pub before: PlanShape,
    /// The proposed plan's shape, or why the proposed supergraph cannot plan it.
    pub after: Result<PlanShape, NotPlannable>,
}

/// Why a supergraph cannot plan an operation that validates against it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotPlannable {
    #[error(transparent)]
    Normalize(#[from] NormalizeError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// The operations of `text` whose plan shape differs between the two supergraphs. Operations
/// that do not validate against both API schemas are left out: [`super::operations`] reports
/// them. Plans are built with no progressive-override label switched on.
pub fn impacts(current: &QueryGraph, proposed: &QueryGraph, text: &str) -> Vec<PlanImpact> {
    let parse = |graph: &QueryGraph| {
        ExecutableDocument::parse_and_validate(graph.sg.api_schema(), text, "operation").ok()
    };
    let (Some(old_doc), Some(new_doc)) = (parse(current), parse(proposed)) else {
        return Vec::new();
    };
    let labels = BTreeSet::new();
    let names: Vec<Option<String>> = match old_doc.operations.anonymous {
        Some(_) => vec![None],
        None => old_doc
            .operations
            .named
            .keys()
            .map(|n| Some(n.to_string()))
            .collect(),
    };
    let mut out = Vec::new();
    for name in names {
        let planned = |graph: &QueryGraph,
                       doc: &Valid<ExecutableDocument>|
         -> Result<PlanShape, NotPlannable> {
            let op = normalize(graph.sg.api_schema(), doc, name.as_deref())?;
            let p = plan(graph, &op, &labels)?;
            Ok(PlanShape::of(&p))
        };
        // An operation the current supergraph cannot plan has no "before" to compare with.
        let Ok(before) = planned(current, &old_doc) else {
            continue;
        };
        let after = planned(proposed, &new_doc);
        if after.as_ref() != Ok(&before) {
            out.push(PlanImpact {
                operation: name,
                before,
                after,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::Arc;

    use super::*;
    use crate::Supergraph;
    use crate::compose::{SubgraphInput, compose};

    const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@override"])"#;

    fn graph(subgraphs: &[(&str, &str)]) -> QueryGraph {
        let inputs: Vec<SubgraphInput> = subgraphs
            .iter()
            .map(|(name, sdl)| SubgraphInput {
                name: (*name).to_owned(),
                url: format!("http://{name}/graphql"),
                sdl: format!("{LINK}\n{sdl}"),
                source: format!("{name}.graphql"),
            })
            .collect();
        let composed = compose(&inputs).expect("composes");
        let sg = Supergraph::parse(&composed.supergraph_sdl, "test").expect("loads");
        QueryGraph::new(Arc::new(sg))
    }

    const A: &str = "type Query { t: T } type T @key(fields: \"id\") { id: ID! name: String }";
    const B: &str = "type T @key(fields: \"id\") { id: ID! price: Int }";

    #[test]
    fn a_field_moving_to_the_root_subgraph_saves_a_wave() {
        let before = graph(&[("a", A), ("b", B)]);
        let after = graph(&[
            (
                "a",
                "type Query { t: T } type T @key(fields: \"id\") { id: ID! name: String price: Int @override(from: \"b\") }",
            ),
            ("b", B),
        ]);
        let found = impacts(
            &before,
            &after,
            "query Q { t { name price } } query N { t { name } }",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].operation.as_deref(), Some("Q"));
        assert_eq!(
            (found[0].before.requests, found[0].before.waves),
            (2, 2),
            "{found:?}"
        );
        let after = found[0].after.as_ref().expect("plans");
        assert_eq!((after.requests, after.waves), (1, 1));
        assert_eq!(after.subgraphs, BTreeSet::from(["a".to_owned()]));
    }

    #[test]
    fn unchanged_plans_and_invalid_operations_are_not_reported() {
        let g = graph(&[("a", A), ("b", B)]);
        assert!(impacts(&g, &g, "{ t { name price } }").is_empty());
        assert!(impacts(&g, &g, "{ nope }").is_empty());
    }
}
