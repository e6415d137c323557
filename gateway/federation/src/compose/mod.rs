//! Composition: subgraph SDLs in, an Apollo-compatible supergraph SDL (link v1.0 + join v0.5)
//! out, with Apollo composition's error codes.

pub mod errors;
pub mod subgraph;

pub use errors::{CompositionDiagnostic, CompositionErrors, Place};
pub use subgraph::{Subgraph, SubgraphInput};
pub mod applied;
pub mod auth;
pub mod composed;
pub mod context;
pub mod defaults;
pub mod definitions;
pub mod demand_control;
pub mod directives;
pub mod emit;
pub mod extensions;
pub mod external;
pub mod fieldset;
pub mod imports;
pub mod inaccessible;
pub mod interfaces;
pub mod merge;
pub mod merged;
pub mod mismatch;
pub mod overrides;
pub mod runtime_types;
pub mod typeref;
pub mod usage;
pub mod validate;

use errors::Diagnostics;

/// A successful composition: the supergraph SDL and any hints.
#[derive(Clone, Debug)]
pub struct Composed {
    pub supergraph_sdl: String,
    pub hints: Vec<CompositionDiagnostic>,
}

/// Composes subgraphs into a supergraph. Subgraphs are merged in name order, as Apollo does.
/// Like Apollo, composition goes in phases (load, validate each subgraph, merge, validate the
/// merged result, check satisfiability) and stops after the first phase that finds errors:
/// later phases would only report consequences of them. Every error of that phase is reported.
pub fn compose(inputs: &[SubgraphInput]) -> Result<Composed, CompositionErrors> {
    compose_at(inputs, subgraph::LATEST_FEDERATION_VERSION)
}

/// [`compose`] as the composition of federation version `federation_version` (2.x, at most
/// the latest known) would: subgraphs linking a later version are rejected
/// (`UNKNOWN_FEDERATION_LINK_VERSION`), as Rover's composition of that version rejects them.
pub fn compose_at(
    inputs: &[SubgraphInput],
    federation_version: (u32, u32),
) -> Result<Composed, CompositionErrors> {
    let mut d = Diagnostics::default();
    let mut inputs: Vec<&SubgraphInput> = inputs.iter().collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    let subgraphs: Vec<Subgraph> = inputs
        .iter()
        .filter_map(|input| subgraph::load_at(input, federation_version, &mut d))
        .collect();
    stop_on_errors(&mut d)?;
    for sg in &subgraphs {
        validate::validate(sg, &mut d);
    }
    stop_on_errors(&mut d)?;
    composed::validate(&subgraphs, &mut d);
    extensions::validate(&subgraphs, &mut d);
    imports::validate(&subgraphs, &mut d);
    stop_on_errors(&mut d)?;
    let merged = merge::merge(&subgraphs, &mut d);
    stop_on_errors(&mut d)?;
    interfaces::post_merge(&subgraphs, &merged, &mut d);
    stop_on_errors(&mut d)?;
    inaccessible::validate(&subgraphs, &merged, &mut d);
    stop_on_errors(&mut d)?;
    runtime_types::validate(&subgraphs, &mut d);
    auth::validate(&subgraphs, &mut d);
    stop_on_errors(&mut d)?;
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
    stop_on_errors(&mut d)?;
    Ok(Composed {
        supergraph_sdl,
        hints: d.hints,
    })
}

/// Ends composition with every error (and hint) found so far, if there is any error.
fn stop_on_errors(d: &mut Diagnostics) -> Result<(), CompositionErrors> {
    if d.has_errors() {
        return Err(CompositionErrors {
            errors: std::mem::take(&mut d.errors),
            hints: std::mem::take(&mut d.hints),
        });
    }
    Ok(())
}
pub mod satisfiability;

#[cfg(test)]
mod tests;
