//! Builds the typed model from a parsed supergraph schema: resolves spec names, reads the join
//! directives, and assigns ids. Every problem is collected with its location, not just the first.

use std::collections::HashMap;

use apollo_compiler::ast::{Directive, FieldDefinition, InputValueDefinition, Value};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node, Schema};

use super::error::Diagnostic;
use super::links::{APOLLO_SPECS, Bootstrap, LinkedSpec};
use super::model::*;
use super::read::*;

/// The join spec versions this model understands.
pub const JOIN_VERSIONS: std::ops::RangeInclusive<u32> = 1..=5;

/// Local names of the directives the model reads, after `as:` renames and imports.
#[derive(Clone, Debug)]
pub struct SpecNames {
    pub join_version: (u32, u32),
    pub graph_enum: String,
    pub graph: String,
    pub join_type: String,
    pub join_field: String,
    pub owner: String,
    pub implements: String,
    pub union_member: String,
    pub enum_value: String,
    pub join_directive: String,
    pub inaccessible: Option<String>,
    pub tag: Option<String>,
    pub authenticated: Option<String>,
    pub requires_scopes: Option<String>,
    pub policy: Option<String>,
    pub cost: Option<String>,
    pub list_size: Option<String>,
    pub context: Option<String>,
}

impl SpecNames {
    pub fn resolve(
        schema: &Schema,
        bootstrap: Bootstrap,
        links: &[LinkedSpec],
    ) -> Result<SpecNames, Diagnostic> {
        let spec = |name: &str| {
            links
                .iter()
                .find(|l| l.identity == format!("{APOLLO_SPECS}{name}"))
        };
        let Some(join) = spec("join") else {
            return Err(Diagnostic {
                message:
                    "not a supergraph: no link to the join spec (https://specs.apollo.dev/join)"
                        .to_owned(),
                location: location_of(&schema.schema_definition, schema),
                hint: Some(
                    "a subgraph schema cannot be served directly; compose it first".to_owned(),
                ),
            });
        };
        let (major, minor) = join.version;
        if major != 0 || !JOIN_VERSIONS.contains(&minor) {
            return Err(Diagnostic {
                message: format!("unsupported join spec version v{major}.{minor}"),
                location: location_of(&schema.schema_definition, schema),
                hint: Some(
                    "Weft reads join v0.1 to v0.5; recompose with a supported composer".to_owned(),
                ),
            });
        }
        let _ = bootstrap;
        let root = |name: &str| spec(name).map(|l| l.directive(name));
        Ok(SpecNames {
            join_version: join.version,
            graph_enum: join.type_name("Graph"),
            graph: join.directive("graph"),
            join_type: join.directive("type"),
            join_field: join.directive("field"),
            owner: join.directive("owner"),
            implements: join.directive("implements"),
            union_member: join.directive("unionMember"),
            enum_value: join.directive("enumValue"),
            join_directive: join.directive("directive"),
            inaccessible: root("inaccessible"),
            tag: root("tag"),
            authenticated: root("authenticated"),
            requires_scopes: root("requiresScopes"),
            policy: root("policy"),
            cost: root("cost"),
            list_size: spec("cost").map(|l| l.directive("listSize")),
            context: root("context"),
        })
    }
}

/// What [`build`] produces.
pub struct Built {
    pub subgraphs: Vec<SubgraphInfo>,
    pub types: Vec<TypeDef>,
    pub fields: Vec<FieldDef>,
    pub type_ids: HashMap<Name, TypeId>,
}

struct Builder<'s> {
    schema: &'s Schema,
    names: &'s SpecNames,
    graphs: HashMap<Name, SubgraphId>,
    type_ids: HashMap<Name, TypeId>,
    errors: Vec<Diagnostic>,
}

/// Whether a type is join/link machinery rather than part of the graph.
pub fn is_spec_type(name: &str, links: &[LinkedSpec]) -> bool {
    links.iter().any(|l| l.is_apollo() && l.owns(name))
}

