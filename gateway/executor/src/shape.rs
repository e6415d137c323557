//! The client's response from the merged subgraph data, written as JSON text: exactly the
//! fields the operation selects, in its order, under its aliases, with `__typename` filled
//! in, fragments applied by type, and null propagation per the GraphQL spec (a null in a
//! non-null position nulls the nearest nullable parent, with one error naming the field).
//!
//! Subgraph values are untrusted: each leaf is checked against its type as clients see it
//! (the spec's CompleteValue, docs/subgraph-answers.md) and a value that is not one (an
//! object for a `String`, `"x"` for an `Int`, an enum value the API schema does not have, a
//! scalar for an object or a list, an interface's name as `__typename`) is null with an
//! error coded `INVALID_SUBGRAPH_VALUE`, then propagates as any null does. Numbers are
//! written with the text the subgraph sent.
//!
//! The text is written place by place straight from the store (`data.rs`). An object shared
//! by many places is written once per selection; its other places copy that text. A null
//! that propagates undoes what was written since the nullable position it reaches, and
//! writes `null` there.

use std::rc::Rc;

use apollo_compiler::Schema;
use apollo_compiler::ast::Type;
use apollo_compiler::schema::{EnumType, ExtendedType};
use apollo_compiler::validation::Valid;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Map, Value, json};
use weft_federation::operation::{
    Condition, Field, InlineFragment, Operation, Selection, SelectionSet,
};

use crate::error::{ErrorCode, GraphQLError, ResponseError};
use crate::store::{KeyId, ObjId, Seg, Store, Val, write_str};

/// A null reached a non-null position: the parent must become null too.
struct Bubble;

/// Writes the response `data` for `op` from `store` as JSON text; errors from null
/// propagation are appended to `errors`. Enum values the API schema does not have (unknown,
/// or `@inaccessible`) become null with an error.
///
/// Writing stops once the text is over `max_bytes`: what is returned is then longer than
/// `max_bytes` and not JSON, for the caller to refuse (`server.max_response_bytes`). Objects
/// reached at many places are stored once but written at each, so a small store can stand for
/// an answer of gigabytes: the cap bounds the memory, not only what is sent.
pub fn shape(
    op: &Operation,
    store: &Store,
    variables: &Map<String, Value>,
    api: &Valid<Schema>,
    errors: &mut Vec<ResponseError>,
    max_bytes: Option<usize>,
) -> Vec<u8> {
    shape_without(
        op,
        store,
        variables,
        api,
        errors,
        max_bytes,
        &FxHashSet::default(),
    )
}

/// [`shape`], leaving out the deferred fragments `later` (their parts come after).
pub fn shape_without(
    op: &Operation,
    store: &Store,
    variables: &Map<String, Value>,
    api: &Valid<Schema>,
    errors: &mut Vec<ResponseError>,
    max_bytes: Option<usize>,
    later: &FxHashSet<u32>,
) -> Vec<u8> {
    let mut s = Shaper::new(store, variables, api, errors, max_bytes, later, Vec::new());
    let root = &op.selection_set;
    if s.object(&[root], (0, 0), Store::ROOT, &root.parent_type)
        .is_err()
        && !s.over
    {
        s.out.clear();
        s.out.extend_from_slice(b"null");
    }
    s.out
}

/// One item of a deferred part: the concrete path of an object the fragment applies to, and
/// the fragment's fields on it as JSON text (`null` when a null propagated to the fragment).
pub struct PartItem {
    pub path: Vec<Seg>,
    pub data: Vec<u8>,
}

