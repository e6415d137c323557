//! A field several subgraphs resolve (`@shareable`) and that returns an interface or a union
//! must be able to return the same objects from each: if the subgraphs' possible runtime types
//! for it have nothing in common, no answer could be the same whichever subgraph the planner
//! asks (`SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES`; a hint when they only differ).

use std::collections::{BTreeMap, BTreeSet};

use apollo_compiler::schema::ExtendedType;

use super::errors::Diagnostics;
use super::subgraph::Subgraph;
use super::usage::implementations;

/// The object types a value of abstract type `name` may be in one subgraph (None: not abstract
/// there).
fn runtime_types(sg: &Subgraph, name: &str) -> Option<BTreeSet<String>> {
    match sg.schema.types.get(name)? {
        ExtendedType::Union(u) => Some(u.members.iter().map(|m| m.name.to_string()).collect()),
        ExtendedType::Interface(_) => {
            let name = apollo_compiler::Name::new(name).ok()?;
            Some(
                implementations(sg, &name)
                    .iter()
                    .map(|n| n.to_string())
                    .collect(),
            )
        }
        _ => None,
    }
}

/// One subgraph's possible runtime types for a field.
type PerSubgraph<'a> = (&'a Subgraph, BTreeSet<String>);

/// Checks every object field that several subgraphs resolve and that returns an abstract type.
pub fn validate(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    let mut fields: BTreeMap<(String, String), Vec<PerSubgraph>> = BTreeMap::new();
    // A field moved with `@override` is resolved by one subgraph at a time, never shared.
    let mut overridden: BTreeSet<(String, String)> = BTreeSet::new();
    for sg in subgraphs {
        for (tname, ty) in &sg.schema.types {
            let ExtendedType::Object(o) = ty else {
                continue;
            };
            let tname = sg.canonical_type_name(tname);
            for (fname, field) in &o.fields {
                if field.directives.has(&sg.names.external) {
                    continue;
                }
                if field.directives.has(&sg.names.override_) {
                    overridden.insert((tname.to_owned(), fname.to_string()));
                }
                if let Some(types) = runtime_types(sg, field.ty.inner_named_type()) {
                    fields
                        .entry((tname.to_owned(), fname.to_string()))
                        .or_default()
                        .push((sg, types));
                }
            }
        }
    }
    for ((tname, fname), per_subgraph) in fields {
        if per_subgraph.len() < 2 || overridden.contains(&(tname.clone(), fname.clone())) {
            continue;
        }
        let common = per_subgraph
            .iter()
            .skip(1)
            .fold(per_subgraph[0].1.clone(), |acc, (_, t)| {
                acc.intersection(t).cloned().collect()
            });
        let listing: Vec<String> = per_subgraph
            .iter()
            .map(|(sg, types)| {
                let types: Vec<String> = types.iter().map(|t| format!("\"{t}\"")).collect();
                format!(" - in subgraph \"{}\", type {}", sg.name, types.join(", "))
            })
            .collect();
        let places = per_subgraph.iter().map(|(sg, _)| sg.place(None)).collect();
        if common.is_empty() {
            d.error(
                "SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES",
                format!(
                    "Shared field \"{tname}.{fname}\" has a non-intersecting set of possible runtime types across subgraphs. Runtime types in subgraphs are:\n{}.\nThis is not allowed as shared fields must resolve the same way in all subgraphs, and that implies at least some common runtime types between the subgraphs.",
                    listing.join(";\n")
                ),
                places,
            );
        } else if per_subgraph.iter().any(|(_, t)| t.len() != common.len()) {
            d.hint(
                "INCONSISTENT_RUNTIME_TYPES_FOR_SHAREABLE_RETURN",
                format!(
                    "For the following supergraph API query, shared field \"{tname}.{fname}\" may return different runtime types depending on the subgraph:\n{}",
                    listing.join(";\n")
                ),
                places,
            );
        }
    }
}
