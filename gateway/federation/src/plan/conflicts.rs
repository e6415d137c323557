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

/// Whether `selections` could hold a conflict: two fields under one response key can only
/// meet in one list (a key given twice) or across fragments of one parent. Neither: nothing
/// to resolve, which is most fetches (one pass, no allocation for short lists).
pub fn possible(selections: &[SubSel]) -> bool {
    fn key(s: &SubSel) -> Option<&str> {
        match s {
            SubSel::Field { alias, name, .. } => Some(alias.as_deref().unwrap_or(name)),
            SubSel::Fragment { .. } => None,
        }
    }
    let repeated = if selections.len() <= 16 {
        selections
            .iter()
            .enumerate()
            .any(|(i, a)| key(a).is_some_and(|k| selections[..i].iter().any(|b| key(b) == Some(k))))
    } else {
        let mut seen = std::collections::HashSet::new();
        selections.iter().filter_map(key).any(|k| !seen.insert(k))
    };
    repeated
        || selections.iter().any(|s| match s {
            SubSel::Fragment { .. } => true,
            SubSel::Field { children, .. } => possible(children),
        })
}

/// A field found in a selection set: where it is in the tree (child indexes from the fetch's
/// top-level selections), its response key, its response shape in the subgraph, its
/// composite type, and the object path from the fetch's result to the object holding it (an
/// index into the paths of the set being resolved: fields of one container share it).
struct Occurrence<'s> {
    at: Vec<usize>,
    key: &'s str,
    shape: Shape<'s>,
    target: Option<TypeId>,
    path: usize,
}

/// What must agree for two fields to merge under one response key: their list and non-null
/// wrappers (two bits a level), and their leaf type's name, unless composite (composite types
/// of any name merge; their fields are compared one level down). `None`: nested too deeply to
/// encode, never equal to another (such a field is aliased, which is always safe).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Shape<'s>(Option<(u64, Option<&'s str>)>);

/// A container of the set being resolved: an index path, the type its children are on, and
/// its object path.
type Container = (Vec<usize>, TypeId, Vec<String>);

/// A container found while reading, its object path an index into the set's paths.
type Found = (Vec<usize>, TypeId, usize);

struct Resolver<'a> {
    sg: &'a Supergraph,
    graph: SubgraphId,
    rewrites: &'a mut Vec<Rewrite>,
    counter: usize,
}

