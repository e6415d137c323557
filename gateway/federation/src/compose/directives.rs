//! Directive definitions the supergraph keeps besides federation's: executable directives
//! (`directive @trace on FIELD`) that every subgraph defines, so that clients may send them,
//! and `@composeDirective` directives, one definition for all the subgraphs that compose them.

use apollo_compiler::Node;
use apollo_compiler::ast::{DirectiveDefinition, DirectiveLocation, InputValueDefinition, Type};

use super::defaults::{self, Element, Source};
use super::errors::Diagnostics;
use super::subgraph::Subgraph;
use super::typeref::merge_input;

const BUILT_IN: [&str; 7] = [
    "skip",
    "include",
    "deprecated",
    "specifiedBy",
    "oneOf",
    "defer",
    "stream",
];

fn is_executable(location: &DirectiveLocation) -> bool {
    matches!(
        location,
        DirectiveLocation::Query
            | DirectiveLocation::Mutation
            | DirectiveLocation::Subscription
            | DirectiveLocation::Field
            | DirectiveLocation::FragmentDefinition
            | DirectiveLocation::FragmentSpread
            | DirectiveLocation::InlineFragment
            | DirectiveLocation::VariableDefinition
    )
}

/// The executable directives of the supergraph, printed. Apollo's rule: a directive the
/// gateway may receive must mean something in every subgraph it forwards to, so only a
/// directive every subgraph defines is kept, on the locations all of them accept, repeatable
/// only if all say so, with the arguments all of them take.
pub fn executable(subgraphs: &[Subgraph], d: &mut Diagnostics) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for sg in subgraphs {
        for (name, def) in &sg.schema.directive_definitions {
            let name = name.as_str();
            if BUILT_IN.contains(&name)
                || sg.names.is_federation_directive(name)
                || sg.names.composed.iter().any(|c| c == name)
                || !def.locations.iter().any(is_executable)
                || names.contains(&name)
            {
                continue;
            }
            names.push(name);
        }
    }
    names.sort_unstable();
    let mut out = Vec::new();
    for name in names {
        let defs: Vec<(&Subgraph, &Node<DirectiveDefinition>)> = subgraphs
            .iter()
            .filter_map(|sg| {
                sg.schema
                    .directive_definitions
                    .get(name)
                    .map(|def| (sg, def))
            })
            .collect();
        let places = || {
            defs.iter()
                .map(|(sg, def)| sg.place(def.location()))
                .collect()
        };
        if defs.len() < subgraphs.len() {
            d.hint(
                "INCONSISTENT_EXECUTABLE_DIRECTIVE_PRESENCE",
                format!("Executable directive \"@{name}\" will not be part of the supergraph as it does not appear in all subgraphs"),
                places(),
            );
            continue;
        }
        let executable_locations = |def: &DirectiveDefinition| -> Vec<DirectiveLocation> {
            def.locations
                .iter()
                .filter(|l| is_executable(l))
                .copied()
                .collect()
        };
        let first = executable_locations(defs[0].1);
        let locations: Vec<DirectiveLocation> = first
            .iter()
            .filter(|l| defs.iter().all(|(_, def)| def.locations.contains(l)))
            .copied()
            .collect();
        if locations.is_empty() {
            d.hint(
                "NO_EXECUTABLE_DIRECTIVE_INTERSECTION",
                format!("Executable directive \"@{name}\" has no location that is common to all subgraphs"),
                places(),
            );
            continue;
        }
        if defs
            .iter()
            .any(|(_, def)| executable_locations(def).len() != locations.len())
        {
            d.hint(
                "INCONSISTENT_EXECUTABLE_DIRECTIVE_LOCATIONS",
                format!("Executable directive \"@{name}\" has inconsistent locations across subgraphs; the supergraph keeps the common ones"),
                places(),
            );
        }
        let repeatable = defs.iter().all(|(_, def)| def.repeatable);
        if !repeatable && defs.iter().any(|(_, def)| def.repeatable) {
            d.hint(
                "INCONSISTENT_EXECUTABLE_DIRECTIVE_REPEATABLE",
                format!("Executable directive \"@{name}\" is marked repeatable in some subgraphs but not all; it will not be repeatable in the supergraph"),
                places(),
            );
        }
        let arguments = arguments(name, &defs, d);
        let merged = DirectiveDefinition {
            description: defs.iter().find_map(|(_, def)| def.description.clone()),
            name: defs[0].1.name.clone(),
            arguments,
            repeatable,
            locations,
        };
        out.push(merged.to_string());
    }
    out
}

