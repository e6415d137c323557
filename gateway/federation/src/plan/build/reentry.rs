//! Replaying the client's path (the builder's chain of fields and type conditions) in
//! another subgraph: re-entering a subgraph no `@key` leads to, at the nearest ancestor it
//! can be entered at, and telling whether a subgraph could follow the path at all.

use std::collections::BTreeSet;

use super::{Builder, Link, LinkKind, collect_variables, conditions_text, fragment};
use crate::graph::Node;
use crate::operation::OperationKind;
use crate::plan::steps::{SelKey, SelList, SubSel, insert};
use crate::supergraph::{FieldId, SubgraphId, TypeId};

impl Builder<'_> {
    /// No `@key` leads from here to a subgraph resolving `fid`: re-enter that subgraph at the
    /// nearest ancestor it can be entered at — by the ancestor entity's `@key`, or from the
    /// root for queries (shared root fields) — and replay the client's path from there.
    /// Returns the step and node to add the field at; [`Self::reentry_at`] says where.
    pub(super) fn reenter_from_root(
        &mut self,
        fid: FieldId,
        exclude: &BTreeSet<SubgraphId>,
    ) -> Option<(usize, Node)> {
        let chain = self.chain.clone();
        for start in (0..chain.len()).rev() {
            let anchor = &chain[start];
            for graph in self
                .graph
                .resolving_graphs_with(fid, self.labels)
                .collect::<Vec<_>>()
            {
                if graph == anchor.parent.graph || exclude.contains(&graph) {
                    continue;
                }
                let Some((node, at, sels)) = self.replay(&chain[start..], anchor.parent.ty, graph)
                else {
                    continue;
                };
                if !self.graph.resolves_with(node, fid, self.labels) {
                    continue;
                }
                let is_root = start == 0
                    && self.steps[anchor.step].entity.is_none()
                    && anchor.path.is_empty();
                let step = if is_root {
                    if self.op.kind != OperationKind::Query {
                        continue; // replaying a mutation field would run it twice
                    }
                    // Entities are reached through their keys; fetching one again through a
                    // shared root field would trust that field to return the same entity.
                    if self.is_entity(self.sg.field(fid).parent) {
                        continue;
                    }
                    self.root_step(graph)
                } else {
                    let from = Node {
                        provided: 0,
                        ..anchor.parent
                    };
                    let Some((_, key)) = self
                        .graph
                        .direct_keys(from)
                        .into_iter()
                        .find(|(g, _)| *g == graph)
                    else {
                        continue;
                    };
                    let key = key.to_vec();
                    let representation = self.provide_key(anchor.step, &anchor.at, &key);
                    self.entity_step(
                        graph,
                        anchor.parent.ty,
                        &anchor.path,
                        anchor.step,
                        representation,
                    )
                };
                for link in &chain[start..] {
                    if let LinkKind::Field(f) = &link.kind {
                        for (_, v) in &f.arguments {
                            collect_variables(v, &mut self.steps[step].variables);
                        }
                        self.note_conditions(step, &f.conditions);
                    }
                }
                for (parent, sel) in sels {
                    insert(self.selections_mut(step), &parent, sel);
                }
                self.reentry_at = Some(at);
                return Some((step, node));
            }
        }
        None
    }

    /// Replays `links` in `graph` starting at type `ty`: the node reached, where in the
    /// selections, and the selections to insert; `None` if `graph` cannot follow the path.
    /// (The selections are collected, not inserted: the caller inserts them only once it
    /// knows the replay leads somewhere.)
    #[allow(clippy::type_complexity)]
    fn replay(
        &mut self,
        links: &[Link],
        ty: TypeId,
        graph: SubgraphId,
    ) -> Option<(Node, Vec<SelKey>, Vec<(Vec<SelKey>, SubSel)>)> {
        let mut node = Node {
            ty,
            graph,
            provided: 0,
            entered: false,
        };
        let mut at: Vec<SelKey> = Vec::new();
        let mut sels: Vec<(Vec<SelKey>, SubSel)> = Vec::new();
        for link in links {
            match &link.kind {
                LinkKind::Field(f) => {
                    let id = self.sg.field_id(node.ty, &f.name)?;
                    if !self.graph.resolves_with(node, id, self.labels)
                        || self.graph.requires(id, graph).is_some()
                    {
                        return None;
                    }
                    let next = self.graph.field_target(node, id)?;
                    let sel = SubSel::Field {
                        alias: (f.response_key != f.name).then(|| f.response_key.clone()),
                        name: f.name.clone(),
                        args: crate::graph::selection::print_arguments(&f.arguments),
                        directives: conditions_text(&f.conditions),
                        children: SelList::new(),
                    };
                    let key = sel.key();
                    sels.push((at.clone(), sel));
                    at.push(key);
                    sels.push((at.clone(), SubSel::plain("__typename")));
                    node = next;
                }
                LinkKind::Fragment(type_name) => {
                    let t = self.sg.type_id(type_name)?;
                    if t == node.ty {
                        continue;
                    }
                    let n = self
                        .graph
                        .downcast(node, t, &mut self.cache)
                        .into_iter()
                        .find(|n| n.graph == graph)?;
                    let sel = fragment(Some(type_name.clone()), String::new());
                    let key = sel.key();
                    sels.push((at.clone(), sel));
                    at.push(key);
                    node = n;
                }
            }
        }
        Some((node, at, sels))
    }

    /// Whether subgraph `g` could resolve the path in `chain`: entered by a key at some
    /// ancestor on it, and following the fields from there.
    pub(super) fn reachable_along_path(&mut self, chain: &[Link], g: SubgraphId) -> bool {
        (0..chain.len()).any(|start| {
            let anchor = &chain[start];
            let from = Node {
                provided: 0,
                entered: false,
                ..anchor.parent
            };
            let enters = self.graph.direct_keys(from).iter().any(|(k, _)| *k == g);
            enters && self.replay(&chain[start..], anchor.parent.ty, g).is_some()
        })
    }
}
