//! Merging subgraph types into supergraph types (Federation 2 rules): kinds must agree; object
//! fields are shareable or owned by one subgraph; field types widen (outputs) or narrow
//! (inputs); arguments and input fields intersect; enums merge by how they are used; unions and
//! implementations unite; `@override` moves a field (see `overrides`); defaults intersect
//! (see `defaults`); a field needs a non-`@external` definition somewhere, and `@external`
//! definitions must agree with its type; the result carries join metadata.
//!
//! This module holds the entry point, the merge context and the per-type dispatch (with
//! kinds, `@join__type`s, unions and supergraph-wide additions); fields, inputs and enums
//! have their own modules.

mod enums;
mod fields;
mod inputs;

use std::collections::{BTreeMap, HashMap, HashSet};

use apollo_compiler::ast::{FieldDefinition, Type};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node};

use super::applied::Carried;
use super::errors::Diagnostics;
use super::merged::*;
use super::mismatch::join_and;
use super::subgraph::Subgraph;
use super::usage::Usage;

pub(super) use fields::FieldOcc;
use inputs::merge_input_object;

/// One subgraph's definition of a named type.
pub(super) struct Occurrence<'a> {
    pub graph: usize,
    pub sg: &'a Subgraph,
    pub ty: &'a ExtendedType,
}

/// Graph enum values: upper-case, non-alphanumerics as `_`, unique.
pub fn graph_enum_values(names: &[&str]) -> Vec<String> {
    let mut used = HashSet::new();
    names
        .iter()
        .map(|name| {
            let mut v: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()) {
                v.insert(0, '_');
            }
            let base = v.clone();
            let mut i = 1;
            while !used.insert(v.clone()) {
                v = format!("{base}_{i}");
                i += 1;
            }
            v
        })
        .collect()
}

pub fn merge(subgraphs: &[Subgraph], d: &mut Diagnostics) -> Merged {
    let names: Vec<&str> = subgraphs.iter().map(|s| s.name.as_str()).collect();
    let graphs = graph_enum_values(&names)
        .into_iter()
        .zip(subgraphs)
        .map(|(enum_value, sg)| Graph {
            enum_value,
            name: sg.name.clone(),
            url: sg.url.clone(),
        })
        .collect();
    let mut merged = Merged {
        graphs,
        ..Merged::default()
    };

    // Every graph type by canonical name, in name order (Apollo prints types sorted).
    let mut by_name: BTreeMap<String, Vec<Occurrence>> = BTreeMap::new();
    for (graph, sg) in subgraphs.iter().enumerate() {
        for (name, ty) in &sg.schema.types {
            if ty.is_built_in() || sg.names.is_federation_type(name) || name.starts_with("__") {
                continue;
            }
            let canonical = sg.canonical_type_name(name).to_owned();
            by_name
                .entry(canonical)
                .or_default()
                .push(Occurrence { graph, sg, ty });
        }
        for (i, root) in sg.roots.iter().enumerate() {
            merged.roots[i] |= root.is_some();
        }
    }
    let ctx = Context::new(subgraphs);
    for (name, occurrences) in &by_name {
        if let Some(ty) = ctx.merge_type(name, occurrences, &mut merged.features, d) {
            merged.types.insert(name.clone(), ty);
        }
    }
    add_interface_object_fields(&mut merged);
    composed_directives(subgraphs, &mut merged.features);
    let executable = super::directives::executable(subgraphs, d);
    merged.features.custom_definitions.extend(executable);
    merged
}

/// Supergraph-wide facts the per-type merge needs.
pub(super) struct Context<'a> {
    pub subgraphs: &'a [Subgraph],
    /// (object or interface, interface) pairs from every subgraph, plus union memberships.
    subtypes: HashSet<(String, String)>,
    /// Interfaces (and unions) each type belongs to in some subgraph, sorted.
    supertypes: HashMap<String, Vec<String>>,
    input_enums: HashSet<String>,
    output_enums: HashSet<String>,
    /// What each subgraph's federation directives use, by graph index.
    pub usages: Vec<Usage>,
}