impl Resolver<'_> {
    /// Resolves one merged selection set: the children of every container listed. Reads the
    /// tree first (keys borrowed, nothing copied per field), then aliases, then goes one level
    /// down per response key.
    fn resolve_set(&mut self, root: &mut [SubSel], containers: &[Container]) {
        let mut paths: Vec<Vec<String>> = Vec::new();
        let mut renames: Vec<(Vec<usize>, String, String, usize)> = Vec::new();
        let mut below: Vec<(String, Vec<Found>)> = Vec::new();
        {
            let tree: &[SubSel] = root;
            let mut found: Vec<Occurrence<'_>> = Vec::new();
            for (at, ty, object_path) in containers {
                let Some(children) = children_at(tree, at) else {
                    continue;
                };
                paths.push(object_path.clone());
                let path = paths.len() - 1;
                self.collect(children, at, *ty, path, &mut paths, &mut found);
            }
            // Group by response key, in order; a field whose shape differs from the group's
            // first is aliased and becomes a group of its own.
            let mut groups: Vec<(String, Vec<Occurrence<'_>>)> = Vec::new();
            // The groups of each response key, so that a wide set is grouped in linear time.
            let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
            for occ in found {
                let of_key = by_key.get(occ.key);
                let same = of_key.and_then(|list| {
                    list.iter()
                        .copied()
                        .find(|&i| groups[i].1[0].shape == occ.shape && occ.shape.0.is_some())
                });
                let taken = of_key.is_some();
                match same {
                    Some(i) => groups[i].1.push(occ),
                    None if taken => {
                        let alias = self.alias_for(occ.key);
                        renames.push((occ.at.clone(), alias.clone(), occ.key.to_owned(), occ.path));
                        by_key.entry(alias.clone()).or_default().push(groups.len());
                        groups.push((alias, vec![occ]));
                    }
                    None => {
                        by_key
                            .entry(occ.key.to_owned())
                            .or_default()
                            .push(groups.len());
                        groups.push((occ.key.to_owned(), vec![occ]));
                    }
                }
            }
            for (key, group) in groups {
                let next: Vec<Found> = group
                    .into_iter()
                    .filter_map(|o| Some((o.at, o.target?, o.path)))
                    .collect();
                if !next.is_empty() {
                    below.push((key, next));
                }
            }
        }
        for (at, alias, key, path) in renames {
            if let Some(SubSel::Field { alias: a, .. }) = node_at(root, &at) {
                *a = Some(alias.clone());
            }
            for mut full in expand(self.sg, &paths[path]) {
                full.push(alias.clone());
                self.rewrites.push(Rewrite::KeyRenamer {
                    path: full,
                    rename_key_to: key.clone(),
                });
            }
        }
        for (key, next) in below {
            let containers: Vec<Container> = next
                .into_iter()
                .map(|(at, target, path)| {
                    let mut object_path = paths[path].clone();
                    object_path.push(key.clone());
                    (at, target, object_path)
                })
                .collect();
            self.resolve_set(root, &containers);
        }
    }

    fn collect<'s>(
        &self,
        children: &'s [SubSel],
        at: &[usize],
        parent: TypeId,
        path: usize,
        paths: &mut Vec<Vec<String>>,
        out: &mut Vec<Occurrence<'s>>,
    ) where
        Self: 's,
    {
        for (i, child) in children.iter().enumerate() {
            let mut here = at.to_vec();
            here.push(i);
            match child {
                SubSel::Field { alias, name, .. } => {
                    let Some(fid) = self.sg.field_id(parent, name) else {
                        continue; // __typename: the same everywhere
                    };
                    let def = self.sg.field(fid);
                    let (bits, leaf) = match def
                        .join_fields
                        .iter()
                        .find(|j| j.graph == Some(self.graph))
                        .and_then(|j| j.ty.as_deref())
                    {
                        Some(printed) => text_shape(printed),
                        None => type_shape(&def.ty),
                    };
                    let target = self.sg.type_id(leaf).filter(|t| {
                        matches!(
                            self.sg.type_def(*t).kind,
                            TypeKind::Object | TypeKind::Interface | TypeKind::Union
                        )
                    });
                    let shape = Shape(bits.map(|b| (b, target.is_none().then_some(leaf))));
                    out.push(Occurrence {
                        at: here,
                        key: alias.as_deref().unwrap_or(name),
                        shape,
                        target,
                        path,
                    });
                }
                SubSel::Fragment { on, children, .. } => {
                    let ty = on
                        .as_deref()
                        .and_then(|t| self.sg.type_id(t))
                        .unwrap_or(parent);
                    let inner = if ty == parent {
                        path
                    } else {
                        let mut p = paths[path].clone();
                        p.push(format!("... on {}", self.sg.type_def(ty).name));
                        paths.push(p);
                        paths.len() - 1
                    };
                    self.collect(children, &here, ty, inner, paths, out);
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

/// Levels of list nesting a shape encodes (two bits each, below a marker bit).
const MAX_LEVELS: usize = 30;

/// A type's wrappers as bits, and its named type.
fn type_shape(ty: &apollo_compiler::ast::Type) -> (Option<u64>, &str) {
    use apollo_compiler::ast::Type;
    let mut bits: u64 = 1;
    let mut t = ty;
    for _ in 0..MAX_LEVELS {
        t = match t {
            Type::Named(n) => return (Some(bits << 2), n.as_str()),
            Type::NonNullNamed(n) => return (Some((bits << 2) | 1), n.as_str()),
            Type::List(inner) => {
                bits = (bits << 2) | 2;
                inner
            }
            Type::NonNullList(inner) => {
                bits = (bits << 2) | 3;
                inner
            }
        };
    }
    (None, ty.inner_named_type().as_str())
}

/// [`type_shape`] of a type printed as text (`[Foo!]!`).
fn text_shape(printed: &str) -> (Option<u64>, &str) {
    let mut bits: u64 = 1;
    let mut t = printed.trim();
    for _ in 0..MAX_LEVELS {
        let (inner, non_null) = match t.strip_suffix('!') {
            Some(rest) => (rest.trim_end(), true),
            None => (t, false),
        };
        match inner.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            Some(item) => {
                bits = (bits << 2) | if non_null { 3 } else { 2 };
                t = item.trim();
            }
            None => return (Some((bits << 2) | u64::from(non_null)), inner),
        }
    }
    (
        None,
        printed.trim_matches(|c: char| c == '[' || c == ']' || c == '!'),
    )
}
