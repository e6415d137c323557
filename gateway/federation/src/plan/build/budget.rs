//! The planning budget and snapshots: what trying an alternative costs, the state it rolls
//! back to, and whether a field has an alternative at all (no snapshot is taken when it has
//! none).

use std::collections::BTreeSet;

use super::{Builder, PlanError};
use crate::graph::Node;
use crate::plan::steps::{Step, SubSel};
use crate::supergraph::{FieldId, TypeKind};

/// The planning state an alternative can be rolled back to: the steps and the steps touched.
pub(super) type Snapshot = (Vec<Step>, BTreeSet<usize>);

impl Builder<'_> {
    /// The planning state to go back to when an alternative fails. Its copy is paid from
    /// the budget, so that planning work stays bounded however often alternatives are tried.
    pub(super) fn snapshot(&mut self) -> Result<Snapshot, PlanError> {
        let size = self.steps.len()
            + self
                .steps
                .iter()
                .map(|s| selection_count(&s.selections) + selection_count(&s.representation))
                .sum::<usize>();
        self.spend(size)?;
        Ok((self.steps.clone(), self.touched.clone()))
    }

    /// Takes `units` of work from the budget.
    pub(super) fn spend(&mut self, units: usize) -> Result<(), PlanError> {
        let Some(left) = self.budget else {
            return Ok(());
        };
        match left.checked_sub(units) {
            Some(left) => {
                self.budget = Some(left);
                Ok(())
            }
            None => Err(PlanError {
                message: format!(
                    "Planning the operation takes more than {} steps \
                     (`limits.max_planning_steps`).",
                    self.initial_budget
                ),
                over_budget: true,
            }),
        }
    }

    pub(super) fn restore(&mut self, saved: Snapshot) {
        (self.steps, self.touched) = saved;
        self.reentry_at = None;
        self.entity_steps.clear();
        for (i, step) in self.steps.iter().enumerate() {
            if let Some(ty) = step.entity {
                self.entity_steps
                    .entry((step.graph, ty, super::path_hash(&step.path)))
                    .or_default()
                    .push(i);
            }
        }
    }

    /// Whether field `fid` at `node` can only be resolved in `node`'s subgraph, so that no
    /// alternative exists if its sub-selections cannot be planned from there.
    pub(super) fn only_here(&self, node: Node, fid: FieldId) -> bool {
        self.single_resolver(node, fid)
            && self.graph.resolving_graphs_with(fid, self.labels).next() == Some(node.graph)
    }

    /// Whether at most one subgraph resolves field `fid` of `node`'s object type, and no
    /// interface object offers it under another type: planning it has no alternative to try.
    pub(super) fn single_resolver(&self, node: Node, fid: FieldId) -> bool {
        self.graph
            .resolving_graphs_with(fid, self.labels)
            .nth(1)
            .is_none()
            && !self.graph.is_interface_object(node.ty, node.graph)
            && self.graph.interface_object_for(node.ty, fid).is_none()
            && matches!(self.sg.type_def(node.ty).kind, TypeKind::Object)
    }
}

/// How many selections a list holds, nested ones included.
pub(super) fn selection_count(selections: &[SubSel]) -> usize {
    selections
        .iter()
        .map(|s| match s {
            SubSel::Field { children, .. } | SubSel::Fragment { children, .. } => {
                1 + selection_count(children)
            }
        })
        .sum()
}
