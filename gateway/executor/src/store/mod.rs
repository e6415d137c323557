//! The response data while a plan runs (DESIGN §5): an arena of objects that fetches fill in.
//!
//! Entity fetches fan out: in the classic nested query, 30 products end up at 22,500 places
//! in the answer. A tree of `serde_json::Value` must hold a copy of each entity at each
//! place, and every merge, every path walk and the final shaping pay for every copy. Here an
//! object is a node that several places can share: when the objects an entity fetch collects
//! are identical (same content, reached by the same keys through parents of the same types),
//! they become one node, the fetch's answer is merged into it once, and later fetches walk it
//! once. The answer is written from the store (`shape.rs`), place by place.
//!
//! Sharing is only ever between places the plan cannot tell apart, so a later merge into a
//! shared node is the merge each of its places would have received.

mod read;

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};
use serde_json::{Map, Number, Value, json};
use weft_federation::plan::model::LIST;
use weft_federation::text::same;

pub use read::ReadError;

use crate::projection::Projection;

/// A value kept outside any store (entity cache entries): as cheap to copy into a store as a
/// `serde_json::Value`, with every number's text as the subgraph sent it.
#[derive(Debug, Clone, PartialEq)]
pub enum Frozen {
    Null,
    Bool(bool),
    Num(Box<str>),
    Str(Box<str>),
    List(Box<[Frozen]>),
    Object(Box<[(Box<str>, Frozen)]>),
}

/// An object in the store.
pub type ObjId = u32;
/// A field name, interned: objects compare and find keys by number.
pub type KeyId = u32;

/// Text in the store's text buffer: subgraph strings are copied there once, not allocated
/// one by one.
#[derive(Clone, Copy, Debug)]
pub struct Text {
    start: u32,
    len: u32,
}

/// A step of a concrete response path.
#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    pub fn to_json(&self) -> Value {
        match self {
            Seg::Key(k) => Value::String(k.clone()),
            Seg::Index(i) => json!(i),
        }
    }
}

/// How an object was reached: the keys, and the types of the objects on the way, list
/// positions aside. Objects reached alike are treated alike by every later fetch.
pub type Reach = u64;

/// A value in the store; objects are referenced, text points into the buffer. Not
/// `PartialEq`: equal content is `Store::same` (a `Text` is a place in the buffer).
#[derive(Clone, Debug)]
pub enum Val {
    Null,
    Bool(bool),
    /// A number as the subgraph wrote it (its text, unchanged: `-0`, `1e400`, 17 digits).
    Num(Text),
    Str(Text),
    /// Boxed, not a `Vec`: lists do not grow once read, and a smaller `Val` keeps every
    /// object's fields smaller.
    List(Box<[Val]>),
    Object(ObjId),
}

#[derive(Debug, Default)]
struct Obj {
    /// Fields in the order they arrived.
    fields: Vec<(KeyId, Val)>,
    /// For a wide object: where each key's first field is, so that finding a field costs the
    /// same however many the object has (an operation of 10,000 aliases makes a 10,000-field
    /// object, whose every lookup would otherwise scan it).
    index: Option<Box<FxHashMap<KeyId, u32>>>,
    /// This object was found identical to another and is now that one.
    forward: Option<ObjId>,
    /// Other objects were forwarded to this one: it stands at several places.
    shared: bool,
    /// A hash of the content it was created with (merges later do not change it): objects
    /// with equal content have equal prints, so it finds candidates for sharing cheaply.
    print: u64,
}

/// Objects with more fields than this are indexed by key.
const WIDE: usize = 16;

impl Obj {
    fn new(fields: Vec<(KeyId, Val)>, print: u64) -> Obj {
        let mut obj = Obj {
            fields,
            index: None,
            forward: None,
            shared: false,
            print,
        };
        obj.reindex();
        obj
    }

    /// The place of the first field with `key`.
    fn position(&self, key: KeyId) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&key).map(|&i| i as usize),
            None => self.fields.iter().position(|(k, _)| *k == key),
        }
    }

    fn push(&mut self, key: KeyId, value: Val) {
        self.fields.push((key, value));
        let at = self.fields.len() - 1;
        match &mut self.index {
            Some(index) => {
                index.entry(key).or_insert(at as u32);
            }
            None if self.fields.len() > WIDE => self.reindex(),
            None => {}
        }
    }

    /// Builds the index of a wide object (after its fields changed other than by `push`).
    fn reindex(&mut self) {
        self.index = (self.fields.len() > WIDE).then(|| {
            let mut index = FxHashMap::default();
            for (i, (k, _)) in self.fields.iter().enumerate() {
                index.entry(*k).or_insert(i as u32);
            }
            Box::new(index)
        });
    }
}

