//! Fetch steps under construction: one request to one subgraph each, with its selections
//! as a tree we can keep adding to, and the representation it needs (entity fetches).

use std::collections::BTreeSet;

use crate::graph::selection::FieldSetItem;
use crate::supergraph::{SubgraphId, TypeId};

/// A selection in a subgraph operation.
#[derive(Clone, Debug, PartialEq)]
pub enum SubSel {
    Field {
        alias: Option<String>,
        name: String,
        /// Printed arguments, `(a: 1, b: $v)`, or empty.
        args: String,
        /// Printed directives, ` @include(if: $v)`, or empty.
        directives: String,
        children: Vec<SubSel>,
    },
    Fragment {
        on: Option<String>,
        directives: String,
        children: Vec<SubSel>,
    },
}

/// Identifies a selection within its parent: fields by response key (and what they fetch),
/// fragments by type condition and directives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelKey {
    Field(String, String, String),
    Fragment(Option<String>, String),
}

impl SubSel {
    pub fn key(&self) -> SelKey {
        match self {
            SubSel::Field {
                alias, name, args, ..
            } => SelKey::Field(
                alias.clone().unwrap_or_else(|| name.clone()),
                name.clone(),
                args.clone(),
            ),
            SubSel::Fragment { on, directives, .. } => {
                SelKey::Fragment(on.clone(), directives.clone())
            }
        }
    }

    /// Whether [`Self::key`] equals `key`, without building the key.
    pub fn has_key(&self, key: &SelKey) -> bool {
        match (self, key) {
            (
                SubSel::Field {
                    alias, name, args, ..
                },
                SelKey::Field(k, n, a),
            ) => alias.as_ref().unwrap_or(name) == k && name == n && args == a,
            (SubSel::Fragment { on, directives, .. }, SelKey::Fragment(o, d)) => {
                on == o && directives == d
            }
            _ => false,
        }
    }

    /// Whether `other` is the same selection (same key; fields with the same directives), so
    /// that their sub-selections merge.
    fn same_selection(&self, other: &SubSel) -> bool {
        match (self, other) {
            (
                SubSel::Field {
                    alias: a1,
                    name: n1,
                    args: r1,
                    directives: d1,
                    ..
                },
                SubSel::Field {
                    alias: a2,
                    name: n2,
                    args: r2,
                    directives: d2,
                    ..
                },
            ) => a1.as_ref().unwrap_or(n1) == a2.as_ref().unwrap_or(n2) && n1 == n2 && r1 == r2 && d1 == d2,
            (
                SubSel::Fragment {
                    on: o1,
                    directives: d1,
                    ..
                },
                SubSel::Fragment {
                    on: o2,
                    directives: d2,
                    ..
                },
            ) => o1 == o2 && d1 == d2,
            _ => false,
        }
    }

    fn children_mut(&mut self) -> &mut Vec<SubSel> {
        match self {
            SubSel::Field { children, .. } | SubSel::Fragment { children, .. } => children,
        }
    }

    /// A plain field selection (no alias, arguments or directives), for keys and requirements.
    pub fn plain(name: &str) -> SubSel {
        SubSel::Field {
            alias: None,
            name: name.to_owned(),
            args: String::new(),
            directives: String::new(),
            children: Vec::new(),
        }
    }
}

/// Adds `sel` under the selection at `at`, merging with an identical selection there.
/// Returns false if `at` does not exist.
pub fn insert(list: &mut Vec<SubSel>, at: &[SelKey], sel: SubSel) -> bool {
    let Some((first, rest)) = at.split_first() else {
        merge_into(list, sel);
        return true;
    };
    match list.iter_mut().find(|s| s.has_key(first)) {
        Some(parent) => insert(parent.children_mut(), rest, sel),
        None => false,
    }
}

fn merge_into(list: &mut Vec<SubSel>, sel: SubSel) {
    match list.iter_mut().find(|s| s.same_selection(&sel)) {
        Some(existing) => {
            let children = match sel {
                SubSel::Field { children, .. } | SubSel::Fragment { children, .. } => children,
            };
            for c in children {
                merge_into(existing.children_mut(), c);
            }
        }
        None => list.push(sel),
    }
}

/// Field-set items (keys, requirements) as plain selections.
pub fn field_set_selections(items: &[FieldSetItem]) -> Vec<SubSel> {
    items
        .iter()
        .map(|item| match item {
            FieldSetItem::Field {
                name,
                arguments,
                children,
            } => SubSel::Field {
                alias: crate::graph::selection::requirement_alias(name, arguments),
                name: name.clone(),
                args: crate::graph::selection::print_arguments(arguments),
                directives: String::new(),
                children: field_set_selections(children),
            },
            FieldSetItem::Fragment {
                type_condition,
                children,
            } => SubSel::Fragment {
                on: Some(type_condition.clone()),
                directives: String::new(),
                children: field_set_selections(children),
            },
        })
        .collect()
}

/// One subgraph request being planned.
#[derive(Clone, Debug)]
pub struct Step {
    pub graph: SubgraphId,
    /// Entity fetches: the type fetched through `_entities` (selections are inside
    /// `... on Type`). `None` for root fetches.
    pub entity: Option<TypeId>,
    /// Entity fetches: what each representation carries (`__typename`, key and required
    /// fields), as selections on the entity type.
    pub representation: Vec<SubSel>,
    /// Entity fetches: top-level fields of the key(s) it is entered by.
    pub key_fields: BTreeSet<String>,
    /// Entity fetches of an interface: the object types whose values it is for, when not
    /// all of them (an `@interfaceObject` field asked under `... on Book` is for books only).
    pub only_types: Option<BTreeSet<TypeId>>,
    /// Response path the results merge at (`"@"` for list elements).
    pub path: Vec<String>,
    pub selections: Vec<SubSel>,
    /// Steps whose results this one needs.
    pub deps: BTreeSet<usize>,
    /// Client variables the selections use.
    pub variables: BTreeSet<String>,
    /// For mutations: which root field group this step belongs to (ordering).
    pub group: usize,
}
