//! Query planning (DESIGN §4): a normalized operation and the query graph in, a
//! [`model::QueryPlan`] out. Stages: `build` assigns every field to a fetch step (keeping it
//! in the current subgraph when it resolves there, else adding entity fetches through `@key`
//! jumps), `emit` orders the steps into Sequence/Parallel/Flatten and prints each subgraph
//! operation, `display` renders the plan as text.

mod build;
mod conflicts;
mod display;
mod emit;
pub mod model;
mod response_keys;
pub mod schedule;
mod steps;

pub use build::PlanError;

use crate::graph::QueryGraph;
use crate::operation::Operation;

/// The default planning budget: a unit per field planned and per selection copied while
/// trying alternatives. Real operations take a few hundred to a few thousand.
pub const DEFAULT_MAX_PLANNING_STEPS: usize = 100_000;

/// Plans an operation for a request with the given progressive-override labels switched on,
/// within [`DEFAULT_MAX_PLANNING_STEPS`].
pub fn plan(
    graph: &QueryGraph,
    operation: &Operation,
    labels: &std::collections::BTreeSet<String>,
) -> Result<model::QueryPlan, PlanError> {
    plan_within(graph, operation, labels, Some(DEFAULT_MAX_PLANNING_STEPS))
}

/// Plans an operation within `budget` steps (`None`: unbounded); over it, the error's code
/// is `QUERY_PLANNING_BUDGET_EXCEEDED`.
pub fn plan_within(
    graph: &QueryGraph,
    operation: &Operation,
    labels: &std::collections::BTreeSet<String>,
    budget: Option<usize>,
) -> Result<model::QueryPlan, PlanError> {
    let mut b = build::Builder::new(graph, operation, labels, budget);
    b.plan_root()?;
    let plan = emit::emit(&graph.sg, operation, &b.steps);
    if operation.kind == crate::operation::OperationKind::Subscription {
        return subscription(plan);
    }
    Ok(plan)
}

/// A subscription's plan as a [`model::PlanNode::Subscription`]: its one root fetch (the
/// subscription itself, on the subgraph resolving the root field) first, and the fetches that
/// start from its objects as what runs per event. A root field under a variable condition, or
/// deferred, has no such shape: refused.
fn subscription(plan: model::QueryPlan) -> Result<model::QueryPlan, PlanError> {
    use model::PlanNode;
    let refuse = |why: &str| {
        Err(PlanError {
            message: format!("this subscription cannot be planned: {why}"),
            over_budget: false,
        })
    };
    let (primary, rest) = match plan.node {
        None => return refuse("it selects no field a subgraph resolves"),
        Some(PlanNode::Fetch(f)) => (f, None),
        Some(PlanNode::Sequence { mut nodes })
            if matches!(nodes.first(), Some(PlanNode::Fetch(_))) =>
        {
            let Some(PlanNode::Fetch(first)) = (!nodes.is_empty()).then(|| nodes.remove(0)) else {
                return refuse("its root field is not fetched first");
            };
            let rest = match nodes.len() {
                1 => nodes.pop(),
                _ => Some(PlanNode::Sequence { nodes }),
            };
            (first, rest.map(Box::new))
        }
        Some(_) => {
            return refuse("its root field is fetched under a condition or in a deferred fragment");
        }
    };
    Ok(model::QueryPlan::new(
        Some(PlanNode::Subscription { primary, rest }),
        plan.contextual,
    ))
}

#[cfg(test)]
mod context_tests;
#[cfg(test)]
mod defer_tests;
#[cfg(test)]
mod tests;