/// The objects of one execution; object 0 is the root.
#[derive(Debug)]
pub struct Store {
    objects: Vec<Obj>,
    text: String,
    keys: Vec<Box<str>>,
    key_ids: FxHashMap<Box<str>, KeyId>,
    /// The last key seen per small hash of a name: answers repeat the same few names
    /// thousands of times, and this finds them without a map look-up.
    recent: [KeyId; 64],
    /// While parsing: the fields and list items read so far, of every object and list not
    /// yet closed. Each is then allocated at its exact size (a parser does not know sizes
    /// in advance, and growing vectors would leave most of them half empty).
    open_fields: Vec<(KeyId, Val)>,
    open_items: Vec<Val>,
    /// Whether identical objects reached alike may become one node (`forward`). Off for
    /// plans that read `@fromContext` arguments: there the same object under other ancestors
    /// may be sent other arguments.
    sharing: bool,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Val {
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
}

/// `__typename` is always key 0.
const TYPENAME: KeyId = 0;

impl Store {
    pub const ROOT: ObjId = 0;

    pub fn new() -> Store {
        let mut store = Store {
            objects: vec![Obj::default()],
            text: String::new(),
            keys: Vec::new(),
            key_ids: FxHashMap::default(),
            recent: [TYPENAME; 64],
            open_fields: Vec::new(),
            open_items: Vec::new(),
            sharing: true,
        };
        store.intern("__typename");
        store
    }

    /// The store for running `plan`: sharing objects unless the plan reads contexts.
    pub fn for_plan(plan: &weft_federation::plan::model::QueryPlan) -> Store {
        let mut store = Store::new();
        store.sharing = !plan.contextual;
        store
    }

    /// Whether identical objects reached alike may become one node.
    pub fn shares(&self) -> bool {
        self.sharing
    }

    /// The number of a field name, given one the first time it is seen.
    pub fn intern(&mut self, key: &str) -> KeyId {
        let bytes = key.as_bytes();
        let slot = match bytes {
            [] => 0,
            [first, .., last] => (bytes.len() * 31 + *first as usize * 7 + *last as usize) & 63,
            [only] => (31 + *only as usize * 8) & 63,
        };
        let recent = self.recent[slot];
        if self.keys.get(recent as usize).is_some_and(|k| same(k, key)) {
            return recent;
        }
        if let Some(id) = self.key_ids.get(key) {
            self.recent[slot] = *id;
            return *id;
        }
        let id = KeyId::try_from(self.keys.len()).unwrap_or(KeyId::MAX);
        self.keys.push(key.into());
        self.key_ids.insert(key.into(), id);
        id
    }

    /// The number of a field name; `None` when no object has it.
    pub fn key_id(&self, key: &str) -> Option<KeyId> {
        self.key_ids.get(key).copied()
    }

    pub fn key_name(&self, key: KeyId) -> &str {
        self.keys.get(key as usize).map_or("", |k| k)
    }

    fn add_text(&mut self, s: &str) -> Text {
        let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(s);
        Text {
            start,
            len: u32::try_from(s.len()).unwrap_or(0),
        }
    }

    pub fn text(&self, t: Text) -> &str {
        let start = t.start as usize;
        self.text.get(start..start + t.len as usize).unwrap_or("")
    }

    /// The object `id` stands for now (itself, unless it was merged with an identical one).
    pub fn resolve(&self, mut id: ObjId) -> ObjId {
        while let Some(next) = self.objects[id as usize].forward {
            id = next;
        }
        id
    }

    fn fields(&self, id: ObjId) -> &[(KeyId, Val)] {
        &self.objects[self.resolve(id) as usize].fields
    }

    pub fn get_key(&self, id: ObjId, key: KeyId) -> Option<&Val> {
        let obj = &self.objects[self.resolve(id) as usize];
        obj.position(key).map(|i| &obj.fields[i].1)
    }

