//! `@external` across subgraphs (Apollo's `mergeField` and `validateExternalFields`): an
//! external definition says another subgraph resolves the field, so some subgraph must, and
//! the external definition must agree with the merged field (type and arguments). External
//! definitions do not take part in the merge itself: a typo there must not change the
//! supergraph.

use apollo_compiler::Node;
use apollo_compiler::ast::{InputValueDefinition, Type};
use indexmap::IndexMap;

use super::errors::Diagnostics;
use super::merge::{Context, FieldOcc};
use super::merged::MergedArgument;
use super::mismatch::{distribution, error_distribution, join_and, subgraphs_list};
use super::typeref::{merge_input, merge_output};

/// A field `@external` in every subgraph that lists it is resolved by none of them
/// (an `@interfaceObject` resolving it for the type's interface counts as a resolver).
pub(super) fn every_source_is_external(
    ctx: &Context,
    type_name: &str,
    fname: &str,
    occs: &[FieldOcc],
    d: &mut Diagnostics,
) -> bool {
    if occs.iter().any(|o| !o.external) {
        return false;
    }
    let mut defining: Vec<String> = Vec::new();
    for (graph, sg) in ctx.subgraphs.iter().enumerate() {
        if occs.iter().any(|o| o.graph == graph) {
            defining.push(format!("\"{}\"", sg.name));
            continue;
        }
        let abstracting = ctx.abstracting_fields(type_name, fname, graph);
        if abstracting
            .iter()
            .any(|(_, f)| !f.directives.has(&sg.names.external))
        {
            return false;
        }
        if !abstracting.is_empty() {
            let through: Vec<String> = abstracting
                .iter()
                .map(|(i, _)| format!("\"{i}\""))
                .collect();
            defining.push(format!(
                "\"{}\" (through @interfaceObject {})",
                sg.name,
                join_and(&through)
            ));
        }
    }
    d.error_with_hint(
        "EXTERNAL_MISSING_ON_BASE",
        format!(
            "Field \"{type_name}.{fname}\" is marked @external on all the subgraphs in which it is listed ({}).",
            subgraphs_list(&defining)
        ),
        occs.iter().map(|o| o.sg.place(o.def.location())).collect(),
        "define the field, without @external, in the subgraph that resolves it",
    );
    true
}

/// An `@external` field must have the type the supergraph gives the field (or, when the
/// resolving subgraphs disagree, a subtype of it).
pub(super) fn check_types(
    ctx: &Context,
    type_name: &str,
    fname: &str,
    occs: &[FieldOcc],
    merged: &Type,
    all_types_equal: bool,
    d: &mut Diagnostics,
) {
    let is_sub = |a: &str, b: &str| ctx.is_subtype(a, b);
    let invalid = occs.iter().filter(|o| o.external).any(|o| {
        let t: &Type = &o.def.ty;
        let strict_subtype =
            t != merged && merge_output(t, merged, &is_sub).as_ref() == Some(merged);
        !(t == merged || (!all_types_equal && strict_subtype))
    });
    if !invalid {
        return;
    }
    let entries: Vec<(String, String)> = occs
        .iter()
        .map(|o| (format!("type \"{}\"", o.def.ty), o.sg.name.clone()))
        .collect();
    let parts = distribution(&entries, Some(&format!("type \"{merged}\"")));
    d.error(
        "EXTERNAL_TYPE_MISMATCH",
        format!(
            "Type of field \"{type_name}.{fname}\" is incompatible across subgraphs (where marked @external): it has {}",
            error_distribution(&parts)
        ),
        occs.iter().map(|o| o.sg.place(o.def.location())).collect(),
    );
}

/// An `@external` definition must accept what the supergraph's field accepts: every merged
/// argument, with a type at least as permissive and the same default.
pub(super) fn check_arguments<'a>(
    type_name: &str,
    fname: &str,
    occs: &[FieldOcc<'a>],
    arguments: &IndexMap<String, MergedArgument>,
    d: &mut Diagnostics,
) {
    let field = format!("{type_name}.{fname}");
    for (aname, merged) in arguments {
        let coordinate = format!("{field}({aname}:)");
        let arg_of = |o: &FieldOcc<'a>| argument(o, aname);
        let merged_ty = Type::parse(merged.ty.as_str(), "merged").ok();
        let (mut missing, mut bad_type, mut bad_default) = (false, false, false);
        for o in occs.iter().filter(|o| o.external) {
            let Some(a) = arg_of(o) else {
                missing = true;
                continue;
            };
            // Input positions: the external type may be more permissive (nullable).
            let accepts = merged_ty
                .as_ref()
                .is_some_and(|m| merge_input(&a.ty, m).as_ref() == Some(m));
            bad_type |= !accepts;
            let printed = a.default_value.as_ref().map(|v| v.to_string());
            bad_default |= printed != merged.default_value.as_ref().map(|v| v.to_string());
        }
        let places = || -> Vec<super::errors::Place> {
            occs.iter()
                .filter_map(|o| arg_of(o).map(|a| o.sg.place(a.location())))
                .collect()
        };
        if missing {
            let (with, without): (Vec<&FieldOcc<'a>>, Vec<&FieldOcc<'a>>) =
                occs.iter().partition(|o| arg_of(o).is_some());
            let quote = |l: Vec<&FieldOcc<'a>>| -> Vec<String> {
                l.iter().map(|o| format!("\"{}\"", o.sg.name)).collect()
            };
            d.error(
                "EXTERNAL_ARGUMENT_MISSING",
                format!(
                    "Field \"{field}\" is missing argument \"{coordinate}\" in some subgraphs where it is marked @external: argument \"{coordinate}\" is declared in {} but not in {} (where \"{field}\" is @external).",
                    subgraphs_list(&quote(with)),
                    subgraphs_list(&quote(without))
                ),
                occs.iter().map(|o| o.sg.place(o.def.location())).collect(),
            );
        }
        let entries = |value: &dyn Fn(&InputValueDefinition) -> String| -> Vec<(String, String)> {
            occs.iter()
                .filter_map(|o| arg_of(o).map(|a| (value(a), o.sg.name.clone())))
                .collect()
        };
        if bad_type {
            let parts = distribution(
                &entries(&|a| format!("type \"{}\"", a.ty)),
                Some(&format!("type \"{}\"", merged.ty)),
            );
            d.error(
                "EXTERNAL_ARGUMENT_TYPE_MISMATCH",
                format!(
                    "Type of argument \"{coordinate}\" is incompatible across subgraphs (where \"{field}\" is marked @external): it has {}",
                    error_distribution(&parts)
                ),
                places(),
            );
        }
        if bad_default {
            let show = |v: Option<String>| {
                v.map_or("no default value".to_owned(), |v| {
                    format!("default value {v}")
                })
            };
            let parts = distribution(
                &entries(&|a| show(a.default_value.as_ref().map(|v| v.to_string()))),
                Some(&show(merged.default_value.as_ref().map(|v| v.to_string()))),
            );
            d.error(
                "EXTERNAL_ARGUMENT_DEFAULT_MISMATCH",
                format!(
                    "Argument \"{coordinate}\" has incompatible defaults across subgraphs (where \"{field}\" is marked @external): it has {}",
                    error_distribution(&parts)
                ),
                places(),
            );
        }
    }
}

/// One definition's argument `name`.
fn argument<'a>(o: &FieldOcc<'a>, name: &str) -> Option<&'a Node<InputValueDefinition>> {
    o.def.arguments.iter().find(|a| a.name == name)
}
