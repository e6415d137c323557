//! Checks across subgraphs, before merging, on how types are introduced: an `extend type`
//! needs a definition of the type in some subgraph (`EXTENSION_WITH_NO_BASE`), and some
//! subgraph must have a query root with fields (`NO_QUERIES`).

use super::errors::Diagnostics;
use super::subgraph::Subgraph;

pub fn validate(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    extension_with_no_base(subgraphs, d);
    no_queries(subgraphs, d);
}

/// A type that every subgraph only extends has no base: nothing says what it is. Root types
/// are exempt (`extend type Query` is how Federation 1 subgraphs add root fields).
fn extension_with_no_base(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    // Every type some subgraph defines (not only extends), gathered once: linear in the size
    // of all subgraphs, however many there are.
    let defined: std::collections::HashSet<&str> = subgraphs
        .iter()
        .flat_map(|sg| {
            sg.schema
                .types
                .keys()
                .filter(|name| !sg.extension_only.contains(*name))
                .map(|name| name.as_str())
        })
        .collect();
    for sg in subgraphs {
        for name in &sg.extension_only {
            if sg.canonical_type_name(name) != name.as_str()
                || matches!(name.as_str(), "Query" | "Mutation" | "Subscription")
            {
                continue;
            }
            if defined.contains(name.as_str()) {
                continue;
            }
            let place = sg.place(sg.schema.types.get(name).and_then(|t| t.location()));
            d.error(
                "EXTENSION_WITH_NO_BASE",
                format!(
                    "[{}] Type \"{name}\" is an extension type, but there is no type definition for \"{name}\" in any subgraph.",
                    sg.name
                ),
                vec![place],
            );
        }
    }
}

/// The supergraph needs a query root: some subgraph must define query fields. (A subgraph
/// without one gets a placeholder `Query { _service }` when loaded; that does not count.)
fn no_queries(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    let has_queries = subgraphs.iter().any(|sg| {
        sg.roots[0]
            .as_ref()
            .and_then(|q| sg.schema.get_object(q))
            .is_some_and(|q| q.fields.keys().any(|f| f != "_service"))
    });
    if !has_queries {
        d.error(
            "NO_QUERIES",
            "No queries found in any subgraph: a supergraph must have a query root type.",
            Vec::new(),
        );
    }
}
