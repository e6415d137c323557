//! Merging subgraph types into supergraph types (Federation 2 rules): kinds must agree; object
//! fields are shareable or owned by one subgraph; field types widen (outputs) or narrow
//! (inputs); arguments and input fields intersect; enums merge by how they are used; unions and
//! implementations unite; `@override` moves a field (see `overrides`); defaults intersect
//! (see `defaults`); a field needs a non-`@external` definition somewhere, and `@external`
//! definitions must agree with its type; the result carries join metadata.

use std::collections::{BTreeMap, HashMap, HashSet};

use apollo_compiler::ast::{FieldDefinition, InputValueDefinition, Type};
use apollo_compiler::executable::{FieldSet, Selection};
use apollo_compiler::schema::{Component, ExtendedType};
use apollo_compiler::{Name, Node};
use indexmap::IndexMap;

use super::applied::Carried;
use super::defaults::{Element, Source};
use super::errors::Diagnostics;
use super::external;
use super::merged::*;
use super::mismatch::{join_and, subgraphs_list};
use super::subgraph::Subgraph;
use super::typeref::{merge_input, merge_output};
use super::usage::Usage;

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
                ExtendedType::Object(x) => (&x.fields, Some(&x.directives)),
                ExtendedType::Interface(x) => (&x.fields, None),
                _ => continue,
            };
            let key_fields = key_field_names(o.sg, o.ty);
            let usage = &self.usages[o.graph];
            // Federation 2 lets `@external` on a type mark all its fields.
            let type_external = o.sg.fed2
                && matches!(o.ty, ExtendedType::Object(x) if x.directives.has(&o.sg.names.external));
            for (fname, def) in defs {
                if fname == "_service" || fname == "_entities" {
                    continue;
                }
                let n = &o.sg.names;
                let coord = (o.ty.name().clone(), fname.clone());
                // Federation 1 marks key fields of type extensions @external; they are
                // resolvable there all the same.
                let external = (def.directives.has(&n.external) || type_external)
                    && (o.sg.fed2 || !key_fields.contains(fname.as_str()));
                let provided = external && usage.provided.contains(&coord);
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
                    parent: o.ty,
                    external,
                    provided,
                    // Key fields, and external fields a `@provides` names, are shareable
                    // without saying so.
                    // A type's `@shareable` covers the fields of the block (definition or
                    // `extend type`) it is written on, not those of the type's other blocks.
                    shareable: !o.sg.fed2
                        || type_shareable.is_some_and(|dirs| {
                            dirs.get_all(&n.shareable).any(|d| d.origin == def.origin)
                        })
                        || def.directives.has(&n.shareable)
                        || usage.key_fields.contains(&coord)
                        || provided,
                    used: usage.used.contains(&coord),
                    requires: fieldset_arg(def, &n.requires),
                    provides: fieldset_arg(def, &n.provides),
                    override_,
                    overridden: None,
                    label: None,
                });
            }
        }
        let type_graphs: HashSet<usize> = occurrences.iter().map(|o| o.graph).collect();
        let is_object = ty.kind == Kind::Object;
        for (fname, mut occs) in fields {
            super::overrides::apply(self, type_name, &fname, &mut occs, d);
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
        if external::every_source_is_external(self, type_name, fname, occs, d) {
            return None;
        }
        // Overridden without a label and used by no federation directive: the old owner
        // drops out entirely.
        occs.retain(|o| o.overridden.is_none() || o.used || o.label.is_some());
        let owners: Vec<&FieldOcc> = occs
            .iter()
            .filter(|o| !o.external && o.overridden.is_none())
            .collect();
        let candidates: Vec<&FieldOcc> = if owners.is_empty() {
            occs.iter().collect()
        } else {
            owners.clone()
        };
        let merged_ty = self.merge_field_type(type_name, fname, &candidates, d)?;
        let all_types_equal = candidates.iter().all(|o| o.def.ty == merged_ty);
        external::check_types(self, type_name, fname, occs, &merged_ty, all_types_equal, d);
        if is_object {
            self.check_sharing(type_name, fname, occs, d);
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
        external::check_arguments(type_name, fname, occs, &arguments, d);
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
        // As Apollo: `@join__field`s are needed when the field is not simply wherever its
        // type is, or some subgraph says something particular about it.
        let needs_join = any_type_differs
            || field_graphs != *type_graphs
            || occs.iter().any(|o| {
                o.external
                    || o.requires.is_some()
                    || o.provides.is_some()
                    || o.label.is_some()
                    || (o.overridden.is_some() && o.used)
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
                    override_label: o.label.clone(),
                    // Only an overridden field that federation directives still use stays
                    // in its old subgraph (Apollo's `usedOverridden`).
                    used_overridden: o.overridden.is_some() && o.used,
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

    /// The field's supergraph type: the common supertype of what the resolving subgraphs say.
    fn merge_field_type(
        &self,
        type_name: &str,
        fname: &str,
        candidates: &[&FieldOcc],
        d: &mut Diagnostics,
    ) -> Option<Type> {
        let is_sub = |a: &str, b: &str| self.is_subtype(a, b);
        let first = candidates.first()?;
        let mut merged_ty = first.def.ty.clone();
        for o in candidates.iter().skip(1) {
            match merge_output(&merged_ty, &o.def.ty, &is_sub) {
                Some(t) => merged_ty = t,
                None => {
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
        if candidates.iter().any(|o| o.def.ty != first.def.ty) {
            d.hint(
                "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
                format!(
                    "Type of field \"{type_name}.{fname}\" is inconsistent but compatible across subgraphs: it will have type \"{merged_ty}\" in the supergraph"
                ),
                candidates.iter().map(|o| o.sg.place(o.def.location())).collect(),
            );
        }
        Some(merged_ty)
    }

    /// A field resolved by several subgraphs must be `@shareable` in each of them. Resolvers
    /// are the subgraphs defining it without `@external` (or with `@external` but named in a
    /// `@provides`), and those whose `@interfaceObject` of the type's interface defines it;
    /// overridden definitions are not resolvers.
    fn check_sharing(&self, type_name: &str, fname: &str, occs: &[FieldOcc], d: &mut Diagnostics) {
        // (subgraph as printed, shareable, place)
        let mut resolving: Vec<(String, bool, super::errors::Place)> = Vec::new();
        // Only a type with interfaces can be resolved through an @interfaceObject by
        // subgraphs that do not define it; otherwise the defining subgraphs are all there is
        // to look at (this runs for every field: keep it proportional to the definitions).
        let through_interfaces = self
            .supertypes
            .get(type_name)
            .is_some_and(|s| !s.is_empty());
        for (graph, sg) in self.subgraphs.iter().enumerate() {
            if !through_interfaces && !occs.iter().any(|o| o.graph == graph) {
                continue;
            }
            if let Some(o) = occs.iter().find(|o| o.graph == graph) {
                if o.overridden.is_none() && (!o.external || o.provided) {
                    resolving.push((
                        format!("\"{}\"", sg.name),
                        o.shareable,
                        sg.place(o.def.location()),
                    ));
                }
                continue;
            }
            for (iname, f) in self.abstracting_fields(type_name, fname, graph) {
                let n = &sg.names;
                if f.directives.has(&n.external) {
                    continue;
                }
                let shareable = f.directives.has(&n.shareable)
                    || self.usages[graph]
                        .key_fields
                        .iter()
                        .any(|(t, k)| t == iname.as_str() && k == fname)
                    || matches!(sg.schema.types.get(iname.as_str()), Some(ExtendedType::Object(o)) if o.directives.has(&n.shareable));
                resolving.push((
                    format!(
                        "\"{}\" (through @interfaceObject field \"{iname}.{fname}\")",
                        sg.name
                    ),
                    shareable,
                    sg.place(f.location()),
                ));
            }
        }
        let non_shareable: Vec<String> = resolving
            .iter()
            .filter(|(_, shareable, _)| !shareable)
            .map(|(s, _, _)| s.clone())
            .collect();
        if non_shareable.is_empty() || resolving.len() < 2 {
            return;
        }
        let all: Vec<String> = resolving.iter().map(|(s, _, _)| s.clone()).collect();
        let in_which = if non_shareable.len() == all.len() {
            "all of them".to_owned()
        } else {
            subgraphs_list(&non_shareable)
        };
        d.error_with_hint(
            "INVALID_FIELD_SHARING",
            format!(
                "Non-shareable field \"{type_name}.{fname}\" is resolved from multiple subgraphs: it is resolved from {} and defined as non-shareable in {in_which}",
                subgraphs_list(&all)
            ),
            resolving.into_iter().map(|(_, _, p)| p).collect(),
            "mark the field @shareable in every subgraph that resolves it, or @override it",
        );
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
        if !input && !output {
            d.hint(
                "UNUSED_ENUM_TYPE",
                format!("Enum type \"{name}\" is defined but unused. It will be included in the supergraph with all the values appearing in any subgraph (\"as if\" it was only used as an output type)."),
                occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
            );
        }
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
            let defined_in = || -> (String, String) {
                let list = |inside: bool| -> String {
                    let names: Vec<String> = occurrences
                        .iter()
                        .filter(|o| graphs.contains(&o.graph) == inside)
                        .map(|o| format!("\"{}\"", o.sg.name))
                        .collect();
                    join_and(&names)
                };
                (list(true), list(false))
            };
            if !everywhere && input {
                // Input-only enums keep the values every subgraph accepts.
                let (inside, outside) = defined_in();
                d.hint(
                    "INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
                    format!("Value \"{vname}\" of enum type \"{name}\" will not be part of the supergraph as it is not defined in all the subgraphs defining \"{name}\": \"{vname}\" is defined in subgraph {inside} but not in subgraph {outside}."),
                    occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
                );
                continue;
            }
            if !everywhere {
                let (inside, outside) = defined_in();
                d.hint(
                    "INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM",
                    format!("Value \"{vname}\" of enum type \"{name}\" has been added to the supergraph but is only defined in a subset of the subgraphs defining \"{name}\": \"{vname}\" is defined in subgraph {inside} but not in subgraph {outside}."),
                    occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
                );
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
pub(super) struct FieldOcc<'a> {
    pub graph: usize,
    pub sg: &'a Subgraph,
    pub def: &'a Component<FieldDefinition>,
    /// The type defining it, in that subgraph.
    pub parent: &'a ExtendedType,
    pub external: bool,
    /// `@external`, but named in a `@provides` of the subgraph (resolved there on that path).
    pub provided: bool,
    pub shareable: bool,
    /// Named by a federation directive of its subgraph, or implementing an interface field.
    pub used: bool,
    pub requires: Option<String>,
    pub provides: Option<String>,
    /// `@override(from:, label:)` on this definition.
    pub override_: Option<(String, Option<String>)>,
    /// Overridden by another subgraph: that subgraph's name.
    pub overridden: Option<String>,
    /// The valid progressive-override label of an `@override` this definition takes part in.
    pub label: Option<String>,
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
            } else if owners.iter().any(|o| {
                o.def
                    .arguments
                    .iter()
                    .any(|a| a.name == aname && a.directives.has(&o.sg.names.from_context))
            }) {
                // Contextual in some subgraphs: it is not a client argument there, and the
                // supergraph drops it everywhere.
                d.hint(
                    "CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS",
                    format!(
                        "Contextual argument \"{type_name}.{fname}({aname}:)\" will not be included in the supergraph since it is contextual in at least one subgraph"
                    ),
                    defs.iter().map(|(o, a)| o.sg.place(a.location())).collect(),
                );
            } else {
                let missing: Vec<String> = owners
                    .iter()
                    .filter(|x| !defs.iter().any(|(y, _)| y.graph == x.graph))
                    .map(|x| format!("\"{}\"", x.sg.name))
                    .collect();
                d.hint(
                    "INCONSISTENT_ARGUMENT_PRESENCE",
                    format!(
                        "Optional argument \"{type_name}.{fname}({aname}:)\" will not be included in the supergraph as it does not appear in all subgraphs: it is defined in some subgraphs but not in subgraph {}",
                        join_and(&missing)
                    ),
                    defs.iter().map(|(o, a)| o.sg.place(a.location())).collect(),
                );
            }
            continue;
        }
        let mut ty: Type = (*defs[0].1.ty).clone();
        let mut carried = Carried::default();
        let mut description = None;
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
        }
        if defs.iter().any(|(_, a)| *a.ty != *defs[0].1.ty) {
            d.hint(
                "INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE",
                format!(
                    "Type of argument \"{type_name}.{fname}({aname}:)\" is inconsistent but compatible across subgraphs: it will have type \"{ty}\" in the supergraph"
                ),
                defs.iter().map(|(o, a)| o.sg.place(a.location())).collect(),
            );
        }
        let coordinate = format!("{type_name}.{fname}({aname}:)");
        let sources: Vec<Source> = defs
            .iter()
            .map(|(o, a)| Source {
                subgraph: &o.sg.name,
                default: a.default_value.as_ref(),
                place: o.sg.place(a.location()),
            })
            .collect();
        let element = Element {
            argument: true,
            coordinate: &coordinate,
        };
        let default_value = super::defaults::merge(&element, &sources, d);
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
            } else {
                let missing: Vec<String> = occurrences
                    .iter()
                    .filter(|x| !defs.iter().any(|(y, _)| y.graph == x.graph))
                    .map(|x| format!("\"{}\"", x.sg.name))
                    .collect();
                d.hint(
                    "INCONSISTENT_INPUT_OBJECT_FIELD",
                    format!(
                        "Input object field \"{fname}\" will not be added to \"{name}\" in the supergraph as it does not appear in all subgraphs: it is defined in some subgraphs but not in subgraph {}",
                        join_and(&missing)
                    ),
                    defs.iter().map(|(o, f)| o.sg.place(f.location())).collect(),
                );
            }
            continue;
        }
        let mut merged_ty: Type = (*defs[0].1.ty).clone();
        let mut carried = Carried::default();
        let mut description = None;
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
        }
        if defs.iter().any(|(_, f)| *f.ty != *defs[0].1.ty) {
            d.hint(
                "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
                format!(
                    "Type of field \"{name}.{fname}\" is inconsistent but compatible across subgraphs: it will have type \"{merged_ty}\" in the supergraph"
                ),
                defs.iter().map(|(o, f)| o.sg.place(f.location())).collect(),
            );
        }
        let coordinate = format!("{name}.{fname}");
        let sources: Vec<Source> = defs
            .iter()
            .map(|(o, f)| Source {
                subgraph: &o.sg.name,
                default: f.default_value.as_ref(),
                place: o.sg.place(f.location()),
            })
            .collect();
        let element = Element {
            argument: false,
            coordinate: &coordinate,
        };
        let default_value = super::defaults::merge(&element, &sources, d);
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
