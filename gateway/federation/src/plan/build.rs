//! The planner: walks the normalized operation over the query graph, keeping each field in
//! the fetch that is already in the right subgraph when it can, and otherwise adding an
//! entity fetch through the cheapest chain of `@key` jumps (fetching `@requires` fields
//! first). Fetches for the same subgraph, type and path are shared.

use std::collections::{BTreeSet, HashMap};

use apollo_compiler::ast::{OperationType, Value};

use super::steps::{SelKey, SelList, Step, SubSel, field_set_selections, insert};
use crate::graph::selection::FieldSetItem;
use crate::graph::{ClosureCache, Node, QueryGraph};
use crate::operation::{self as op, Operation, OperationKind};
use crate::supergraph::{FieldId, SubgraphId, Supergraph, TypeId, TypeKind};

/// Why an operation could not be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    pub message: String,
    /// The planning budget ran out (the operation may be plannable with more).
    pub over_budget: bool,
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        if self.over_budget {
            "QUERY_PLANNING_BUDGET_EXCEEDED"
        } else {
            "QUERY_PLANNING_FAILED"
        }
    }
}

fn fail<T>(message: String) -> Result<T, PlanError> {
    Err(PlanError {
        message,
        over_budget: false,
    })
}

/// A running-out budget error is final: no alternative is tried after it.
fn final_error(e: &PlanError) -> bool {
    e.over_budget
}

pub(super) struct Builder<'a> {
    pub sg: &'a Supergraph,
    pub graph: &'a QueryGraph,
    pub op: &'a Operation,
    pub steps: Vec<Step>,
    /// Progressive-override labels switched on for this request.
    labels: &'a BTreeSet<String>,
    cache: ClosureCache,
    /// Steps that received a field since this was last cleared (tracks where `@requires`
    /// fields end up, so the fetch needing them can wait for those steps).
    touched: BTreeSet<usize>,
    /// The client's fields and type conditions from the root to where planning is now: what
    /// to replay when a field is only reachable by entering another subgraph from the root.
    chain: Vec<Link>,
    /// Set by [`Self::reenter_from_root`]: where in the root step the replayed path ends.
    reentry_at: Option<Vec<SelKey>>,
    /// The entity steps at each (subgraph, type, path), in order: finding the fetch to share
    /// costs the same however many fetches the plan has.
    entity_steps: HashMap<(SubgraphId, TypeId, Vec<String>), Vec<usize>>,
    /// Work the planner may still do: a unit per field planned and per selection copied
    /// into a snapshot. `None`: unbounded.
    budget: Option<usize>,
    /// The budget this plan started with, for the error message.
    initial_budget: usize,
}

/// A step of the path from the root: a field (without its sub-selections) or a fragment,
/// with where it was planned (the node holding it, its fetch step, its place in that step's
/// selections, and the response path of the object holding it).
#[derive(Clone, Debug)]
struct Link {
    kind: LinkKind,
    parent: Node,
    step: usize,
    at: Vec<SelKey>,
    path: Vec<String>,
}

#[derive(Clone, Debug)]
enum LinkKind {
    Field(op::Field),
    Fragment(String),
}