    pub fn get(&self, id: ObjId, key: &str) -> Option<&Val> {
        self.get_key(id, self.key_id(key)?)
    }

    /// Takes a field out of an object.
    pub fn take(&mut self, id: ObjId, key: &str) -> Option<Val> {
        let key = self.key_id(key)?;
        let id = self.resolve(id) as usize;
        let i = self.objects[id].position(key)?;
        let (_, value) = self.objects[id].fields.remove(i);
        self.objects[id].reindex();
        Some(value)
    }

    pub fn typename(&self, id: ObjId) -> Option<&str> {
        match self.get_key(id, TYPENAME) {
            Some(Val::Str(t)) => Some(self.text(*t)),
            _ => None,
        }
    }

    fn alloc(&mut self, fields: Vec<(KeyId, Val)>) -> ObjId {
        let id = ObjId::try_from(self.objects.len()).unwrap_or(ObjId::MAX);
        let mut h = FxHasher::default();
        for (k, v) in &fields {
            k.hash(&mut h);
            self.hash_val(v, &mut h);
        }
        self.objects.push(Obj::new(fields, h.finish()));
        id
    }

    /// Reads a subgraph's JSON answer straight into the store, keeping only what
    /// `projection` keeps (everything without one; `projection.rs`).
    pub fn parse(
        &mut self,
        json: &[u8],
        projection: Option<&Projection>,
    ) -> Result<Val, ReadError> {
        // UTF-8 checked once for the whole text (fast), not string by string.
        let json = std::str::from_utf8(json).map_err(|e| ReadError::utf8(e.valid_up_to()))?;
        let value = read::Reader::new(json, self).read(projection);
        // What a failed read left open.
        self.open_fields.clear();
        self.open_items.clear();
        value
    }

    /// A copy of `value` that outlives the store (an entity cache entry), numbers as text.
    pub fn freeze(&self, value: &Val) -> Frozen {
        match value {
            Val::Null => Frozen::Null,
            Val::Bool(b) => Frozen::Bool(*b),
            Val::Num(t) => Frozen::Num(self.text(*t).into()),
            Val::Str(t) => Frozen::Str(self.text(*t).into()),
            Val::List(items) => Frozen::List(items.iter().map(|v| self.freeze(v)).collect()),
            Val::Object(id) => Frozen::Object(
                self.fields(*id)
                    .iter()
                    .map(|(k, v)| (self.key_name(*k).into(), self.freeze(v)))
                    .collect(),
            ),
        }
    }

    /// Copies a frozen value into the store (a cache hit: no text to read again).
    pub fn thaw(&mut self, value: &Frozen) -> Val {
        match value {
            Frozen::Null => Val::Null,
            Frozen::Bool(b) => Val::Bool(*b),
            Frozen::Num(t) => Val::Num(self.add_text(t)),
            Frozen::Str(t) => Val::Str(self.add_text(t)),
            Frozen::List(items) => Val::List(items.iter().map(|v| self.thaw(v)).collect()),
            Frozen::Object(fields) => {
                let fields = fields
                    .iter()
                    .map(|(k, v)| (self.intern(k), self.thaw(v)))
                    .collect();
                Val::Object(self.alloc(fields))
            }
        }
    }

    /// Copies `value` into the store.
    pub fn import(&mut self, value: &Value) -> Val {
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(self.add_text(&n.to_string())),
            Value::String(s) => Val::Str(self.add_text(s)),
            Value::Array(items) => Val::List(items.iter().map(|v| self.import(v)).collect()),
            Value::Object(map) => {
                let fields = map
                    .iter()
                    .map(|(k, v)| (self.intern(k), self.import(v)))
                    .collect();
                Val::Object(self.alloc(fields))
            }
        }
    }

    /// A copy of `value` whose objects are new ones (for a second place needing the same
    /// answer but whose own content differs).
    pub fn copy(&mut self, value: &Val) -> Val {
        match value {
            Val::List(items) => Val::List(items.iter().map(|v| self.copy(v)).collect()),
            Val::Object(id) => {
                let fields: Vec<(KeyId, Val)> = self.fields(*id).to_vec();
                let fields = fields
                    .into_iter()
                    .map(|(k, v)| (k, self.copy(&v)))
                    .collect();
                Val::Object(self.alloc(fields))
            }
            other => other.clone(),
        }
    }

