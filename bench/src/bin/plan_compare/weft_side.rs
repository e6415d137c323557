//! Weft's side: the supergraph parsed and its query graph built once, then each operation
//! validated against the API schema, normalized and planned, as a gateway does on a
//! plan-cache miss. Normalizing and planning are timed (Apollo's side times the same two
//! steps: `operationFromDocument` and `buildQueryPlan`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::normalize;
use weft_federation::plan::{model::QueryPlan, plan};

use crate::count::{self, Branches};
use crate::outcome::{Planned, Side, Stage};

/// A plan this slow is timed once: repeating it would only make the run long.
pub const SLOW_MS: f64 = 1000.0;

pub struct WeftPlanner {
    loaded: Result<(Arc<Supergraph>, QueryGraph), String>,
}

impl WeftPlanner {
    pub fn load(path: &Path) -> WeftPlanner {
        let loaded = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|sdl| {
                Supergraph::parse(&sdl, &path.display().to_string()).map_err(|e| e.to_string())
            })
            .map(|sg| {
                let sg = Arc::new(sg);
                let graph = QueryGraph::new(sg.clone());
                (sg, graph)
            });
        WeftPlanner { loaded }
    }

    /// The API schema, when the supergraph loaded.
    pub fn api_schema(&self) -> Option<&Valid<Schema>> {
        self.loaded.as_ref().ok().map(|(sg, _)| sg.api_schema())
    }

    /// Whether `operation` is valid against the API schema (generated operations that are
    /// not are dropped before either planner sees them).
    pub fn validates(&self, operation: &str) -> bool {
        match &self.loaded {
            Ok((sg, _)) => {
                ExecutableDocument::parse_and_validate(sg.api_schema(), operation, "op.graphql")
                    .is_ok()
            }
            Err(_) => false,
        }
    }

    /// Plans `operation` once untimed, then `reps` times timed.
    pub fn plan(&self, operation: &str, labels: &[String], reps: usize) -> Side {
        let (sg, graph) = match &self.loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                return Side::Refused {
                    stage: Stage::Supergraph,
                    error: e.clone(),
                };
            }
        };
        let api = sg.api_schema();
        let doc = match ExecutableDocument::parse_and_validate(api, operation, "op.graphql") {
            Ok(doc) => doc,
            Err(e) => {
                return Side::Refused {
                    stage: Stage::Validate,
                    error: e.to_string(),
                };
            }
        };
        let labels: BTreeSet<String> = labels.iter().cloned().collect();
        let once = || -> Result<(QueryPlan, f64), String> {
            let start = Instant::now();
            let op = normalize(api, &doc, None).map_err(|e| e.to_string())?;
            let planned = plan(graph, &op, &labels).map_err(|e| e.to_string())?;
            Ok((planned, start.elapsed().as_secs_f64() * 1000.0))
        };
        let (mut query_plan, warm_up_ms) = match once() {
            Ok(done) => done,
            Err(error) => {
                return Side::Refused {
                    stage: Stage::Plan,
                    error,
                };
            }
        };
        let mut times_ms = Vec::with_capacity(reps);
        if warm_up_ms >= SLOW_MS {
            times_ms.push(warm_up_ms);
        } else {
            for _ in 0..reps.max(1) {
                match once() {
                    Ok((p, ms)) => {
                        query_plan = p;
                        times_ms.push(ms);
                    }
                    Err(error) => {
                        return Side::Refused {
                            stage: Stage::Plan,
                            error,
                        };
                    }
                }
            }
        }
        let node = query_plan.node.as_ref();
        let mut by_subgraph = BTreeMap::new();
        count::by_subgraph(node, &mut by_subgraph);
        Side::Planned(Planned {
            fetches: count::fetches(node, Branches::Larger),
            fetches_all_branches: count::fetches(node, Branches::Both),
            by_subgraph,
            times_ms,
            plan: query_plan.to_string(),
        })
    }
}
