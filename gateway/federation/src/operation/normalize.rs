//! Validated document → normalized [`Operation`]: picks the operation, inlines named
//! fragments, applies `@skip`/`@include` with literal arguments, keeps variable ones as
//! conditions, and resolves each fragment's possible types.
//!
//! Selections are merged as they are inlined, as GraphQL's CollectFields merges them. In one
//! selection set: fields with the same response key, conditions and directives become one field
//! whose sub-selections are merged; a fragment that always applies to the set (no conditions,
//! and no type condition, the set's own type, or an interface or union of the set's object
//! type) is flattened into it; a fragment that can never apply (on a type that excludes the
//! set's object type) is dropped; fragments with the same type condition and conditions become
//! one. Each named fragment is normalized once, in dependency order, and a fragment spread
//! again where it was already merged changes nothing, so the work is linear in the document
//! plus the merged result: `fragment F1 on User { ...F0 ...F0 }` doubled thirty times costs
//! thirty fragments, not 2^30 copies. What the merged result may still multiply (aliases or
//! distinct fields at every level) is bounded by a budget of selections.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::Value;
use apollo_compiler::executable::{self, Directive};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

use super::model::*;

/// The default budget of selections a normalized operation may hold: far above any real
/// operation, far below what would exhaust memory.
pub const DEFAULT_MAX_SELECTIONS: usize = 100_000;

/// Why normalization failed (the document itself was valid).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("{0}")]
    OperationNotFound(String),
    #[error(
        "The operation has more than {0} selections once its fragments are inlined and merged \
         (`limits.max_selections`)."
    )]
    TooManySelections(usize),
}

impl NormalizeError {
    /// A stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            NormalizeError::OperationNotFound(_) => "GRAPHQL_UNKNOWN_OPERATION_NAME",
            NormalizeError::TooManySelections(_) => "MAX_SELECTIONS_LIMIT",
        }
    }
}

/// [`normalize_within`] with [`DEFAULT_MAX_SELECTIONS`].
pub fn normalize(
    schema: &Valid<Schema>,
    doc: &Valid<ExecutableDocument>,
    operation_name: Option<&str>,
) -> Result<Operation, NormalizeError> {
    normalize_within(schema, doc, operation_name, Some(DEFAULT_MAX_SELECTIONS))
}

/// The operation `operation_name` of `doc`, normalized; fails once more than
/// `max_selections` selections (fields and fragments, after merging) would be built.
pub fn normalize_within(
    schema: &Valid<Schema>,
    doc: &Valid<ExecutableDocument>,
    operation_name: Option<&str>,
    max_selections: Option<usize>,
) -> Result<Operation, NormalizeError> {
    let op = doc.operations.get(operation_name).map_err(|_| {
        NormalizeError::OperationNotFound(match operation_name {
            Some(name) => format!("Unknown operation named \"{name}\"."),
            None => "Must provide operation name if query contains multiple operations.".to_owned(),
        })
    })?;
    let kind = match op.operation_type {
        executable::OperationType::Query => OperationKind::Query,
        executable::OperationType::Mutation => OperationKind::Mutation,
        executable::OperationType::Subscription => OperationKind::Subscription,
    };
    let mut cx = Cx {
        schema,
        left: max_selections.unwrap_or(usize::MAX),
        over: false,
        // The spec allows no `@defer` in a subscription's root selection (validation refuses
        // it); deeper in a subscription, deferring is not done: the fields come in the event.
        defers: (kind != OperationKind::Subscription).then_some(0),
    };
    let mut n = Normalizer {
        doc,
        fragments: HashMap::new(),
        possible: HashMap::new(),
    };
    n.normalize_fragments(&op.selection_set, &mut cx);
    let mut root = SetBuilder::new(op.selection_set.ty.as_str(), &cx);
    n.add_set(&mut root, &op.selection_set, &mut cx);
    if cx.over {
        return Err(NormalizeError::TooManySelections(
            max_selections.unwrap_or(usize::MAX),
        ));
    }
    Ok(Operation {
        kind,
        name: op.name.as_ref().map(|n| n.to_string()),
        variables: op
            .variables
            .iter()
            .map(|v| VariableDefinition {
                name: v.name.to_string(),
                ty: (*v.ty).clone(),
                default_value: v.default_value.clone(),
            })
            .collect(),
        selection_set: root.finish(),
    })
}

