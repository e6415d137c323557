//! The typed, indexed model of a supergraph: arenas of types and fields addressed by small ids,
//! with the join metadata that says which subgraph can resolve what.

use apollo_compiler::Name;
use apollo_compiler::ast::Type;

/// Index of a subgraph (a `join__Graph` value) in [`super::Supergraph::subgraphs`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubgraphId(pub u16);

impl SubgraphId {
    /// No subgraph: what a deserialized plan's fetches carry until
    /// `QueryPlan::link_subgraphs` (ids are not written). It indexes nothing.
    pub const NONE: SubgraphId = SubgraphId(u16::MAX);

    /// The position in [`super::Supergraph::subgraphs`] (and in anything kept in that order).
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// [`SubgraphId::NONE`], for serde's `default`.
    pub const fn none() -> SubgraphId {
        SubgraphId::NONE
    }
}

/// Index of a named type in the supergraph's type arena.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// Index of a field (output or input) in the supergraph's field arena.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

/// A subgraph as the supergraph declares it: `@join__graph(name:, url:)` on a `join__Graph` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubgraphInfo {
    pub name: String,
    pub url: String,
    /// The `join__Graph` enum value naming it (`ACCOUNTS`).
    pub enum_value: Name,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

/// Directive-borne facts shared by types, fields, arguments and enum values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// `@inaccessible`: hidden from the API schema.
    pub inaccessible: bool,
    /// `@tag(name:)` values, in order.
    pub tags: Vec<String>,
    /// `@authenticated`.
    pub authenticated: bool,
    /// `@requiresScopes(scopes:)`: any one inner list, all of its scopes.
    pub requires_scopes: Vec<Vec<String>>,
    /// `@policy(policies:)`: same shape as scopes.
    pub policies: Vec<Vec<String>>,
    /// `@cost(weight:)`.
    pub cost: Option<i64>,
    /// `@deprecated`: `Some(reason)`, the reason absent when none was given.
    pub deprecated: Option<Option<String>>,
}

/// `@join__type`: the type exists in `graph`, optionally as an entity with `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinType {
    pub graph: SubgraphId,
    /// The key's field set (`"id"`, `"id org { id }"`), if this application declares one.
    pub key: Option<String>,
    pub extension: bool,
    pub resolvable: bool,
    pub is_interface_object: bool,
}

/// An argument filled from a context (`@fromContext`), join v0.5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextArgument {
    pub name: String,
    pub ty: String,
    pub context: String,
    pub selection: String,
}

/// `@join__field`: how a field exists in one subgraph (or, without `graph`, in none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinField {
    pub graph: Option<SubgraphId>,
    pub requires: Option<String>,
    pub provides: Option<String>,
    /// The field's type in that subgraph when it differs from the supergraph's.
    pub ty: Option<String>,
    pub external: bool,
    /// `override: "from"`: this subgraph took the field over from `from`.
    pub override_from: Option<String>,
    /// Progressive override label (`"percent(50)"`).
    pub override_label: Option<String>,
    pub used_overridden: bool,
    pub context_arguments: Vec<ContextArgument>,
}

/// `@join__directive`: a subgraph directive carried through composition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinDirective {
    pub graphs: Vec<SubgraphId>,
    pub name: String,
    /// Arguments as GraphQL value text, in order.
    pub args: Vec<(String, String)>,
}

/// `@listSize` (cost spec).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListSize {
    pub assumed_size: Option<i64>,
    pub slicing_arguments: Vec<String>,
    pub sized_fields: Vec<String>,
    pub require_one_slicing_argument: bool,
}

/// A field argument (or, for input objects, nothing: input fields are [`FieldDef`]s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgumentDef {
    pub description: Option<String>,
    pub name: Name,
    pub ty: Type,
    /// Default value as GraphQL text.
    pub default_value: Option<String>,
    pub meta: Meta,
}

/// An enum value and the subgraphs that define it (`@join__enumValue`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValueDef {
    pub description: Option<String>,
    pub name: Name,
    pub graphs: Vec<SubgraphId>,
    pub meta: Meta,
}

/// A named type of the supergraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeDef {
    pub name: Name,
    pub description: Option<String>,
    /// Scalars: `@specifiedBy(url:)`.
    pub specified_by: Option<String>,
    pub kind: TypeKind,
    /// Output fields (objects, interfaces) or input fields (input objects), in SDL order.
    pub fields: Vec<FieldId>,
    /// Interfaces this object or interface implements.
    pub interfaces: Vec<TypeId>,
    /// Union members.
    pub members: Vec<TypeId>,
    pub enum_values: Vec<EnumValueDef>,
    /// One per `@join__type`, in SDL order.
    pub join_types: Vec<JoinType>,
    /// `@join__owner` (join v0.1 only): the subgraph that owns the entity.
    pub owner: Option<SubgraphId>,
    /// `@join__implements(graph:, interface:)`.
    pub join_implements: Vec<(SubgraphId, TypeId)>,
    /// `@join__unionMember(graph:, member:)`.
    pub join_members: Vec<(SubgraphId, TypeId)>,
    pub join_directives: Vec<JoinDirective>,
    /// `@context(name:)` values (`"<subgraph>__<name>"`): contexts `@fromContext` reads.
    pub contexts: Vec<String>,
    pub meta: Meta,
}

/// A field of an object, interface or input object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub parent: TypeId,
    pub name: Name,
    pub description: Option<String>,
    pub ty: Type,
    pub arguments: Vec<ArgumentDef>,
    /// Input fields only: default value as GraphQL text.
    pub default_value: Option<String>,
    /// One per `@join__field`, in SDL order.
    pub join_fields: Vec<JoinField>,
    pub join_directives: Vec<JoinDirective>,
    pub list_size: Option<ListSize>,
    pub meta: Meta,
}

/// How a field exists in one subgraph, derived from the join metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldInSubgraph {
    pub graph: SubgraphId,
    /// Declared but owned elsewhere (`@external`): resolvable only where provided.
    pub external: bool,
    pub requires: Option<String>,
    pub provides: Option<String>,
    /// `@override(from:)`: the subgraph this one took the field over from.
    pub override_from: Option<String>,
    pub override_label: Option<String>,
    /// Overridden by another subgraph: kept only for this subgraph's keys and requirements
    /// (or, with a progressive-override label, for requests where the label is off).
    pub used_overridden: bool,
}
