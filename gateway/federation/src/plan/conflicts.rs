//! Field conflicts in a subgraph operation. Two fields under one response key must have the
//! same response shape (GraphQL's `FieldsInSetCanMerge`). A client operation valid against
//! the supergraph can break that rule in a subgraph, whose types may differ (`id: ID!` on one
//! object, `id: ID` on another, where the supergraph merged both to `ID`). Such fields are
//! fetched under an alias, and the fetch gets an output rewrite that renames the alias back
//! on objects of that type, so the response merges as if nothing had happened.

use std::collections::HashMap;

use super::model::Rewrite;
use super::steps::SubSel;
use crate::supergraph::{SubgraphId, Supergraph, TypeId, TypeKind};

/// Aliases the fields of `selections` (on `parent`, in `graph`) that conflict with an
/// earlier field of the same response key; returns the rewrites that undo the aliases.
pub fn resolve(
    sg: &Supergraph,
    graph: SubgraphId,
    parent: TypeId,
    selections: &mut [SubSel],
) -> Vec<Rewrite> {
    let mut rewrites = Vec::new();
    let mut resolver = Resolver {
        sg,
        graph,
        rewrites: &mut rewrites,
        counter: 0,
    };
    resolver.resolve_set(selections, &[(Vec::new(), parent, Vec::new())]);
    rewrites
}

/// A field found in a selection set: where it is in the tree (child indexes from the fetch's
/// top-level selections), its response key, its type in the subgraph, and the path of keys and
/// type conditions from the fetch's result to the object holding it.
struct Occurrence {
    at: Vec<usize>,
    key: String,
    shape: String,
    target: Option<TypeId>,
    object_path: Vec<String>,
}

struct Resolver<'a> {
    sg: &'a Supergraph,
    graph: SubgraphId,
    rewrites: &'a mut Vec<Rewrite>,
    counter: usize,
}

