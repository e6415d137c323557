//! Inputs: field arguments and input object fields. Both keep only what every subgraph
//! defines (one required somewhere but missing elsewhere is an error), their types narrow
//! to what every subgraph accepts, and their defaults must agree (see `defaults`).

use apollo_compiler::ast::{InputValueDefinition, Type};
use apollo_compiler::schema::{Component, ExtendedType};
use apollo_compiler::{Name, Node};
use indexmap::IndexMap;

use super::Occurrence;
use super::fields::FieldOcc;
use crate::compose::applied::Carried;
use crate::compose::defaults::{Element, Source};
use crate::compose::errors::Diagnostics;
use crate::compose::merged::*;
use crate::compose::mismatch::join_and;
use crate::compose::typeref::merge_input;

pub(super) fn merge_arguments(
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
        let default_value = crate::compose::defaults::merge(&element, &sources, d);
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

pub(super) fn merge_input_object(
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
        let default_value = crate::compose::defaults::merge(&element, &sources, d);
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
