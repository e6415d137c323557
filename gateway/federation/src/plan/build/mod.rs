//! The planner: walks the normalized operation over the query graph, keeping each field in
//! the fetch that is already in the right subgraph when it can, and otherwise adding an
//! entity fetch through the cheapest chain of `@key` jumps (fetching `@requires` fields
//! first). Fetches for the same subgraph, type and path are shared.
//!
//! This module holds the builder's state, its error, and the helpers every stage uses; the
//! stages are `impl Builder` blocks in the modules below, one concern each.

mod abstract_types;
mod budget;
mod context;
mod entities;
mod fields;
mod reentry;
mod requires;
mod root;

use std::collections::{BTreeSet, HashMap};

use apollo_compiler::ast::Value;

use super::steps::{SelKey, SelList, Step, SubSel, insert};
use crate::graph::selection::FieldSetItem;
use crate::graph::{ClosureCache, Node, QueryGraph};
use crate::operation::{self as op, Operation};
use crate::supergraph::{SubgraphId, Supergraph, TypeId};

/// Why an operation could not be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    pub message: String,
    /// The planning budget ran out (the operation may be plannable with more).
    pub over_budget: bool,
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        if self.over_budget {
            "QUERY_PLANNING_BUDGET_EXCEEDED"
        } else {
            "QUERY_PLANNING_FAILED"
        }
    }
}

fn fail<T>(message: String) -> Result<T, PlanError> {
    Err(PlanError {
        message,
        over_budget: false,
    })
}

/// A running-out budget error is final: no alternative is tried after it.
fn final_error(e: &PlanError) -> bool {
    e.over_budget
}

pub(super) struct Builder<'a> {
    pub sg: &'a Supergraph,
    pub graph: &'a QueryGraph,
    pub op: &'a Operation,
    pub steps: Vec<Step>,
    /// Progressive-override labels switched on for this request.
    labels: &'a BTreeSet<String>,
    cache: ClosureCache,
    /// Steps that received a field since this was last cleared (tracks where `@requires`
    /// fields end up, so the fetch needing them can wait for those steps).
    touched: BTreeSet<usize>,
    /// The client's fields and type conditions from the root to where planning is now: what
    /// to replay when a field is only reachable by entering another subgraph from the root.
    chain: Vec<Link>,
    /// Set by [`Self::reenter_from_root`]: where in the root step the replayed path ends.
    reentry_at: Option<Vec<SelKey>>,
    /// The entity steps at each (subgraph, type, path), in order, by a hash of the path (each
    /// candidate's own path is compared): finding the fetch to share costs the same however
    /// many fetches the plan has, and copies no path.
    entity_steps: HashMap<(SubgraphId, TypeId, u64), Vec<usize>>,
    /// Work the planner may still do: a unit per field planned and per selection copied
    /// into a snapshot. `None`: unbounded.
    budget: Option<usize>,
    /// The budget this plan started with, for the error message.
    initial_budget: usize,
    /// The deferred fragment being planned (`None`: the primary part): steps added now are
    /// its own, and only its own steps are shared.
    defer: Option<u32>,
    /// The fields planned next are directly in a deferred fragment: each gets an entity
    /// fetch of its own when its type has a key (even to the subgraph the parent is from),
    /// so that the primary part does not wait for it. Taken by each field planned.
    defer_entry: bool,
    /// The `@skip`/`@include` conditions on variables in force where planning is now (the
    /// field's own and its ancestors'): each step records those of what is put in it.
    guards: Vec<op::Condition>,
    /// The unions that set a `@context`, found when first needed.
    context_unions: std::cell::OnceCell<Vec<TypeId>>,
    /// The operation's response keys, found when a field the planner adds first needs a
    /// key of its own.
    response_keys: std::cell::OnceCell<ResponseKeys<'a>>,
}

/// The response keys of an operation, for choosing the keys of fields the planner adds (keys,
/// requirements, contexts). These share each object with the client's fields: under a key
/// the client uses for another value (`id: username`, `price(currency: EUR)`), a key field
/// would be read back as the client's value, or clash with it in the subgraph's query.
#[derive(Default)]
struct ResponseKeys<'a> {
    /// Every response key.
    taken: std::collections::HashSet<&'a str>,
    /// Keys the client gives a value other than the plain field of that name: an alias of
    /// another field, a field with arguments or directives.
    foreign: std::collections::HashSet<&'a str>,
}

