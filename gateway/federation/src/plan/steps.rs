//! Fetch steps under construction: one request to one subgraph each, with its selections
//! as a tree we can keep adding to, and the representation it needs (entity fetches).

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::sync::OnceLock;

use crate::supergraph::{SubgraphId, TypeId};
use crate::text;

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
        children: SelList,
    },
    Fragment {
        on: Option<String>,
        directives: String,
        children: SelList,
    },
}

/// Selections under one parent, in order, each with the hash of its key (computed once, when
/// it is added): a look-up compares hashes and only compares names where a hash matches, so
/// planning a deep operation does not compare strings at every level of every insert. Once
/// the list is long it also keeps an index from each key hash to its places, so finding a
/// selection by key costs the same however wide the list is (ten thousand aliases at one
/// level are planned in linear time).
#[derive(Clone, Debug, Default)]
pub struct SelList {
    items: Vec<SubSel>,
    /// `hashes[i]` is `items[i]`'s key hash.
    hashes: Vec<u64>,
    index: Option<HashMap<u64, Vec<usize>>>,
}

/// Lists up to this long are searched from end to end; longer ones through the index.
const INDEX_FROM: usize = 16;

/// Keys are hashed with per-process random keys: a client cannot choose names that collide.
pub(crate) fn key_hasher() -> &'static foldhash::fast::RandomState {
    static STATE: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    STATE.get_or_init(foldhash::fast::RandomState::default)
}

fn field_key_hash(response_key: &str, name: &str, args: &str) -> u64 {
    key_hasher().hash_one((0u8, response_key, name, args))
}

fn fragment_key_hash(on: Option<&str>, directives: &str) -> u64 {
    key_hasher().hash_one((1u8, on, directives))
}

impl PartialEq for SelList {
    fn eq(&self, other: &SelList) -> bool {
        self.items == other.items
    }
}

impl std::ops::Deref for SelList {
    type Target = [SubSel];
    fn deref(&self) -> &[SubSel] {
        &self.items
    }
}

/// Changing a selection's key through this leaves its hash (and the index) behind: lookups
/// then miss it (a later insert adds a second one) but never find a wrong one. Only the
/// alias rewriting of finished steps (`conflicts`, on a copy made to be printed) uses it.
impl std::ops::DerefMut for SelList {
    fn deref_mut(&mut self) -> &mut [SubSel] {
        &mut self.items
    }
}

impl IntoIterator for SelList {
    type Item = SubSel;
    type IntoIter = std::vec::IntoIter<SubSel>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a SelList {
    type Item = &'a SubSel;
    type IntoIter = std::slice::Iter<'a, SubSel>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl FromIterator<SubSel> for SelList {
    fn from_iter<I: IntoIterator<Item = SubSel>>(iter: I) -> SelList {
        let mut list = SelList::default();
        for sel in iter {
            list.push(sel);
        }
        list
    }
}

impl From<Vec<SubSel>> for SelList {
    fn from(items: Vec<SubSel>) -> SelList {
        items.into_iter().collect()
    }
}

impl SelList {
    pub fn new() -> SelList {
        SelList::default()
    }

    /// Appends `sel` (no merging: see [`insert`]).
    pub fn push(&mut self, sel: SubSel) {
        let hash = sel.key_hash();
        self.push_hashed(sel, hash);
    }

    fn push_hashed(&mut self, sel: SubSel, hash: u64) {
        self.items.push(sel);
        self.hashes.push(hash);
        let at = self.items.len() - 1;
        match &mut self.index {
            Some(index) => index.entry(hash).or_default().push(at),
            None if self.items.len() > INDEX_FROM => {
                let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
                for (i, h) in self.hashes.iter().enumerate() {
                    index.entry(*h).or_default().push(i);
                }
                self.index = Some(index);
            }
            None => {}
        }
    }

    /// The place of the first selection whose key hashes to `hash` and that `matches`
    /// (through the index when the list has one, else from end to end).
    fn find(&self, hash: u64, matches: impl Fn(&SubSel) -> bool) -> Option<usize> {
        match &self.index {
            Some(index) => index
                .get(&hash)?
                .iter()
                .copied()
                .find(|&i| matches(&self.items[i])),
            None => self
                .hashes
                .iter()
                .zip(&self.items)
                .position(|(h, s)| *h == hash && matches(s)),
        }
    }

    /// The first selection with key `key`.
    fn find_key_mut(&mut self, key: &SelKey) -> Option<&mut SubSel> {
        let at = self.find(key.hash, |s| s.has_key(key))?;
        self.items.get_mut(at)
    }

    /// The first selection that `sel` (whose key hashes to `hash`) merges with.
    fn find_same_mut(&mut self, sel: &SubSel, hash: u64) -> Option<&mut SubSel> {
        let at = self.find(hash, |s| s.same_selection(sel))?;
        self.items.get_mut(at)
    }
}

/// Identifies a selection within its parent: fields by response key (and what they fetch),
/// fragments by type condition and directives; with the key's hash, computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelKey {
    hash: u64,
    of: KeyOf,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyOf {
    Field(String, String, String),
    Fragment(Option<String>, String),
}

impl SubSel {
    pub fn key(&self) -> SelKey {
        let of = match self {
            SubSel::Field {
                alias, name, args, ..
            } => KeyOf::Field(
                alias.clone().unwrap_or_else(|| name.clone()),
                name.clone(),
                args.clone(),
            ),
            SubSel::Fragment { on, directives, .. } => {
                KeyOf::Fragment(on.clone(), directives.clone())
            }
        };
        SelKey {
            hash: self.key_hash(),
            of,
        }
    }