/// The items of the deferred fragment `fragment`, whose objects are at `query_path` (`"@"`:
/// each list element), leaving out the fragments deferred further (`later`). `written`
/// counts the bytes of earlier parts against `max_bytes`: past it, shaping stops and
/// `None` is returned (`server.max_response_bytes` covers the whole response).
#[allow(clippy::too_many_arguments)]
pub fn shape_part(
    fragment: &InlineFragment,
    query_path: &[String],
    store: &Store,
    variables: &Map<String, Value>,
    api: &Valid<Schema>,
    errors: &mut Vec<ResponseError>,
    max_bytes: Option<usize>,
    written: usize,
    later: &FxHashSet<u32>,
) -> Option<Vec<PartItem>> {
    let mut places = Vec::new();
    places_at(
        store,
        &Val::Object(Store::ROOT),
        query_path,
        &mut Vec::new(),
        &mut places,
    );
    let mut items = Vec::new();
    let mut total = written;
    let left = max_bytes.map(|m| m.saturating_sub(written));
    for (path, id) in &places {
        let typename = store
            .typename(*id)
            .unwrap_or(fragment.selection_set.parent_type.as_str());
        // The fragment applies to objects of its type condition only.
        if fragment.type_condition.is_some()
            && !fragment.possible_types.iter().any(|t| t == typename)
        {
            continue;
        }
        let prefix = path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => Step::Key(k.as_str()),
                Seg::Index(i) => Step::Index(*i),
            })
            .collect();
        let cap = left.map(|l| l.saturating_sub(total - written));
        let mut s = Shaper::new(store, variables, api, errors, cap, later, prefix);
        let sets = [&fragment.selection_set];
        let parent = fragment.selection_set.parent_type.as_str();
        if s.object(&sets, (0, 1), *id, parent).is_err() {
            if s.over {
                return None;
            }
            s.out.clear();
            s.out.extend_from_slice(b"null");
        }
        total += s.out.len();
        let data = s.out;
        items.push(PartItem {
            path: path.clone(),
            data,
        });
    }
    Some(items)
}

/// Every place at `path` in `value` (`"@"`: each list element), in response order, with its
/// concrete path.
fn places_at(
    store: &Store,
    value: &Val,
    path: &[String],
    at: &mut Vec<Seg>,
    out: &mut Vec<(Vec<Seg>, ObjId)>,
) {
    match value {
        Val::List(items) => {
            let rest = match path.first() {
                Some(p) if p == weft_federation::plan::model::LIST => &path[1..],
                _ => path,
            };
            for (i, item) in items.iter().enumerate() {
                at.push(Seg::Index(i));
                places_at(store, item, rest, at, out);
                at.pop();
            }
        }
        Val::Object(id) => match path.split_first() {
            None => out.push((at.clone(), *id)),
            Some((key, rest)) if key != weft_federation::plan::model::LIST => {
                if let Some(next) = store.get(*id, key) {
                    at.push(Seg::Key(key.clone()));
                    places_at(store, next, rest, at, out);
                    at.pop();
                }
            }
            Some((_, rest)) => places_at(store, value, rest, at, out),
        },
        _ => {}
    }
}

/// A step of the path being written (borrowed: most of the time it is never read).
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The fields one response key gets on an object of one type (the spec's CollectFields).
struct Group<'a> {
    key: &'a str,
    /// The key's number in the store (`None`: no object has it).
    key_id: Option<KeyId>,
    /// The first field with this key: name, type and arguments are the same for all.
    field: &'a Field,
    /// Their selection sets, merged.
    subsets: Vec<&'a SelectionSet>,
    /// What a leaf value must be.
    leaf: Leaf<'a>,
}

/// The type a leaf value is checked against.
#[derive(Clone, Copy)]
enum Leaf<'a> {
    Int,
    Float,
    String,
    Boolean,
    Id,
    /// The values clients may see (`@inaccessible` ones are not among them).
    Enum(&'a EnumType),
    /// A custom scalar: any JSON, passed as is.
    Custom,
}

/// The code of an error for a subgraph value that is not of its field's type.
const INVALID: ErrorCode = ErrorCode::InvalidSubgraphValue;

/// An object type's groups for a set of selections, and whether clients can see the type.
#[derive(Clone)]
struct Collected<'a> {
    groups: Rc<Vec<Group<'a>>>,
    visible: Visible,
}

/// Whether clients can see objects of a type.
#[derive(Clone, Copy, PartialEq)]
enum Visible {
    Yes,
    /// Not in the API schema (`@inaccessible`): null, without an error of its own.
    No,
    /// An interface or union: never an object's concrete type.
    Abstract,
}

/// Which selection sets: the root (0, 0), or a group's (its list's address, its index).
type SetsKey = (usize, usize);

