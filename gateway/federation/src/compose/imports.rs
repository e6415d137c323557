//! Federation's merged directives (`@tag`, `@inaccessible`, the authorization and demand
//! control directives) keep one name in the supergraph: every subgraph that applies one must
//! import it under the same name (`LINK_IMPORT_NAME_MISMATCH`).

use std::collections::BTreeMap;

use apollo_compiler::schema::ExtendedType;

use super::errors::Diagnostics;
use super::subgraph::{FedNames, Subgraph};

/// The merged federation directives: (name in the spec, local name in a subgraph).
fn merged(n: &FedNames) -> [(&'static str, &str); 7] {
    [
        ("tag", &n.tag),
        ("inaccessible", &n.inaccessible),
        ("authenticated", &n.authenticated),
        ("requiresScopes", &n.requires_scopes),
        ("policy", &n.policy),
        ("cost", &n.cost),
        ("listSize", &n.list_size),
    ]
}

pub fn validate(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    // spec name -> local name -> subgraphs applying it under that name
    let mut names: BTreeMap<&str, BTreeMap<String, Vec<&Subgraph>>> = BTreeMap::new();
    for sg in subgraphs.iter().filter(|sg| sg.fed2) {
        for (spec_name, local) in merged(&sg.names) {
            if applies(sg, local) {
                names
                    .entry(spec_name)
                    .or_default()
                    .entry(local.to_owned())
                    .or_default()
                    .push(sg);
            }
        }
    }
    for (spec_name, by_local) in names {
        if by_local.len() < 2 {
            continue;
        }
        let described: Vec<String> = by_local
            .iter()
            .map(|(local, sgs)| {
                let list: Vec<String> = sgs.iter().map(|sg| format!("\"{}\"", sg.name)).collect();
                format!("\"@{local}\" in subgraph {}", list.join(", "))
            })
            .collect();
        d.error(
            "LINK_IMPORT_NAME_MISMATCH",
            format!(
                "The \"@{spec_name}\" directive (from the federation spec) is imported with mismatched name between subgraphs: it is imported as {}",
                described.join(" but ")
            ),
            by_local
                .values()
                .flatten()
                .map(|sg| sg.place(None))
                .collect(),
        );
    }
}

/// Whether the subgraph applies directive `name` anywhere.
fn applies(sg: &Subgraph, name: &str) -> bool {
    if sg.schema.schema_definition.directives.has(name) {
        return true;
    }
    sg.schema.types.values().any(|ty| {
        if ty.directives().has(name) {
            return true;
        }
        match ty {
            ExtendedType::Object(o) => o.fields.values().any(|f| {
                f.directives.has(name) || f.arguments.iter().any(|a| a.directives.has(name))
            }),
            ExtendedType::Interface(i) => i.fields.values().any(|f| {
                f.directives.has(name) || f.arguments.iter().any(|a| a.directives.has(name))
            }),
            ExtendedType::Enum(e) => e.values.values().any(|v| v.directives.has(name)),
            ExtendedType::InputObject(i) => i.fields.values().any(|f| f.directives.has(name)),
            _ => false,
        }
    })
}
