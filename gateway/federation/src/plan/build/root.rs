//! Root fields: the entry point of planning. Each root field goes to a root fetch of a
//! subgraph resolving it (shared per subgraph for queries, kept in order for mutations);
//! where several subgraphs resolve it, each is tried and the plan with the fewest fetches
//! wins.

use std::collections::BTreeSet;

use apollo_compiler::ast::OperationType;

use super::budget::{Snapshot, selection_count};
use super::{Builder, PlanError, fail, final_error};
use crate::graph::Node;
use crate::operation::{self as op, OperationKind};
use crate::plan::steps::{SelList, Step};
use crate::supergraph::{SubgraphId, TypeId};

impl Builder<'_> {
    /// Plans every root field; returns the root steps in order.
    pub fn plan_root(&mut self) -> Result<(), PlanError> {
        let kind = match self.op.kind {
            OperationKind::Query => OperationType::Query,
            OperationKind::Mutation => OperationType::Mutation,
            OperationKind::Subscription => OperationType::Subscription,
        };
        let Some(root) = self.sg.root(kind) else {
            return fail(format!("the schema has no {} root type", kind));
        };
        let mut fields: Vec<RootField> = Vec::new();
        flatten_root(&self.op.selection_set, &[], None, &mut fields);
        let mutation = self.op.kind == OperationKind::Mutation;
        for (group, (field, conditions, defer)) in fields.into_iter().enumerate() {
            // A root field in a deferred fragment is in a root fetch of that part's own.
            self.defer = defer;
            if field.name.starts_with("__") {
                continue; // __typename and introspection are answered by the gateway
            }
            let Some(fid) = self.sg.field_id(root, &field.name) else {
                return fail(format!("unknown root field `{}`", field.name));
            };
            let candidates: Vec<SubgraphId> =
                self.graph.resolving_graphs_with(fid, self.labels).collect();
            if candidates.is_empty() {
                return fail(format!("no subgraph resolves `{}`", field.name));
            }
            // Queries share one root fetch per subgraph; mutations keep their order, sharing
            // a fetch only with the field right before them.
            let existing = if mutation {
                self.steps
                    .iter()
                    .rposition(|s| s.entity.is_none())
                    .filter(|i| candidates.contains(&self.steps[*i].graph))
            } else {
                self.steps.iter().position(|s| {
                    s.entity.is_none() && candidates.contains(&s.graph) && s.defer == defer
                })
            };
            // Try the shared fetch first, then each subgraph in turn: the first one the whole
            // sub-selection can be planned from wins.
            let mut options: Vec<(Option<usize>, SubgraphId)> = Vec::new();
            if let Some(i) = existing {
                options.push((Some(i), self.steps[i].graph));
            }
            for graph in &candidates {
                if existing.is_none_or(|i| self.steps[i].graph != *graph) {
                    options.push((None, *graph));
                }
            }
            // Plan the field from every candidate and keep the plan with the fewest fetches
            // (the first one on a tie: the shared fetch, then subgraph order).
            let mut first_error = None;
            let mut best: Option<((usize, usize), Snapshot)> = None;
            let single = options.len() == 1;
            for (option, graph) in options {
                if single {
                    // No alternative to go back to: no snapshot.
                    self.plan_root_field(option, graph, group, mutation, field, &conditions, root)?;
                    break;
                }
                let saved = self.snapshot()?;
                let result =
                    self.plan_root_field(option, graph, group, mutation, field, &conditions, root);
                match result {
                    Ok(()) => {
                        // Fewest fetches; then the least fetched (fields asked twice, from two
                        // subgraphs, cost twice).
                        let cost = (
                            self.steps.len(),
                            self.steps
                                .iter()
                                .map(|s| selection_count(&s.selections))
                                .sum::<usize>(),
                        );
                        let state = std::mem::take(&mut self.steps);
                        let touched = std::mem::take(&mut self.touched);
                        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                            best = Some((cost, (state, touched)));
                        }
                        self.restore(saved);
                    }
                    Err(e) if final_error(&e) => return Err(e),
                    Err(e) => {
                        self.restore(saved);
                        first_error.get_or_insert(e);
                    }
                }
            }
            match best {
                Some((_, state)) => self.restore(state),
                None => {
                    if let Some(e) = first_error {
                        return Err(e);
                    }
                }
            }
        }
        self.defer = None;
        Ok(())
    }

    /// Plans one root field in `graph`: in the existing root fetch `existing`, or a new one.
    #[allow(clippy::too_many_arguments)]
    fn plan_root_field(
        &mut self,
        existing: Option<usize>,
        graph: SubgraphId,
        group: usize,
        mutation: bool,
        field: &op::Field,
        conditions: &[op::Condition],
        root: TypeId,
    ) -> Result<(), PlanError> {
        let step = match existing {
            Some(i) => i,
            None => self.push_root_step(graph, if mutation { group } else { 0 }),
        };
        let node = Node {
            ty: root,
            graph: self.steps[step].graph,
            provided: 0,
            entered: false,
        };
        self.plan_field(step, &[], node, field, conditions, &[])
    }

    /// The root fetch for `graph`, created if needed.
    pub(super) fn root_step(&mut self, graph: SubgraphId) -> usize {
        if let Some(i) = self
            .steps
            .iter()
            .position(|s| s.entity.is_none() && s.graph == graph && s.defer == self.defer)
        {
            return i;
        }
        self.push_root_step(graph, 0)
    }

    /// Adds an empty root fetch for `graph` in mutation field group `group`; returns its
    /// index.
    fn push_root_step(&mut self, graph: SubgraphId, group: usize) -> usize {
        self.push_step(Step {
            graph,
            entity: None,
            representation: SelList::new(),
            key_fields: BTreeSet::new(),
            only_types: None,
            path: Vec::new(),
            selections: SelList::new(),
            deps: BTreeSet::new(),
            variables: BTreeSet::new(),
            group,
            defer: None,
            guard: None,
            context: Vec::new(),
        })
    }
}

/// A root field, its conditions, and the deferred fragment it is in.
type RootField<'o> = (&'o op::Field, Vec<op::Condition>, Option<u32>);

/// Root fields, with fragments on the root type flattened and their conditions (and
/// deferred fragment) carried.
fn flatten_root<'o>(
    set: &'o op::SelectionSet,
    conditions: &[op::Condition],
    defer: Option<u32>,
    out: &mut Vec<RootField<'o>>,
) {
    for item in &set.items {
        match item {
            op::Selection::Field(f) => {
                let mut c = conditions.to_vec();
                c.extend(f.conditions.iter().cloned());
                out.push((f, c, defer));
            }
            op::Selection::InlineFragment(frag) => {
                let mut c = conditions.to_vec();
                c.extend(frag.conditions.iter().cloned());
                let inner = frag.defer.as_ref().map(|d| d.id).or(defer);
                flatten_root(&frag.selection_set, &c, inner, out);
            }
        }
    }
}