impl<'a> ResponseKeys<'a> {
    fn of(op: &'a Operation) -> Self {
        let mut keys = ResponseKeys::default();
        let mut sets = vec![&op.selection_set];
        while let Some(set) = sets.pop() {
            for item in &set.items {
                match item {
                    op::Selection::Field(f) => {
                        keys.taken.insert(&f.response_key);
                        if f.response_key != f.name
                            || !f.arguments.is_empty()
                            || !f.directives.is_empty()
                        {
                            keys.foreign.insert(&f.response_key);
                        }
                        sets.extend(f.selection_set.as_ref());
                    }
                    op::Selection::InlineFragment(i) => sets.push(&i.selection_set),
                }
            }
        }
        keys
    }

    /// `base`, with `_` added until the operation does not use it.
    fn free(&self, base: String) -> String {
        let mut key = base;
        while self.taken.contains(key.as_str()) {
            key.push('_');
        }
        key
    }
}

/// A step of the path from the root: a field (without its sub-selections) or a fragment,
/// with where it was planned (the node holding it, its fetch step, its place in that step's
/// selections, and the response path of the object holding it).
#[derive(Clone, Debug)]
struct Link {
    kind: LinkKind,
    parent: Node,
    step: usize,
    at: Vec<SelKey>,
    path: Vec<String>,
}

#[derive(Clone, Debug)]
enum LinkKind {
    Field(op::Field),
    Fragment(String),
}

impl<'a> Builder<'a> {
    pub fn new(
        graph: &'a QueryGraph,
        op: &'a Operation,
        labels: &'a BTreeSet<String>,
        budget: Option<usize>,
    ) -> Self {
        Builder {
            budget,
            initial_budget: budget.unwrap_or(usize::MAX),
            sg: &graph.sg,
            graph,
            op,
            labels,
            steps: Vec::new(),
            cache: ClosureCache::default(),
            touched: BTreeSet::new(),
            chain: Vec::new(),
            reentry_at: None,
            entity_steps: HashMap::new(),
            defer: None,
            defer_entry: false,
            guards: Vec::new(),
            context_unions: std::cell::OnceCell::new(),
            response_keys: std::cell::OnceCell::new(),
        }
    }

    /// Inserts `wrapper` (a field or an inline fragment) at `at` in `step`'s selections and
    /// plans `inside` within it. With `link`, the wrapper is a step of the client's path
    /// while `inside` runs: it is on [`Self::chain`] (with the node holding it and the
    /// response path of that node), and taken off again whatever `inside` returns.
    fn plan_inside(
        &mut self,
        step: usize,
        at: &[SelKey],
        wrapper: SubSel,
        link: Option<(LinkKind, Node, &[String])>,
        inside: impl FnOnce(&mut Self, &[SelKey]) -> Result<(), PlanError>,
    ) -> Result<(), PlanError> {
        let key = wrapper.key();
        insert(self.selections_mut(step), at, wrapper);
        let inner = extend(at, key);
        let Some((kind, parent, path)) = link else {
            return inside(self, &inner);
        };
        self.chain.push(Link {
            kind,
            parent,
            step,
            at: at.to_vec(),
            path: path.to_vec(),
        });
        let result = inside(self, &inner);
        self.chain.pop();
        result
    }

    /// `step`'s selections, to add to: what is added is needed under the conditions in
    /// force, which the step's guard keeps (those that hold for all it holds).
    fn selections_mut(&mut self, step: usize) -> &mut SelList {
        let guards = &self.guards;
        let s = &mut self.steps[step];
        s.guard = Some(match s.guard.take() {
            None => guards.clone(),
            Some(mut g) => {
                g.retain(|c| guards.contains(c));
                g
            }
        });
        &mut s.selections
    }

