//! A client operation after validation and normalization: one operation, fragments inlined,
//! `@skip`/`@include` with literal arguments applied, variable-dependent ones kept as
//! conditions, every field annotated with its type. The planner and the engine's response
//! shaping both read this.

use apollo_compiler::Node;
use apollo_compiler::ast::{Type, Value};

pub use crate::plan::model::OperationKind;

#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub kind: OperationKind,
    pub name: Option<String>,
    pub variables: Vec<VariableDefinition>,
    pub selection_set: SelectionSet,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VariableDefinition {
    pub name: String,
    pub ty: Type,
    pub default_value: Option<Node<Value>>,
}

/// Selections on one parent type.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectionSet {
    /// The type these selections apply to (an object, interface or union of the API schema).
    pub parent_type: String,
    pub items: Vec<Selection>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Field(Field),
    InlineFragment(InlineFragment),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Alias, or the field name.
    pub response_key: String,
    /// The field name (`__typename` included).
    pub name: String,
    pub arguments: Vec<(String, Node<Value>)>,
    /// The field's declared type (drives null propagation and list handling).
    pub ty: Type,
    /// Variable conditions from `@skip`/`@include`: all must hold.
    pub conditions: Vec<Condition>,
    /// Other directives, passed through to subgraphs (as GraphQL text).
    pub directives: Vec<String>,
    /// Sub-selections for composite types.
    pub selection_set: Option<SelectionSet>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InlineFragment {
    /// `None`: no type condition (a fragment used only for directives).
    pub type_condition: Option<String>,
    /// The object types the fragment applies to: an object's `__typename` must be one of them.
    pub possible_types: Vec<String>,
    pub conditions: Vec<Condition>,
    /// `@defer`: the fragment's fields come in a later part of an incremental response.
    pub defer: Option<Defer>,
    pub selection_set: SelectionSet,
}

/// A deferred fragment (`@defer`). Each place a deferred fragment stands in the normalized
/// operation gets its own `id` (a named fragment spread at two places defers twice), numbered
/// from 0 in document order; the plan's `Defer` node and the response's parts use it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Defer {
    pub id: u32,
    /// `@defer(label:)`, a literal string (validated unique in the document).
    pub label: Option<String>,
    /// `@defer(if: $v)`: deferred only when `$v` is true (a literal `if: false` is no defer
    /// at all and never gets here).
    pub condition: Option<String>,
}

/// `@include(if: $v)` holds when `$v` is true (`passes_when: true`); `@skip(if: $v)` when
/// false.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Condition {
    pub variable: String,
    pub passes_when: bool,
}