/// What every step of normalization shares: the schema and the budget of selections.
struct Cx<'a> {
    schema: &'a Schema,
    /// Selections that may still be built.
    left: usize,
    /// The budget ran out: the result is incomplete and refused.
    over: bool,
    /// The next deferred fragment's id; `None`: `@defer` is ignored in this operation.
    defers: Option<u32>,
}

impl Cx<'_> {
    /// Takes one selection from the budget; `false` once it is spent.
    fn take(&mut self) -> bool {
        match self.left.checked_sub(1) {
            Some(left) => {
                self.left = left;
                true
            }
            None => {
                self.over = true;
                false
            }
        }
    }

    /// The `@defer` of a fragment with `directives`, numbered: `None` without one, with
    /// `if: false`, or where deferring is not done.
    fn defer(&mut self, directives: &executable::DirectiveList) -> Option<Defer> {
        let (label, condition) = deferral(directives)?;
        self.renumber(label, condition)
    }

    /// A deferred fragment's next place: a new id.
    fn renumber(&mut self, label: Option<String>, condition: Option<String>) -> Option<Defer> {
        let id = self.defers?;
        self.defers = Some(id + 1);
        Some(Defer {
            id,
            label,
            condition,
        })
    }

    fn is_object(&self, ty: &str) -> bool {
        matches!(self.schema.types.get(ty), Some(ExtendedType::Object(_)))
    }
}

struct Normalizer<'a> {
    doc: &'a Valid<ExecutableDocument>,
    /// Each named fragment's selections, normalized once (on its type condition).
    fragments: HashMap<&'a str, SelectionSet>,
    /// The object types each type condition matches, computed once per type.
    possible: HashMap<String, Vec<String>>,
}

/// What `@skip`/`@include` say: excluded outright, or included under conditions.
fn conditions(directives: &executable::DirectiveList) -> Option<Vec<Condition>> {
    let mut out = Vec::new();
    for d in directives.iter() {
        let include = match d.name.as_str() {
            "include" => true,
            "skip" => false,
            _ => continue,
        };
        match d.specified_argument_by_name("if").map(|v| v.as_ref()) {
            Some(Value::Boolean(b)) if *b != include => {
                return None;
            }
            Some(Value::Variable(v)) => out.push(Condition {
                variable: v.to_string(),
                passes_when: include,
            }),
            _ => {}
        }
    }
    Some(out)
}

/// What `@defer` says: `None` without one or with `if: false`; else its label and the
/// variable it depends on.
fn deferral(directives: &executable::DirectiveList) -> Option<(Option<String>, Option<String>)> {
    let d = directives.get("defer")?;
    let condition = match d.specified_argument_by_name("if").map(|v| v.as_ref()) {
        Some(Value::Boolean(false)) => return None,
        Some(Value::Variable(v)) => Some(v.to_string()),
        _ => None,
    };
    let label = match d.specified_argument_by_name("label").map(|v| v.as_ref()) {
        Some(Value::String(s)) => Some(s.to_string()),
        _ => None,
    };
    Some((label, condition))
}

fn other_directives(directives: &executable::DirectiveList) -> Vec<String> {
    directives
        .iter()
        .filter(|d| d.name != "skip" && d.name != "include")
        .map(|d: &apollo_compiler::Node<Directive>| d.to_string())
        .collect()
}

/// What makes two selections of one set the same selection, to be merged.
#[derive(Clone, PartialEq, Eq, Hash)]
enum ItemKey {
    /// Response key, conditions, other directives.
    Field(String, Vec<Condition>, Vec<String>),
    /// Type condition, conditions, the deferred fragment's id (never merged with another).
    Fragment(Option<String>, Vec<Condition>, Option<u32>),
}

/// A selection set being built, with an index so that merging into it costs what is merged,
/// not what is already there.
struct SetBuilder {
    parent_type: String,
    /// Whether `parent_type` is an object type (fragments on it either always or never apply).
    object: bool,
    /// The selections in first-seen order, as places in `fields` or `fragments`.
    order: Vec<Slot>,
    /// Each field (its `selection_set` left `None`) and its merged sub-selections.
    fields: Vec<(Field, Option<SetBuilder>)>,
    /// Each fragment (its `selection_set` left empty) and its merged selections.
    fragments: Vec<(InlineFragment, SetBuilder)>,
    index: HashMap<ItemKey, Slot>,
    /// Named fragments already flattened into this set: spreading one again changes nothing.
    spread: HashSet<String>,
}