impl Resolver<'_> {
    /// Resolves one merged selection set: the children of every container listed (a container
    /// is an index path, the type its children are on, and its object path).
    fn resolve_set(
        &mut self,
        root: &mut [SubSel],
        containers: &[(Vec<usize>, TypeId, Vec<String>)],
    ) {
        let mut found: Vec<Occurrence> = Vec::new();
        for (at, ty, object_path) in containers {
            let Some(children) = children_at(root, at) else {
                continue;
            };
            self.collect(children, at, *ty, object_path, &mut found);
        }
        // Group by response key, in order; a field whose shape differs from the group's first
        // is aliased and becomes a group of its own.
        let mut groups: Vec<(String, Vec<Occurrence>)> = Vec::new();
        // The groups of each response key, so that a wide set is grouped in linear time.
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for occ in found {
            let of_key = by_key.get(&occ.key);
            let same = of_key.and_then(|list| {
                list.iter()
                    .copied()
                    .find(|&i| groups[i].1[0].shape == occ.shape)
            });
            let taken = of_key.is_some();
            match same {
                Some(i) => groups[i].1.push(occ),
                None if taken => {
                    let alias = self.alias_for(&occ.key);
                    if let Some(SubSel::Field { alias: a, .. }) = node_at(root, &occ.at) {
                        *a = Some(alias.clone());
                    }
                    for path in expand(self.sg, &occ.object_path) {
                        let mut path = path;
                        path.push(alias.clone());
                        self.rewrites.push(Rewrite::KeyRenamer {
                            path,
                            rename_key_to: occ.key.clone(),
                        });
                    }
                    by_key.entry(alias.clone()).or_default().push(groups.len());
                    groups.push((alias.clone(), vec![Occurrence { key: alias, ..occ }]));
                }
                None => {
                    by_key
                        .entry(occ.key.clone())
                        .or_default()
                        .push(groups.len());
                    groups.push((occ.key.clone(), vec![occ]));
                }
            }
        }
        for (key, group) in groups {
            let containers: Vec<(Vec<usize>, TypeId, Vec<String>)> = group
                .iter()
                .filter_map(|o| {
                    let target = o.target?;
                    let mut path = o.object_path.clone();
                    path.push(key.clone());
                    Some((o.at.clone(), target, path))
                })
                .collect();
            if !containers.is_empty() {
                self.resolve_set(root, &containers);
            }
        }
    }

    fn collect(
        &self,
        children: &[SubSel],
        at: &[usize],
        parent: TypeId,
        object_path: &[String],
        out: &mut Vec<Occurrence>,
    ) {
        for (i, child) in children.iter().enumerate() {
            let mut here = at.to_vec();
            here.push(i);
            match child {
                SubSel::Field { alias, name, .. } => {
                    let Some(fid) = self.sg.field_id(parent, name) else {
                        continue; // __typename: the same everywhere
                    };
                    let def = self.sg.field(fid);
                    let printed = def
                        .join_fields
                        .iter()
                        .find(|j| j.graph == Some(self.graph))
                        .and_then(|j| j.ty.clone())
                        .unwrap_or_else(|| def.ty.to_string());
                    let inner = printed.trim_matches(|c: char| c == '[' || c == ']' || c == '!');
                    let target = self.sg.type_id(inner).filter(|t| {
                        matches!(
                            self.sg.type_def(*t).kind,
                            TypeKind::Object | TypeKind::Interface | TypeKind::Union
                        )
                    });
                    // Composite types of any name merge (their fields are compared below);
                    // leaves must be the very same type.
                    let shape = match target {
                        Some(_) => printed.replace(inner, "_"),
                        None => printed.clone(),
                    };
                    out.push(Occurrence {
                        at: here,
                        key: alias.clone().unwrap_or_else(|| name.clone()),
                        shape,
                        target,
                        object_path: object_path.to_vec(),
                    });
                }
                SubSel::Fragment { on, children, .. } => {
                    let ty = on
                        .as_deref()
                        .and_then(|t| self.sg.type_id(t))
                        .unwrap_or(parent);
                    let mut path = object_path.to_vec();
                    if ty != parent {
                        path.push(format!("... on {}", self.sg.type_def(ty).name));
                    }
                    self.collect(children, &here, ty, &path, out);
                }
            }
        }
    }

    fn alias_for(&mut self, key: &str) -> String {
        self.counter += 1;
        format!("{key}__alias_{}", self.counter)
    }
}

/// Object paths with abstract type conditions spelled out per object type (the engine matches
/// `... on T` against an object's `__typename`).
fn expand(sg: &Supergraph, path: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for segment in path {
        let types: Vec<String> = match segment.strip_prefix("... on ") {
            Some(name) => super::emit::object_types(sg, name)
                .into_iter()
                .map(|t| format!("... on {t}"))
                .collect(),
            None => vec![segment.clone()],
        };
        out = out
            .into_iter()
            .flat_map(|prefix| {
                types.iter().map(move |t| {
                    let mut p = prefix.clone();
                    p.push(t.clone());
                    p
                })
            })
            .collect();
    }
    out
}

fn node_at<'a>(root: &'a mut [SubSel], at: &[usize]) -> Option<&'a mut SubSel> {
    let (first, rest) = at.split_first()?;
    let node = root.get_mut(*first)?;
    if rest.is_empty() {
        return Some(node);
    }
    match node {
        SubSel::Field { children, .. } | SubSel::Fragment { children, .. } => {
            node_at(children, rest)
        }
    }
}

fn children_at<'a>(root: &'a [SubSel], at: &[usize]) -> Option<&'a [SubSel]> {
    let Some((first, rest)) = at.split_first() else {
        return Some(root);
    };
    match root.get(*first)? {
        SubSel::Field { children, .. } | SubSel::Fragment { children, .. } => {
            children_at(children, rest)
        }
    }
}
