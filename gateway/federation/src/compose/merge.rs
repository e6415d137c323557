//! Merging subgraph types into supergraph types (Federation 2 rules): kinds must agree; object
//! fields are shareable or owned by one subgraph; field types widen (outputs) or narrow
//! (inputs); arguments and input fields intersect; enums merge by how they are used; unions and
//! implementations unite; `@override` moves a field; the result carries join metadata.

use std::collections::{BTreeMap, HashMap, HashSet};

use apollo_compiler::ast::{FieldDefinition, InputValueDefinition, Type};
use apollo_compiler::executable::{FieldSet, Selection};
use apollo_compiler::schema::{Component, ExtendedType};
use apollo_compiler::{Name, Node};
use indexmap::IndexMap;

use super::applied::Carried;
use super::errors::Diagnostics;
use super::merged::*;
use super::subgraph::Subgraph;
use super::typeref::{merge_input, merge_output};

/// One subgraph's definition of a named type.
struct Occurrence<'a> {
    graph: usize,
    sg: &'a Subgraph,
    ty: &'a ExtendedType,
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
    merged
}

/// Supergraph-wide facts the per-type merge needs.
struct Context {
    /// (object or interface, interface) pairs from every subgraph, plus union memberships.
    subtypes: HashSet<(String, String)>,
    input_enums: HashSet<String>,
    output_enums: HashSet<String>,
}

impl Context {
    fn new(subgraphs: &[Subgraph]) -> Context {
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
        Context {
            subtypes,
            input_enums,
            output_enums,
        }
    }