#[derive(Clone, Copy)]
enum Slot {
    Field(usize),
    Fragment(usize),
}

impl SetBuilder {
    fn new(parent_type: &str, cx: &Cx) -> SetBuilder {
        SetBuilder {
            parent_type: parent_type.to_owned(),
            object: cx.is_object(parent_type),
            order: Vec::new(),
            fields: Vec::new(),
            fragments: Vec::new(),
            index: HashMap::new(),
            spread: HashSet::new(),
        }
    }

    /// The sub-selections of `field` in this set (the field's own sub-selections are not
    /// added), the field added if new. `None` for a leaf, or when the budget is spent.
    fn field(&mut self, field: &Field, cx: &mut Cx) -> Option<&mut SetBuilder> {
        let at = match self.find_field(field) {
            Some(at) => at,
            None => {
                if !cx.take() {
                    return None;
                }
                let sub = field
                    .selection_set
                    .as_ref()
                    .map(|s| SetBuilder::new(&s.parent_type, cx));
                self.fields.push((field_head(field), sub));
                let at = self.fields.len() - 1;
                self.order.push(Slot::Field(at));
                if self.fields.len() > FIELDS_SCANNED {
                    // Wide: from now on fields are found through the index (all of them).
                    let from = if self.fields.len() == FIELDS_SCANNED + 1 {
                        0
                    } else {
                        at
                    };
                    for i in from..=at {
                        let key = field_key(&self.fields[i].0);
                        self.index.insert(key, Slot::Field(i));
                    }
                }
                at
            }
        };
        self.fields[at].1.as_mut()
    }

    /// The place of the field `field` merges with: by comparing, in a narrow set (no key
    /// built, most sets); through the index in a wide one (so a set of ten thousand aliases
    /// stays linear).
    fn find_field(&self, field: &Field) -> Option<usize> {
        if self.fields.len() <= FIELDS_SCANNED {
            return self.fields.iter().position(|(f, _)| {
                f.response_key == field.response_key
                    && f.conditions == field.conditions
                    && f.directives == field.directives
            });
        }
        match self.index.get(&field_key(field)) {
            Some(Slot::Field(at)) => Some(*at),
            _ => None,
        }
    }

    /// Where the selections of a fragment on `type_condition` (matching `possible_types`)
    /// under `conditions` go in this set: the set itself when the fragment always applies
    /// and has no conditions; the set's one fragment for that type condition and those
    /// conditions otherwise; `None` when it can never apply here (or the budget is spent).
    fn fragment(
        &mut self,
        type_condition: Option<&str>,
        possible_types: &[String],
        conditions: &[Condition],
        defer: Option<Defer>,
        cx: &mut Cx,
    ) -> Option<&mut SetBuilder> {
        let matches_set = |t: &str| {
            t == self.parent_type || (self.object && possible_types.contains(&self.parent_type))
        };
        if self.object && type_condition.is_some_and(|t| !matches_set(t)) {
            return None;
        }
        if conditions.is_empty() && defer.is_none() && type_condition.is_none_or(matches_set) {
            return Some(self);
        }
        let key = ItemKey::Fragment(
            type_condition.map(str::to_owned),
            conditions.to_vec(),
            defer.as_ref().map(|d| d.id),
        );
        let at = match self.index.get(&key) {
            Some(Slot::Fragment(at)) => *at,
            _ => {
                if !cx.take() {
                    return None;
                }
                let parent = type_condition.unwrap_or(&self.parent_type).to_owned();
                let shell = InlineFragment {
                    type_condition: type_condition.map(str::to_owned),
                    possible_types: match type_condition {
                        Some(_) => possible_types.to_vec(),
                        None => Vec::new(),
                    },
                    conditions: conditions.to_vec(),
                    defer,
                    selection_set: SelectionSet {
                        parent_type: parent.clone(),
                        items: Vec::new(),
                    },
                };
                self.fragments.push((shell, SetBuilder::new(&parent, cx)));
                let at = self.fragments.len() - 1;
                self.order.push(Slot::Fragment(at));
                self.index.insert(key, Slot::Fragment(at));
                at
            }
        };
        Some(&mut self.fragments[at].1)
    }

