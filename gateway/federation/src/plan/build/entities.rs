//! Entity fetches: reaching a subgraph through a chain of `@key` jumps (or a key gathered
//! from several subgraphs), the representations each fetch reads, sharing a fetch at the
//! same (subgraph, type, path), and the dependencies between fetches.

use std::collections::BTreeSet;

use super::{Builder, PlanError, fail};
use crate::graph::Node;
use crate::graph::selection::FieldSetItem;
use crate::plan::steps::{SelKey, SelList, Step, SubSel, insert};
use crate::supergraph::{FieldId, SubgraphId, TypeId};

/// A chain of `@key` jumps: each hop's subgraph and the key fields it is entered by.
type Hops = Vec<(SubgraphId, Vec<FieldSetItem>)>;

impl Builder<'_> {
    /// The entity fetch that resolves `fid` for the objects at `path`, creating the chain of
    /// fetches (`@key` jumps) to get there and planning its `@requires` first.
    pub(super) fn entity_step_for(
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
            let representation = self.provide_key(prev_step, &prev_at, &key);
            // The last fetch takes the requirements in its representations: it can only be
            // shared with one whose representations agree on them.
            let (requirements, avoid) = match &requires {
                Some(requires) if i + 1 == hop_count => (
                    self.field_set_selections(requires),
                    requirement_deps.clone(),
                ),
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
            for sel in self.field_set_selections(requires) {
                insert(&mut self.steps[step_id].representation, &[], sel);
            }
            self.wait_for(step_id, requirement_deps);
        }
        Ok((prev_step, current))
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
                // The key fields were just planned where they resolve: only `__typename` is
                // left to ask here.
                insert(self.selections_mut(step), at, SubSel::plain("__typename"));
                let target = self.entity_step(graph, ty, path, step, self.key_representation(&key));
                self.wait_for(target, deps);
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

    /// Asks `step` for `__typename` and the fields of `key` at `at`, for an entity fetch by
    /// that key; returns the representation that fetch reads from them.
    pub(super) fn provide_key(
        &mut self,
        step: usize,
        at: &[SelKey],
        key: &[FieldSetItem],
    ) -> Vec<SubSel> {
        insert(self.selections_mut(step), at, SubSel::plain("__typename"));
        for sel in self.field_set_selections(key) {
            insert(self.selections_mut(step), at, sel);
        }
        self.key_representation(key)
    }

    /// What an entity fetch by `key` reads from each object: `__typename` and the key
    /// fields.
    pub(super) fn key_representation(&self, key: &[FieldSetItem]) -> Vec<SubSel> {
        let mut representation = vec![SubSel::plain("__typename")];
        representation.extend(self.field_set_selections(key));
        representation
    }

    /// Makes `step` wait for each of `deps` it does not already wait for (and is not).
    pub(super) fn wait_for(&mut self, step: usize, deps: BTreeSet<usize>) {
        for d in deps {
            if d != step && !self.depends_on(d, step) {
                self.steps[step].deps.insert(d);
            }
        }
    }

    /// Whether some subgraph can fetch `ty` by a `@key`.
    pub(super) fn is_entity(&self, ty: TypeId) -> bool {
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

    /// Adds a step; returns its index.
    pub(super) fn push_step(&mut self, mut step: Step) -> usize {
        step.defer = self.defer;
        if let Some(ty) = step.entity {
            self.entity_steps
                .entry((step.graph, ty, super::path_hash(&step.path)))
                .or_default()
                .push(self.steps.len());
        }
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// The entity steps for `ty` at `path` in `graph`, in order.
    /// Only the steps of the part being planned (the primary, or one deferred fragment) are
    /// shared: a deferred fragment's fetches are its own.
    fn entity_steps_at(&self, graph: SubgraphId, ty: TypeId, path: &[String]) -> Vec<usize> {
        self.entity_steps
            .get(&(graph, ty, super::path_hash(path)))
            .map_or_else(Vec::new, |found| {
                found
                    .iter()
                    .copied()
                    .filter(|&i| {
                        self.steps[i].defer == self.defer
                            && super::same_path(&self.steps[i].path, path)
                    })
                    .collect()
            })
    }

    /// The entity fetch for `(graph, ty, path)`, shared if it exists, depending on `parent`.
    pub(super) fn entity_step(
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
    pub(super) fn entity_step_avoiding(
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
            defer: None,
            guard: None,
            context: Vec::new(),
        })
    }

    /// Whether step `a` depends (transitively) on step `b`.
    pub(super) fn depends_on(&self, a: usize, b: usize) -> bool {
        if a == b {
            return true;
        }
        let mut stack = vec![a];
        let mut seen = vec![false; self.steps.len()];
        while let Some(s) = stack.pop() {
            if s == b {
                return true;
            }
            if !std::mem::replace(&mut seen[s], true) {
                stack.extend(self.steps[s].deps.iter().copied());
            }
        }
        false
    }
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