impl<'a> Builder<'a> {
    pub fn new(
        graph: &'a QueryGraph,
        op: &'a Operation,
        labels: &'a BTreeSet<String>,
        budget: Option<usize>,
    ) -> Self {
        Builder {
            budget,
            initial_budget: budget.unwrap_or(usize::MAX),
            sg: &graph.sg,
            graph,
            op,
            labels,
            steps: Vec::new(),
            cache: ClosureCache::default(),
            touched: BTreeSet::new(),
            chain: Vec::new(),
            reentry_at: None,
            entity_steps: HashMap::new(),
        }
    }

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
        let mut fields: Vec<(&op::Field, Vec<op::Condition>)> = Vec::new();
        flatten_root(&self.op.selection_set, &[], &mut fields);
        let mutation = self.op.kind == OperationKind::Mutation;
        for (group, (field, conditions)) in fields.into_iter().enumerate() {
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
                self.steps
                    .iter()
                    .position(|s| s.entity.is_none() && candidates.contains(&s.graph))
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
        {
            let step = match existing {
                Some(i) => i,
                None => {
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
                        group: if mutation { group } else { 0 },
                    });
                    self.steps.len() - 1
                }
            };
            let node = Node {
                ty: root,
                graph: self.steps[step].graph,
                provided: 0,
                entered: false,
            };
            self.plan_field(step, &[], node, field, conditions, &[])
        }
    }

    fn plan_set(
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

    fn plan_fragment(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        frag: &op::InlineFragment,
        path: &[String],
    ) -> Result<(), PlanError> {
        let directives = conditions_text(&frag.conditions);
        self.note_conditions(step, &frag.conditions);
        let target = frag
            .type_condition
            .as_deref()
            .and_then(|t| self.sg.type_id(t));
        // On an object, a condition either holds (the object's type, or an abstract type it
        // belongs to) or never does.
        let node_is_object = self.sg.type_def(node.ty).kind == TypeKind::Object;
        let same_type = target.is_none_or(|t| {
            t == node.ty || (node_is_object && self.possible_objects(t).contains(&node.ty))
        });
        if node_is_object && !same_type {
            return Ok(());
        }
        if same_type {
            if directives.is_empty() {
                return self.plan_set(step, at, node, &frag.selection_set, path);
            }
            let wrapper = SubSel::Fragment {
                on: None,
                directives: directives.clone(),
                children: SelList::new(),
            };
            let key = wrapper.key();
            insert(self.selections_mut(step), at, wrapper);
            let inner = extend(at, key);
            return self.plan_set(step, &inner, node, &frag.selection_set, path);
        }
        let Some(target) = target else { return Ok(()) };
        if self.graph.is_interface_object(node.ty, node.graph) {
            // An @interfaceObject knows no implementations: ask a subgraph where the
            // interface is a real entity interface for the concrete type, and plan the
            // fragment there.
            if let Some((entity_step, entity_node)) =
                self.typename_from_interface_entity(step, at, node, path)
            {
                insert(
                    self.selections_mut(entity_step),
                    &[],
                    SubSel::plain("__typename"),
                );
                return self.plan_fragment(entity_step, &[], entity_node, frag, path);
            }
            return Ok(());
        }
        let target_def = self.sg.type_def(target);
        if target_def.kind == TypeKind::Object && !self.member_wherever_reachable(node, target) {
            // Another subgraph the same (shared) field could be resolved from would never
            // return this type: the type condition is not planned (as Hive Router does), and
            // its fields are null.
            return Ok(());
        }
        let mut nodes: Vec<Node> = Vec::new();
        if target_def.kind == TypeKind::Object {
            nodes = self.graph.downcast(node, target, &mut self.cache);
        } else if self.sg.type_subgraphs(target).contains(&node.graph)
            && self.implements_everywhere_here(target, node.graph)
        {
            nodes.push(Node {
                ty: target,
                graph: node.graph,
                provided: node.provided,
                entered: false,
            });
        } else {
            // An abstract condition this subgraph does not know: spell it per object type.
            for object in self.possible_objects(target) {
                for n in self.graph.downcast(node, object, &mut self.cache) {
                    if n.graph == node.graph {
                        nodes.push(n);
                    }
                }
            }
        }
        for n in nodes.into_iter().filter(|n| n.graph == node.graph) {
            let name = self.sg.type_def(n.ty).name.to_string();
            let wrapper = SubSel::Fragment {
                on: Some(name.clone()),
                directives: directives.clone(),
                children: SelList::new(),
            };
            let key = wrapper.key();
            insert(self.selections_mut(step), at, wrapper);
            let inner = extend(at, key);
            self.chain.push(Link {
                kind: LinkKind::Fragment(name),
                parent: node,
                step,
                at: at.to_vec(),
                path: path.to_vec(),
            });
            let result = self.plan_set(step, &inner, n, &frag.selection_set, path);
            self.chain.pop();
            result?;
        }
        Ok(())
    }

    fn plan_field(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        f: &op::Field,
        conditions: &[op::Condition],
        path: &[String],
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
        let local = self.graph.resolves_with(node, fid, self.labels)
            && self.graph.requires(fid, node.graph).is_none()
            && self.uniform_on_implementations(node, &f.name);
        if !local
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
            let result = self.add_local_field(
                target_step,
                &target_at,
                target_node,
                target_fid,
                f,
                directives.clone(),
                path,
            );
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

    /// The planning state to go back to when an alternative fails. Its copy is paid from
    /// the budget, so that planning work stays bounded however often alternatives are tried.
    fn snapshot(&mut self) -> Result<Snapshot, PlanError> {
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
    fn spend(&mut self, units: usize) -> Result<(), PlanError> {
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

    /// Whether field `fid` at `node` can only be resolved in `node`'s subgraph, so that no
    /// alternative exists if its sub-selections cannot be planned from there.
    fn only_here(&self, node: Node, fid: FieldId) -> bool {
        self.single_resolver(node, fid)
            && self.graph.resolving_graphs_with(fid, self.labels).next() == Some(node.graph)
    }

    /// Whether at most one subgraph resolves field `fid` of `node`'s object type, and no
    /// interface object offers it under another type: planning it has no alternative to try.
    fn single_resolver(&self, node: Node, fid: FieldId) -> bool {
        self.graph
            .resolving_graphs_with(fid, self.labels)
            .nth(1)
            .is_none()
            && !self.graph.is_interface_object(node.ty, node.graph)
            && self.graph.interface_object_for(node.ty, fid).is_none()
            && matches!(self.sg.type_def(node.ty).kind, TypeKind::Object)
    }

    fn restore(&mut self, saved: Snapshot) {
        (self.steps, self.touched) = saved;
        self.reentry_at = None;
        self.entity_steps.clear();
        for (i, step) in self.steps.iter().enumerate() {
            if let Some(ty) = step.entity {
                self.entity_steps
                    .entry((step.graph, ty, step.path.clone()))
                    .or_default()
                    .push(i);
            }
        }
    }

    /// Adds a step; returns its index.
    fn push_step(&mut self, step: Step) -> usize {
        if let Some(ty) = step.entity {
            self.entity_steps
                .entry((step.graph, ty, step.path.clone()))
                .or_default()
                .push(self.steps.len());
        }
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// The entity steps for `ty` at `path` in `graph`, in order.
    fn entity_steps_at(&self, graph: SubgraphId, ty: TypeId, path: &[String]) -> Vec<usize> {
        self.entity_steps
            .get(&(graph, ty, path.to_vec()))
            .cloned()
            .unwrap_or_default()
    }

    /// For an interface node: whether every implementation this subgraph can return resolves
    /// field `name` here too (otherwise the interface field cannot be asked as a whole).
    fn uniform_on_implementations(&mut self, node: Node, name: &str) -> bool {
        if self.sg.type_def(node.ty).kind != TypeKind::Interface
            || self.graph.is_interface_object(node.ty, node.graph)
        {
            return true;
        }
        for object in self.possible_objects(node.ty) {
            let Some(n) = self
                .graph
                .downcast(node, object, &mut self.cache)
                .into_iter()
                .find(|n| n.graph == node.graph)
            else {
                continue;
            };
            let Some(f) = self.sg.field_id(object, name) else {
                continue;
            };
            if !self.graph.resolves_with(n, f, self.labels)
                || self.graph.requires(f, node.graph).is_some()
            {
                return false;
            }
        }
        true
    }

    /// The entity fetch that asks a subgraph knowing the concrete types for `__typename` of
    /// interface-object values at `path`.
    fn typename_from_interface_entity(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        path: &[String],
    ) -> Option<(usize, Node)> {
        let def = self.sg.type_def(node.ty).clone();
        for j in def
            .join_types
            .iter()
            .filter(|j| !j.is_interface_object && j.resolvable && j.key.is_some())
        {
            let key = self.graph.keys_in(node.ty, j.graph).into_iter().next()?;
            if !self.graph.collectable_locally(node, &key) {
                continue;
            }
            insert(self.selections_mut(step), at, SubSel::plain("__typename"));
            for sel in field_set_selections(&key) {
                insert(self.selections_mut(step), at, sel);
            }
            let mut representation = vec![SubSel::plain("__typename")];
            representation.extend(field_set_selections(&key));
            let target = self.entity_step(j.graph, node.ty, path, step, representation);
            return Some((
                target,
                Node {
                    ty: node.ty,
                    graph: j.graph,
                    provided: 0,
                    entered: true,
                },
            ));
        }
        None
    }

    /// Plans an interface field once per object type the value can be in this subgraph.
    fn plan_field_per_type(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        f: &op::Field,
        conditions: &[op::Condition],
        path: &[String],
    ) -> Result<(), PlanError> {
        for object in self.possible_objects(node.ty) {
            let Some(n) = self
                .graph
                .downcast(node, object, &mut self.cache)
                .into_iter()
                .find(|n| n.graph == node.graph)
            else {
                continue;
            };
            let name = self.sg.type_def(object).name.to_string();
            let wrapper = SubSel::Fragment {
                on: Some(name.clone()),
                directives: String::new(),
                children: SelList::new(),
            };
            let key = wrapper.key();
            insert(self.selections_mut(step), at, wrapper);
            let inner = extend(at, key);
            self.chain.push(Link {
                kind: LinkKind::Fragment(name),
                parent: node,
                step,
                at: at.to_vec(),
                path: path.to_vec(),
            });
            let result = self.plan_field(step, &inner, n, f, conditions, path);
            self.chain.pop();
            result?;
        }
        Ok(())
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
        let key = sel.key();
        insert(self.selections_mut(step), at, sel);
        self.touched.insert(step);
        let Some(set) = &f.selection_set else {
            return Ok(());
        };
        let Some(target) = self.graph.field_target(node, fid) else {
            return fail(format!(
                "`{}` has a selection but no composite type",
                f.name
            ));
        };
        let mut child_path = path.to_vec();
        child_path.push(f.response_key.clone());
        for _ in 0..list_depth(&f.ty) {
            child_path.push(super::model::LIST.to_owned());
        }
        let inner = extend(at, key);
        // Entity fetches below need `__typename` to build representations; it is cheap.
        insert(
            self.selections_mut(step),
            &inner,
            SubSel::plain("__typename"),
        );
        self.chain.push(Link {
            kind: LinkKind::Field(op::Field {
                selection_set: None,
                ..f.clone()
            }),
            parent: node,
            step,
            at: at.to_vec(),
            path: path.to_vec(),
        });
        let result = self.plan_set(step, &inner, target, set, &child_path);
        self.chain.pop();
        result
    }

    /// The entity fetch that resolves `fid` for the objects at `path`, creating the chain of
    /// fetches (`@key` jumps) to get there and planning its `@requires` first.
    fn entity_step_for(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        fid: FieldId,
        path: &[String],
        exclude: &BTreeSet<SubgraphId>,
    ) -> Result<(usize, Node), PlanError> {
        let ty = node.ty;
        let field_name = self.sg.field(fid).name.to_string();
        let type_name = self.sg.type_def(ty).name.to_string();
        // Prefer a subgraph an entity fetch at this path already goes to.
        let mut options: Vec<(usize, SubgraphId, Hops)> = Vec::new();
        let all: Vec<SubgraphId> = self.graph.resolving_graphs_with(fid, self.labels).collect();
        if all.is_empty() && exclude.is_empty() {
            return self.interface_object_step(step, at, node, fid, path);
        }
        let resolving: Vec<SubgraphId> = all
            .iter()
            .copied()
            .filter(|g| !exclude.contains(g))
            .collect();
        for g in resolving {
            let hops = if g == node.graph {
                // Resolved here but with @requires: fetch it again through its own key.
                self.any_key(ty, g).map(|key| vec![(g, key)])
            } else {
                self.graph.jump_path(node, g)
            };
            if let Some(hops) = hops {
                let shared = self.find_entity_step(g, ty, path).is_some();
                let cost = hops.len() * 2 - usize::from(shared);
                options.push((cost, g, hops));
            }
        }
        options.sort_by_key(|(cost, g, _)| (*cost, *g));
        let Some((_, target, hops)) = options.into_iter().next() else {
            if let Some(found) = self.jump_with_gathered_key(step, at, node, fid, path, exclude)? {
                return Ok(found);
            }
            if let Some(found) = self.reenter_from_root(fid, exclude) {
                return Ok(found);
            }
            return fail(format!(
                "cannot reach a subgraph that resolves `{type_name}.{field_name}` from `{}`",
                self.sg.subgraph(node.graph).name
            ));
        };
        // `@requires` first: plan the required fields where the objects come from. The fetch
        // that needs them must wait for every fetch they land in, so it cannot be one of those.
        let requires = self.graph.requires(fid, target).map(|r| r.to_vec());
        let mut requirement_deps: BTreeSet<usize> = BTreeSet::new();
        if let Some(requires) = &requires {
            requirement_deps = self.plan_first(step, at, node, requires, path)?;
            requirement_deps.insert(step);
        }
        let mut prev_step = step;
        let mut prev_at: Vec<SelKey> = at.to_vec();
        let mut current = node;
        let hop_count = hops.len();
        for (i, (graph, key)) in hops.into_iter().enumerate() {
            // The previous fetch provides `__typename` and the key.
            insert(
                self.selections_mut(prev_step),
                &prev_at,
                SubSel::plain("__typename"),
            );
            for sel in field_set_selections(&key) {
                insert(self.selections_mut(prev_step), &prev_at, sel);
            }
            let mut representation = vec![SubSel::plain("__typename")];
            representation.extend(field_set_selections(&key));
            // The last fetch takes the requirements in its representations: it can only be
            // shared with one whose representations agree on them.
            let (requirements, avoid) = match &requires {
                Some(requires) if i + 1 == hop_count => {
                    (field_set_selections(requires), requirement_deps.clone())
                }
                _ => (SelList::new(), BTreeSet::new()),
            };
            let next = self.entity_step_avoiding(
                graph,
                ty,
                path,
                prev_step,
                representation,
                requirements,
                &avoid,
                None,
            );
            prev_step = next;
            prev_at = Vec::new();
            current = Node {
                ty,
                graph,
                provided: 0,
                entered: true,
            };
        }
        if let Some(requires) = &requires {
            let step_id = prev_step;
            for sel in field_set_selections(requires) {
                insert(&mut self.steps[step_id].representation, &[], sel);
            }
            for d in requirement_deps {
                if d != step_id && !self.depends_on(d, step_id) {
                    self.steps[step_id].deps.insert(d);
                }
            }
        }
        Ok((prev_step, current))
    }

    /// No `@key` leads from here to a subgraph resolving `fid`: re-enter that subgraph at the
    /// nearest ancestor it can be entered at — by the ancestor entity's `@key`, or from the
    /// root for queries (shared root fields) — and replay the client's path from there.
    /// Returns the step and node to add the field at; [`Self::reentry_at`] says where.
    fn reenter_from_root(
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
                    insert(
                        self.selections_mut(anchor.step),
                        &anchor.at,
                        SubSel::plain("__typename"),
                    );
                    for sel in field_set_selections(&key) {
                        insert(self.selections_mut(anchor.step), &anchor.at, sel);
                    }
                    let mut representation = vec![SubSel::plain("__typename")];
                    representation.extend(field_set_selections(&key));
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
                    insert(&mut self.steps[step].selections, &parent, sel);
                }
                self.reentry_at = Some(at);
                return Some((step, node));
            }
        }
        None
    }

    /// A key no single subgraph can provide: gather its fields like a `@requires` (from
    /// wherever they resolve), then jump with it.
    fn jump_with_gathered_key(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        fid: FieldId,
        path: &[String],
        exclude: &BTreeSet<SubgraphId>,
    ) -> Result<Option<(usize, Node)>, PlanError> {
        let ty = node.ty;
        for graph in self
            .graph
            .resolving_graphs_with(fid, self.labels)
            .filter(|g| !exclude.contains(g))
            .collect::<Vec<_>>()
        {
            for key in self.graph.keys_in(ty, graph) {
                if !self.graph.collectable(
                    Node {
                        provided: 0,
                        ..node
                    },
                    &key,
                    &mut self.cache,
                ) {
                    continue;
                }
                let deps = self.plan_first(step, at, node, &key, path)?;
                insert(self.selections_mut(step), at, SubSel::plain("__typename"));
                let mut representation = vec![SubSel::plain("__typename")];
                representation.extend(field_set_selections(&key));
                let target = self.entity_step(graph, ty, path, step, representation);
                for d in deps {
                    if d != target && !self.depends_on(d, target) {
                        self.steps[target].deps.insert(d);
                    }
                }
                return Ok(Some((
                    target,
                    Node {
                        ty,
                        graph,
                        provided: 0,
                        entered: true,
                    },
                )));
            }
        }
        Ok(None)
    }

    /// The root fetch for `graph`, created if needed.
    fn root_step(&mut self, graph: SubgraphId) -> usize {
        if let Some(i) = self
            .steps
            .iter()
            .position(|s| s.entity.is_none() && s.graph == graph)
        {
            return i;
        }
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
            group: 0,
        });
        self.steps.len() - 1
    }

    /// Replays `links` in `graph` starting at type `ty`: the node reached, where in the
    /// selections, and the selections to insert; `None` if `graph` cannot follow the path.
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
                    let sel = SubSel::Fragment {
                        on: Some(type_name.clone()),
                        directives: String::new(),
                        children: SelList::new(),
                    };
                    let key = sel.key();
                    sels.push((at.clone(), sel));
                    at.push(key);
                    node = n;
                }
            }
        }
        Some((node, at, sels))
    }

    /// A field of an object type that only an `@interfaceObject` of one of its interfaces
    /// resolves: fetch it as the interface, by the interface's key.
    fn interface_object_step(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        fid: FieldId,
        path: &[String],
    ) -> Result<(usize, Node), PlanError> {
        let name = self.sg.field(fid).name.clone();
        for iface in self.sg.type_def(node.ty).interfaces.clone() {
            let Some(iface_field) = self.sg.field_id(iface, &name) else {
                continue;
            };
            let Some((graph, key)) = self.graph.interface_object_for(iface, iface_field) else {
                continue;
            };
            let local = self.graph.collectable_locally(node, &key);
            let unentered = Node {
                provided: 0,
                entered: false,
                ..node
            };
            if !local && !self.graph.collectable(unentered, &key, &mut self.cache) {
                continue;
            }
            // The interface object's `@requires` are read from the object, like any other.
            let requires = self.graph.requires(iface_field, graph).map(|r| r.to_vec());
            let mut requirement_deps: BTreeSet<usize> = BTreeSet::new();
            if !local {
                // The key is not all here: gather it from wherever it resolves first.
                requirement_deps = self.plan_first(step, at, node, &key, path)?;
            }
            if let Some(requires) = &requires {
                requirement_deps.extend(self.plan_first(step, at, node, requires, path)?);
            }
            insert(self.selections_mut(step), at, SubSel::plain("__typename"));
            if local {
                for sel in field_set_selections(&key) {
                    insert(self.selections_mut(step), at, sel);
                }
            }
            let mut representation = vec![SubSel::plain("__typename")];
            representation.extend(field_set_selections(&key));
            let requirements = requires
                .as_deref()
                .map(field_set_selections)
                .unwrap_or_default();
            let next = self.entity_step_avoiding(
                graph,
                iface,
                path,
                step,
                representation,
                requirements,
                &requirement_deps,
                Some(node.ty),
            );
            for d in requirement_deps {
                if d != next && !self.depends_on(d, next) {
                    self.steps[next].deps.insert(d);
                }
            }
            return Ok((
                next,
                Node {
                    ty: iface,
                    graph,
                    provided: 0,
                    entered: true,
                },
            ));
        }
        fail(format!(
            "no subgraph resolves `{}.{name}`",
            self.sg.type_def(node.ty).name
        ))
    }

    /// Plans `items` (requirements, or a key gathered from elsewhere) at `node` as if the
    /// client had selected them; returns every fetch they landed in, which the fetch reading
    /// them must wait for.
    fn plan_first(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        items: &[FieldSetItem],
        path: &[String],
    ) -> Result<BTreeSet<usize>, PlanError> {
        let outer = std::mem::take(&mut self.touched);
        let before = self.steps.len();
        let mut result = Ok(());
        for item in items {
            result = self.plan_requirement(step, at, node, item, path);
            if result.is_err() {
                break;
            }
        }
        let mut deps: BTreeSet<usize> = (before..self.steps.len()).collect();
        deps.extend(self.touched.iter().copied());
        let inner = std::mem::replace(&mut self.touched, outer);
        self.touched.extend(inner);
        result.map(|()| deps)
    }

    /// Plans one required field as if the client had selected it (no alias, no arguments).
    fn plan_requirement(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        item: &FieldSetItem,
        path: &[String],
    ) -> Result<(), PlanError> {
        match item {
            FieldSetItem::Field {
                name,
                arguments,
                children,
            } => {
                let Some(fid) = self.sg.field_id(node.ty, name) else {
                    if name == "__typename" {
                        insert(self.selections_mut(step), at, SubSel::plain("__typename"));
                    }
                    return Ok(());
                };
                let ty = self.sg.field(fid).ty.clone();
                let child_name = ty.inner_named_type().to_string();
                let child_ty = self.sg.type_id(&child_name);
                let field = op::Field {
                    response_key: crate::graph::selection::requirement_alias(name, arguments)
                        .unwrap_or_else(|| name.clone()),
                    name: name.clone(),
                    arguments: arguments.clone(),
                    ty,
                    conditions: Vec::new(),
                    directives: Vec::new(),
                    selection_set: (!children.is_empty()).then(|| op::SelectionSet {
                        parent_type: child_name.clone(),
                        items: children
                            .iter()
                            .filter_map(|c| self.requirement_item(c, child_ty?))
                            .collect(),
                    }),
                };
                self.plan_field(step, at, node, &field, &[], path)
            }
            FieldSetItem::Fragment { .. } => Ok(()),
        }
    }

    /// A required field set item as a client selection on `parent_ty`.
    fn requirement_item(&self, item: &FieldSetItem, parent_ty: TypeId) -> Option<op::Selection> {
        match item {
            FieldSetItem::Field {
                name,
                children,
                arguments,
            } => {
                let fid = self.sg.field_id(parent_ty, name);
                let ty = match fid {
                    Some(f) => self.sg.field(f).ty.clone(),
                    None => apollo_compiler::ast::Type::Named(apollo_compiler::name!("String"))
                        .non_null(),
                };
                let child_ty =
                    fid.and_then(|f| self.sg.type_id(self.sg.field(f).ty.inner_named_type()));
                Some(op::Selection::Field(op::Field {
                    response_key: crate::graph::selection::requirement_alias(name, arguments)
                        .unwrap_or_else(|| name.clone()),
                    name: name.clone(),
                    arguments: arguments.clone(),
                    ty,
                    conditions: Vec::new(),
                    directives: Vec::new(),
                    selection_set: match child_ty {
                        Some(t) if !children.is_empty() => Some(op::SelectionSet {
                            parent_type: self.sg.type_def(t).name.to_string(),
                            items: children
                                .iter()
                                .filter_map(|c| self.requirement_item(c, t))
                                .collect(),
                        }),
                        _ => None,
                    },
                }))
            }
            FieldSetItem::Fragment {
                type_condition,
                children,
            } => {
                let t = self.sg.type_id(type_condition)?;
                Some(op::Selection::InlineFragment(op::InlineFragment {
                    type_condition: Some(type_condition.clone()),
                    possible_types: self
                        .possible_objects(t)
                        .into_iter()
                        .map(|o| self.sg.type_def(o).name.to_string())
                        .collect(),
                    conditions: Vec::new(),
                    selection_set: op::SelectionSet {
                        parent_type: type_condition.clone(),
                        items: children
                            .iter()
                            .filter_map(|c| self.requirement_item(c, t))
                            .collect(),
                    },
                }))
            }
        }
    }

    /// Whether every object type of the supergraph implementing interface `iface` that
    /// `graph` knows implements it in `graph` too (otherwise `... on Iface` in that
    /// subgraph would miss some of them: the condition is spelled per object type).
    fn implements_everywhere_here(&self, iface: TypeId, graph: SubgraphId) -> bool {
        if self.sg.type_def(iface).kind != TypeKind::Interface {
            return true;
        }
        self.possible_objects(iface).into_iter().all(|o| {
            let def = self.sg.type_def(o);
            !self.sg.type_subgraphs(o).contains(&graph)
                || def.join_implements.is_empty()
                || def
                    .join_implements
                    .iter()
                    .any(|(g, i)| *g == graph && *i == iface)
        })
    }

    /// For a union value: whether `object` is a member of the union in every subgraph that
    /// resolves the field the value came from and that the plan could reach from the
    /// nearest ancestor entity (by its keys). A member only some of those subgraphs know is
    /// not asked for in any of them.
    fn member_wherever_reachable(&mut self, node: Node, object: TypeId) -> bool {
        let def = self.sg.type_def(node.ty);
        if def.kind != TypeKind::Union || def.join_members.is_empty() {
            return true;
        }
        let Some(link) = self.chain.last() else {
            return true;
        };
        let LinkKind::Field(f) = &link.kind else {
            return true;
        };
        let Some(fid) = self.sg.field_id(link.parent.ty, &f.name) else {
            return true;
        };
        let members = def.join_members.clone();
        let chain = self.chain.clone();
        let graphs: Vec<SubgraphId> = self.graph.resolving_graphs_with(fid, self.labels).collect();
        graphs.into_iter().all(|g| {
            members.contains(&(g, object))
                || (g != node.graph && !self.reachable_along_path(&chain, g))
        })
    }

    /// Whether subgraph `g` could resolve the path in `chain`: entered by a key at some
    /// ancestor on it, and following the fields from there.
    fn reachable_along_path(&mut self, chain: &[Link], g: SubgraphId) -> bool {
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

    /// Whether some subgraph can fetch `ty` by a `@key`.
    fn is_entity(&self, ty: TypeId) -> bool {
        self.sg
            .type_def(ty)
            .join_types
            .iter()
            .any(|j| j.resolvable && j.key.is_some())
    }

    fn any_key(&self, ty: TypeId, graph: SubgraphId) -> Option<Vec<FieldSetItem>> {
        self.sg
            .keys(ty, graph)
            .find(|j| j.resolvable)
            .and_then(|j| j.key.as_deref())
            .map(crate::graph::selection::parse_field_set)
    }

    fn find_entity_step(&self, graph: SubgraphId, ty: TypeId, path: &[String]) -> Option<usize> {
        self.entity_steps_at(graph, ty, path).first().copied()
    }

    /// The entity fetch for `(graph, ty, path)`, shared if it exists, depending on `parent`.
    fn entity_step(
        &mut self,
        graph: SubgraphId,
        ty: TypeId,
        path: &[String],
        parent: usize,
        representation: Vec<SubSel>,
    ) -> usize {
        self.entity_step_avoiding(
            graph,
            ty,
            path,
            parent,
            representation,
            SelList::new(),
            &BTreeSet::new(),
            None,
        )
    }

    /// Like [`Self::entity_step`], but never shares a fetch that one of `avoid` is or
    /// depends on (the new fetch will wait for `avoid`).
    #[allow(clippy::too_many_arguments)]
    fn entity_step_avoiding(
        &mut self,
        graph: SubgraphId,
        ty: TypeId,
        path: &[String],
        parent: usize,
        mut representation: Vec<SubSel>,
        requirements: SelList,
        avoid: &BTreeSet<usize>,
        for_type: Option<TypeId>,
    ) -> usize {
        // Only key fields identify an entity (a null one: no entity); required fields may
        // well be null.
        let key_fields: BTreeSet<String> = representation
            .iter()
            .filter_map(|s| match s {
                SubSel::Field { name, .. } if name != "__typename" => Some(name.clone()),
                _ => None,
            })
            .collect();
        representation.extend(requirements);
        let shareable = self
            .entity_steps_at(graph, ty, path)
            .into_iter()
            .find(|&i| {
                let s = &self.steps[i];
                i != parent
                    && !self.depends_on(parent, i)
                    && !avoid.iter().any(|a| *a == i || self.depends_on(*a, i))
                    && !representations_conflict(&s.representation, &representation)
            });
        if let Some(existing) = shareable {
            self.steps[existing].deps.insert(parent);
            self.steps[existing].key_fields.extend(key_fields);
            let only = &mut self.steps[existing].only_types;
            match (only.as_mut(), for_type) {
                (Some(types), Some(t)) => {
                    types.insert(t);
                }
                _ => *only = None,
            }
            for sel in representation {
                insert(&mut self.steps[existing].representation, &[], sel);
            }
            return existing;
        }
        let group = self.steps[parent].group;
        self.push_step(Step {
            graph,
            entity: Some(ty),
            representation: representation.into(),
            key_fields,
            only_types: for_type.map(|t| BTreeSet::from([t])),
            path: path.to_vec(),
            selections: SelList::new(),
            deps: BTreeSet::from([parent]),
            variables: BTreeSet::new(),
            group,
        });
        self.steps.len() - 1
    }

    /// Whether step `a` depends (transitively) on step `b`.
    fn depends_on(&self, a: usize, b: usize) -> bool {
        let mut stack = vec![a];
        let mut seen = BTreeSet::new();
        while let Some(s) = stack.pop() {
            if s == b {
                return true;
            }
            if seen.insert(s) {
                stack.extend(self.steps[s].deps.iter().copied());
            }
        }
        false
    }

    fn possible_objects(&self, ty: TypeId) -> Vec<TypeId> {
        let def = self.sg.type_def(ty);
        match def.kind {
            TypeKind::Union => def.members.clone(),
            TypeKind::Interface => self
                .sg
                .types()
                .filter(|(_, t)| t.kind == TypeKind::Object && t.interfaces.contains(&ty))
                .map(|(id, _)| id)
                .collect(),
            _ => vec![ty],
        }
    }

    fn selections_mut(&mut self, step: usize) -> &mut SelList {
        &mut self.steps[step].selections
    }

    fn note_conditions(&mut self, step: usize, conditions: &[op::Condition]) {
        for c in conditions {
            self.steps[step].variables.insert(c.variable.clone());
        }
    }

    fn print_arguments(
        &mut self,
        step: usize,
        args: &[(String, apollo_compiler::Node<Value>)],
    ) -> String {
        if args.is_empty() {
            return String::new();
        }
        for (_, v) in args {
            collect_variables(v, &mut self.steps[step].variables);
        }
        let printed: Vec<String> = args
            .iter()
            .map(|(n, v)| format!("{n}: {}", v.serialize().no_indent()))
            .collect();
        format!("({})", printed.join(", "))
    }
}