    /// Merges an already normalized set into this one.
    fn merge(&mut self, set: &SelectionSet, cx: &mut Cx) {
        for item in &set.items {
            match item {
                Selection::Field(f) => {
                    if let (Some(sub), Some(set)) = (self.field(f, cx), &f.selection_set) {
                        sub.merge(set, cx);
                    }
                }
                Selection::InlineFragment(i) => {
                    let tc = i.type_condition.as_deref();
                    // Each place a deferred fragment is merged into defers on its own.
                    let defer = i
                        .defer
                        .as_ref()
                        .and_then(|d| cx.renumber(d.label.clone(), d.condition.clone()));
                    if let Some(target) =
                        self.fragment(tc, &i.possible_types, &i.conditions, defer, cx)
                    {
                        target.merge(&i.selection_set, cx);
                    }
                }
            }
        }
    }

    fn finish(self) -> SelectionSet {
        let mut fields: Vec<Option<(Field, Option<SetBuilder>)>> =
            self.fields.into_iter().map(Some).collect();
        let mut fragments: Vec<Option<(InlineFragment, SetBuilder)>> =
            self.fragments.into_iter().map(Some).collect();
        let items = self
            .order
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::Field(at) => fields[at].take().map(|(mut f, sub)| {
                    f.selection_set = sub.map(SetBuilder::finish);
                    Selection::Field(f)
                }),
                Slot::Fragment(at) => fragments[at].take().map(|(mut i, sub)| {
                    i.selection_set = sub.finish();
                    Selection::InlineFragment(i)
                }),
            })
            .collect();
        SelectionSet {
            parent_type: self.parent_type,
            items,
        }
    }
}

/// A field without its sub-selections.
/// Sets with at most this many fields find them by comparing, without an index.
const FIELDS_SCANNED: usize = 8;

/// What makes two fields of one set the same field (to merge).
fn field_key(field: &Field) -> ItemKey {
    ItemKey::Field(
        field.response_key.clone(),
        field.conditions.clone(),
        field.directives.clone(),
    )
}

fn field_head(field: &Field) -> Field {
    Field {
        response_key: field.response_key.clone(),
        name: field.name.clone(),
        arguments: field.arguments.clone(),
        ty: field.ty.clone(),
        conditions: field.conditions.clone(),
        directives: field.directives.clone(),
        selection_set: None,
    }
}