struct Shaper<'a, 'e> {
    /// Writing stops past this many bytes (`over` set, unwinding like a null that nothing
    /// catches).
    max_bytes: usize,
    over: bool,
    store: &'a Store,
    variables: &'a Map<String, Value>,
    errors: &'e mut Vec<ResponseError>,
    api: &'a Valid<Schema>,
    out: Vec<u8>,
    path: Vec<Step<'a>>,
    /// Field collection depends on the selection sets and the object's type only: done once
    /// per pair, not once per object.
    memo: FxHashMap<SetsKey, Vec<(&'a str, Collected<'a>)>>,
    /// Where a shared object was written for a selection, and `bubbles` then: the same
    /// object under the same selection is the same text, wherever it stands, as long as no
    /// null propagated inside it (that would owe an error naming this place) and nothing
    /// was undone since (a propagation may have cut the text away).
    written: FxHashMap<(ObjId, SetsKey), (usize, usize, u32)>,
    /// How many nulls have propagated so far.
    bubbles: u32,
    /// The paths of the errors there were before shaping (the fetches'), hashed.
    before: Before,
    /// Where the errors of the shaping itself start in `errors`.
    own_from: usize,
    /// Deferred fragments written in later parts, not here.
    later: &'a FxHashSet<u32>,
}

/// The paths of errors, as hashes of each of their prefixes: whether an error lies at, above
/// or below a path is then a few look-ups, however many errors there are (a subgraph may
/// send millions).
#[derive(Default)]
struct Before {
    /// Hashes of whole paths.
    whole: rustc_hash::FxHashSet<u64>,
    /// Hashes of every prefix of every path (whole ones included).
    prefixes: rustc_hash::FxHashSet<u64>,
}

/// The hash of a path one segment longer than the path hashed as `h`.
fn extend(h: u64, key: Option<&str>, index: Option<u64>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    h.hash(&mut hasher);
    key.hash(&mut hasher);
    index.hash(&mut hasher);
    hasher.finish()
}

impl Before {
    fn of(errors: &[ResponseError]) -> Before {
        let mut before = Before::default();
        for path in errors.iter().filter_map(ResponseError::path) {
            let mut h = 0;
            before.prefixes.insert(h);
            for seg in path {
                h = extend(h, seg.as_str(), seg.as_u64());
                before.prefixes.insert(h);
            }
            before.whole.insert(h);
        }
        before
    }

    /// Whether one of the errors is at, above or below `path`.
    fn covers(&self, path: &[Step<'_>]) -> bool {
        if self.whole.is_empty() {
            return false;
        }
        let mut h = 0;
        if self.whole.contains(&h) {
            return true;
        }
        for step in path {
            h = match step {
                Step::Key(k) => extend(h, Some(k), None),
                Step::Index(i) => extend(h, None, Some(*i as u64)),
            };
            if self.whole.contains(&h) {
                return true;
            }
        }
        self.prefixes.contains(&h)
    }
}

impl<'a, 'e> Shaper<'a, 'e> {
    fn new(
        store: &'a Store,
        variables: &'a Map<String, Value>,
        api: &'a Valid<Schema>,
        errors: &'e mut Vec<ResponseError>,
        max_bytes: Option<usize>,
        later: &'a FxHashSet<u32>,
        path: Vec<Step<'a>>,
    ) -> Shaper<'a, 'e> {
        let before = Before::of(errors);
        let own_from = errors.len();
        Shaper {
            store,
            variables,
            errors,
            api,
            out: Vec::with_capacity(4096),
            path,
            memo: FxHashMap::default(),
            written: FxHashMap::default(),
            bubbles: 0,
            before,
            own_from,
            max_bytes: max_bytes.unwrap_or(usize::MAX),
            over: false,
            later,
        }
    }
}

impl<'a> Shaper<'a, '_> {
    fn passes(&self, conditions: &[Condition]) -> bool {
        conditions.iter().all(|c| {
            let value = self
                .variables
                .get(&c.variable)
                .and_then(Value::as_bool)
                .unwrap_or(false);
            value == c.passes_when
        })
    }