pub fn build(
    schema: &Schema,
    names: &SpecNames,
    links: &[LinkedSpec],
) -> Result<Built, Vec<Diagnostic>> {
    let mut b = Builder {
        schema,
        names,
        graphs: HashMap::new(),
        type_ids: HashMap::new(),
        errors: Vec::new(),
    };
    let subgraphs = b.subgraphs();
    // First pass: ids for every graph type, so references can be resolved in any order.
    let graph_types: Vec<(&Name, &ExtendedType)> = schema
        .types
        .iter()
        .filter(|(name, ty)| !ty.is_built_in() && !is_spec_type(name, links))
        .collect();
    for (i, (name, _)) in graph_types.iter().enumerate() {
        b.type_ids.insert((*name).clone(), TypeId(i as u32));
    }
    let mut types = Vec::with_capacity(graph_types.len());
    let mut fields = Vec::new();
    for (i, (name, ty)) in graph_types.iter().enumerate() {
        types.push(b.type_def(TypeId(i as u32), name, ty, &mut fields));
    }
    if b.errors.is_empty() {
        Ok(Built {
            subgraphs,
            types,
            fields,
            type_ids: b.type_ids,
        })
    } else {
        Err(b.errors)
    }
}

impl Builder<'_> {
    fn error(&mut self, message: String, location: Option<(usize, usize)>, hint: Option<&str>) {
        self.errors.push(Diagnostic {
            message,
            location,
            hint: hint.map(str::to_owned),
        });
    }

    fn subgraphs(&mut self) -> Vec<SubgraphInfo> {
        let mut out = Vec::new();
        let enum_name = self.names.graph_enum.clone();
        let Some(ExtendedType::Enum(graph_enum)) = self.schema.types.get(enum_name.as_str()) else {
            self.error(
                format!("not a supergraph: enum `{enum_name}` (the list of subgraphs) is missing"),
                location_of(&self.schema.schema_definition, self.schema),
                Some("compose the subgraphs into a supergraph first"),
            );
            return out;
        };
        for (value_name, value) in &graph_enum.values {
            let Some(d) = value.directives.get(&self.names.graph) else {
                self.error(
                    format!(
                        "subgraph `{value_name}` has no @{}(name:, url:)",
                        self.names.graph
                    ),
                    location_of(&value.node, self.schema),
                    None,
                );
                continue;
            };
            let (Some(name), Some(url)) = (string_arg(d, "name"), string_arg(d, "url")) else {
                self.error(
                    format!(
                        "@{} on `{value_name}` needs `name:` and `url:` strings",
                        self.names.graph
                    ),
                    location_of(d, self.schema),
                    None,
                );
                continue;
            };
            self.graphs
                .insert(value_name.clone(), SubgraphId(out.len() as u16));
            out.push(SubgraphInfo {
                name: name.to_owned(),
                url: url.to_owned(),
                enum_value: value_name.clone(),
            });
        }
        out
    }

    fn graph(&mut self, d: &Node<Directive>, arg: &str) -> Option<SubgraphId> {
        let value = enum_arg(d, arg)?;
        match self.graphs.get(value) {
            Some(id) => Some(*id),
            None => {
                self.error(
                    format!("`{value}` is not a value of {}", self.names.graph_enum),
                    location_of(d, self.schema),
                    Some("every graph: argument must name a declared subgraph"),
                );
                None
            }
        }
    }

    fn type_ref(&mut self, d: &Node<Directive>, arg: &str) -> Option<TypeId> {
        let name = string_arg(d, arg)?;
        match self.type_ids.get(name) {
            Some(id) => Some(*id),
            None => {
                self.error(
                    format!(
                        "@{}({arg}: \"{name}\") names no type of the supergraph",
                        d.name
                    ),
                    location_of(d, self.schema),
                    None,
                );
                None
            }
        }
    }

    fn meta<'d>(&mut self, directives: impl IntoIterator<Item = &'d Node<Directive>>) -> Meta {
        let n = self.names;
        let is = |d: &Directive, name: &Option<String>| name.as_deref() == Some(d.name.as_str());
        let mut meta = Meta::default();
        for d in directives {
            if is(d, &n.inaccessible) {
                meta.inaccessible = true;
            } else if is(d, &n.tag) {
                meta.tags.extend(string_arg(d, "name").map(str::to_owned));
            } else if is(d, &n.authenticated) {
                meta.authenticated = true;
            } else if is(d, &n.requires_scopes) {
                if let Some(v) = d.specified_argument_by_name("scopes") {
                    meta.requires_scopes.extend(string_list_list(v));
                }
            } else if is(d, &n.policy) {
                if let Some(v) = d.specified_argument_by_name("policies") {
                    meta.policies.extend(string_list_list(v));
                }
            } else if is(d, &n.cost) {
                meta.cost = int_arg(d, "weight");
            } else if d.name == "deprecated" {
                meta.deprecated = Some(string_arg(d, "reason").map(str::to_owned));
            }
        }
        meta
    }

    fn join_directives<'d>(
        &mut self,
        directives: impl IntoIterator<Item = &'d Node<Directive>>,
    ) -> Vec<JoinDirective> {
        let name = self.names.join_directive.clone();
        let mut out = Vec::new();
        for d in directives.into_iter().filter(|d| d.name.as_str() == name) {
            let mut graphs = Vec::new();
            if let Some(list) = d
                .specified_argument_by_name("graphs")
                .and_then(|v| v.as_list())
            {
                for g in list {
                    match g.as_enum().and_then(|g| self.graphs.get(g)) {
                        Some(id) => graphs.push(*id),
                        None => self.error(
                            format!("@{name}(graphs:) has `{g}`, which is not a subgraph"),
                            location_of(d, self.schema),
                            None,
                        ),
                    }
                }
            }
            let args = d
                .specified_argument_by_name("args")
                .and_then(|v| v.as_object())
                .map(|fields| {
                    fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(JoinDirective {
                graphs,
                name: string_arg(d, "name").unwrap_or_default().to_owned(),
                args,
            });
        }
        out
    }

    fn type_def(
        &mut self,
        id: TypeId,
        name: &Name,
        ty: &ExtendedType,
        fields: &mut Vec<FieldDef>,
    ) -> TypeDef {
        let n = self.names.clone();
        let directives: Vec<&Node<Directive>> = ty.directives().iter().map(|c| &c.node).collect();
        let kind = match ty {
            ExtendedType::Scalar(_) => TypeKind::Scalar,
            ExtendedType::Object(_) => TypeKind::Object,
            ExtendedType::Interface(_) => TypeKind::Interface,
            ExtendedType::Union(_) => TypeKind::Union,
            ExtendedType::Enum(_) => TypeKind::Enum,
            ExtendedType::InputObject(_) => TypeKind::InputObject,
        };
        let mut def = TypeDef {
            name: name.clone(),
            description: ty.description().map(|d| d.to_string()),
            specified_by: directives
                .iter()
                .find(|d| d.name == "specifiedBy")
                .and_then(|d| string_arg(d, "url"))
                .map(str::to_owned),
            kind,
            fields: Vec::new(),
            interfaces: Vec::new(),
            members: Vec::new(),
            enum_values: Vec::new(),
            join_types: Vec::new(),
            owner: None,
            join_implements: Vec::new(),
            join_members: Vec::new(),
            join_directives: Vec::new(),
            contexts: Vec::new(),
            meta: self.meta(directives.iter().copied()),
        };
        def.join_directives = self.join_directives(directives.iter().copied());
        if let Some(context) = &n.context {
            def.contexts = directives
                .iter()
                .filter(|d| d.name.as_str() == context)
                .filter_map(|d| string_arg(d, "name").map(str::to_owned))
                .collect();
        }
        for d in &directives {
            if d.name.as_str() == n.join_type {
                if let Some(graph) = self.graph(d, "graph") {
                    def.join_types.push(JoinType {
                        graph,
                        key: string_arg(d, "key").map(str::to_owned),
                        extension: bool_arg(d, "extension").unwrap_or(false),
                        resolvable: bool_arg(d, "resolvable").unwrap_or(true),
                        is_interface_object: bool_arg(d, "isInterfaceObject").unwrap_or(false),
                    });
                }
            } else if d.name.as_str() == n.owner {
                def.owner = self.graph(d, "graph");
            } else if d.name.as_str() == n.implements {
                if let (Some(g), Some(i)) = (self.graph(d, "graph"), self.type_ref(d, "interface"))
                {
                    def.join_implements.push((g, i));
                }
            } else if d.name.as_str() == n.union_member
                && let (Some(g), Some(m)) = (self.graph(d, "graph"), self.type_ref(d, "member"))
            {
                def.join_members.push((g, m));
            }
        }
        let lookup = |b: &Self, name: &Name| b.type_ids.get(name).copied();
        match ty {
            ExtendedType::Object(o) => {
                def.interfaces = o
                    .implements_interfaces
                    .iter()
                    .filter_map(|i| lookup(self, i))
                    .collect();
                for field in o.fields.values() {
                    def.fields.push(self.output_field(id, field, fields));
                }
            }
            ExtendedType::Interface(o) => {
                def.interfaces = o
                    .implements_interfaces
                    .iter()
                    .filter_map(|i| lookup(self, i))
                    .collect();
                for field in o.fields.values() {
                    def.fields.push(self.output_field(id, field, fields));
                }
            }
            ExtendedType::Union(u) => {
                def.members = u.members.iter().filter_map(|m| lookup(self, m)).collect();
            }
            ExtendedType::Enum(e) => {
                for value in e.values.values() {
                    let mut graphs = Vec::new();
                    for d in value.directives.get_all(&n.enum_value) {
                        graphs.extend(self.graph(d, "graph"));
                    }
                    def.enum_values.push(EnumValueDef {
                        description: value.description.as_ref().map(|d| d.to_string()),
                        name: value.value.clone(),
                        graphs,
                        meta: self.meta(value.directives.iter()),
                    });
                }
            }
            ExtendedType::InputObject(io) => {
                for field in io.fields.values() {
                    def.fields.push(self.input_field(id, field, fields));
                }
            }
            ExtendedType::Scalar(_) => {}
        }
        def
    }

    fn output_field(
        &mut self,
        parent: TypeId,
        field: &Node<FieldDefinition>,
        fields: &mut Vec<FieldDef>,
    ) -> FieldId {
        let arguments = field
            .arguments
            .iter()
            .map(|arg| ArgumentDef {
                description: arg.description.as_ref().map(|d| d.to_string()),
                name: arg.name.clone(),
                ty: (*arg.ty).clone(),
                default_value: arg.default_value.as_ref().map(|v| v.to_string()),
                meta: self.meta(arg.directives.iter()),
            })
            .collect();
        let def = FieldDef {
            parent,
            name: field.name.clone(),
            description: field.description.as_ref().map(|d| d.to_string()),
            ty: field.ty.clone(),
            arguments,
            default_value: None,
            join_fields: self.join_fields(field.directives.iter()),
            join_directives: self.join_directives(field.directives.iter()),
            list_size: self.list_size(field.directives.iter()),
            meta: self.meta(field.directives.iter()),
        };
        let id = FieldId(fields.len() as u32);
        fields.push(def);
        id
    }

    fn input_field(
        &mut self,
        parent: TypeId,
        field: &Node<InputValueDefinition>,
        fields: &mut Vec<FieldDef>,
    ) -> FieldId {
        let def = FieldDef {
            parent,
            name: field.name.clone(),
            description: field.description.as_ref().map(|d| d.to_string()),
            ty: (*field.ty).clone(),
            arguments: Vec::new(),
            default_value: field.default_value.as_ref().map(|v| v.to_string()),
            join_fields: self.join_fields(field.directives.iter()),
            join_directives: Vec::new(),
            list_size: None,
            meta: self.meta(field.directives.iter()),
        };
        let id = FieldId(fields.len() as u32);
        fields.push(def);
        id
    }

    fn join_fields<'d>(
        &mut self,
        directives: impl IntoIterator<Item = &'d Node<Directive>>,
    ) -> Vec<JoinField> {
        let name = self.names.join_field.clone();
        let mut out = Vec::new();
        for d in directives.into_iter().filter(|d| d.name.as_str() == name) {
            let graph = if d.specified_argument_by_name("graph").is_some() {
                match self.graph(d, "graph") {
                    Some(g) => Some(g),
                    None => continue,
                }
            } else {
                None
            };
            let string = |arg: &str| string_arg(d, arg).map(str::to_owned);
            let context_arguments = d
                .specified_argument_by_name("contextArguments")
                .and_then(|v| v.as_list())
                .map(|items| items.iter().filter_map(|v| context_argument(v)).collect())
                .unwrap_or_default();
            out.push(JoinField {
                graph,
                requires: string("requires"),
                provides: string("provides"),
                ty: string("type"),
                external: bool_arg(d, "external").unwrap_or(false),
                override_from: string("override"),
                override_label: string("overrideLabel"),
                used_overridden: bool_arg(d, "usedOverridden").unwrap_or(false),
                context_arguments,
            });
        }
        out
    }

    fn list_size<'d>(
        &mut self,
        directives: impl IntoIterator<Item = &'d Node<Directive>>,
    ) -> Option<ListSize> {
        let name = self.names.list_size.clone()?;
        let d = directives.into_iter().find(|d| d.name.as_str() == name)?;
        let list = |arg: &str| {
            d.specified_argument_by_name(arg)
                .map(|v| string_list(v))
                .unwrap_or_default()
        };
        Some(ListSize {
            assumed_size: int_arg(d, "assumedSize"),
            slicing_arguments: list("slicingArguments"),
            sized_fields: list("sizedFields"),
            require_one_slicing_argument: bool_arg(d, "requireOneSlicingArgument").unwrap_or(true),
        })
    }
}

fn context_argument(value: &Value) -> Option<ContextArgument> {
    let fields = value.as_object()?;
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    Some(ContextArgument {
        name: get("name")?,
        ty: get("type")?,
        context: get("context")?,
        selection: get("selection")?,
    })
}