/// The planning state an alternative can be rolled back to: the steps and the steps touched.
type Snapshot = (Vec<Step>, BTreeSet<usize>);

/// A chain of `@key` jumps: each hop's subgraph and the key fields it is entered by.
type Hops = Vec<(SubgraphId, Vec<FieldSetItem>)>;

/// Root fields, with fragments on the root type flattened and their conditions carried.
fn flatten_root<'o>(
    set: &'o op::SelectionSet,
    conditions: &[op::Condition],
    out: &mut Vec<(&'o op::Field, Vec<op::Condition>)>,
) {
    for item in &set.items {
        match item {
            op::Selection::Field(f) => {
                let mut c = conditions.to_vec();
                c.extend(f.conditions.iter().cloned());
                out.push((f, c));
            }
            op::Selection::InlineFragment(frag) => {
                let mut c = conditions.to_vec();
                c.extend(frag.conditions.iter().cloned());
                flatten_root(&frag.selection_set, &c, out);
            }
        }
    }
}

fn selection_count(selections: &[SubSel]) -> usize {
    selections
        .iter()
        .map(|s| match s {
            SubSel::Field { children, .. } | SubSel::Fragment { children, .. } => {
                1 + selection_count(children)
            }
        })
        .sum()
}

/// Whether two representations would put different values under one key: the same field
/// read from different aliases (a required field with different arguments).
fn representations_conflict(a: &[SubSel], b: &[SubSel]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| match (x, y) {
            (
                SubSel::Field {
                    name: n1,
                    alias: a1,
                    children: c1,
                    ..
                },
                SubSel::Field {
                    name: n2,
                    alias: a2,
                    children: c2,
                    ..
                },
            ) if n1 == n2 => a1 != a2 || representations_conflict(c1, c2),
            (
                SubSel::Fragment {
                    on: o1,
                    children: c1,
                    ..
                },
                SubSel::Fragment {
                    on: o2,
                    children: c2,
                    ..
                },
            ) if o1 == o2 => representations_conflict(c1, c2),
            _ => false,
        })
    })
}

fn extend(at: &[SelKey], key: SelKey) -> Vec<SelKey> {
    let mut v = at.to_vec();
    v.push(key);
    v
}

fn list_depth(ty: &apollo_compiler::ast::Type) -> usize {
    use apollo_compiler::ast::Type;
    match ty {
        Type::List(inner) | Type::NonNullList(inner) => 1 + list_depth(inner),
        _ => 0,
    }
}

fn conditions_text(conditions: &[op::Condition]) -> String {
    conditions
        .iter()
        .map(|c| {
            if c.passes_when {
                format!(" @include(if: ${})", c.variable)
            } else {
                format!(" @skip(if: ${})", c.variable)
            }
        })
        .collect()
}

fn collect_variables(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Variable(v) => {
            out.insert(v.to_string());
        }
        Value::List(items) => items.iter().for_each(|v| collect_variables(v, out)),
        Value::Object(fields) => fields.iter().for_each(|(_, v)| collect_variables(v, out)),
        _ => {}
    }
}