    /// The groups of `sets` on an object of type `typename`, added to `out`. `index` finds a
    /// key's group once there are many (an operation of thousands of aliases), so collecting
    /// costs linear time.
    fn collect(
        &self,
        sets: &[&'a SelectionSet],
        typename: &str,
        out: &mut Vec<Group<'a>>,
        index: &mut FxHashMap<&'a str, usize>,
    ) {
        const SCAN: usize = 16;
        for set in sets {
            for item in &set.items {
                match item {
                    Selection::Field(f) => {
                        if !self.passes(&f.conditions) {
                            continue;
                        }
                        let found = if out.len() > SCAN {
                            if index.is_empty() {
                                index.extend(out.iter().enumerate().map(|(i, g)| (g.key, i)).rev());
                            }
                            index.get(f.response_key.as_str()).copied()
                        } else {
                            out.iter().position(|g| g.key == f.response_key)
                        };
                        let group = match found {
                            Some(i) => &mut out[i],
                            None => {
                                if !index.is_empty() {
                                    index.insert(&f.response_key, out.len());
                                }
                                out.push(Group {
                                    key: &f.response_key,
                                    key_id: self.store.key_id(&f.response_key),
                                    field: f,
                                    subsets: Vec::new(),
                                    leaf: self.leaf_of(&f.ty),
                                });
                                let last = out.len() - 1;
                                &mut out[last]
                            }
                        };
                        if let Some(set) = &f.selection_set {
                            group.subsets.push(set);
                        }
                    }
                    Selection::InlineFragment(frag) => {
                        if !self.passes(&frag.conditions)
                            || frag
                                .defer
                                .as_ref()
                                .is_some_and(|d| self.later.contains(&d.id))
                        {
                            continue;
                        }
                        let applies = frag.type_condition.is_none()
                            || frag.possible_types.iter().any(|t| t == typename);
                        if applies {
                            self.collect(&[&frag.selection_set], typename, out, index);
                        }
                    }
                }
            }
        }
    }

    fn leaf_of(&self, ty: &Type) -> Leaf<'a> {
        let name = ty.inner_named_type();
        match name.as_str() {
            "Int" => Leaf::Int,
            "Float" => Leaf::Float,
            "String" => Leaf::String,
            "Boolean" => Leaf::Boolean,
            "ID" => Leaf::Id,
            _ => match self.api.types.get(name) {
                Some(ExtendedType::Enum(e)) => Leaf::Enum(e),
                _ => Leaf::Custom,
            },
        }
    }

    fn collected(
        &mut self,
        key: SetsKey,
        sets: &[&'a SelectionSet],
        typename: &'a str,
    ) -> Collected<'a> {
        if let Some(found) = self
            .memo
            .get(&key)
            .and_then(|list| list.iter().find(|(t, _)| *t == typename))
        {
            return found.1.clone();
        }
        let mut groups = Vec::new();
        self.collect(sets, typename, &mut groups, &mut FxHashMap::default());
        let collected = Collected {
            groups: Rc::new(groups),
            visible: match self.api.types.get(typename) {
                Some(ExtendedType::Object(_)) => Visible::Yes,
                Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => Visible::Abstract,
                _ => Visible::No,
            },
        };
        self.memo
            .entry(key)
            .or_default()
            .push((typename, collected.clone()));
        collected
    }

