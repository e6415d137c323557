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
mod steps;

pub use build::PlanError;

use crate::graph::QueryGraph;
use crate::operation::Operation;

/// Plans an operation for a request with the given progressive-override labels switched on.
pub fn plan(
    graph: &QueryGraph,
    operation: &Operation,
    labels: &std::collections::BTreeSet<String>,
) -> Result<model::QueryPlan, PlanError> {
    let mut b = build::Builder::new(graph, operation, labels);
    b.plan_root()?;
    Ok(emit::emit(&graph.sg, operation, &b.steps))
}

#[cfg(test)]
mod tests;