    /// Merges `src` into `dst`: objects key by key, lists element by element, else replace
    /// (the fields of `src` are moved; `src` is not used again).
    pub fn merge(&mut self, dst: ObjId, src: ObjId) {
        let dst = self.resolve(dst);
        let src = self.resolve(src);
        if dst == src {
            return;
        }
        let incoming = std::mem::take(&mut self.objects[src as usize].fields);
        self.objects[src as usize].index = None;
        for (key, value) in incoming {
            let slot = self.objects[dst as usize].position(key);
            match slot {
                None => self.objects[dst as usize].push(key, value),
                Some(i) => {
                    let existing =
                        std::mem::replace(&mut self.objects[dst as usize].fields[i].1, Val::Null);
                    let merged = self.merge_val(existing, value);
                    self.objects[dst as usize].fields[i].1 = merged;
                }
            }
        }
    }

    fn merge_val(&mut self, dst: Val, src: Val) -> Val {
        match (dst, src) {
            (Val::Object(d), Val::Object(s)) => {
                self.merge(d, s);
                Val::Object(d)
            }
            (Val::List(d), Val::List(s)) if d.len() == s.len() => Val::List(
                d.into_vec()
                    .into_iter()
                    .zip(s.into_vec())
                    .map(|(x, y)| self.merge_val(x, y))
                    .collect(),
            ),
            (_, s) => s,
        }
    }

    /// Merges a value (an entity or root data, already in the store) into object `dst`.
    pub fn merge_value(&mut self, dst: ObjId, src: Val) {
        if let Val::Object(s) = src {
            self.merge(dst, s);
        }
    }