    fn object(
        &mut self,
        sets: &[&'a SelectionSet],
        key: SetsKey,
        id: ObjId,
        declared: &'a str,
    ) -> Result<(), Bubble> {
        if !self.store.is_shared(id) {
            return self.object_fields(sets, key, id, declared);
        }
        let id = self.store.resolve(id);
        if let Some(&(start, end, bubbles)) = self.written.get(&(id, key))
            && bubbles == self.bubbles
        {
            self.out.extend_from_within(start..end);
            return self.within_cap();
        }
        let (start, bubbles) = (self.out.len(), self.bubbles);
        self.object_fields(sets, key, id, declared)?;
        if self.bubbles == bubbles {
            self.written
                .insert((id, key), (start, self.out.len(), bubbles));
        }
        Ok(())
    }

    fn object_fields(
        &mut self,
        sets: &[&'a SelectionSet],
        key: SetsKey,
        id: ObjId,
        declared: &'a str,
    ) -> Result<(), Bubble> {
        let store = self.store;
        let typename = store.typename(id).unwrap_or(declared);
        let collected = self.collected(key, sets, typename);
        // An object of a type clients cannot see (`@inaccessible`) is null to them.
        match collected.visible {
            Visible::Yes => {}
            Visible::No => return Err(Bubble),
            // Only the interface is known (an `@interfaceObject`'s data): enough when the
            // selection does not depend on the concrete type; otherwise (`__typename`, a
            // fragment on an object type) the fetch that gives the concrete type failed, and
            // an interface name is never a possible answer.
            Visible::Abstract if !depends_on_concrete_type(sets, typename) => {}
            Visible::Abstract => {
                let path = self.path_json();
                self.errors.push(
                    GraphQLError::new(
                        INVALID,
                        format!(
                            "Could not determine the concrete type of an object of abstract type `{typename}`"
                        ),
                    )
                    .at(path)
                    .into(),
                );
                return Err(Bubble);
            }
        }
        let groups = collected.groups;
        let list = Rc::as_ptr(&groups) as usize;
        self.out.push(b'{');
        let mut first = true;
        for (i, g) in groups.iter().enumerate() {
            let name = g.field.name.as_str();
            if name == "__schema" || name == "__type" {
                // Introspection is answered separately and merged in by the caller.
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            write_str(g.key, &mut self.out);
            self.out.push(b':');
            if name == "__typename" {
                write_str(typename, &mut self.out);
                continue;
            }
            self.path.push(Step::Key(g.key));
            let raw = g
                .key_id
                .and_then(|k| store.get_key(id, k))
                .unwrap_or(&Val::Null);
            let done = self.complete(&g.field.ty, raw, g, (list, i), typename);
            self.path.pop();
            done?;
        }
        self.out.push(b'}');
        self.within_cap()
    }

    /// `Err` once the text is over the cap: from then on every level unwinds.
    fn within_cap(&mut self) -> Result<(), Bubble> {
        if self.out.len() > self.max_bytes {
            self.over = true;
            return Err(Bubble);
        }
        Ok(())
    }

    fn complete(
        &mut self,
        ty: &'a Type,
        raw: &'a Val,
        group: &Group<'a>,
        key: SetsKey,
        parent: &str,
    ) -> Result<(), Bubble> {
        if raw.is_null() {
            if ty.is_non_null() {
                self.bubbles += 1;
                self.null_error(parent, group.field);
                return Err(Bubble);
            }
            self.out.extend_from_slice(b"null");
            return Ok(());
        }
        let start = self.out.len();
        let result = match ty {
            Type::List(inner) | Type::NonNullList(inner) => match raw {
                Val::List(items) => {
                    self.out.push(b'[');
                    let mut result = Ok(());
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.out.push(b',');
                        }
                        self.path.push(Step::Index(i));
                        result = self.complete(inner, item, group, key, parent);
                        self.path.pop();
                        if result.is_err() {
                            break;
                        }
                    }
                    self.out.push(b']');
                    result
                }
                // A subgraph returned a non-list for a list.
                other => {
                    self.invalid(ty, other);
                    Err(Bubble)
                }
            },
            Type::Named(_) | Type::NonNullNamed(_) => {
                if group.subsets.is_empty() {
                    self.leaf(ty, raw, group.leaf)
                } else {
                    match raw {
                        Val::Object(id) => {
                            let declared = ty.inner_named_type().as_str();
                            self.object(&group.subsets, key, *id, declared)
                        }
                        other => {
                            self.invalid(ty, other);
                            Err(Bubble)
                        }
                    }
                }
            }
        };
        if self.over {
            return Err(Bubble);
        }
        if result.is_err() {
            self.bubbles += 1;
        }
        match result {
            Ok(()) => Ok(()),
            // The value below failed: this position is null, or bubbles further if non-null.
            Err(Bubble) if ty.is_non_null() => {
                self.null_error(parent, group.field);
                Err(Bubble)
            }
            Err(Bubble) => {
                self.out.truncate(start);
                self.out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    /// A scalar or enum value, if it is one of its type (the spec's output coercion, strict:
    /// no value changes type, except an integer `ID`, written as its text, and an integral
    /// number for an `Int`, written as an integer).
    fn leaf(&mut self, ty: &Type, raw: &Val, leaf: Leaf<'_>) -> Result<(), Bubble> {
        let store = self.store;
        let ok = match (leaf, raw) {
            (Leaf::Custom, _) => {
                store.write(raw, &mut self.out);
                return Ok(());
            }
            (Leaf::String, Val::Str(_)) | (Leaf::Boolean, Val::Bool(_)) => true,
            (Leaf::Id, Val::Str(_)) => true,
            (Leaf::Id, Val::Num(t)) => {
                let text = store.text(*t);
                let integral = is_integer(text);
                if integral {
                    write_str(text, &mut self.out);
                    return Ok(());
                }
                false
            }
            (Leaf::Int, Val::Num(t)) => {
                let text = store.text(*t);
                if is_integer(text) {
                    text.parse::<i32>().is_ok()
                } else {
                    // `1.0` or `1e2`: an integer written another way.
                    match text.parse::<f64>() {
                        Ok(f)
                            if f.fract() == 0.0 && f >= i32::MIN.into() && f <= i32::MAX.into() =>
                        {
                            self.out
                                .extend_from_slice((f as i32).to_string().as_bytes());
                            return Ok(());
                        }
                        _ => false,
                    }
                }
            }
            // Only an exponent or a very long number can be past `f64`'s range.
            (Leaf::Float, Val::Num(t)) => {
                let text = store.text(*t);
                text.len() < 300 && !text.contains(['e', 'E'])
                    || text.parse::<f64>().is_ok_and(f64::is_finite)
            }
            (Leaf::Enum(e), Val::Str(t)) => e.values.contains_key(store.text(*t)),
            _ => false,
        };
        if ok {
            store.write(raw, &mut self.out);
            return Ok(());
        }
        if let Leaf::Enum(_) = leaf {
            let name = ty.inner_named_type();
            let shown = store.to_value(raw);
            let path = self.path_json();
            self.errors.push(
                GraphQLError::new(
                    INVALID,
                    format!("Enum \"{name}\" cannot represent value: {shown}"),
                )
                .at(path)
                .into(),
            );
        } else {
            self.invalid(ty, raw);
        }
        Err(Bubble)
    }

    /// The error for a subgraph value that is not of type `ty`. Objects and lists are not
    /// shown (they may hold what the client did not ask for), nor long text.
    fn invalid(&mut self, ty: &Type, raw: &Val) {
        let shown = match raw {
            Val::Object(_) => "an object".to_owned(),
            Val::List(_) => "a list".to_owned(),
            Val::Str(t) if self.store.text(*t).len() > 64 => "a string".to_owned(),
            Val::Num(t) => format!("the value {}", self.store.text(*t)),
            other => format!("the value {}", self.store.to_value(other)),
        };
        let path = self.path_json();
        self.errors.push(
            GraphQLError::new(
                INVALID,
                format!("The subgraph's value for `{ty}` is not one: {shown}"),
            )
            .at(path)
            .into(),
        );
    }

    fn path_json(&self) -> Vec<Value> {
        self.path
            .iter()
            .map(|s| match s {
                Step::Key(k) => Value::String((*k).to_owned()),
                Step::Index(i) => json!(i),
            })
            .collect()
    }

    /// Records "cannot return null" unless an error is already reported at or below the
    /// current path.
    fn null_error(&mut self, parent: &str, field: &Field) {
        let here = self.path_json();
        // The shaping's own errors come in walk order: one at or below this place is the
        // last one (anything written since this place was entered is below it).
        let below = self.errors[self.own_from..].last().is_some_and(|e| {
            e.path().is_some_and(|p| {
                let n = p.len().min(here.len());
                p[..n] == here[..n]
            })
        });
        let covered = below || self.before.covers(&self.path);
        if covered {
            return;
        }
        self.errors.push(
            GraphQLError::message(format!(
                "Cannot return null for non-nullable field {parent}.{}.",
                field.name
            ))
            .at(here)
            .into(),
        );
    }
}

/// Whether a JSON number's text is an integer (no fraction, no exponent).
/// Whether what `sets` select of an object of abstract type `typename` depends on the
/// object's concrete type: `__typename`, or a fragment on another type.
fn depends_on_concrete_type(sets: &[&SelectionSet], typename: &str) -> bool {
    sets.iter().any(|set| {
        set.items.iter().any(|item| match item {
            Selection::Field(f) => f.name == "__typename",
            Selection::InlineFragment(frag) => match frag.type_condition.as_deref() {
                None => depends_on_concrete_type(&[&frag.selection_set], typename),
                Some(t) if t == typename => {
                    depends_on_concrete_type(&[&frag.selection_set], typename)
                }
                Some(_) => true,
            },
        })
    })
}

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod part_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use apollo_compiler::ExecutableDocument;

    const SCHEMA: &str =
        "directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD | INLINE_FRAGMENT
        type Query { media: [Media!]! }
        interface Media { id: ID! title: String }
        type Book implements Media { id: ID! title: String isbn: String! }
        type Movie implements Media { id: ID! title: String minutes: Int }";

    /// A deferred fragment on one implementation of an interface: an item per object of that
    /// type only, at its concrete path; the primary part leaves it out; a null in a non-null
    /// field nulls that item alone.
    #[test]
    fn a_deferred_fragment_on_a_possible_type_applies_to_its_objects_only() {
        let api = Schema::parse_and_validate(SCHEMA, "s").unwrap();
        let query = "{ media { title ... on Book @defer(label: \"b\") { isbn } } }";
        let doc = ExecutableDocument::parse_and_validate(&api, query, "q").unwrap();
        let op = weft_federation::operation::normalize(&api, &doc, None).unwrap();
        let mut store = Store::new();
        let data = br#"{"media":[{"__typename":"Book","title":"A","isbn":"1"},{"__typename":"Movie","title":"B"},{"__typename":"Book","title":"C","isbn":null}]}"#;
        let Val::Object(root) = store.parse(data, None).unwrap() else {
            panic!("an object")
        };
        store.merge(Store::ROOT, root);
        let variables = Map::new();
        let later: FxHashSet<u32> = [0].into_iter().collect();
        let mut errors = Vec::new();
        let primary = shape_without(&op, &store, &variables, &api, &mut errors, None, &later);
        assert_eq!(
            String::from_utf8(primary).unwrap(),
            r#"{"media":[{"title":"A"},{"title":"B"},{"title":"C"}]}"#
        );
        let Selection::Field(media) = &op.selection_set.items[0] else {
            panic!("a field")
        };
        let Some(Selection::InlineFragment(fragment)) = media
            .selection_set
            .as_ref()
            .unwrap()
            .items
            .iter()
            .find(|s| matches!(s, Selection::InlineFragment(_)))
        else {
            panic!("the fragment")
        };
        let path = ["media".to_owned(), "@".to_owned()];
        let items = shape_part(
            fragment,
            &path,
            &store,
            &variables,
            &api,
            &mut errors,
            None,
            0,
            &later,
        )
        .unwrap();
        let items: Vec<(Value, String)> = items
            .iter()
            .map(|i| {
                (
                    Value::Array(i.path.iter().map(Seg::to_json).collect()),
                    String::from_utf8(i.data.clone()).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            items,
            [
                (json!(["media", 0]), r#"{"isbn":"1"}"#.to_owned()),
                (json!(["media", 2]), "null".to_owned()),
            ]
        );
        assert_eq!(errors.len(), 1, "the null's error");
        assert_eq!(
            serde_json::to_value(&errors[0]).unwrap()["path"],
            json!(["media", 2, "isbn"])
        );
        // Over the cap with what earlier parts wrote: nothing.
        let over = shape_part(
            fragment,
            &path,
            &store,
            &variables,
            &api,
            &mut errors,
            Some(10),
            8,
            &later,
        );
        assert!(over.is_none());
    }
}