impl<'a> Context<'a> {
    fn new(subgraphs: &'a [Subgraph]) -> Context<'a> {
        let mut subtypes = HashSet::new();
        let mut input_enums = HashSet::new();
        let mut output_enums = HashSet::new();
        for sg in subgraphs {
            let canonical = |n: &str| sg.canonical_type_name(n).to_owned();
            let is_enum = |n: &Name| matches!(sg.schema.types.get(n), Some(ExtendedType::Enum(_)));
            for (name, ty) in &sg.schema.types {
                match ty {
                    ExtendedType::Object(o) => {
                        for i in &o.implements_interfaces {
                            subtypes.insert((canonical(name), i.name.to_string()));
                        }
                    }
                    ExtendedType::Interface(o) => {
                        for i in &o.implements_interfaces {
                            subtypes.insert((canonical(name), i.name.to_string()));
                        }
                    }
                    ExtendedType::Union(u) => {
                        for m in &u.members {
                            subtypes.insert((m.name.to_string(), name.to_string()));
                        }
                    }
                    _ => {}
                }
                if ty.is_built_in() || sg.names.is_federation_type(name) {
                    continue;
                }
                let mut note = |t: &Type, input: bool| {
                    let named = t.inner_named_type();
                    if is_enum(named) {
                        if input {
                            input_enums.insert(named.to_string());
                        } else {
                            output_enums.insert(named.to_string());
                        }
                    }
                };
                match ty {
                    ExtendedType::Object(o) => {
                        for f in o.fields.values() {
                            note(&f.ty, false);
                            f.arguments.iter().for_each(|a| note(&a.ty, true));
                        }
                    }
                    ExtendedType::Interface(o) => {
                        for f in o.fields.values() {
                            note(&f.ty, false);
                            f.arguments.iter().for_each(|a| note(&a.ty, true));
                        }
                    }
                    ExtendedType::InputObject(io) => {
                        io.fields.values().for_each(|f| note(&f.ty, true));
                    }
                    _ => {}
                }
            }
        }
        let mut supertypes: HashMap<String, Vec<String>> = HashMap::new();
        for (sub, sup) in &subtypes {
            supertypes.entry(sub.clone()).or_default().push(sup.clone());
        }
        supertypes.values_mut().for_each(|v| v.sort());
        Context {
            subgraphs,
            subtypes,
            supertypes,
            input_enums,
            output_enums,
            usages: subgraphs.iter().map(Usage::of).collect(),
        }
    }

    pub fn is_subtype(&self, a: &str, b: &str) -> bool {
        self.subtypes.contains(&(a.to_owned(), b.to_owned()))
    }

    /// The object types implementing `interface` in some subgraph: its implementations in the
    /// supergraph, sorted.
    pub fn implementations(&self, interface: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .subtypes
            .iter()
            .filter(|(sub, sup)| sup == interface && self.is_object_somewhere(sub))
            .map(|(sub, _)| sub.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn is_object_somewhere(&self, name: &str) -> bool {
        self.subgraphs.iter().any(|sg| {
            matches!(sg.schema.types.get(name), Some(ExtendedType::Object(o)) if !o.directives.has(&sg.names.interface_object))
        })
    }

    /// In a subgraph that does not define `type_name`, the fields named `field` of the
    /// `@interfaceObject`s standing for its interfaces: through them the subgraph resolves
    /// the field for `type_name` too. Returns (interface name, definition).
    pub fn abstracting_fields(
        &self,
        type_name: &str,
        field: &str,
        graph: usize,
    ) -> Vec<(
        String,
        &'a apollo_compiler::schema::Component<FieldDefinition>,
    )> {
        let Some(sg) = self.subgraphs.get(graph) else {
            return Vec::new();
        };
        if sg.schema.types.contains_key(type_name) {
            return Vec::new();
        }
        let Some(supertypes) = self.supertypes.get(type_name) else {
            return Vec::new();
        };
        supertypes
            .iter()
            .filter_map(|iname| match sg.schema.types.get(iname.as_str()) {
                Some(ExtendedType::Object(o)) if o.directives.has(&sg.names.interface_object) => {
                    o.fields.get(field).map(|f| (iname.clone(), f))
                }
                _ => None,
            })
            .collect()
    }

    fn merge_type(
        &self,
        name: &str,
        occurrences: &[Occurrence],
        features: &mut Features,
        d: &mut Diagnostics,
    ) -> Option<MergedType> {
        let kinds: Vec<Kind> = occurrences.iter().map(|o| kind_of(o.sg, o.ty)).collect();
        if let Some(pos) = kinds.iter().position(|k| *k != kinds[0]) {
            let (a, b) = (&occurrences[0], &occurrences[pos]);
            d.error(
                "TYPE_KIND_MISMATCH",
                format!(
                    "Type \"{name}\" has mismatched kind: it is defined as {} in subgraph \"{}\" but {} in subgraph \"{}\"",
                    kinds[0].describe(),
                    a.sg.name,
                    kinds[pos].describe(),
                    b.sg.name
                ),
                vec![a.sg.place(a.ty.location()), b.sg.place(b.ty.location())],
            );
            return None;
        }
        let mut ty = MergedType::new(kinds[0]);
        let mut carried = Carried::default();
        let mut contexts: Vec<String> = Vec::new();
        for o in occurrences {
            if ty.description.is_none() {
                ty.description = o.ty.description().map(|s| s.to_string());
            }
            carried.read(o.ty.directives().iter().map(|c| &c.node), &o.sg.names);
            ty.joins.extend(join_types(o, name));
            add_join_directives(
                &mut ty.join_directives,
                o.graph,
                o.sg,
                o.ty.directives().iter().map(|c| &c.node),
            );
            for c in o.ty.directives().get_all(&o.sg.names.context) {
                if let Some(ctx) = c
                    .specified_argument_by_name("name")
                    .and_then(|v| v.as_str())
                {
                    features.context = true;
                    contexts.push(format!(
                        "@context(name: {})",
                        super::applied::quote(&format!("{}__{ctx}", o.sg.name))
                    ));
                }
            }
        }
        match kinds[0] {
            Kind::Interface => {
                super::interfaces::check_interface_type(self, name, occurrences, d);
                self.merge_composite(name, occurrences, &mut ty, features, d)
            }
            Kind::Object => self.merge_composite(name, occurrences, &mut ty, features, d),
            Kind::Union => merge_union(name, occurrences, &mut ty, d),
            Kind::Enum => self.merge_enum(name, occurrences, &mut ty, features, d),
            Kind::InputObject => merge_input_object(name, occurrences, &mut ty, features, d),
            Kind::Scalar => {}
        }
        ty.directives = carried.applied(features);
        ty.directives.extend(contexts);
        Some(ty)
    }
}

fn kind_of(sg: &Subgraph, ty: &ExtendedType) -> Kind {
    match ty {
        ExtendedType::Object(o) if o.directives.has(&sg.names.interface_object) => Kind::Interface,
        ExtendedType::Object(_) => Kind::Object,
        ExtendedType::Interface(_) => Kind::Interface,
        ExtendedType::Union(_) => Kind::Union,
        ExtendedType::Enum(_) => Kind::Enum,
        ExtendedType::InputObject(_) => Kind::InputObject,
        ExtendedType::Scalar(_) => Kind::Scalar,
    }
}

/// `@join__type`s for one subgraph's definition: one per `@key`, or one without a key.
fn join_types(o: &Occurrence, local_name: &str) -> Vec<JoinTypeOut> {
    let n = &o.sg.names;
    let directives = o.ty.directives();
    let extension = directives.has(&n.extends)
        || (o.sg.fed2 && o.sg.extension_only.iter().any(|e| e == local_name));
    let is_interface_object = directives.has(&n.interface_object);
    let keys: Vec<JoinTypeOut> = directives
        .get_all(&n.key)
        .filter_map(|k| {
            let fields = k.specified_argument_by_name("fields")?.as_str()?.to_owned();
            let resolvable = k
                .specified_argument_by_name("resolvable")
                .and_then(|v| v.to_bool())
                .unwrap_or(true);
            Some(JoinTypeOut {
                graph: o.graph,
                key: Some(fields),
                extension,
                resolvable,
                is_interface_object,
            })
        })
        .collect();
    if keys.is_empty() {
        vec![JoinTypeOut {
            graph: o.graph,
            key: None,
            extension,
            resolvable: true,
            is_interface_object,
        }]
    } else {
        keys
    }
}

fn merge_union(name: &str, occurrences: &[Occurrence], ty: &mut MergedType, d: &mut Diagnostics) {
    for o in occurrences {
        let ExtendedType::Union(u) = o.ty else {
            continue;
        };
        for m in &u.members {
            let m = m.name.to_string();
            if !ty.members.contains(&m) {
                ty.members.push(m.clone());
            }
            ty.join_members.push((o.graph, m));
        }
    }
    // A member some subgraph defining the union leaves out: fine, but worth knowing.
    for m in &ty.members {
        let without: Vec<String> = occurrences
            .iter()
            .filter(|o| matches!(o.ty, ExtendedType::Union(_)))
            .filter(|o| !ty.join_members.iter().any(|(g, x)| *g == o.graph && x == m))
            .map(|o| format!("\"{}\"", o.sg.name))
            .collect();
        if !without.is_empty() {
            d.hint(
                "INCONSISTENT_UNION_MEMBER",
                format!(
                    "Union type \"{name}\" includes member type \"{m}\" in some but not all defining subgraphs: \"{m}\" is not defined in subgraph {}",
                    join_and(&without)
                ),
                occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
            );
        }
    }
}

/// Fields an `@interfaceObject` adds to an interface exist on every implementation too; no
/// subgraph resolves them there itself, so they get a `@join__field` without a graph.
fn add_interface_object_fields(merged: &mut Merged) {
    let mut additions: Vec<(String, String, MergedField)> = Vec::new();
    let interfaces: HashMap<&String, &MergedType> = merged
        .types
        .iter()
        .filter(|(_, t)| t.kind == Kind::Interface && t.joins.iter().any(|j| j.is_interface_object))
        .collect();
    for (tname, t) in &merged.types {
        if t.kind != Kind::Object {
            continue;
        }
        for iname in &t.implements {
            let Some(interface) = interfaces.get(iname) else {
                continue;
            };
            for (fname, f) in &interface.fields {
                if !t.fields.contains_key(fname) {
                    let mut f = f.clone();
                    f.joins = vec![JoinFieldOut::default()];
                    additions.push((tname.clone(), fname.clone(), f));
                }
            }
        }
    }
    for (tname, fname, f) in additions {
        if let Some(t) = merged.types.get_mut(&tname) {
            t.fields.insert(fname, f);
        }
    }
}

/// `@cacheTag` (and future subgraph directives the join spec carries) as `@join__directive`s,
/// grouping identical applications across subgraphs.
fn add_join_directives<'a>(
    out: &mut Vec<JoinDirectiveOut>,
    graph: usize,
    sg: &Subgraph,
    directives: impl IntoIterator<Item = &'a Node<apollo_compiler::ast::Directive>>,
) {
    for d in directives {
        if d.name != sg.names.cache_tag.as_str() {
            continue;
        }
        let args: Vec<String> = d
            .arguments
            .iter()
            .map(|a| format!("{}: {}", a.name, a.value))
            .collect();
        let args = format!("{{{}}}", args.join(", "));
        let name = "federation__cacheTag".to_owned();
        match out.iter_mut().find(|j| j.name == name && j.args == args) {
            Some(existing) if !existing.graphs.contains(&graph) => existing.graphs.push(graph),
            Some(_) => {}
            None => out.push(JoinDirectiveOut {
                graphs: vec![graph],
                name,
                args,
            }),
        }
    }
}

/// `@link`s and definitions of the custom directives subgraphs keep with `@composeDirective`.
/// A spec the supergraph links for composed directives: identity, version, URL, imports.
type SpecLink<'a> = (&'a str, (u32, u32), &'a str, Vec<String>);

fn composed_directives(subgraphs: &[Subgraph], features: &mut Features) {
    let mut definitions = Vec::new();
    // One link per spec: the highest version any subgraph links, with every import composed
    // (linking a spec twice makes the supergraph unloadable).
    let mut links: Vec<SpecLink> = Vec::new();
    for sg in subgraphs {
        for name in &sg.names.composed {
            let Some(def) = sg.schema.directive_definitions.get(name.as_str()) else {
                continue;
            };
            definitions.push(def.clone());
            let import = format!("@{name}");
            let Some(link) = sg
                .links
                .iter()
                .find(|l| l.imports.iter().any(|(_, local)| *local == import))
            else {
                continue;
            };
            match links.iter_mut().find(|(id, ..)| *id == link.identity) {
                Some((_, version, url, imports)) => {
                    if link.version > *version {
                        *version = link.version;
                        *url = &link.url;
                    }
                    if !imports.contains(&import) {
                        imports.push(import);
                    }
                }
                None => links.push((&link.identity, link.version, &link.url, vec![import])),
            }
        }
    }
    for (_, _, url, imports) in links {
        let imports: Vec<String> = imports.iter().map(|i| super::applied::quote(i)).collect();
        let printed = format!(
            "@link(url: {}, import: [{}])",
            super::applied::quote(url),
            imports.join(", ")
        );
        if !features.custom_links.contains(&printed) {
            features.custom_links.push(printed);
        }
    }
    features
        .custom_definitions
        .extend(super::directives::composed(definitions));
}
