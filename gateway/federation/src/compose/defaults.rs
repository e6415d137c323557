//! Default values of arguments and input fields across subgraphs (Apollo's
//! `mergeDefaultValue`). Defaults sit in input positions, so they intersect: the supergraph
//! keeps a default only if every subgraph gives the same one (a subgraph without it would be
//! sent no value where the supergraph promised one). Two different defaults are an error; a
//! default in only some subgraphs is dropped, with a hint.

use apollo_compiler::Node;
use apollo_compiler::ast::Value;

use super::errors::{Diagnostics, Place};
use super::mismatch::{distribution, error_distribution};

/// One subgraph's definition of the element.
pub struct Source<'a> {
    pub subgraph: &'a str,
    pub default: Option<&'a Node<Value>>,
    pub place: Place,
}

/// What an element is, for messages: `Argument "T.f(a:)"` or `Input field "I.f"`.
pub struct Element<'a> {
    pub argument: bool,
    pub coordinate: &'a str,
}

/// The supergraph's default value for the element.
pub fn merge(element: &Element, sources: &[Source], d: &mut Diagnostics) -> Option<Node<Value>> {
    let printed = |s: &Source| s.default.map(|v| v.to_string());
    let mut dest: Option<&Node<Value>> = None;
    let (mut seen, mut inconsistent, mut incompatible) = (false, false, false);
    for s in sources {
        match dest {
            None => {
                dest = s.default;
                inconsistent |= seen && s.default.is_some();
            }
            Some(v) if Some(v.to_string()) != printed(s) => {
                inconsistent = true;
                incompatible |= s.default.is_some();
            }
            Some(_) => {}
        }
        seen = true;
    }
    let kind = if element.argument {
        "Argument"
    } else {
        "Input field"
    };
    let coordinate = element.coordinate;
    let places = || sources.iter().map(|s| s.place.clone()).collect::<Vec<_>>();
    if incompatible {
        let entries: Vec<(String, String)> = sources
            .iter()
            .map(|s| {
                let value = printed(s).map_or("no default value".to_owned(), |v| {
                    format!("default value {v}")
                });
                (value, s.subgraph.to_owned())
            })
            .collect();
        let supergraph = dest.map(|v| format!("default value {v}"));
        let parts = distribution(&entries, supergraph.as_deref());
        d.error_with_hint(
            if element.argument {
                "FIELD_ARGUMENT_DEFAULT_MISMATCH"
            } else {
                "INPUT_FIELD_DEFAULT_MISMATCH"
            },
            format!(
                "{kind} \"{coordinate}\" has incompatible default values across subgraphs: it has {}",
                error_distribution(&parts)
            ),
            places(),
            "give it the same default value in every subgraph",
        );
        return dest.cloned();
    }
    if inconsistent {
        presence_hint(kind, coordinate, sources, places(), d);
        return None;
    }
    dest.cloned()
}

/// A default in only some subgraphs is dropped from the supergraph.
fn presence_hint(
    kind: &str,
    coordinate: &str,
    sources: &[Source],
    places: Vec<Place>,
    d: &mut Diagnostics,
) {
    let without: Vec<String> = sources
        .iter()
        .filter(|s| s.default.is_none())
        .map(|s| format!("\"{}\"", s.subgraph))
        .collect();
    let with: Vec<(String, String)> = sources
        .iter()
        .filter_map(|s| Some((s.default?.to_string(), s.subgraph.to_owned())))
        .collect();
    let others: Vec<String> = distribution(&with, None)
        .into_iter()
        .map(|part| format!("\"{coordinate}\" has default value {part}"))
        .collect();
    d.hint(
        "INCONSISTENT_DEFAULT_VALUE_PRESENCE",
        format!(
            "{kind} \"{coordinate}\" has a default value in only some subgraphs: will not use a default in the supergraph (there is no default in {}) but {}.",
            super::mismatch::subgraphs_list(&without),
            others.join(" and ")
        ),
        places,
    );
}