    /// Whether two values have the same content.
    pub fn same(&self, a: &Val, b: &Val) -> bool {
        match (a, b) {
            (Val::Object(x), Val::Object(y)) => self.same_object(*x, *y),
            (Val::List(x), Val::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| self.same(a, b))
            }
            (Val::Str(x), Val::Str(y)) => same(self.text(*x), self.text(*y)),
            (Val::Num(x), Val::Num(y)) => same(self.text(*x), self.text(*y)),
            (Val::Bool(x), Val::Bool(y)) => x == y,
            (Val::Null, Val::Null) => true,
            _ => false,
        }
    }

    pub fn same_object(&self, a: ObjId, b: ObjId) -> bool {
        let (a, b) = (self.resolve(a), self.resolve(b));
        if a == b {
            return true;
        }
        let (fa, fb) = (self.fields(a), self.fields(b));
        fa.len() == fb.len()
            && fa
                .iter()
                .zip(fb)
                .all(|((ka, va), (kb, vb))| ka == kb && self.same(va, vb))
    }

    /// A hash of an object's content when it was created: objects created with equal
    /// content have equal prints (an object merged into since may no longer match its print,
    /// which only means it is not shared).
    pub fn fingerprint(&self, id: ObjId) -> u64 {
        self.objects[self.resolve(id) as usize].print
    }

    fn hash_val(&self, v: &Val, h: &mut FxHasher) {
        match v {
            Val::Null => 0u8.hash(h),
            Val::Bool(b) => b.hash(h),
            Val::Num(t) => self.text(*t).hash(h),
            Val::Str(t) => self.text(*t).hash(h),
            Val::List(items) => {
                items.len().hash(h);
                items.iter().for_each(|i| self.hash_val(i, h));
            }
            // Children are created first: their prints stand for their content.
            Val::Object(o) => self.fingerprint(*o).hash(h),
        }
    }

    /// From now on `from` is `to` (they were found identical).
    pub fn forward(&mut self, from: ObjId, to: ObjId) {
        let (from, to) = (self.resolve(from), self.resolve(to));
        if from != to {
            self.objects[from as usize].forward = Some(to);
            self.objects[from as usize].fields = Vec::new();
            self.objects[from as usize].index = None;
            self.objects[to as usize].shared = true;
        }
    }

    /// Whether the object stands at several places (others were forwarded to it).
    pub fn is_shared(&self, id: ObjId) -> bool {
        self.objects[self.resolve(id) as usize].shared
    }

    /// The distinct objects at `path` ("@" = each list element), each once however many
    /// places share it, with how it was reached.
    pub fn find(&self, path: &[String]) -> Vec<(ObjId, Reach)> {
        let mut seen = vec![false; self.objects.len()];
        let mut out = Vec::new();
        self.find_in(&Val::Object(Store::ROOT), path, 0, &mut seen, &mut out);
        out
    }

    fn find_in(
        &self,
        value: &Val,
        path: &[String],
        reach: Reach,
        seen: &mut [bool],
        out: &mut Vec<(ObjId, Reach)>,
    ) {
        match value {
            Val::List(items) => {
                // A list where the plan expects an object: walk its elements ("@" or not).
                let rest = match path.first() {
                    Some(p) if p == LIST => &path[1..],
                    _ => path,
                };
                for item in items {
                    self.find_in(item, rest, reach, seen, out);
                }
            }
            Val::Object(id) => {
                let id = self.resolve(*id);
                match path.split_first() {
                    None => {
                        if !std::mem::replace(&mut seen[id as usize], true) {
                            out.push((id, reach));
                        }
                    }
                    Some((key, rest)) if key != LIST => {
                        // A shared object is walked once: its other places hold the same.
                        if std::mem::replace(&mut seen[id as usize], true) {
                            return;
                        }
                        if let Some(next) = self.get(id, key) {
                            let mut h = FxHasher::default();
                            reach.hash(&mut h);
                            key.hash(&mut h);
                            self.typename(id).hash(&mut h);
                            self.find_in(next, rest, h.finish(), seen, out);
                        }
                    }
                    Some((_, rest)) => self.find_in(value, rest, reach, seen, out),
                }
            }
            _ => {}
        }
    }

    /// Every object at `path`, once per place, with its ancestors `levels` object levels up
    /// (list elements are not levels; `None` above the root): `@fromContext` arguments are
    /// read from ancestors.
    pub fn find_with_ancestors(
        &self,
        path: &[String],
        levels: &[usize],
    ) -> Vec<(ObjId, Vec<Option<ObjId>>)> {
        let mut out = Vec::new();
        let root = Val::Object(Store::ROOT);
        self.ancestors_in(&root, path, levels, &mut Vec::new(), &mut out);
        out
    }

    fn ancestors_in(
        &self,
        value: &Val,
        path: &[String],
        levels: &[usize],
        above: &mut Vec<ObjId>,
        out: &mut Vec<(ObjId, Vec<Option<ObjId>>)>,
    ) {
        match value {
            Val::List(items) => {
                let rest = match path.first() {
                    Some(p) if p == LIST => &path[1..],
                    _ => path,
                };
                for item in items {
                    self.ancestors_in(item, rest, levels, above, out);
                }
            }
            Val::Object(id) => {
                let id = self.resolve(*id);
                match path.split_first() {
                    None => {
                        let anchors = levels
                            .iter()
                            .map(|l| {
                                above
                                    .len()
                                    .checked_sub(*l)
                                    .and_then(|i| above.get(i))
                                    .copied()
                            })
                            .collect();
                        out.push((id, anchors));
                    }
                    Some((key, rest)) if key != LIST => {
                        if let Some(next) = self.get(id, key) {
                            above.push(id);
                            self.ancestors_in(next, rest, levels, above, out);
                            above.pop();
                        }
                    }
                    Some((_, rest)) => self.ancestors_in(value, rest, levels, above, out),
                }
            }
            _ => {}
        }
    }

    /// Every place at `path` where one of `targets` is, with its concrete path (for error
    /// paths: a walk of every place, so only done when there is an error to place).
    pub fn places(&self, path: &[String], targets: &[ObjId]) -> HashMap<ObjId, Vec<Vec<Seg>>> {
        let targets: HashSet<ObjId> = targets.iter().map(|t| self.resolve(*t)).collect();
        let mut out: HashMap<ObjId, Vec<Vec<Seg>>> = HashMap::new();
        let root = Val::Object(Store::ROOT);
        self.places_in(&root, path, &mut Vec::new(), &targets, &mut out);
        out
    }

    fn places_in(
        &self,
        value: &Val,
        path: &[String],
        at: &mut Vec<Seg>,
        targets: &HashSet<ObjId>,
        out: &mut HashMap<ObjId, Vec<Vec<Seg>>>,
    ) {
        match value {
            Val::List(items) => {
                let rest = match path.first() {
                    Some(p) if p == LIST => &path[1..],
                    _ => path,
                };
                for (i, item) in items.iter().enumerate() {
                    at.push(Seg::Index(i));
                    self.places_in(item, rest, at, targets, out);
                    at.pop();
                }
            }
            Val::Object(id) => {
                let id = self.resolve(*id);
                match path.split_first() {
                    None => {
                        if targets.contains(&id) {
                            out.entry(id).or_default().push(at.clone());
                        }
                    }
                    Some((key, rest)) if key != LIST => {
                        if let Some(next) = self.get(id, key) {
                            at.push(Seg::Key(key.clone()));
                            self.places_in(next, rest, at, targets, out);
                            at.pop();
                        }
                    }
                    Some((_, rest)) => self.places_in(value, rest, at, targets, out),
                }
            }
            _ => {}
        }
    }

    /// `value` as JSON.
    pub fn to_value(&self, value: &Val) -> Value {
        match value {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            // Through `f64` for fractions: only representations, errors and invalidation read
            // values this way; answers are written from the text.
            Val::Num(t) => {
                serde_json::from_str::<Number>(self.text(*t)).map_or(Value::Null, Value::Number)
            }
            Val::Str(t) => Value::String(self.text(*t).to_owned()),
            Val::List(items) => Value::Array(items.iter().map(|v| self.to_value(v)).collect()),
            Val::Object(id) => Value::Object(self.object_value(*id)),
        }
    }

    fn object_value(&self, id: ObjId) -> Map<String, Value> {
        self.fields(id)
            .iter()
            .map(|(k, v)| (self.key_name(*k).to_owned(), self.to_value(v)))
            .collect()
    }

    /// Writes `value` as JSON text.
    pub fn write(&self, value: &Val, out: &mut Vec<u8>) {
        match value {
            Val::Null => out.extend_from_slice(b"null"),
            Val::Bool(true) => out.extend_from_slice(b"true"),
            Val::Bool(false) => out.extend_from_slice(b"false"),
            Val::Num(t) => out.extend_from_slice(self.text(*t).as_bytes()),
            Val::Str(t) => write_str(self.text(*t), out),
            Val::List(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write(v, out);
                }
                out.push(b']');
            }
            Val::Object(id) => {
                out.push(b'{');
                for (i, (k, v)) in self.fields(*id).iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(self.key_name(*k), out);
                    out.push(b':');
                    self.write(v, out);
                }
                out.push(b'}');
            }
        }
    }
}