impl<'a> Normalizer<'a> {
    /// Normalizes every fragment the selection set reaches, each after the fragments it
    /// spreads (an explicit stack, so a long chain of fragments cannot overflow the call
    /// stack). Validation has rejected cycles; a cycle here would only leave a fragment out.
    fn normalize_fragments(&mut self, set: &'a executable::SelectionSet, cx: &mut Cx) {
        let doc = self.doc;
        let mut seen: HashSet<&'a str> = HashSet::new();
        let mut stack: Vec<(&'a str, Vec<&'a str>)> = Vec::new();
        let mut open = |name: &'a str, stack: &mut Vec<(&'a str, Vec<&'a str>)>| {
            if let Some(fragment) = doc.fragments.get(name)
                && seen.insert(name)
            {
                let mut spreads = Vec::new();
                spreads_in(&fragment.selection_set, &mut spreads);
                stack.push((name, spreads));
            }
        };
        let mut roots = Vec::new();
        spreads_in(set, &mut roots);
        for root in roots {
            open(root, &mut stack);
            while let Some((name, pending)) = stack.last_mut() {
                let name = *name;
                if let Some(next) = pending.pop() {
                    open(next, &mut stack);
                    continue;
                }
                stack.pop();
                if let Some(fragment) = doc.fragments.get(name) {
                    let mut b = SetBuilder::new(fragment.type_condition().as_str(), cx);
                    self.add_set(&mut b, &fragment.selection_set, cx);
                    self.fragments.insert(name, b.finish());
                }
            }
        }
    }

    /// Adds the selections of `set` (of the builder's type) to `out`.
    fn add_set(&mut self, out: &mut SetBuilder, set: &'a executable::SelectionSet, cx: &mut Cx) {
        for selection in &set.selections {
            match selection {
                executable::Selection::Field(f) => {
                    let Some(conditions) = conditions(&f.directives) else {
                        continue;
                    };
                    let head = Field {
                        response_key: f.response_key().to_string(),
                        name: f.name.to_string(),
                        arguments: f
                            .arguments
                            .iter()
                            .map(|a| (a.name.to_string(), a.value.clone()))
                            .collect(),
                        ty: f.definition.ty.clone(),
                        conditions,
                        directives: other_directives(&f.directives),
                        // Only its type, for the builder of its sub-selections.
                        selection_set: (!f.selection_set.selections.is_empty()).then(|| {
                            SelectionSet {
                                parent_type: f.selection_set.ty.to_string(),
                                items: Vec::new(),
                            }
                        }),
                    };
                    if let Some(sub) = out.field(&head, cx) {
                        self.add_set(sub, &f.selection_set, cx);
                    }
                }
                executable::Selection::InlineFragment(i) => {
                    let Some(conditions) = conditions(&i.directives) else {
                        continue;
                    };
                    let tc = i.type_condition.as_ref().map(|t| t.as_str());
                    let possible = tc.map(|t| self.possible_types(t, cx)).unwrap_or_default();
                    let defer = cx.defer(&i.directives);
                    if let Some(target) = out.fragment(tc, &possible, &conditions, defer, cx) {
                        self.add_set(target, &i.selection_set, cx);
                    }
                }
                executable::Selection::FragmentSpread(s) => {
                    let Some(conditions) = conditions(&s.directives) else {
                        continue;
                    };
                    let name = s.fragment_name.as_str();
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        continue;
                    };
                    let tc = fragment.type_condition().as_str();
                    let possible = self.possible_types(tc, cx);
                    let defer = cx.defer(&s.directives);
                    // A deferred spread is a fragment of its own: never one already spread.
                    let deferred = defer.is_some();
                    if let Some(target) = out.fragment(Some(tc), &possible, &conditions, defer, cx)
                        && (deferred || target.spread.insert(name.to_owned()))
                        && let Some(normalized) = self.fragments.get(name)
                    {
                        target.merge(normalized, cx);
                    }
                }
            }
        }
    }

    /// The object types a type condition matches.
    fn possible_types(&mut self, ty: &str, cx: &Cx) -> Vec<String> {
        if let Some(known) = self.possible.get(ty) {
            return known.clone();
        }
        let out = match cx.schema.types.get(ty) {
            Some(ExtendedType::Object(_)) => vec![ty.to_owned()],
            Some(ExtendedType::Union(u)) => u.members.iter().map(|m| m.to_string()).collect(),
            Some(ExtendedType::Interface(_)) => {
                let mut out: Vec<String> = cx
                    .schema
                    .types
                    .iter()
                    .filter(|(_, t)| matches!(t, ExtendedType::Object(o) if o.implements_interfaces.contains(ty)))
                    .map(|(n, _)| n.to_string())
                    .collect();
                out.sort();
                out
            }
            _ => Vec::new(),
        };
        self.possible.insert(ty.to_owned(), out.clone());
        out
    }
}

