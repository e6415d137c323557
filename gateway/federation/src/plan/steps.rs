//! Fetch steps under construction: one request to one subgraph each, with its selections
//! as a tree we can keep adding to, and the representation it needs (entity fetches).

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::sync::OnceLock;

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
        children: SelList,
    },
    Fragment {
        on: Option<String>,
        directives: String,
        children: SelList,
    },
}

/// Selections under one parent, in order. Once the list is long it also keeps an index from
/// each selection's key hash to its places, so finding a selection by key costs the same
/// however wide the list is (ten thousand aliases at one level are planned in linear time).
#[derive(Clone, Debug, Default)]
pub struct SelList {
    items: Vec<SubSel>,
    index: Option<HashMap<u64, Vec<usize>>>,
}

/// Lists up to this long are searched from end to end; longer ones through the index.
const INDEX_FROM: usize = 16;

/// Keys are hashed with per-process random keys: a client cannot choose names that collide.
fn key_hasher() -> &'static RandomState {
    static STATE: OnceLock<RandomState> = OnceLock::new();
    STATE.get_or_init(RandomState::new)
}

fn field_key_hash(response_key: &str, name: &str, args: &str) -> u64 {
    key_hasher().hash_one((0u8, response_key, name, args))
}

fn fragment_key_hash(on: Option<&str>, directives: &str) -> u64 {
    key_hasher().hash_one((1u8, on, directives))
}

impl SelKey {
    fn key_hash(&self) -> u64 {
        match self {
            SelKey::Field(k, n, a) => field_key_hash(k, n, a),
            SelKey::Fragment(on, d) => fragment_key_hash(on.as_deref(), d),
        }
    }
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

/// Changing a selection's key through this leaves the index behind: lookups then miss it (a
/// later insert adds a second one) but never find a wrong one. Only the alias rewriting of
/// finished steps (`conflicts`) uses it.
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
        self.items.push(sel);
        let at = self.items.len() - 1;
        match &mut self.index {
            Some(index) => index.entry(self.items[at].key_hash()).or_default().push(at),
            None if self.items.len() > INDEX_FROM => {
                let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
                for (i, s) in self.items.iter().enumerate() {
                    index.entry(s.key_hash()).or_default().push(i);
                }
                self.index = Some(index);
            }
            None => {}
        }
    }

    /// The place of the first selection whose key hashes to `hash` and that `matches`
    /// (through the index when the list has one, else from end to end).
    fn find(&self, hash: impl FnOnce() -> u64, matches: impl Fn(&SubSel) -> bool) -> Option<usize> {
        match &self.index {
            Some(index) => index
                .get(&hash())?
                .iter()
                .copied()
                .find(|&i| matches(&self.items[i])),
            None => self.items.iter().position(matches),
        }
    }

    /// The first selection with key `key`.
    fn find_key_mut(&mut self, key: &SelKey) -> Option<&mut SubSel> {
        let at = self.find(|| key.key_hash(), |s| s.has_key(key))?;
        self.items.get_mut(at)
    }

    /// The first selection that `sel` merges with.
    fn find_same_mut(&mut self, sel: &SubSel) -> Option<&mut SubSel> {
        let at = self.find(|| sel.key_hash(), |s| s.same_selection(sel))?;
        self.items.get_mut(at)
    }
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
            ) => {
                a1.as_ref().unwrap_or(n1) == a2.as_ref().unwrap_or(n2)
                    && n1 == n2
                    && r1 == r2
                    && d1 == d2
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
    match list.find_same_mut(&sel) {
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
