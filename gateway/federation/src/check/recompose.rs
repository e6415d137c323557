//! The subgraph set `weft check` composes, and composition's diagnostics as the user sees them.
//!
//! The current subgraphs come from files when the user has them (`--current`), exactly;
//! otherwise they are recovered from the current supergraph. The proposed ones replace them
//! (a new name adds a subgraph). A recovered subgraph's SDL is text nobody wrote, so
//! diagnostics never point into it: their places move to the proposed file where the message's
//! schema coordinate is defined there, and hints about recovered SDL alone are dropped (Apollo
//! gave them, if they are true, when the current supergraph was composed). A check reports the
//! hints the proposal brings: one the current subgraphs already give is not news (and a no-op
//! proposal must be silent).

use std::collections::BTreeSet;

use apollo_compiler::ast::{Definition, Document};

use crate::Supergraph;
use crate::compose::{CompositionDiagnostic, Place, SubgraphInput, compose};
use crate::supergraph::SubgraphId;
use crate::supergraph::extract::subgraph_sdl;

/// What to compose, and which subgraphs were recovered rather than read from a file.
pub struct CheckInputs {
    pub inputs: Vec<SubgraphInput>,
    pub recovered: BTreeSet<String>,
    /// The subgraphs the user proposes (their names).
    pub proposed: BTreeSet<String>,
    /// `(code, message)` of each hint the current subgraphs give without the proposal.
    pub current_hints: BTreeSet<(&'static str, String)>,
}

/// The subgraphs to compose: each subgraph of `current` from `proposed`, else from `given`
/// (the current subgraph files), else recovered from `current` (labelled `current_label`);
/// then the proposed and given subgraphs `current` does not have.
pub fn inputs(
    current: &Supergraph,
    current_label: &str,
    given: &[SubgraphInput],
    proposed: &[SubgraphInput],
) -> CheckInputs {
    let mut out = CheckInputs {
        inputs: Vec::new(),
        recovered: BTreeSet::new(),
        proposed: proposed.iter().map(|p| p.name.clone()).collect(),
        current_hints: BTreeSet::new(),
    };
    let find = |list: &[SubgraphInput], name: &str| list.iter().find(|s| s.name == name).cloned();
    for (i, g) in current.subgraphs().iter().enumerate() {
        let input = match find(proposed, &g.name).or_else(|| find(given, &g.name)) {
            Some(file) => SubgraphInput {
                url: g.url.clone(),
                ..file
            },
            None => {
                out.recovered.insert(g.name.clone());
                SubgraphInput {
                    name: g.name.clone(),
                    url: g.url.clone(),
                    // At most u16::MAX subgraphs: the supergraph model indexes them so.
                    sdl: subgraph_sdl(current, SubgraphId(u16::try_from(i).unwrap_or(u16::MAX))),
                    source: format!("{current_label} (subgraph {}, recovered)", g.name),
                }
            }
        };
        out.inputs.push(input);
    }
    for extra in proposed.iter().chain(given) {
        if !out.inputs.iter().any(|i| i.name == extra.name) {
            out.inputs.push(extra.clone());
        }
    }
    if !proposed.is_empty() {
        // The same set without the proposal. If it does not compose (recovery lost something),
        // there is no baseline and every hint is reported.
        if let Ok(composed) = compose(&inputs(current, current_label, given, &[]).inputs) {
            out.current_hints = composed
                .hints
                .into_iter()
                .map(|h| (h.code, h.message))
                .collect();
        }
    }
    out
}

/// An error as the user sees it: no place in recovered SDL. Such places are replaced by the
/// definition, in a proposed file, of the schema coordinate the message names (when there is
/// one), and otherwise named in the message by subgraph only.
pub fn locate_error(d: &CompositionDiagnostic, inputs: &CheckInputs) -> CompositionDiagnostic {
    let (mut places, dropped) = split(d, inputs);
    if places.is_empty() {
        places = coordinates(&d.message)
            .iter()
            .flat_map(|c| find_in_proposed(c, inputs))
            .take(1)
            .collect();
    }
    let mut out = d.clone();
    out.places = places;
    if !dropped.is_empty() {
        out.message = format!(
            "{} (also involves {}, recovered from the current supergraph)",
            d.message,
            dropped
                .iter()
                .map(|s| format!("subgraph `{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

/// A hint as the user sees it, or `None` when the current subgraphs give it already or it only
/// concerns recovered SDL.
pub fn locate_hint(
    d: &CompositionDiagnostic,
    inputs: &CheckInputs,
) -> Option<CompositionDiagnostic> {
    if inputs.current_hints.contains(&(d.code, d.message.clone())) {
        return None;
    }
    let (places, _) = split(d, inputs);
    let about_user =
        !places.is_empty() || (d.places.is_empty() && inputs.recovered.len() < inputs.inputs.len());
    about_user.then(|| CompositionDiagnostic {
        places,
        ..d.clone()
    })
}

/// The places in files the user has, and the names of recovered subgraphs left out.
fn split(d: &CompositionDiagnostic, inputs: &CheckInputs) -> (Vec<Place>, BTreeSet<String>) {
    let mut kept = Vec::new();
    let mut dropped = BTreeSet::new();
    for p in &d.places {
        if inputs.recovered.contains(&p.subgraph) {
            dropped.insert(p.subgraph.clone());
        } else {
            kept.push(p.clone());
        }
    }
    // The user's proposed files first: that is where a fix goes.
    kept.sort_by_key(|p| !inputs.proposed.contains(&p.subgraph));
    (kept, dropped)
}

/// Schema coordinates quoted in a message: `"Type.field"`, `"Type"`, `"@directive"`.
fn coordinates(message: &str) -> Vec<String> {
    message
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            !s.is_empty()
                && s.trim_start_matches('@')
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
        .map(str::to_owned)
        .collect()
}

/// Where a proposed file defines `coordinate` (a type, a field, or a directive).
fn find_in_proposed(coordinate: &str, inputs: &CheckInputs) -> Option<Place> {
    let (ty, field) = match coordinate.split_once('.') {
        Some((t, f)) => (t, Some(f)),
        None => (coordinate, None),
    };
    for input in inputs
        .inputs
        .iter()
        .filter(|i| inputs.proposed.contains(&i.name))
    {
        let Ok(doc) = Document::parse(&input.sdl, &input.source) else {
            continue;
        };
        for def in &doc.definitions {
            let span = match (def, ty.strip_prefix('@')) {
                (Definition::DirectiveDefinition(d), Some(name)) if d.name == name => {
                    def.location()
                }
                (_, Some(_)) => continue,
                _ if def.name().is_none_or(|n| n != ty) => continue,
                _ => match field {
                    None => def.location(),
                    Some(f) => match field_span(def, f) {
                        Some(span) => span,
                        None => continue,
                    },
                },
            };
            let Some(at) = span.and_then(|s| s.line_column(&doc.sources)) else {
                continue;
            };
            return Some(Place {
                subgraph: input.name.clone(),
                source: input.source.clone(),
                line: at.line,
                column: at.column,
            });
        }
    }
    None
}

/// Where a type definition or extension declares field (or input field, or enum value) `name`.
fn field_span(def: &Definition, name: &str) -> Option<Option<apollo_compiler::parser::SourceSpan>> {
    let named = |n: &apollo_compiler::Name| n == name;
    match def {
        Definition::ObjectTypeDefinition(d) => d
            .fields
            .iter()
            .find(|f| named(&f.name))
            .map(|f| f.location()),
        Definition::ObjectTypeExtension(d) => d
            .fields
            .iter()
            .find(|f| named(&f.name))
            .map(|f| f.location()),
        Definition::InterfaceTypeDefinition(d) => d
            .fields
            .iter()
            .find(|f| named(&f.name))
            .map(|f| f.location()),
        Definition::InterfaceTypeExtension(d) => d
            .fields
            .iter()
            .find(|f| named(&f.name))
            .map(|f| f.location()),
        Definition::InputObjectTypeDefinition(d) => d
            .fields
            .iter()
            .find(|f| named(&f.name))
            .map(|f| f.location()),
        Definition::InputObjectTypeExtension(d) => d
            .fields
            .iter()
            .find(|f| named(&f.name))
            .map(|f| f.location()),
        Definition::EnumTypeDefinition(d) => d
            .values
            .iter()
            .find(|v| named(&v.value))
            .map(|v| v.location()),
        Definition::EnumTypeExtension(d) => d
            .values
            .iter()
            .find(|v| named(&v.value))
            .map(|v| v.location()),
        _ => None,
    }
}
