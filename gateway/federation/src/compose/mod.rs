//! Composition: subgraph SDLs in, an Apollo-compatible supergraph SDL (link v1.0 + join v0.5)
//! out, with Apollo composition's error codes.

pub mod errors;
pub mod subgraph;

pub use errors::{CompositionDiagnostic, CompositionErrors, Place};
pub use subgraph::{Subgraph, SubgraphInput};
pub mod applied;
pub mod emit;
pub mod merge;
pub mod merged;
pub mod typeref;
pub mod validate;

use errors::Diagnostics;

/// A successful composition: the supergraph SDL and any hints.
#[derive(Clone, Debug)]
pub struct Composed {
    pub supergraph_sdl: String,
    pub hints: Vec<CompositionDiagnostic>,
}

/// Composes subgraphs into a supergraph. Subgraphs are merged in name order, as Apollo does;
/// every error of the run is reported.
pub fn compose(inputs: &[SubgraphInput]) -> Result<Composed, CompositionErrors> {
    let mut d = Diagnostics::default();
    let mut inputs: Vec<&SubgraphInput> = inputs.iter().collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    let subgraphs: Vec<Subgraph> = inputs
        .iter()
        .filter_map(|input| subgraph::load(input, &mut d))
        .collect();
    if d.has_errors() {
        return Err(CompositionErrors {
            errors: d.errors,
            hints: d.hints,
        });
    }
    for sg in &subgraphs {
        validate::validate(sg, &mut d);
    }
    let merged = merge::merge(&subgraphs, &mut d);
    if d.has_errors() {
        return Err(CompositionErrors {
            errors: d.errors,
            hints: d.hints,
        });
    }
    let supergraph_sdl = emit::emit(&merged);
    // Satisfiability runs on the supergraph as any reader of it sees it.
    match crate::supergraph::Supergraph::parse(&supergraph_sdl, "composed supergraph") {
        Ok(supergraph) => satisfiability::check(&std::sync::Arc::new(supergraph), &mut d),
        Err(e) => d.error(
            "INTERNAL",
            format!("the composed supergraph does not load: {e}"),
            Vec::new(),
        ),
    }
    if d.has_errors() {
        return Err(CompositionErrors {
            errors: d.errors,
            hints: d.hints,
        });
    }
    Ok(Composed {
        supergraph_sdl,
        hints: d.hints,
    })
}
pub mod satisfiability;

#[cfg(test)]
mod tests;
