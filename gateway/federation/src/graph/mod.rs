//! The query graph of a supergraph: where each type and field can be resolved, and how a plan
//! can move between subgraphs (`@key` jumps, `@interfaceObject` jumps, abstract-type
//! downcasts, `@provides`). Composition's satisfiability check walks it; the planner will
//! search it.
//!
//! A node is a type *in one subgraph*, optionally under a `@provides` that makes some
//! `@external` fields resolvable there.

pub mod selection;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::supergraph::{FieldId, SubgraphId, Supergraph, TypeId, TypeKind};
use selection::{FieldSetItem, parse_field_set};

/// A type in one subgraph, under `@provides` context `provided` (0: none).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub ty: TypeId,
    pub graph: SubgraphId,
    pub provided: u32,
    /// Reached through an entity fetch: the fields of the keys it was fetched by are in the
    /// response already, even where this subgraph has them only as `@external`.
    pub entered: bool,
}

/// How a field is reached from a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The node the field is resolved at (the starting node, or one reached by jumps).
    pub at: Node,
    /// Where the field's value continues (composite types only).
    pub target: Option<Node>,
}

/// Where a field lives in one subgraph, with its parsed requirements.
#[derive(Clone, Debug)]
struct Placement {
    graph: SubgraphId,
    external: bool,
    requires: Option<Vec<FieldSetItem>>,
    /// The `@provides` context the field's value gets in this subgraph (0: none).
    provides: u32,
    /// Progressive override: `(label, true)` for the new owner (used when the label is on),
    /// `(label, false)` for the old one (used when it is off).
    label: Option<(String, bool)>,
}

/// A resolvable `@key` of a type in one subgraph, parsed once.
#[derive(Clone, Debug)]
struct Key {
    graph: SubgraphId,
    fields: Vec<FieldSetItem>,
}

/// A set of subgraphs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphSet(Vec<u64>);

impl GraphSet {
    fn with_capacity(n: usize) -> GraphSet {
        GraphSet(vec![0; n.div_ceil(64)])
    }
    pub fn insert(&mut self, g: SubgraphId) -> bool {
        let (w, b) = (usize::from(g.0) / 64, usize::from(g.0) % 64);
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        let new = self.0[w] & (1 << b) == 0;
        self.0[w] |= 1 << b;
        new
    }
    pub fn contains(&self, g: SubgraphId) -> bool {
        let (w, b) = (usize::from(g.0) / 64, usize::from(g.0) % 64);
        self.0.get(w).is_some_and(|x| x & (1 << b) != 0)
    }
    pub fn iter(&self) -> impl Iterator<Item = SubgraphId> + '_ {
        self.0.iter().enumerate().flat_map(|(w, bits)| {
            (0..64)
                .filter(move |b| bits & (1u64 << b) != 0)
                .map(move |b| SubgraphId((w * 64 + b) as u16))
        })
    }
}

/// The query graph over a supergraph.
pub struct QueryGraph {
    pub sg: Arc<Supergraph>,
    /// Provided field sets, by context id (index 0 is the empty context).
    provided: Vec<HashSet<FieldId>>,
    /// Per field: the subgraphs that have it.
    placements: Vec<Vec<Placement>>,
    /// Per type: its resolvable keys.
    keys: Vec<Vec<Key>>,
    /// Per type: which subgraphs define it.
    type_graphs: Vec<GraphSet>,
}

