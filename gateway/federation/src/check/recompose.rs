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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, sdl: &str) -> SubgraphInput {
        SubgraphInput {
            name: name.into(),
            url: format!("http://{name}"),
            sdl: sdl.into(),
            source: format!("{name}.graphql"),
        }
    }

    fn place(subgraph: &str, line: usize) -> Place {
        Place {
            subgraph: subgraph.into(),
            source: format!("{subgraph} (recovered)"),
            line,
            column: 1,
        }
    }

    fn inputs_of(proposed: &str, recovered: &str) -> CheckInputs {
        CheckInputs {
            inputs: vec![
                input(
                    proposed,
                    "type Query {\n  a: Int\n}\n\ntype User {\n  id: ID!\n  name: String\n}\n",
                ),
                input(recovered, "type User { id: ID! }"),
            ],
            recovered: [recovered.to_owned()].into(),
            proposed: [proposed.to_owned()].into(),
            current_hints: BTreeSet::new(),
        }
    }

    /// An error found only in recovered SDL points at the proposed file's definition of the
    /// coordinate it names, and says which recovered subgraph is involved.
    #[test]
    fn errors_in_recovered_sdl_move_to_the_proposed_definition() {
        let inputs = inputs_of("users", "reviews");
        let d = CompositionDiagnostic {
            code: "FIELD_TYPE_MISMATCH",
            message: "Type of field \"User.name\" is incompatible".into(),
            places: vec![place("reviews", 7)],
            hint: Some("give it one type".into()),
        };
        let located = locate_error(&d, &inputs);
        assert_eq!(located.places.len(), 1, "{located:?}");
        let p = &located.places[0];
        assert_eq!(
            (p.source.as_str(), p.line, p.column),
            ("users.graphql", 7, 3)
        );
        assert!(
            located.message.contains("subgraph `reviews`"),
            "{}",
            located.message
        );
        assert_eq!(located.hint, d.hint);
    }

    /// Places in the user's files are kept (proposed first); recovered ones are dropped.
    #[test]
    fn places_in_files_are_kept_proposed_first() {
        let mut inputs = inputs_of("users", "reviews");
        inputs
            .inputs
            .push(input("accounts", "type Query { b: Int }"));
        let d = CompositionDiagnostic {
            code: "INVALID_FIELD_SHARING",
            message: "Non-shareable field \"Query.a\"".into(),
            places: vec![place("accounts", 1), place("reviews", 2), place("users", 3)],
            hint: None,
        };
        let located = locate_error(&d, &inputs);
        let subgraphs: Vec<&str> = located.places.iter().map(|p| p.subgraph.as_str()).collect();
        assert_eq!(subgraphs, ["users", "accounts"]);
    }

    /// Hints about recovered SDL only, and hints the current subgraphs already give, are not
    /// the proposal's.
    #[test]
    fn hints_are_the_proposals_own() {
        let mut inputs = inputs_of("users", "reviews");
        let hint = |subgraph: &str, message: &str| CompositionDiagnostic {
            code: "INCONSISTENT_DESCRIPTION",
            message: message.into(),
            places: vec![place(subgraph, 1)],
            hint: None,
        };
        assert!(locate_hint(&hint("reviews", "x"), &inputs).is_none());
        assert!(locate_hint(&hint("users", "y"), &inputs).is_some());
        inputs
            .current_hints
            .insert(("INCONSISTENT_DESCRIPTION", "y".into()));
        assert!(locate_hint(&hint("users", "y"), &inputs).is_none());
    }
}