/// A JSON string literal; text with nothing to escape (nearly all of it) is copied as is.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    let plain = s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // serde_json escapes exactly as the spec wants; writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_moves_fields_and_merges_nested_objects_and_lists() {
        let mut store = Store::new();
        let a = store.import(&json!({"u": {"x": 1}, "l": [{"a": 1}, {"a": 2}], "k": 1}));
        let b = store.import(&json!({"u": {"y": 2}, "l": [{"b": 1}, {"b": 2}], "k": 2, "n": null}));
        let (Val::Object(a), Val::Object(b)) = (a, b) else {
            panic!("objects")
        };
        store.merge(a, b);
        assert_eq!(
            store.to_value(&Val::Object(a)),
            json!({"u": {"x": 1, "y": 2}, "l": [{"a": 1, "b": 1}, {"a": 2, "b": 2}], "k": 2, "n": null})
        );
    }

    #[test]
    fn identical_objects_share_one_node_after_forward() {
        let mut store = Store::new();
        let x = store.import(&json!({"__typename": "P", "upc": "1"}));
        let y = store.import(&json!({"__typename": "P", "upc": "1"}));
        let z = store.import(&json!({"__typename": "P", "upc": "2"}));
        let (Val::Object(x), Val::Object(y), Val::Object(z)) = (x, y, z) else {
            panic!("objects")
        };
        assert!(store.same_object(x, y));
        assert!(!store.same_object(x, z));
        assert_eq!(store.fingerprint(x), store.fingerprint(y));
        assert_ne!(store.fingerprint(x), store.fingerprint(z));
        store.forward(y, x);
        let extra = store.import(&json!({"name": "Lamp"}));
        store.merge_value(x, extra);
        assert_eq!(
            store.get(y, "name").map(|v| store.to_value(v)),
            Some(json!("Lamp"))
        );
        assert_eq!(store.typename(y), Some("P"));
    }

    #[test]
    fn parsed_json_is_the_same_as_imported_json() {
        let text = r#"{"a":[1,-2,2.5,"x\"y",null,true],"b":{"c":{}},"a2":"\u00e9","b":{"d":1}}"#;
        let mut store = Store::new();
        let parsed = store.parse(text.as_bytes(), None).unwrap_or(Val::Null);
        let value: Value = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(store.to_value(&parsed), value);
        let mut out = Vec::new();
        store.write(&parsed, &mut out);
        assert_eq!(
            serde_json::from_slice::<Value>(&out).ok(),
            Some(value.clone())
        );
        assert!(store.parse(b"{\"a\":", None).is_err());
        // A parse that fails half way leaves nothing behind for the next one.
        assert!(store.parse(b"{\"a\":[1,{\"b\":[2,", None).is_err());
        assert!(store.parse(b"\"\xff\"", None).is_err());
        let again = store.parse(text.as_bytes(), None).unwrap_or(Val::Null);
        assert_eq!(store.to_value(&again), value);
    }

    #[test]
    fn the_reader_agrees_with_serde_json_and_keeps_number_text() {
        let texts = [
            r#""plain text longer than eight bytes""#,
            r#""0123456789abcdef\"quoted\" and \\ more \u00e9\ud83d\ude00 \n\t\/ end""#,
            r#""é ü 日本語 — non-ASCII, long enough to take the fast path""#,
            r#"[0,-0,-0.0,1.5e-7,1E+300,123456789012345678901234567890,-234.71146943839653]"#,
            r#"{"a":{"b":[{},[],{"c":null}]},"t":true,"f":false}"#,
        ];
        for text in texts {
            let mut store = Store::new();
            let read = store.parse(text.as_bytes(), None).unwrap_or(Val::Null);
            let expected: Value = serde_json::from_str(text).unwrap_or_default();
            assert_eq!(store.to_value(&read), expected, "{text}");
            let mut out = Vec::new();
            store.write(&read, &mut out);
            assert_eq!(
                serde_json::from_slice::<Value>(&out).ok(),
                Some(expected),
                "{text}"
            );
        }
        // Numbers are written as they were read.
        let mut store = Store::new();
        let text =
            "[0,-0,-0.0,1.5e-7,1E+300,1e400,123456789012345678901234567890.5,-234.71146943839653]";
        let read = store.parse(text.as_bytes(), None).unwrap_or(Val::Null);
        let mut out = Vec::new();
        store.write(&read, &mut out);
        assert_eq!(String::from_utf8(out).unwrap_or_default(), text);
        let invalid = [
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            r#""a\u12""#,
            r#""\ud800""#,
            r#""\x""#,
            "\"a\u{1}\"",
            "\"0123456789abcdef\u{1}\"",
            "\"abc",
            "[1,]",
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            "nul",
            "[1] 2",
        ];
        for text in invalid {
            assert!(store.parse(text.as_bytes(), None).is_err(), "{text}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(store.parse(deep.as_bytes(), None).is_err());
    }

    #[test]
    fn the_reader_keeps_only_what_the_projection_keeps() {
        let projection =
            Projection::of_answer("{ me { id friends { name } } }").unwrap_or_default();
        let mut store = Store::new();
        let text = r#"{"data":{"me":{"id":"1","email":"x","friends":[{"name":"a","id":"9"},{"name":"b"}],"x":[1,{"y":2}]}},"errors":[{"message":"m","extensions":{"k":1}}],"extensions":{"e":1}}"#;
        let read = store
            .parse(text.as_bytes(), Some(&projection))
            .unwrap_or(Val::Null);
        assert_eq!(
            store.to_value(&read),
            json!({
                "data": { "me": { "id": "1", "friends": [{ "name": "a" }, { "name": "b" }] } },
                "errors": [{ "message": "m", "extensions": { "k": 1 } }]
            })
        );
        // What is skipped must be JSON all the same.
        let bad = r#"{"data":{"me":{"id":"1","email":[1,}}}"#;
        assert!(store.parse(bad.as_bytes(), Some(&projection)).is_err());
    }

    #[test]
    fn written_json_escapes_strings_and_keeps_order() {
        let mut store = Store::new();
        let v = store.import(&json!({"b": "a\"q\n", "a": [1, 2.5, true, null]}));
        let mut out = Vec::new();
        store.write(&v, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            r#"{"b":"a\"q\n","a":[1,2.5,true,null]}"#
        );
    }
}