    /// Whether [`Self::key`] equals `key`, without building the key.
    pub fn has_key(&self, key: &SelKey) -> bool {
        match (self, &key.of) {
            (
                SubSel::Field {
                    alias, name, args, ..
                },
                KeyOf::Field(k, n, a),
            ) => {
                text::same(alias.as_ref().unwrap_or(name), k)
                    && text::same(name, n)
                    && text::same(args, a)
            }
            (SubSel::Fragment { on, directives, .. }, KeyOf::Fragment(o, d)) => {
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
            ) => {
                text::same(a1.as_ref().unwrap_or(n1), a2.as_ref().unwrap_or(n2))
                    && text::same(n1, n2)
                    && text::same(r1, r2)
                    && text::same(d1, d2)
            }
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

    fn key_hash(&self) -> u64 {
        match self {
            SubSel::Field {
                alias, name, args, ..
            } => field_key_hash(alias.as_ref().unwrap_or(name), name, args),
            SubSel::Fragment { on, directives, .. } => fragment_key_hash(on.as_deref(), directives),
        }
    }

    fn children_mut(&mut self) -> &mut SelList {
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
            children: SelList::new(),
        }
    }
}

/// Adds `sel` under the selection at `at`, merging with an identical selection there.
/// Returns false if `at` does not exist.
pub fn insert(list: &mut SelList, at: &[SelKey], sel: SubSel) -> bool {
    let Some((first, rest)) = at.split_first() else {
        merge_into(list, sel);
        return true;
    };
    match list.find_key_mut(first) {
        Some(parent) => insert(parent.children_mut(), rest, sel),
        None => false,
    }
}

fn merge_into(list: &mut SelList, sel: SubSel) {
    let hash = sel.key_hash();
    match list.find_same_mut(&sel, hash) {
        Some(existing) => {
            let children = match sel {
                SubSel::Field { children, .. } | SubSel::Fragment { children, .. } => children,
            };
            for c in children {
                merge_into(existing.children_mut(), c);
            }
        }
        None => list.push_hashed(sel, hash),
    }
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
    pub representation: SelList,
    /// Entity fetches: top-level fields of the key(s) it is entered by.
    pub key_fields: BTreeSet<String>,
    /// Entity fetches of an interface: the object types whose values it is for, when not
    /// all of them (an `@interfaceObject` field asked under `... on Book` is for books only).
    pub only_types: Option<BTreeSet<TypeId>>,
    /// Response path the results merge at (`"@"` for list elements).
    pub path: Vec<String>,
    pub selections: SelList,
    /// Steps whose results this one needs.
    pub deps: BTreeSet<usize>,
    /// Client variables the selections use.
    pub variables: BTreeSet<String>,
    /// For mutations: which root field group this step belongs to (ordering).
    pub group: usize,
    /// The deferred fragment whose fetches this step is one of (`None`: the primary part).
    /// Set by the builder when the step is added.
    pub defer: Option<u32>,
    /// The `@skip`/`@include` conditions on variables that hold for everything put in the
    /// step (`None`: nothing yet): when some of them fail, nothing of it is needed and it is
    /// not sent (a `Condition` node around it, once the steps depending on it agree).
    pub guard: Option<Vec<crate::operation::Condition>>,
    /// Entity fetches: the `@fromContext` arguments its selections pass, each a variable
    /// of the subgraph operation.
    pub context: Vec<ContextArg>,
}

/// A `@fromContext` argument of a fetch: the variable, its type in the subgraph, and where
/// its value is read (one rewrite per type setting the context).
#[derive(Clone, Debug, PartialEq)]
pub struct ContextArg {
    pub variable: String,
    /// The context (`<subgraph>__<name>`) and the selection read from it: what makes two
    /// arguments the same value.
    pub context: String,
    pub selection: String,
    pub ty: String,
    pub rewrites: Vec<crate::plan::model::ContextRewrite>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_is_found_by_key_in_short_and_indexed_lists() {
        for width in [3, INDEX_FROM * 2] {
            let mut list: SelList = (0..width)
                .map(|i| SubSel::plain(&format!("f{i}")))
                .collect();
            let key = SubSel::plain("f2").key();
            assert!(insert(&mut list, &[key], SubSel::plain("inner")));
            assert!(!insert(
                &mut list,
                &[SubSel::plain("absent").key()],
                SubSel::plain("x")
            ));
            merge_into(&mut list, SubSel::plain("f1"));
            assert_eq!(list.len(), width, "merged, not added twice");
            let SubSel::Field { children, .. } = &list[2] else {
                unreachable!("a field")
            };
            assert_eq!(children.len(), 1);
        }
    }
}
