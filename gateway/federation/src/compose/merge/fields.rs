//! Object and interface fields: collecting each subgraph's definition of a field, then
//! merging them (Federation 2 rules): the type widens to a common supertype, a field resolved
//! by several subgraphs must be shareable, and the join metadata says where it resolves.

use std::collections::HashSet;

use apollo_compiler::Name;
use apollo_compiler::ast::{FieldDefinition, Type};
use apollo_compiler::executable::{FieldSet, Selection};
use apollo_compiler::schema::{Component, ExtendedType};
use indexmap::IndexMap;

use super::inputs::merge_arguments;
use super::{Context, Occurrence, add_join_directives};
use crate::compose::applied::Carried;
use crate::compose::errors::Diagnostics;
use crate::compose::external;
use crate::compose::merged::*;
use crate::compose::mismatch::subgraphs_list;
use crate::compose::subgraph::Subgraph;
use crate::compose::typeref::merge_output;

impl Context<'_> {
    pub(super) fn merge_composite(
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
            crate::compose::overrides::apply(self, type_name, &fname, &mut occs, d);
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
        let mut resolving: Vec<(String, bool, crate::compose::errors::Place)> = Vec::new();
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
}

/// One subgraph's definition of an object or interface field.
pub(in crate::compose) struct FieldOcc<'a> {
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

/// `join__ContextArgument`s for the `@fromContext` arguments of a field in one subgraph:
/// `field: "$org { currency }"` reads `{ currency }` from the context `org`, which the
/// supergraph names `<subgraph>__org`.
fn context_arguments(sg: &Subgraph, def: &FieldDefinition) -> Vec<String> {
    use crate::compose::applied::quote;
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