impl QueryGraph {
    pub fn new(sg: Arc<Supergraph>) -> QueryGraph {
        let owned = sg;
        let sg: &Supergraph = &owned;
        let mut provided = vec![HashSet::new()];
        let mut placements = Vec::new();
        let mut keys = Vec::new();
        let mut type_graphs = Vec::new();
        for (id, ty) in sg.types() {
            debug_assert_eq!(id.0 as usize, keys.len());
            keys.push(
                ty.join_types
                    .iter()
                    .filter(|j| j.resolvable)
                    .filter_map(|j| {
                        Some(Key {
                            graph: j.graph,
                            fields: parse_field_set(j.key.as_deref()?),
                        })
                    })
                    .collect(),
            );
            let mut set = GraphSet::with_capacity(sg.subgraphs().len());
            for g in sg.type_subgraphs(id) {
                set.insert(g);
            }
            type_graphs.push(set);
        }
        let field_count = sg.types().map(|(_, t)| t.fields.len()).sum::<usize>();
        placements.resize(field_count, Vec::new());
        for (_, ty) in sg.types() {
            for f in &ty.fields {
                let mut list = Vec::new();
                for place in sg.field_subgraphs(*f) {
                    let mut ctx = 0;
                    if let Some(p) = &place.provides
                        && let Some(target) = sg.type_id(sg.field(*f).ty.inner_named_type())
                    {
                        let mut set = HashSet::new();
                        collect_named(sg, target, &parse_field_set(p), &mut set);
                        ctx = provided.len() as u32;
                        provided.push(set);
                    }
                    list.push(Placement {
                        graph: place.graph,
                        // Overridden without a label: still there for keys, never resolved.
                        external: place.external
                            || (place.used_overridden && place.override_label.is_none()),
                        requires: place
                            .requires
                            .as_deref()
                            .map(|r| selection::parse_field_set_in(sg.schema(), &ty.name, r)),
                        provides: ctx,
                        // Progressive override: the new owner (the one with
                        // `override:`) resolves the field when the label is on, the old owner
                        // when it is off. Apollo writes `usedOverridden` on the old owner only
                        // when its federation directives still use the field, so it does not
                        // tell the two apart.
                        label: place
                            .override_label
                            .clone()
                            .map(|l| (l, place.override_from.is_some())),
                    });
                }
                if let Some(slot) = placements.get_mut(f.0 as usize) {
                    *slot = list;
                }
            }
        }
        QueryGraph {
            sg: owned.clone(),
            provided,
            placements,
            keys,
            type_graphs,
        }
    }

    /// The nodes where an operation of the given root type starts.
    pub fn roots(&self, root: TypeId) -> Vec<Node> {
        self.sg
            .type_subgraphs(root)
            .into_iter()
            .map(|graph| Node {
                ty: root,
                graph,
                provided: 0,
                entered: false,
            })
            .collect()
    }

    fn placement(&self, field: FieldId, graph: SubgraphId) -> Option<&Placement> {
        self.placements
            .get(field.0 as usize)?
            .iter()
            .find(|p| p.graph == graph)
    }

    /// The parsed `@requires` of `field` in `graph`, if any.
    pub fn requires(&self, field: FieldId, graph: SubgraphId) -> Option<&[FieldSetItem]> {
        self.placement(field, graph)?.requires.as_deref()
    }

