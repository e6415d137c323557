//! The merged supergraph before printing: every type and field with the join metadata that
//! says which subgraph provides what. Subgraphs are referred to by index (sorted by name).

use indexmap::IndexMap;

/// Kinds of named types, as they merge.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    /// Apollo's wording in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Scalar => "Scalar Type",
            Kind::Object => "Object Type",
            Kind::Interface => "Interface Type",
            Kind::Union => "Union Type",
            Kind::Enum => "Enum Type",
            Kind::InputObject => "Input Object Type",
        }
    }
}

/// `@join__type` to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinTypeOut {
    pub graph: usize,
    pub key: Option<String>,
    pub extension: bool,
    pub resolvable: bool,
    pub is_interface_object: bool,
}

/// `@join__field` to print.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinFieldOut {
    pub graph: Option<usize>,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub ty: Option<String>,
    pub external: bool,
    pub override_from: Option<String>,
    pub override_label: Option<String>,
    pub used_overridden: bool,
    /// Printed `join__ContextArgument` objects.
    pub context_arguments: Vec<String>,
}

/// `@join__directive(graphs:, name:, args:)` to print; `args` already printed (`{format: "x"}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinDirectiveOut {
    pub graphs: Vec<usize>,
    pub name: String,
    pub args: String,
}

/// Directive applications kept in the supergraph, already printed (`@tag(name: "x")`).
pub type Applied = Vec<String>;

#[derive(Clone, Debug)]
pub struct MergedArgument {
    pub description: Option<String>,
    pub ty: String,
    pub default_value: Option<apollo_compiler::Node<apollo_compiler::ast::Value>>,
    pub directives: Applied,
}

#[derive(Clone, Debug)]
pub struct MergedField {
    pub description: Option<String>,
    pub ty: String,
    pub arguments: IndexMap<String, MergedArgument>,
    /// Input fields: default value.
    pub default_value: Option<apollo_compiler::Node<apollo_compiler::ast::Value>>,
    /// Empty when the field is wherever its type is, with nothing subgraph-specific.
    pub joins: Vec<JoinFieldOut>,
    pub join_directives: Vec<JoinDirectiveOut>,
    pub directives: Applied,
}

#[derive(Clone, Debug)]
pub struct MergedEnumValue {
    pub description: Option<String>,
    pub graphs: Vec<usize>,
    pub directives: Applied,
}

#[derive(Clone, Debug)]
pub struct MergedType {
    pub kind: Kind,
    pub description: Option<String>,
    pub joins: Vec<JoinTypeOut>,
    pub implements: Vec<String>,
    pub join_implements: Vec<(usize, String)>,
    pub members: Vec<String>,
    pub join_members: Vec<(usize, String)>,
    pub fields: IndexMap<String, MergedField>,
    pub values: IndexMap<String, MergedEnumValue>,
    pub join_directives: Vec<JoinDirectiveOut>,
    pub directives: Applied,
}

impl MergedType {
    pub fn new(kind: Kind) -> MergedType {
        MergedType {
            kind,
            description: None,
            joins: Vec::new(),
            implements: Vec::new(),
            join_implements: Vec::new(),
            members: Vec::new(),
            join_members: Vec::new(),
            fields: IndexMap::new(),
            values: IndexMap::new(),
            join_directives: Vec::new(),
            directives: Vec::new(),
        }
    }
}

/// A subgraph as the supergraph lists it.
#[derive(Clone, Debug)]
pub struct Graph {
    /// `join__Graph` value: the name upper-cased, non-alphanumerics as `_`.
    pub enum_value: String,
    pub name: String,
    pub url: String,
}

/// Which optional specs the supergraph must link (and define directives for).
#[derive(Clone, Debug, Default)]
pub struct Features {
    pub tag: bool,
    pub inaccessible: bool,
    pub authenticated: bool,
    pub requires_scopes: bool,
    pub policy: bool,
    pub cost: bool,
    pub list_size: bool,
    pub context: bool,
    /// `@link`s of `@composeDirective` specs, printed.
    pub custom_links: Vec<String>,
    /// Definitions of `@composeDirective` directives, printed.
    pub custom_definitions: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Merged {
    pub graphs: Vec<Graph>,
    pub types: IndexMap<String, MergedType>,
    pub roots: [bool; 3],
    pub features: Features,
}