    fn is_subtype(&self, a: &str, b: &str) -> bool {
        self.subtypes.contains(&(a.to_owned(), b.to_owned()))
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
            Kind::Object | Kind::Interface => {
                self.merge_composite(name, occurrences, &mut ty, features, d)
            }
            Kind::Union => merge_union(occurrences, &mut ty),
            Kind::Enum => self.merge_enum(name, occurrences, &mut ty, features, d),
            Kind::InputObject => merge_input_object(name, occurrences, &mut ty, features, d),
            Kind::Scalar => {}
        }
        ty.directives = carried.applied(features);
        ty.directives.extend(contexts);
        Some(ty)
    }

    fn merge_composite(
        &self,
        type_name: &str,
        occurrences: &[Occurrence],
        ty: &mut MergedType,
        features: &mut Features,
        d: &mut Diagnostics,
    ) {
        // Implementations: the union over subgraphs, with where each holds.
        for o in occurrences {
            let implements = match o.ty {
                ExtendedType::Object(x) => &x.implements_interfaces,
                ExtendedType::Interface(x) => &x.implements_interfaces,
                _ => continue,
            };
            for i in implements {
                let i = i.name.to_string();
                if !ty.implements.contains(&i) {
                    ty.implements.push(i.clone());
                }
                ty.join_implements.push((o.graph, i));
            }
        }
        // Fields in order of first appearance.
        let mut fields: IndexMap<Name, Vec<FieldOcc>> = IndexMap::new();
        for o in occurrences {
            let (defs, type_shareable) = match o.ty {
                ExtendedType::Object(x) => (&x.fields, x.directives.has(&o.sg.names.shareable)),
                ExtendedType::Interface(x) => (&x.fields, false),
                _ => continue,
            };
            let key_fields = key_field_names(o.sg, o.ty);
            for (fname, def) in defs {
                if fname == "_service" || fname == "_entities" {
                    continue;
                }
                let n = &o.sg.names;
                let override_ = def.directives.get(&n.override_).map(|dir| {
                    let arg = |a: &str| {
                        dir.specified_argument_by_name(a)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned)
                    };
                    (arg("from").unwrap_or_default(), arg("label"))
                });
                fields.entry(fname.clone()).or_default().push(FieldOcc {
                    graph: o.graph,
                    sg: o.sg,
                    def,
                    // Federation 1 marks key fields of type extensions @external; they are
                    // resolvable there all the same.
                    external: def.directives.has(&n.external)
                        && (o.sg.fed2 || !key_fields.contains(fname.as_str())),
                    shareable: !o.sg.fed2
                        || type_shareable
                        || def.directives.has(&n.shareable)
                        || key_fields.contains(fname.as_str()),
                    used_in_key: key_fields.contains(fname.as_str()),
                    requires: fieldset_arg(def, &n.requires),
                    provides: fieldset_arg(def, &n.provides),
                    override_,
                    overridden: None,
                });
            }
        }
        let type_graphs: HashSet<usize> = occurrences.iter().map(|o| o.graph).collect();
        let is_object = ty.kind == Kind::Object;
        for (fname, mut occs) in fields {
            apply_overrides(type_name, &fname, &mut occs, d);
            if let Some(field) = self.merge_field(
                type_name,
                &fname,
                &mut occs,
                &type_graphs,
                is_object,
                features,
                d,
            ) {
                ty.fields.insert(fname.to_string(), field);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn merge_field(
        &self,
        type_name: &str,
        fname: &str,
        occs: &mut Vec<FieldOcc>,
        type_graphs: &HashSet<usize>,
        is_object: bool,
        features: &mut Features,
        d: &mut Diagnostics,
    ) -> Option<MergedField> {
        // Overridden without a label and not needed by a key: the old owner drops out.
        occs.retain(|o| !matches!(&o.overridden, Some(None)) || o.used_in_key);
        let owners: Vec<&FieldOcc> = occs
            .iter()
            .filter(|o| !o.external && o.overridden.is_none())
            .collect();
        let is_sub = |a: &str, b: &str| self.is_subtype(a, b);
        let candidates: Vec<&FieldOcc> = if owners.is_empty() {
            occs.iter().collect()
        } else {
            owners.clone()
        };
        let mut merged_ty = candidates.first()?.def.ty.clone();
        for o in candidates.iter().skip(1) {
            match merge_output(&merged_ty, &o.def.ty, &is_sub) {
                Some(t) => merged_ty = t,
                None => {
                    let first = candidates[0];
                    d.error(
                        "FIELD_TYPE_MISMATCH",
                        format!(
                            "Type of field \"{type_name}.{fname}\" is incompatible across subgraphs: it has type \"{}\" in subgraph \"{}\" but type \"{}\" in subgraph \"{}\"",
                            first.def.ty, first.sg.name, o.def.ty, o.sg.name
                        ),
                        vec![first.sg.place(first.def.location()), o.sg.place(o.def.location())],
                    );
                    return None;
                }
            }
        }
        if is_object && owners.len() > 1 && owners.iter().any(|o| !o.shareable) {
            let resolving: Vec<String> = owners
                .iter()
                .map(|o| format!("\"{}\"", o.sg.name))
                .collect();
            let non_shareable: Vec<String> = owners
                .iter()
                .filter(|o| !o.shareable)
                .map(|o| format!("\"{}\"", o.sg.name))
                .collect();
            let all = non_shareable.len() == owners.len();
            d.error_with_hint(
                "INVALID_FIELD_SHARING",
                format!(
                    "Non-shareable field \"{type_name}.{fname}\" is resolved from multiple subgraphs: it is resolved from subgraphs {} and defined as non-shareable in {}",
                    join_and(&resolving),
                    if all { "all of them".to_owned() } else if non_shareable.len() == 1 { format!("subgraph {}", non_shareable[0]) } else { format!("subgraphs {}", join_and(&non_shareable)) }
                ),
                owners.iter().map(|o| o.sg.place(o.def.location())).collect(),
                "mark the field @shareable in every subgraph that resolves it, or @override it",
            );
        }
        let mut carried = Carried::default();
        let mut description = None;
        for o in occs.iter() {
            if description.is_none() {
                description = o.def.description.as_ref().map(|s| s.to_string());
            }
            if !o.external {
                carried.read(o.def.directives.iter(), &o.sg.names);
            }
        }
        let arguments = merge_arguments(type_name, fname, &owners, features, d);
        let mut join_directives = Vec::new();
        for o in occs.iter() {
            add_join_directives(&mut join_directives, o.graph, o.sg, o.def.directives.iter());
        }
        let context_args: Vec<Vec<String>> = occs
            .iter()
            .map(|o| context_arguments(o.sg, o.def))
            .collect();
        let merged_str = merged_ty.to_string();
        let any_type_differs = occs.iter().any(|o| o.def.ty.to_string() != merged_str);
        let field_graphs: HashSet<usize> = occs.iter().map(|o| o.graph).collect();
        let needs_join = any_type_differs
            || field_graphs != *type_graphs
            || occs.iter().any(|o| {
                o.external
                    || o.requires.is_some()
                    || o.provides.is_some()
                    || o.override_.is_some()
                    || o.overridden.is_some()
            })
            || context_args.iter().any(|c| !c.is_empty());
        let joins = if needs_join {
            occs.iter()
                .zip(context_args)
                .map(|(o, context_arguments)| JoinFieldOut {
                    context_arguments,
                    graph: Some(o.graph),
                    requires: o.requires.clone(),
                    provides: o.provides.clone(),
                    ty: any_type_differs.then(|| o.def.ty.to_string()),
                    external: o.external,
                    override_from: o.override_.as_ref().map(|(from, _)| from.clone()),
                    override_label: o
                        .override_
                        .as_ref()
                        .and_then(|(_, l)| l.clone())
                        .or_else(|| o.overridden.clone().flatten()),
                    used_overridden: o.overridden.is_some(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(MergedField {
            description,
            ty: merged_str,
            arguments,
            default_value: None,
            joins,
            join_directives,
            directives: carried.applied(features),
        })
    }

    fn merge_enum(
        &self,
        name: &str,
        occurrences: &[Occurrence],
        ty: &mut MergedType,
        features: &mut Features,
        d: &mut Diagnostics,
    ) {
        let mut values: IndexMap<Name, (Vec<usize>, Carried, Option<String>)> = IndexMap::new();
        for o in occurrences {
            let ExtendedType::Enum(e) = o.ty else {
                continue;
            };
            for (vname, v) in &e.values {
                let entry = values
                    .entry(vname.clone())
                    .or_insert_with(|| (Vec::new(), Carried::default(), None));
                entry.0.push(o.graph);
                entry.1.read(v.directives.iter(), &o.sg.names);
                if entry.2.is_none() {
                    entry.2 = v.description.as_ref().map(|s| s.to_string());
                }
            }
        }
        let all: Vec<usize> = occurrences.iter().map(|o| o.graph).collect();
        let input = self.input_enums.contains(name);
        let output = self.output_enums.contains(name);
        for (vname, (graphs, carried, description)) in values {
            let everywhere = graphs.len() == all.len();
            if !everywhere && input && output {
                let missing: Vec<String> = occurrences
                    .iter()
                    .filter(|o| !graphs.contains(&o.graph))
                    .map(|o| format!("\"{}\"", o.sg.name))
                    .collect();
                d.error(
                    "ENUM_VALUE_MISMATCH",
                    format!(
                        "Enum type \"{name}\" is used as both input type (for example, as type of an argument) and output type (for example, as type of a field), but value \"{vname}\" is not defined in all the subgraphs defining \"{name}\": \"{vname}\" is not defined in subgraph {}",
                        join_and(&missing)
                    ),
                    occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
                );
                continue;
            }
            if !everywhere && input {
                // Input-only enums keep the values every subgraph accepts.
                continue;
            }
            ty.values.insert(
                vname.to_string(),
                MergedEnumValue {
                    description,
                    graphs,
                    directives: carried.applied(features),
                },
            );
        }
        if ty.values.is_empty() {
            d.error(
                "EMPTY_MERGED_ENUM_TYPE",
                format!("None of the values of enum type \"{name}\" are defined consistently in all the subgraphs defining that type. As only values common to all subgraphs are merged, this would result in an empty type."),
                occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
            );
        }
    }
}

/// One subgraph's definition of an object or interface field.
struct FieldOcc<'a> {
    graph: usize,
    sg: &'a Subgraph,
    def: &'a Component<FieldDefinition>,
    external: bool,
    shareable: bool,
    used_in_key: bool,
    requires: Option<String>,
    provides: Option<String>,
    /// `@override(from:, label:)` on this definition.
    override_: Option<(String, Option<String>)>,
    /// Overridden by another subgraph: `Some(label)`.
    overridden: Option<Option<String>>,
}

fn apply_overrides(type_name: &str, fname: &str, occs: &mut [FieldOcc], d: &mut Diagnostics) {
    let overrides: Vec<(usize, String, Option<String>)> = occs
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            o.override_
                .as_ref()
                .map(|(from, label)| (i, from.clone(), label.clone()))
        })
        .collect();
    for (i, from, label) in overrides {
        if occs[i].sg.name == from {
            d.error(
                "OVERRIDE_FROM_SELF_ERROR",
                format!("Source and destination subgraphs \"{from}\" are the same for overridden field \"{type_name}.{fname}\""),
                vec![occs[i].sg.place(occs[i].def.location())],
            );
            continue;
        }
        if let Some(j) = occs.iter().position(|o| o.sg.name == from) {
            if occs[j].override_.is_some() {
                d.error(
                    "OVERRIDE_SOURCE_HAS_OVERRIDE",
                    format!(
                        "Field \"{type_name}.{fname}\" on subgraph \"{}\" is also marked with directive @override in subgraph \"{from}\". Only one @override directive is allowed per field.",
                        occs[i].sg.name
                    ),
                    vec![occs[i].sg.place(occs[i].def.location()), occs[j].sg.place(occs[j].def.location())],
                );
                continue;
            }
            occs[j].overridden = Some(label);
        }
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

/// Top-level field names of every `@key` of a type in one subgraph.
fn key_field_names(sg: &Subgraph, ty: &ExtendedType) -> HashSet<String> {
    let mut out = HashSet::new();
    for k in ty.directives().get_all(&sg.names.key) {
        let Some(fields) = k
            .specified_argument_by_name("fields")
            .and_then(|v| v.as_str())
        else {
            continue;
        };
        if let Ok(set) = FieldSet::parse(&sg.schema, ty.name().clone(), fields, "key") {
            for sel in &set.selection_set.selections {
                if let Selection::Field(f) = sel {
                    out.insert(f.name.to_string());
                }
            }
        }
    }
    out
}

fn fieldset_arg(def: &FieldDefinition, directive: &str) -> Option<String> {
    def.directives
        .get(directive)?
        .specified_argument_by_name("fields")?
        .as_str()
        .map(str::to_owned)
}

fn merge_arguments(
    type_name: &str,
    fname: &str,
    owners: &[&FieldOcc],
    features: &mut Features,
    d: &mut Diagnostics,
) -> IndexMap<String, MergedArgument> {
    let mut args: IndexMap<Name, Vec<(&FieldOcc, &Node<InputValueDefinition>)>> = IndexMap::new();
    for o in owners {
        for a in &o.def.arguments {
            if !a.directives.has(&o.sg.names.from_context) {
                args.entry(a.name.clone()).or_default().push((o, a));
            }
        }
    }
    let mut out = IndexMap::new();
    for (aname, defs) in args {
        if defs.len() < owners.len() {
            let required = defs
                .iter()
                .find(|(_, a)| a.ty.is_non_null() && a.default_value.is_none());
            if let Some((o, a)) = required {
                let missing: Vec<String> = owners
                    .iter()
                    .filter(|x| !defs.iter().any(|(y, _)| y.graph == x.graph))
                    .map(|x| format!("\"{}\"", x.sg.name))
                    .collect();
                d.error(
                    "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                    format!(
                        "Argument \"{type_name}.{fname}({aname}:)\" is required in some subgraphs but does not appear in all subgraphs: it is required in subgraph \"{}\" but does not appear in subgraph {}",
                        o.sg.name,
                        join_and(&missing)
                    ),
                    vec![o.sg.place(a.location())],
                );
            }
            continue;
        }
        let mut ty: Type = (*defs[0].1.ty).clone();
        let mut carried = Carried::default();
        let mut description = None;
        let mut default_value: Option<String> = None;
        for (o, a) in &defs {
            match merge_input(&ty, &a.ty) {
                Some(t) => ty = t,
                None => {
                    d.error(
                        "FIELD_ARGUMENT_TYPE_MISMATCH",
                        format!(
                            "Type of argument \"{type_name}.{fname}({aname}:)\" is incompatible across subgraphs: it has type \"{}\" in subgraph \"{}\" but type \"{}\" in subgraph \"{}\"",
                            defs[0].1.ty, defs[0].0.sg.name, a.ty, o.sg.name
                        ),
                        vec![defs[0].0.sg.place(defs[0].1.location()), o.sg.place(a.location())],
                    );
                }
            }
            carried.read(a.directives.iter(), &o.sg.names);
            if description.is_none() {
                description = a.description.as_ref().map(|s| s.to_string());
            }
            let this_default = a.default_value.as_ref().map(|v| v.to_string());
            match (&default_value, &this_default) {
                (None, Some(_)) => default_value = this_default,
                (Some(x), Some(y)) if x != y => d.error(
                    "FIELD_ARGUMENT_DEFAULT_MISMATCH",
                    format!(
                        "Argument \"{type_name}.{fname}({aname}:)\" has incompatible default values across subgraphs: it has default value {x} in subgraph \"{}\" but default value {y} in subgraph \"{}\"",
                        defs[0].0.sg.name, o.sg.name
                    ),
                    vec![defs[0].0.sg.place(defs[0].1.location()), o.sg.place(a.location())],
                ),
                _ => {}
            }
        }
        out.insert(
            aname.to_string(),
            MergedArgument {
                description,
                ty: ty.to_string(),
                default_value,
                directives: carried.applied(features),
            },
        );
    }
    out
}

fn merge_union(occurrences: &[Occurrence], ty: &mut MergedType) {
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
}

fn merge_input_object(
    name: &str,
    occurrences: &[Occurrence],
    ty: &mut MergedType,
    features: &mut Features,
    d: &mut Diagnostics,
) {
    let mut fields: IndexMap<Name, Vec<(&Occurrence, &Component<InputValueDefinition>)>> =
        IndexMap::new();
    for o in occurrences {
        let ExtendedType::InputObject(io) = o.ty else {
            continue;
        };
        for (fname, f) in &io.fields {
            fields.entry(fname.clone()).or_default().push((o, f));
        }
    }
    for (fname, defs) in fields {
        if defs.len() < occurrences.len() {
            if let Some((o, f)) = defs
                .iter()
                .find(|(_, f)| f.ty.is_non_null() && f.default_value.is_none())
            {
                let missing: Vec<String> = occurrences
                    .iter()
                    .filter(|x| !defs.iter().any(|(y, _)| y.graph == x.graph))
                    .map(|x| format!("\"{}\"", x.sg.name))
                    .collect();
                d.error(
                    "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                    format!(
                        "Input object field \"{name}.{fname}\" is required in some subgraphs but does not appear in all subgraphs: it is required in subgraph \"{}\" but does not appear in subgraph {}",
                        o.sg.name,
                        join_and(&missing)
                    ),
                    vec![o.sg.place(f.location())],
                );
            }
            continue;
        }
        let mut merged_ty: Type = (*defs[0].1.ty).clone();
        let mut carried = Carried::default();
        let mut description = None;
        let mut default_value = None;
        for (o, f) in &defs {
            match merge_input(&merged_ty, &f.ty) {
                Some(t) => merged_ty = t,
                None => d.error(
                    "FIELD_TYPE_MISMATCH",
                    format!(
                        "Type of field \"{name}.{fname}\" is incompatible across subgraphs: it has type \"{}\" in subgraph \"{}\" but type \"{}\" in subgraph \"{}\"",
                        defs[0].1.ty, defs[0].0.sg.name, f.ty, o.sg.name
                    ),
                    vec![defs[0].0.sg.place(defs[0].1.location()), o.sg.place(f.location())],
                ),
            }
            carried.read(f.directives.iter(), &o.sg.names);
            if description.is_none() {
                description = f.description.as_ref().map(|s| s.to_string());
            }
            if default_value.is_none() {
                default_value = f.default_value.as_ref().map(|v| v.to_string());
            }
        }
        let merged_str = merged_ty.to_string();
        let differs = defs.iter().any(|(_, f)| f.ty.to_string() != merged_str);
        let joins = if differs {
            defs.iter()
                .map(|(o, f)| JoinFieldOut {
                    graph: Some(o.graph),
                    ty: Some(f.ty.to_string()),
                    ..JoinFieldOut::default()
                })
                .collect()
        } else {
            Vec::new()
        };
        ty.fields.insert(
            fname.to_string(),
            MergedField {
                description,
                ty: merged_str,
                arguments: IndexMap::new(),
                default_value,
                joins,
                join_directives: Vec::new(),
                directives: carried.applied(features),
            },
        );
    }
    if ty.fields.is_empty() {
        d.error(
            "EMPTY_MERGED_INPUT_TYPE",
            format!("None of the fields of input object type \"{name}\" are consistently defined in all the subgraphs defining that type. As only fields common to all subgraphs are merged, this would result in an empty type."),
            occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
        );
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

/// `join__ContextArgument`s for the `@fromContext` arguments of a field in one subgraph:
/// `field: "$org { currency }"` reads `{ currency }` from the context `org`, which the
/// supergraph names `<subgraph>__org`.
fn context_arguments(sg: &Subgraph, def: &FieldDefinition) -> Vec<String> {
    use super::applied::quote;
    let mut out = Vec::new();
    for a in &def.arguments {
        let Some(d) = a.directives.get(&sg.names.from_context) else {
            continue;
        };
        let Some(value) = d
            .specified_argument_by_name("field")
            .and_then(|v| v.as_str())
        else {
            continue;
        };
        let rest = value.trim_start().trim_start_matches('$');
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (context, selection) = rest.split_at(end);
        out.push(format!(
            "{{context: {}, name: {}, type: {}, selection: {}}}",
            quote(&format!("{}__{context}", sg.name)),
            quote(&a.name),
            quote(&a.ty.to_string()),
            quote(selection)
        ));
    }
    out
}

/// `@link`s and definitions of the custom directives subgraphs keep with `@composeDirective`.
fn composed_directives(subgraphs: &[Subgraph], features: &mut Features) {
    for sg in subgraphs {
        for name in &sg.names.composed {
            let Some(def) = sg.schema.directive_definitions.get(name.as_str()) else {
                continue;
            };
            let printed = def.to_string();
            if !features.custom_definitions.contains(&printed) {
                features.custom_definitions.push(printed);
            }
            let import = format!("@{name}");
            if let Some(link) = sg
                .links
                .iter()
                .find(|l| l.imports.iter().any(|(_, local)| *local == import))
            {
                let printed = format!(
                    "@link(url: {}, import: [{}])",
                    super::applied::quote(&link.url),
                    super::applied::quote(&import)
                );
                if !features.custom_links.contains(&printed) {
                    features.custom_links.push(printed);
                }
            }
        }
    }
}

/// `"a", "b" and "c"`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