/// The arguments every definition has, typed and defaulted compatibly.
fn arguments(
    name: &str,
    defs: &[(&Subgraph, &Node<DirectiveDefinition>)],
    d: &mut Diagnostics,
) -> Vec<Node<InputValueDefinition>> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (_, def) in defs {
        for arg in &def.arguments {
            if seen.contains(&arg.name.as_str()) {
                continue;
            }
            seen.push(arg.name.as_str());
            let coordinate = format!("@{name}({}:)", arg.name);
            let found: Vec<(&Subgraph, &Node<InputValueDefinition>)> = defs
                .iter()
                .filter_map(|(sg, def)| {
                    def.arguments
                        .iter()
                        .find(|a| a.name == arg.name)
                        .map(|a| (*sg, a))
                })
                .collect();
            if found.len() < defs.len() {
                if let Some((sg, a)) = found
                    .iter()
                    .find(|(_, a)| a.ty.is_non_null() && a.default_value.is_none())
                {
                    d.error(
                        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                        format!("Argument \"{coordinate}\" is required in some subgraphs but does not appear in all subgraphs: it is required in subgraph \"{}\"", sg.name),
                        vec![sg.place(a.location())],
                    );
                } else {
                    d.hint(
                        "INCONSISTENT_ARGUMENT_PRESENCE",
                        format!("Optional argument \"{coordinate}\" will not be included in the supergraph as it does not appear in all subgraphs"),
                        found.iter().map(|(sg, a)| sg.place(a.location())).collect(),
                    );
                }
                continue;
            }
            let mut ty: Type = (*found[0].1.ty).clone();
            for (sg, a) in &found[1..] {
                match merge_input(&ty, &a.ty) {
                    Some(t) => ty = t,
                    None => d.error(
                        "FIELD_ARGUMENT_TYPE_MISMATCH",
                        format!(
                            "Type of argument \"{coordinate}\" is incompatible across subgraphs: it has type \"{}\" in subgraph \"{}\" but type \"{}\" in subgraph \"{}\"",
                            found[0].1.ty, found[0].0.name, a.ty, sg.name
                        ),
                        vec![found[0].0.place(found[0].1.location()), sg.place(a.location())],
                    ),
                }
            }
            if found.iter().any(|(_, a)| *a.ty != *found[0].1.ty) && merge_all(&found).is_some() {
                d.hint(
                    "INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE",
                    format!("Type of argument \"{coordinate}\" is inconsistent but compatible across subgraphs: it will have type \"{ty}\" in the supergraph"),
                    found.iter().map(|(sg, a)| sg.place(a.location())).collect(),
                );
            }
            let sources: Vec<Source> = found
                .iter()
                .map(|(sg, a)| Source {
                    subgraph: &sg.name,
                    default: a.default_value.as_ref(),
                    place: sg.place(a.location()),
                })
                .collect();
            let element = Element {
                argument: true,
                coordinate: &coordinate,
            };
            let default_value = defaults::merge(&element, &sources, d);
            out.push(Node::new(InputValueDefinition {
                description: found.iter().find_map(|(_, a)| a.description.clone()),
                name: arg.name.clone(),
                ty: Node::new(ty),
                default_value,
                directives: Default::default(),
            }));
        }
    }
    out
}

/// The merged type of an argument's definitions, if they are compatible.
fn merge_all(found: &[(&Subgraph, &Node<InputValueDefinition>)]) -> Option<Type> {
    found
        .iter()
        .skip(1)
        .try_fold((*found[0].1.ty).clone(), |ty, (_, a)| {
            merge_input(&ty, &a.ty)
        })
}

/// One definition per `@composeDirective` directive, however many subgraphs define it: the
/// locations all of them accept, repeatable only if all say so.
pub fn composed(definitions: Vec<Node<DirectiveDefinition>>) -> Vec<String> {
    let mut merged: Vec<DirectiveDefinition> = Vec::new();
    for def in definitions {
        match merged.iter_mut().find(|m| m.name == def.name) {
            Some(m) => {
                m.locations.retain(|l| def.locations.contains(l));
                m.repeatable &= def.repeatable;
            }
            None => merged.push(def.as_ref().clone()),
        }
    }
    merged.iter().map(|d| d.to_string()).collect()
}