    /// Runs `inside` with `conditions` in force besides those already.
    fn guarded<T>(
        &mut self,
        conditions: &[op::Condition],
        inside: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let depth = self.guards.len();
        self.guards.extend(conditions.iter().cloned());
        let result = inside(self);
        self.guards.truncate(depth);
        result
    }

    fn note_conditions(&mut self, step: usize, conditions: &[op::Condition]) {
        for c in conditions {
            self.steps[step].variables.insert(c.variable.clone());
        }
    }

    fn print_arguments(
        &mut self,
        step: usize,
        args: &[(String, apollo_compiler::Node<Value>)],
    ) -> String {
        if args.is_empty() {
            return String::new();
        }
        for (_, v) in args {
            collect_variables(v, &mut self.steps[step].variables);
        }
        let printed: Vec<String> = args
            .iter()
            .map(|(n, v)| format!("{n}: {}", v.serialize().no_indent()))
            .collect();
        format!("({})", printed.join(", "))
    }

    fn response_keys(&self) -> &ResponseKeys<'a> {
        self.response_keys.get_or_init(|| ResponseKeys::of(self.op))
    }

    /// The response key a field the planner adds (a key or required field `name`) is
    /// fetched under, when not its name: a field with arguments gets one per argument list;
    /// a field whose name the client uses for another value gets `<name>__key`. Either is
    /// made free of the client's keys.
    pub(super) fn requirement_key(
        &self,
        name: &str,
        arguments: &[(String, apollo_compiler::Node<Value>)],
    ) -> Option<String> {
        let keys = self.response_keys();
        let base = match crate::graph::selection::requirement_alias(name, arguments) {
            Some(alias) => alias,
            None if keys.foreign.contains(name) => format!("{name}__key"),
            None => return None,
        };
        Some(keys.free(base))
    }

    /// Field-set items (keys, requirements) as selections, each under its
    /// [`Self::requirement_key`].
    pub(super) fn field_set_selections(&self, items: &[FieldSetItem]) -> SelList {
        items
            .iter()
            .map(|item| match item {
                FieldSetItem::Field {
                    name,
                    arguments,
                    children,
                } => SubSel::Field {
                    alias: self.requirement_key(name, arguments),
                    name: name.clone(),
                    args: crate::graph::selection::print_arguments(arguments),
                    directives: String::new(),
                    children: self.field_set_selections(children),
                },
                FieldSetItem::Fragment {
                    type_condition,
                    children,
                } => SubSel::Fragment {
                    on: Some(type_condition.clone()),
                    directives: String::new(),
                    children: self.field_set_selections(children),
                },
            })
            .collect()
    }
}

/// An inline fragment wrapping selections: on `on` (`None`: no type condition, only
/// directives).
fn fragment(on: Option<String>, directives: String) -> SubSel {
    SubSel::Fragment {
        on,
        directives,
        children: SelList::new(),
    }
}

fn extend(at: &[SelKey], key: SelKey) -> Vec<SelKey> {
    let mut v = at.to_vec();
    v.push(key);
    v
}

fn list_depth(ty: &apollo_compiler::ast::Type) -> usize {
    use apollo_compiler::ast::Type;
    match ty {
        Type::List(inner) | Type::NonNullList(inner) => 1 + list_depth(inner),
        _ => 0,
    }
}

fn conditions_text(conditions: &[op::Condition]) -> String {
    conditions
        .iter()
        .map(|c| {
            if c.passes_when {
                format!(" @include(if: ${})", c.variable)
            } else {
                format!(" @skip(if: ${})", c.variable)
            }
        })
        .collect()
}

fn collect_variables(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Variable(v) => {
            out.insert(v.to_string());
        }
        Value::List(items) => items.iter().for_each(|v| collect_variables(v, out)),
        Value::Object(fields) => fields.iter().for_each(|(_, v)| collect_variables(v, out)),
        _ => {}
    }
}

/// The key [`Builder::entity_steps`] files a path under.
fn path_hash(path: &[String]) -> u64 {
    use std::hash::BuildHasher;
    super::steps::key_hasher().hash_one(path)
}

/// Whether two response paths are the same, compared as `text::same` does.
fn same_path(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| crate::text::same(x, y))
}