    /// Subgraphs that resolve `field` themselves (not `@external`).
    pub fn resolving_graphs(&self, field: FieldId) -> impl Iterator<Item = SubgraphId> + '_ {
        self.placements
            .get(field.0 as usize)
            .into_iter()
            .flatten()
            .filter(|p| !p.external)
            .map(|p| p.graph)
    }

    /// Like [`Self::resolves_here`], for a request with the given progressive-override labels
    /// switched on.
    pub fn resolves_with(
        &self,
        node: Node,
        field: FieldId,
        labels: &std::collections::BTreeSet<String>,
    ) -> bool {
        self.resolves_here(node, field)
            && self
                .placement(field, node.graph)
                .is_none_or(|p| label_allows(p, labels))
    }

    /// Subgraphs that resolve `field` for a request with the given labels switched on.
    pub fn resolving_graphs_with<'l>(
        &'l self,
        field: FieldId,
        labels: &'l std::collections::BTreeSet<String>,
    ) -> impl Iterator<Item = SubgraphId> + 'l {
        self.placements
            .get(field.0 as usize)
            .into_iter()
            .flatten()
            .filter(move |p| !p.external && label_allows(p, labels))
            .map(|p| p.graph)
    }

    /// Every progressive-override label of the supergraph.
    pub fn labels(&self) -> std::collections::BTreeSet<String> {
        self.placements
            .iter()
            .flatten()
            .filter_map(|p| p.label.as_ref().map(|(l, _)| l.clone()))
            .collect()
    }

    /// An `@interfaceObject` of interface `iface` that resolves `field` (of the interface),
    /// and the key it is entered by.
    pub fn interface_object_for(
        &self,
        iface: TypeId,
        field: FieldId,
    ) -> Option<(SubgraphId, Vec<FieldSetItem>)> {
        let def = self.sg.type_def(iface);
        def.join_types
            .iter()
            .filter(|j| j.is_interface_object && j.resolvable)
            .find(|j| self.placement(field, j.graph).is_some_and(|p| !p.external))
            .and_then(|j| Some((j.graph, parse_field_set(j.key.as_deref()?))))
    }

    /// Whether `ty` is an `@interfaceObject` in `graph`.
    pub fn is_interface_object(&self, ty: TypeId, graph: SubgraphId) -> bool {
        self.sg
            .type_def(ty)
            .join_types
            .iter()
            .any(|j| j.graph == graph && j.is_interface_object)
    }

    /// Every resolvable key of `ty` in `graph`.
    pub fn keys_in(&self, ty: TypeId, graph: SubgraphId) -> Vec<Vec<FieldSetItem>> {
        self.keys
            .get(ty.0 as usize)
            .into_iter()
            .flatten()
            .filter(|k| k.graph == graph)
            .map(|k| k.fields.clone())
            .collect()
    }

    /// Resolvable keys of `node.ty` in other subgraphs whose fields `node` can provide
    /// without leaving its subgraph: `(target subgraph, key fields)`.
    pub fn direct_keys(&self, node: Node) -> Vec<(SubgraphId, &[FieldSetItem])> {
        self.keys
            .get(node.ty.0 as usize)
            .into_iter()
            .flatten()
            .filter(|k| k.graph != node.graph && self.collectable_locally(node, &k.fields))
            .map(|k| (k.graph, k.fields.as_slice()))
            .collect()
    }

    /// The shortest chain of `@key` jumps from `node` to `target` (`[]` if already there):
    /// each hop's subgraph and the key fields fetched at the previous hop.
    pub fn jump_path(
        &self,
        node: Node,
        target: SubgraphId,
    ) -> Option<Vec<(SubgraphId, Vec<FieldSetItem>)>> {
        if node.graph == target {
            return Some(Vec::new());
        }
        // Per subgraph: the hop that reached it first (the previous subgraph, the key), by
        // subgraph id; keys are borrowed until the path is found (only its own are copied).
        let mut previous: Vec<Option<(SubgraphId, &[FieldSetItem])>> =
            vec![None; self.sg.subgraphs().len()];
        let mut queue = std::collections::VecDeque::from([node]);
        let reached = |previous: &[Option<_>], g: SubgraphId| {
            g == node.graph || previous.get(g.0 as usize).is_some_and(Option::is_some)
        };
        while let Some(n) = queue.pop_front() {
            for (g, key) in self.direct_keys(n) {
                if reached(&previous, g) {
                    continue;
                }
                let slot = previous.get_mut(g.0 as usize)?;
                *slot = Some((n.graph, key));
                if g == target {
                    let mut hops = Vec::new();
                    let mut at = g;
                    while at != node.graph {
                        let (from, key) = previous.get(at.0 as usize).copied().flatten()?;
                        hops.push((at, key.to_vec()));
                        at = from;
                    }
                    hops.reverse();
                    return Some(hops);
                }
                queue.push_back(Node {
                    ty: n.ty,
                    graph: g,
                    provided: 0,
                    entered: true,
                });
            }
        }
        None
    }

    /// Whether `field` (of `node.ty`) resolves at `node` without leaving the subgraph.
    pub fn resolves_here(&self, node: Node, field: FieldId) -> bool {
        match self.placement(field, node.graph) {
            Some(p) => !p.external || self.provided[node.provided as usize].contains(&field),
            None => false,
        }
    }

    /// Whether every field of a field set resolves at `node` without leaving the subgraph.
    pub fn collectable_locally(&self, node: Node, items: &[FieldSetItem]) -> bool {
        items.iter().all(|item| match item {
            FieldSetItem::Field { name, children, .. } => {
                let Some(f) = self.sg.field_id(node.ty, name) else {
                    return name == "__typename";
                };
                // Checked only when needed: `is_key_field` reads the key strings. A key field
                // the subgraph does not resolve (`@external`, or overridden away) is only
                // there once the node was entered through a key: the representation carries
                // it. Apollo's satisfiability draws the same line for overridden keys.
                let key_here = || {
                    self.is_key_field(node, name)
                        && (node.entered
                            || !self.placement(f, node.graph).is_some_and(|p| p.external))
                };
                if !self.resolves_here(node, f) && !key_here() {
                    return false;
                }
                children.is_empty()
                    || self
                        .field_target(node, f)
                        .is_some_and(|t| self.collectable_locally(t, children))
            }
            FieldSetItem::Fragment {
                type_condition,
                children,
            } => {
                match self.sg.type_id(type_condition) {
                    Some(t) if t == node.ty => self.collectable_locally(node, children),
                    // A fragment on another type only applies when the value is of that type.
                    _ => true,
                }
            }
        })
    }

    /// Whether a field set can be collected starting at `node`, jumping between subgraphs as
    /// needed (used for `@requires`).
    pub fn collectable(
        &self,
        node: Node,
        items: &[FieldSetItem],
        cache: &mut ClosureCache,
    ) -> bool {
        items.iter().all(|item| match item {
            FieldSetItem::Field { name, children, .. } => {
                let Some(f) = self.sg.field_id(node.ty, name) else {
                    return name == "__typename";
                };
                self.reachable(node, f, cache).into_iter().any(|step| {
                    children.is_empty()
                        || step
                            .target
                            .is_some_and(|t| self.collectable(t, children, cache))
                })
            }
            FieldSetItem::Fragment { .. } => true,
        })
    }

    fn is_key_field(&self, node: Node, name: &str) -> bool {
        self.sg.keys(node.ty, node.graph).any(|j| {
            j.key
                .as_deref()
                .is_some_and(|k| crate::supergraph::top_level_fields(k).contains(&name))
        })
    }

    /// The node a field's value continues at, if its type is composite.
    pub fn field_target(&self, node: Node, field: FieldId) -> Option<Node> {
        let def = self.sg.field(field);
        // The subgraph may declare a narrower type (`@join__field(type:)`), e.g. an object
        // where the supergraph has a union: type conditions must follow the subgraph's.
        let local = def
            .join_fields
            .iter()
            .find(|j| j.graph == Some(node.graph))
            .and_then(|j| j.ty.as_deref())
            .map(|t| t.trim_matches(|c: char| c == '[' || c == ']' || c == '!'));
        let ty = match local.and_then(|t| self.sg.type_id(t)) {
            Some(t) => t,
            None => self.sg.type_id(def.ty.inner_named_type())?,
        };
        let kind = self.sg.type_def(ty).kind;
        if !matches!(
            kind,
            TypeKind::Object | TypeKind::Interface | TypeKind::Union
        ) {
            return None;
        }
        let provided = match self.placement(field, node.graph) {
            Some(p) if p.provides != 0 => p.provides,
            _ => node.provided,
        };
        Some(Node {
            ty,
            graph: node.graph,
            provided,
            entered: false,
        })
    }

    /// Subgraphs whose resolvable `@key` of `node.ty` the node can provide fields for.
    fn direct_jumps(&self, node: Node, out: &mut GraphSet) {
        for key in self.keys.get(node.ty.0 as usize).into_iter().flatten() {
            if key.graph != node.graph
                && !out.contains(key.graph)
                && self.collectable_locally(node, &key.fields)
            {
                out.insert(key.graph);
            }
        }
    }

    /// The subgraphs a plan at `node` can reach for the same entity through `@key`s,
    /// transitively, `node.graph` included.
    pub fn closure(&self, node: Node, cache: &mut ClosureCache) -> GraphSet {
        if let Some(hit) = cache.closures.get(&node) {
            return hit.clone();
        }
        let mut set = GraphSet::with_capacity(self.sg.subgraphs().len());
        set.insert(node.graph);
        // The node's own context may provide more key fields; after a jump it is gone, and
        // each subgraph's direct jumps are shared by every closure through it.
        let mut frontier: Vec<SubgraphId> = Vec::new();
        let mut direct = GraphSet::default();
        self.direct_jumps(node, &mut direct);
        for g in direct.iter() {
            if set.insert(g) {
                frontier.push(g);
            }
        }
        while let Some(g) = frontier.pop() {
            let from = Node {
                ty: node.ty,
                graph: g,
                provided: 0,
                entered: false,
            };
            let next = match cache.direct.get(&from) {
                Some(d) => d.clone(),
                None => {
                    let mut d = GraphSet::default();
                    self.direct_jumps(from, &mut d);
                    cache.direct.insert(from, d.clone());
                    d
                }
            };
            for g2 in next.iter() {
                if set.insert(g2) {
                    frontier.push(g2);
                }
            }
        }
        cache.closures.insert(node, set.clone());
        set
    }

    /// Every way to resolve `field` of `node.ty` from `node`: locally, after `@key` jumps, or
    /// through an `@interfaceObject` of an interface the type implements.
    pub fn reachable(&self, node: Node, field: FieldId, cache: &mut ClosureCache) -> Vec<Step> {
        let mut out = Vec::new();
        let Some(placements) = self.placements.get(field.0 as usize) else {
            return out;
        };
        let mut closure: Option<GraphSet> = None;
        for p in placements {
            let at = if p.graph == node.graph {
                if !self.resolves_here(node, field) {
                    continue;
                }
                node
            } else {
                if p.external {
                    continue;
                }
                let set = closure.get_or_insert_with(|| self.closure(node, cache));
                if !set.contains(p.graph) {
                    continue;
                }
                Node {
                    ty: node.ty,
                    graph: p.graph,
                    provided: 0,
                    entered: false,
                }
            };
            let ok = match &p.requires {
                None => true,
                // Requirements are collected from the entity before the jump.
                Some(r) => self.collectable(
                    Node {
                        provided: 0,
                        ..node
                    },
                    r,
                    cache,
                ),
            };
            if ok {
                out.push(Step {
                    at,
                    target: self.field_target(at, field),
                });
            }
        }
        if out.is_empty() {
            out.extend(self.through_interface_objects(node, field, cache));
        }
        out
    }

    /// An object's field that only an `@interfaceObject` resolves: jump to the interface
    /// object by the interface's key, resolve the field there.
    fn through_interface_objects(
        &self,
        node: Node,
        field: FieldId,
        cache: &mut ClosureCache,
    ) -> Vec<Step> {
        let sg = &*self.sg;
        let name = &sg.field(field).name;
        let mut out = Vec::new();
        for iface in &sg.type_def(node.ty).interfaces {
            let Some(iface_field) = sg.field_id(*iface, name) else {
                continue;
            };
            for j in sg
                .type_def(*iface)
                .join_types
                .iter()
                .filter(|j| j.is_interface_object && j.resolvable)
            {
                let Some(key) = &j.key else { continue };
                let to = Node {
                    ty: *iface,
                    graph: j.graph,
                    provided: 0,
                    entered: false,
                };
                let key_items = parse_field_set(key);
                let from_here = self.closure(node, cache).iter().any(|g| {
                    self.collectable_locally(
                        Node {
                            ty: node.ty,
                            graph: g,
                            provided: 0,
                            entered: false,
                        },
                        &key_items,
                    )
                });
                if from_here && self.resolves_here(to, iface_field) {
                    out.push(Step {
                        at: to,
                        target: self.field_target(to, iface_field),
                    });
                }
            }
        }
        out
    }

    /// The nodes of object type `object` that a value at `node` (an abstract type) can be,
    /// in the same subgraph, or, for an `@interfaceObject`, in the subgraphs that know the
    /// implementations.
    pub fn downcast(&self, node: Node, object: TypeId, cache: &mut ClosureCache) -> Vec<Node> {
        let sg = &*self.sg;
        let abstract_ty = sg.type_def(node.ty);
        let here = Node {
            ty: object,
            graph: node.graph,
            provided: node.provided,
            entered: false,
        };
        let object_graphs = &self.type_graphs[object.0 as usize];
        let member_here = |graph: SubgraphId| {
            let t = sg.type_def(object);
            let implements = if t.join_implements.is_empty() {
                t.interfaces.contains(&node.ty) && object_graphs.contains(graph)
            } else {
                t.join_implements.contains(&(graph, node.ty))
            };
            let member = if abstract_ty.join_members.is_empty() {
                abstract_ty.members.contains(&object) && object_graphs.contains(graph)
            } else {
                abstract_ty.join_members.contains(&(graph, object))
            };
            implements || member
        };
        if member_here(node.graph) {
            return vec![here];
        }
        let is_interface_object = abstract_ty
            .join_types
            .iter()
            .any(|j| j.graph == node.graph && j.is_interface_object);
        if !is_interface_object {
            return Vec::new();
        }
        self.closure(node, cache)
            .iter()
            .filter(|g| *g != node.graph && member_here(*g))
            .map(|graph| Node {
                ty: object,
                graph,
                provided: 0,
                entered: false,
            })
            .collect()
    }
}