/// The names of the fragments spread in `set`, at any depth (without following them).
fn spreads_in<'a>(set: &'a executable::SelectionSet, out: &mut Vec<&'a str>) {
    for selection in &set.selections {
        match selection {
            executable::Selection::Field(f) => spreads_in(&f.selection_set, out),
            executable::Selection::InlineFragment(i) => spreads_in(&i.selection_set, out),
            executable::Selection::FragmentSpread(s) => out.push(s.fragment_name.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "type Query { me: User node(id: ID!): Node thing: Thing } union Thing = User | Bot interface Node { id: ID! } type User implements Node { id: ID! name: String friends: [User!]! } type Bot implements Node { id: ID! }";

    fn norm(query: &str, name: Option<&str>) -> Result<Operation, NormalizeError> {
        let schema = Schema::parse_and_validate(SCHEMA, "s").expect("schema");
        let doc = ExecutableDocument::parse_and_validate(&schema, query, "q").expect("doc");
        normalize(&schema, &doc, name)
    }

    #[test]
    fn fragments_inline_and_conditions() {
        let op = norm(
            "query Q($withName: Boolean!) { me { ...F friends @skip(if: true) { id } x: id @include(if: true) } node(id: 1) { ... on User { name } } }
             fragment F on User { name @include(if: $withName) }",
            None,
        )
        .expect("normalizes");
        let me = match &op.selection_set.items[0] {
            Selection::Field(f) => f,
            _ => panic!("field"),
        };
        let items = &me.selection_set.as_ref().expect("selections").items;
        assert_eq!(
            items.len(),
            2,
            "friends skipped, the fragment on the field's own type flattened, alias kept: {items:?}"
        );
        let Selection::Field(name) = &items[0] else {
            panic!("field")
        };
        assert_eq!(name.name, "name");
        assert_eq!(
            name.conditions,
            [Condition {
                variable: "withName".to_owned(),
                passes_when: true
            }]
        );
        let Selection::Field(x) = &items[1] else {
            panic!("field")
        };
        assert_eq!((x.response_key.as_str(), x.name.as_str()), ("x", "id"));
        let Selection::Field(node) = &op.selection_set.items[1] else {
            panic!("field")
        };
        let Selection::InlineFragment(on_user) =
            &node.selection_set.as_ref().expect("set").items[0]
        else {
            panic!()
        };
        assert_eq!(on_user.possible_types, ["User"]);
    }

    #[test]
    fn interface_possible_types_and_unknown_operation() {
        let op = norm("{ thing { ... on Node { id } } }", None).expect("ok");
        let Selection::Field(node) = &op.selection_set.items[0] else {
            panic!()
        };
        let Selection::InlineFragment(f) = &node.selection_set.as_ref().expect("set").items[0]
        else {
            panic!()
        };
        assert_eq!(f.possible_types, ["Bot", "User"]);
        let err = norm("query A { me { id } }", Some("B")).expect_err("unknown");
        assert_eq!(err.code(), "GRAPHQL_UNKNOWN_OPERATION_NAME");
    }

    /// The number of selections in the normalized tree.
    fn size(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match item {
                Selection::Field(f) => 1 + f.selection_set.as_ref().map_or(0, size),
                Selection::InlineFragment(i) => 1 + size(&i.selection_set),
            })
            .sum()
    }

    #[test]
    fn exponential_spreads_merge_into_one_selection() {
        // F30 would be 2^30 copies of `name` if fragments were copied at each spread.
        let mut q = String::from("{ me { ...F30 } }\nfragment F0 on User { name }\n");
        for i in 1..=30 {
            q.push_str(&format!(
                "fragment F{i} on User {{ ...F{p} ...F{p} }}\n",
                p = i - 1
            ));
        }
        let op = norm(&q, None).expect("normalizes");
        assert_eq!(size(&op.selection_set), 2, "{op:?}");
        // On an interface: each level's two spreads become one fragment on `User`.
        let mut q = String::from("{ node(id: 1) { ...G30 } }\nfragment G0 on User { name }\n");
        for i in 1..=30 {
            q.push_str(&format!(
                "fragment G{i} on Node {{ ... on User {{ ...G{p} }} ...G{p} }}\n",
                p = i - 1
            ));
        }
        let op = norm(&q, None).expect("normalizes");
        assert_eq!(size(&op.selection_set), 3, "{op:?}");
    }

    #[test]
    fn same_fields_merge_and_conditions_keep_them_apart() {
        let op = norm(
            "query Q($v: Boolean!) { me { friends { id } friends { name } friends @include(if: $v) { id } id } me { id } }",
            None,
        )
        .expect("normalizes");
        assert_eq!(op.selection_set.items.len(), 1, "{op:?}");
        let Selection::Field(me) = &op.selection_set.items[0] else {
            panic!()
        };
        let items = &me.selection_set.as_ref().expect("set").items;
        let keys: Vec<(&str, usize, usize)> = items
            .iter()
            .map(|i| match i {
                Selection::Field(f) => (
                    f.response_key.as_str(),
                    f.conditions.len(),
                    f.selection_set.as_ref().map_or(0, |s| s.items.len()),
                ),
                Selection::InlineFragment(_) => ("...", 0, 0),
            })
            .collect();
        assert_eq!(keys, [("friends", 0, 2), ("friends", 1, 1), ("id", 0, 0)]);
    }

    #[test]
    fn a_long_chain_of_fragments_does_not_recurse_per_fragment() {
        // Normalized in dependency order with an explicit stack: 20,000 fragments deep runs
        // on a small stack.
        let mut q = String::from("{ me { ...F19999 } }\nfragment F0 on User { name }\n");
        for i in 1..20_000 {
            q.push_str(&format!("fragment F{i} on User {{ ...F{} }}\n", i - 1));
        }
        let schema = Schema::parse_and_validate(SCHEMA, "s").expect("schema");
        let doc = ExecutableDocument::parse(&schema, &q, "q").expect("parses");
        // Valid by construction (validation itself is apollo-compiler's and not under test).
        let doc = Valid::assume_valid(doc);
        let op = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || normalize(&schema, &doc, None).map(|op| size(&op.selection_set)))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(op, Ok(2));
    }
}
