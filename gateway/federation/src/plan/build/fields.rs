//! The client's fields: where each one is resolved. A field stays in the fetch that is
//! already in a subgraph resolving it (when its sub-selections plan from there too);
//! otherwise each subgraph that resolves it is tried in turn, reached by an entity fetch.

use std::collections::BTreeSet;

use super::{Builder, LinkKind, PlanError, conditions_text, fail, final_error, list_depth};
use crate::graph::Node;
use crate::operation as op;
use crate::plan::steps::{SelKey, SelList, SubSel, insert};
use crate::supergraph::{FieldId, SubgraphId, TypeKind};

impl Builder<'_> {
    pub(super) fn plan_set(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        set: &op::SelectionSet,
        path: &[String],
    ) -> Result<(), PlanError> {
        for item in &set.items {
            match item {
                op::Selection::Field(f) => {
                    self.plan_field(step, at, node, f, &f.conditions, path)?
                }
                op::Selection::InlineFragment(frag) => {
                    self.plan_fragment(step, at, node, frag, path)?
                }
            }
        }
        Ok(())
    }

    pub(super) fn plan_field(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        f: &op::Field,
        conditions: &[op::Condition],
        path: &[String],
    ) -> Result<(), PlanError> {
        // The fields inside this one are not directly in a deferred fragment.
        let entry = std::mem::replace(&mut self.defer_entry, false);
        // Everything planned for the field (its fetches, its requirements') is needed only
        // under its conditions.
        let result = self.guarded(conditions, |b| {
            if entry && !f.name.starts_with("__") && !b.key_leaf(node, f) {
                b.plan_deferred_field(step, at, node, f, conditions, path)
            } else {
                b.plan_field_in(step, at, node, f, conditions, path, false)
            }
        });
        self.defer_entry = entry;
        result
    }

    /// Whether `f` is a leaf of a key of `node`'s type in its subgraph: fetched with the
    /// parent anyway (to make representations), so never again for a deferred fragment.
    fn key_leaf(&self, node: Node, f: &op::Field) -> bool {
        use crate::graph::selection::{FieldSetItem, parse_field_set};
        f.selection_set.is_none()
            && f.arguments.is_empty()
            && self
                .sg
                .keys(node.ty, node.graph)
                .filter_map(|j| j.key.as_deref())
                .any(|key| {
                    parse_field_set(key).iter().any(|item| {
                        matches!(item, FieldSetItem::Field { name, children, .. }
                            if *name == f.name && children.is_empty())
                    })
                })
    }

    /// A field directly in a deferred fragment: in an entity fetch of its own when one can
    /// be made (the type has a key), else in the parent's fetch (the part then only
    /// delivers it later), as Apollo's planner does.
    fn plan_deferred_field(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        f: &op::Field,
        conditions: &[op::Condition],
        path: &[String],
    ) -> Result<(), PlanError> {
        let saved = self.snapshot()?;
        match self.plan_field_in(step, at, node, f, conditions, path, true) {
            Ok(()) => Ok(()),
            Err(e) if final_error(&e) => Err(e),
            Err(_) => {
                self.restore(saved);
                self.plan_field_in(step, at, node, f, conditions, path, false)
            }
        }
    }

    /// Plans a field; `fetch_apart`: never in `step` itself, even where it resolves there.
    #[allow(clippy::too_many_arguments)]
    fn plan_field_in(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        f: &op::Field,
        conditions: &[op::Condition],
        path: &[String],
        fetch_apart: bool,
    ) -> Result<(), PlanError> {
        self.spend(1)?;
        let directives = format!(
            "{}{}",
            conditions_text(conditions),
            f.directives
                .iter()
                .map(|d| format!(" {d}"))
                .collect::<String>()
        );
        if f.name == "__typename" && self.graph.is_interface_object(node.ty, node.graph) {
            // An @interfaceObject only knows the interface: the concrete type comes from a
            // subgraph where the interface is a real interface entity.
            if let Some((target_step, target_node)) =
                self.typename_from_interface_entity(step, at, node, path)
            {
                let sel = SubSel::Field {
                    alias: (f.response_key != f.name).then(|| f.response_key.clone()),
                    name: f.name.clone(),
                    args: String::new(),
                    directives,
                    children: SelList::new(),
                };
                self.note_conditions(target_step, conditions);
                let _ = target_node;
                insert(self.selections_mut(target_step), &[], sel);
                return Ok(());
            }
        }
        if f.name == "__typename" {
            self.note_conditions(step, conditions);
            let sel = SubSel::Field {
                alias: (f.response_key != f.name).then(|| f.response_key.clone()),
                name: f.name.clone(),
                args: String::new(),
                directives,
                children: SelList::new(),
            };
            insert(self.selections_mut(step), at, sel);
            return Ok(());
        }
        if f.name.starts_with("__") {
            return Ok(());
        }
        let Some(fid) = self.sg.field_id(node.ty, &f.name) else {
            return fail(format!(
                "`{}` has no field `{}`",
                self.sg.type_def(node.ty).name,
                f.name
            ));
        };
        // A field taking `@fromContext` arguments is fetched apart, through its parent's key:
        // its arguments are variables of that fetch.
        let local = !fetch_apart
            && self.graph.resolves_with(node, fid, self.labels)
            && self.graph.requires(fid, node.graph).is_none()
            && self.context_arguments(fid, node.graph).is_empty()
            && self.uniform_on_implementations(node, &f.name);
        if !local
            && !fetch_apart
            && self.graph.resolves_with(node, fid, self.labels)
            && !self.uniform_on_implementations(node, &f.name)
        {
            // Some implementation resolves this interface field elsewhere (e.g. overridden):
            // ask for it type by type.
            return self.plan_field_per_type(step, at, node, f, conditions, path);
        }
        let mut exclude: BTreeSet<SubgraphId> = BTreeSet::new();
        let mut first_error = None;
        if local {
            self.note_conditions(step, conditions);
            if f.selection_set.is_none() {
                return self.add_local_field(step, at, node, fid, f, directives, path);
            }
            if self.only_here(node, fid) {
                // Nowhere else to try the field: no snapshot to go back to.
                return self.add_local_field(step, at, node, fid, f, directives, path);
            }
            let saved = self.snapshot()?;
            match self.add_local_field(step, at, node, fid, f, directives.clone(), path) {
                Ok(()) => return Ok(()),
                Err(e) if final_error(&e) => return Err(e),
                Err(e) => {
                    // The sub-selections cannot all be planned from here: try the field in
                    // another subgraph.
                    self.restore(saved);
                    first_error = Some(e);
                    exclude.insert(node.graph);
                }
            }
        }
        // A field of an interface that this subgraph cannot resolve for the interface as a
        // whole: resolve it per concrete type (each an entity with its own keys).
        let abstract_here = matches!(
            self.sg.type_def(node.ty).kind,
            TypeKind::Interface | TypeKind::Union
        ) && !self.graph.is_interface_object(node.ty, node.graph)
            && self
                .graph
                .resolving_graphs_with(fid, self.labels)
                .all(|g| g != node.graph)
            && self.graph.interface_object_for(node.ty, fid).is_none()
            && self.sg.keys(node.ty, node.graph).next().is_none();
        if abstract_here {
            return self.plan_field_per_type(step, at, node, f, conditions, path);
        }
        // Each subgraph that can resolve the field in turn, until its sub-selections plan too.
        // With one resolver there is no other turn: no snapshot to go back to (an error
        // leaves the state to whoever catches it, who restores their own snapshot).
        let retry = f.selection_set.is_some() && !self.single_resolver(node, fid);
        loop {
            let saved = if retry { Some(self.snapshot()?) } else { None };
            let (target_step, target_node) =
                match self.entity_step_for(step, at, node, fid, path, &exclude) {
                    Ok(found) => found,
                    Err(e) => {
                        if let Some(saved) = saved {
                            self.restore(saved);
                        }
                        return Err(first_error.unwrap_or(e));
                    }
                };
            let target_at = self.reentry_at.take().unwrap_or_default();
            // The conditions travel with the field into the fetch that resolves it.
            self.note_conditions(target_step, conditions);
            // Through an interface object the field is the interface's.
            let target_fid = if target_node.ty == node.ty {
                fid
            } else {
                self.sg.field_id(target_node.ty, &f.name).unwrap_or(fid)
            };
            let result = self
                .with_context_arguments(target_step, target_fid, target_node.graph, f)
                .and_then(|with_context| {
                    self.add_local_field(
                        target_step,
                        &target_at,
                        target_node,
                        target_fid,
                        with_context.as_ref().unwrap_or(f),
                        directives.clone(),
                        path,
                    )
                });
            match (result, saved) {
                (Ok(()), _) => return Ok(()),
                (Err(e), _) if final_error(&e) => return Err(e),
                (Err(e), Some(saved)) if exclude.insert(target_node.graph) => {
                    self.restore(saved);
                    first_error.get_or_insert(e);
                }
                (Err(e), _) => return Err(first_error.unwrap_or(e)),
            }
        }
    }

    /// `f` with its `@fromContext` arguments in `graph` added (planned into `step`);
    /// `None` when it has none.
    fn with_context_arguments(
        &mut self,
        step: usize,
        fid: FieldId,
        graph: SubgraphId,
        f: &op::Field,
    ) -> Result<Option<op::Field>, PlanError> {
        if self.context_arguments(fid, graph).is_empty() {
            return Ok(None);
        }
        let passed = self.plan_context(step, fid, graph)?;
        let mut with = f.clone();
        with.arguments.extend(passed);
        Ok(Some(with))
    }

    /// Adds a field resolved in `step`'s subgraph, then plans its sub-selections.
    #[allow(clippy::too_many_arguments)]
    fn add_local_field(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        fid: FieldId,
        f: &op::Field,
        directives: String,
        path: &[String],
    ) -> Result<(), PlanError> {
        let args = self.print_arguments(step, &f.arguments);
        let sel = SubSel::Field {
            alias: (f.response_key != f.name).then(|| f.response_key.clone()),
            name: f.name.clone(),
            args,
            directives,
            children: SelList::new(),
        };
        self.touched.insert(step);
        let Some(set) = &f.selection_set else {
            insert(self.selections_mut(step), at, sel);
            return Ok(());
        };
        let Some(target) = self.graph.field_target(node, fid) else {
            // Nothing more is planned after an error (whoever catches it restores their own
            // snapshot): the field need not be added first.
            return fail(format!(
                "`{}` has a selection but no composite type",
                f.name
            ));
        };
        let mut child_path = path.to_vec();
        child_path.push(f.response_key.clone());
        for _ in 0..list_depth(&f.ty) {
            child_path.push(crate::plan::model::LIST.to_owned());
        }
        // The field without its sub-selections, which are not cloned (a clone per level
        // would make planning grow with the depth times the size of the operation).
        let link = LinkKind::Field(op::Field {
            response_key: f.response_key.clone(),
            name: f.name.clone(),
            arguments: f.arguments.clone(),
            ty: f.ty.clone(),
            conditions: f.conditions.clone(),
            directives: f.directives.clone(),
            selection_set: None,
        });
        self.plan_inside(step, at, sel, Some((link, node, path)), |b, inner| {
            // Entity fetches below need `__typename` to build representations; it is cheap.
            insert(b.selections_mut(step), inner, SubSel::plain("__typename"));
            b.plan_set(step, inner, target, set, &child_path)
        })
    }
}