fn label_allows(p: &Placement, labels: &std::collections::BTreeSet<String>) -> bool {
    match &p.label {
        None => true,
        Some((label, new_owner)) => labels.contains(label) == *new_owner,
    }
}

/// Memoized `@key` jump closures.
#[derive(Default)]
pub struct ClosureCache {
    closures: HashMap<Node, GraphSet>,
    direct: HashMap<Node, GraphSet>,
}

/// Every field a field set names, at any depth (for `@provides`).
fn collect_named(sg: &Supergraph, ty: TypeId, items: &[FieldSetItem], out: &mut HashSet<FieldId>) {
    for item in items {
        match item {
            FieldSetItem::Field { name, children, .. } => {
                // A field provided on an interface is provided on whichever implementation
                // the value turns out to be.
                for t in with_implementations(sg, ty) {
                    if let Some(f) = sg.field_id(t, name) {
                        out.insert(f);
                        if let Some(inner) = sg.type_id(sg.field(f).ty.inner_named_type()) {
                            collect_named(sg, inner, children, out);
                        }
                    }
                }
            }
            FieldSetItem::Fragment {
                type_condition,
                children,
            } => {
                let t = sg.type_id(type_condition).unwrap_or(ty);
                collect_named(sg, t, children, out);
            }
        }
    }
}

/// `ty` and, for an interface, every object type implementing it.
fn with_implementations(sg: &Supergraph, ty: TypeId) -> Vec<TypeId> {
    let mut out = vec![ty];
    if sg.type_def(ty).kind == TypeKind::Interface {
        out.extend(
            sg.types()
                .filter(|(_, t)| t.kind == TypeKind::Object && t.interfaces.contains(&ty))
                .map(|(id, _)| id),
        );
    }
    out
}
