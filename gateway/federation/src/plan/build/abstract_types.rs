//! Abstract types: inline fragments and their type conditions, interface fields asked type
//! by type, union members only some subgraphs know, and `@interfaceObject`s (which know an
//! interface but none of its implementations).

use std::collections::BTreeSet;

use super::{Builder, LinkKind, PlanError, conditions_text, fail, fragment};
use crate::graph::Node;
use crate::operation as op;
use crate::plan::steps::{SelKey, SubSel, insert};
use crate::supergraph::{FieldId, SubgraphId, TypeId, TypeKind};

impl Builder<'_> {
    pub(super) fn plan_fragment(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        frag: &op::InlineFragment,
        path: &[String],
    ) -> Result<(), PlanError> {
        let Some(defer) = &frag.defer else {
            return self.guarded(&frag.conditions, |b| {
                b.plan_fragment_here(step, at, node, frag, path)
            });
        };
        // A deferred fragment: its fields get fetches of their own (`defer_entry`), which
        // are the deferred part's; what they need from the parent (keys) the parent fetches.
        let outer = self.defer.replace(defer.id);
        let entry = std::mem::replace(&mut self.defer_entry, true);
        let result = self.guarded(&frag.conditions, |b| {
            b.plan_fragment_here(step, at, node, frag, path)
        });
        self.defer = outer;
        self.defer_entry = entry;
        result
    }

    fn plan_fragment_here(
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
            // Only the directives are kept: the type does not change, so the path to replay
            // gets no link.
            return self.plan_inside(step, at, fragment(None, directives), None, |b, inner| {
                b.plan_set(step, inner, node, &frag.selection_set, path)
            });
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
            let wrapper = fragment(Some(name.clone()), directives.clone());
            let link = (LinkKind::Fragment(name), node, path);
            self.plan_inside(step, at, wrapper, Some(link), |b, inner| {
                b.plan_set(step, inner, n, &frag.selection_set, path)
            })?;
        }
        Ok(())
    }

    /// Plans an interface field once per object type the value can be in this subgraph.
    pub(super) fn plan_field_per_type(
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
            let wrapper = fragment(Some(name.clone()), String::new());
            let link = (LinkKind::Fragment(name), node, path);
            self.plan_inside(step, at, wrapper, Some(link), |b, inner| {
                b.plan_field(step, inner, n, f, conditions, path)
            })?;
        }
        Ok(())
    }

    /// For an interface node: whether every implementation this subgraph can return resolves
    /// field `name` here too (otherwise the interface field cannot be asked as a whole).
    pub(super) fn uniform_on_implementations(&mut self, node: Node, name: &str) -> bool {
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

    /// The object types a value of `ty` can be: a union's members, an interface's
    /// implementations, or `ty` itself.
    pub(super) fn possible_objects(&self, ty: TypeId) -> Vec<TypeId> {
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

    /// The entity fetch that asks a subgraph knowing the concrete types for `__typename` of
    /// interface-object values at `path`.
    pub(super) fn typename_from_interface_entity(
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
            let representation = self.provide_key(step, at, &key);
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

    /// A field of an object type that only an `@interfaceObject` of one of its interfaces
    /// resolves: fetch it as the interface, by the interface's key.
    pub(super) fn interface_object_step(
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
            let representation = if local {
                self.provide_key(step, at, &key)
            } else {
                // The gathered key fields are already asked for where they resolve.
                insert(self.selections_mut(step), at, SubSel::plain("__typename"));
                self.key_representation(&key)
            };
            let requirements = requires
                .as_deref()
                .map(|r| self.field_set_selections(r))
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
            self.wait_for(next, requirement_deps);
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
}
