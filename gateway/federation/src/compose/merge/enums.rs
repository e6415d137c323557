//! Enums: values merge by how the enum is used. An input enum keeps the values every
//! subgraph defines, an output enum takes every value, and one used both ways must agree.

use apollo_compiler::Name;
use apollo_compiler::schema::ExtendedType;
use indexmap::IndexMap;

use super::{Context, Occurrence};
use crate::compose::applied::Carried;
use crate::compose::errors::Diagnostics;
use crate::compose::merged::*;
use crate::compose::mismatch::join_and;

impl Context<'_> {
    pub(super) fn merge_enum(
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
