//! `@composeDirective` checks (Apollo's `ComposeDirectiveManager.validate`), run before
//! merging: a directive kept in the supergraph must be defined, belong to a spec linked with
//! `@link` (the supergraph links that spec in turn), not be one of federation's own, and mean
//! the same directive of the same spec in every subgraph that composes it.

use std::collections::BTreeMap;

use apollo_compiler::Node;
use apollo_compiler::ast::Directive;

use super::errors::Diagnostics;
use super::subgraph::Subgraph;
use crate::supergraph::links::LinkedSpec;

/// Specs whose directives composition handles itself (or never carries).
const DISALLOWED_IDENTITIES: [&str; 11] = [
    "https://specs.apollo.dev/core",
    "https://specs.apollo.dev/join",
    "https://specs.apollo.dev/link",
    "https://specs.apollo.dev/tag",
    "https://specs.apollo.dev/inaccessible",
    "https://specs.apollo.dev/federation",
    "https://specs.apollo.dev/authenticated",
    "https://specs.apollo.dev/requiresScopes",
    "https://specs.apollo.dev/source",
    "https://specs.apollo.dev/context",
    "https://specs.apollo.dev/cost",
];

/// One valid `@composeDirective` of one subgraph.
struct Item<'a> {
    sg: &'a Subgraph,
    application: &'a Node<Directive>,
    /// The directive's name in its spec.
    name_in_spec: String,
    identity: String,
    /// The linked spec's major version.
    major: u32,
}

pub fn validate(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    let mut by_local_name: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for sg in subgraphs {
        let applications = sg
            .schema
            .schema_definition
            .directives
            .get_all(&sg.names.compose_directive);
        for application in applications {
            if let Some((local, item)) = check_application(sg, subgraphs, application, d) {
                by_local_name.entry(local).or_default().push(item);
            }
        }
    }
    for (name, items) in &by_local_name {
        let places = || -> Vec<_> {
            items
                .iter()
                .map(|i| i.sg.place(i.application.location()))
                .collect()
        };
        if items
            .iter()
            .any(|i| i.name_in_spec != items[0].name_in_spec)
        {
            d.error(
                "DIRECTIVE_COMPOSITION_ERROR",
                format!(
                    "Composed directive \"@{name}\" does not refer to the same directive in every subgraph"
                ),
                places(),
            );
        }
        // Major versions of a spec may mean different directives: one cannot stand for both.
        if items
            .iter()
            .any(|i| i.identity == items[0].identity && i.major != items[0].major)
        {
            d.error(
                "DIRECTIVE_COMPOSITION_ERROR",
                format!(
                    "Core feature \"{}\" requested to be merged has major version mismatch across subgraphs",
                    items[0].identity
                ),
                places(),
            );
        }
        if items.iter().any(|i| i.identity != items[0].identity) {
            d.error(
                "DIRECTIVE_COMPOSITION_ERROR",
                format!(
                    "Composed directive \"@{name}\" is not linked by the same core feature in every subgraph"
                ),
                places(),
            );
        }
    }
}

/// Checks one `@composeDirective(name:)`; returns the directive's local name and what it
/// refers to when it is composable.
fn check_application<'a>(
    sg: &'a Subgraph,
    subgraphs: &[Subgraph],
    application: &'a Node<Directive>,
    d: &mut Diagnostics,
) -> Option<(String, Item<'a>)> {
    let place = || vec![sg.place(application.location())];
    let raw = application
        .specified_argument_by_name("name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if raw.is_empty() {
        d.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            format!(
                "Argument to @composeDirective in subgraph \"{}\" cannot be NULL or an empty String",
                sg.name
            ),
            place(),
        );
        return None;
    }
    let Some(name) = raw.strip_prefix('@') else {
        d.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            format!(
                "Argument to @composeDirective \"{raw}\" in subgraph \"{}\" must have a leading \"@\"",
                sg.name
            ),
            place(),
        );
        return None;
    };
    if !sg.schema.directive_definitions.contains_key(name) {
        d.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            format!(
                "Could not find matching directive definition for argument to @composeDirective \"@{name}\" in subgraph \"{}\".",
                sg.name
            ),
            place(),
        );
        return None;
    }
    let Some((link, name_in_spec)) = source_feature(&sg.links, name) else {
        d.error_with_hint(
            "DIRECTIVE_COMPOSITION_ERROR",
            format!(
                "Directive \"@{name}\" in subgraph \"{}\" cannot be composed because it is not a member of a core feature",
                sg.name
            ),
            place(),
            format!(
                "link the spec that defines it, e.g. `extend schema @link(url: \"https://example.com/myspec/v1.0\", import: [\"@{name}\"])`"
            ),
        );
        return None;
    };
    let Some(name_in_spec) = name_in_spec else {
        d.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            format!(
                "Directive \"@{name}\" in subgraph \"{}\" cannot be composed because it is imported to a different name",
                sg.name
            ),
            place(),
        );
        return None;
    };
    if DISALLOWED_IDENTITIES.contains(&link.identity.as_str()) {
        federation_directive(sg, application, name, raw, d);
        return None;
    }
    for (default, spec_element) in [("tag", "@tag"), ("inaccessible", "@inaccessible")] {
        let conflicting: Vec<&str> = subgraphs
            .iter()
            .filter(|s| federation_name(s, default) == name)
            .map(|s| s.name.as_str())
            .collect();
        if !conflicting.is_empty() {
            d.error(
                "DIRECTIVE_COMPOSITION_ERROR",
                format!(
                    "Directive \"@{name}\" in subgraph \"{}\" cannot be composed because it conflicts with automatically composed federation directive \"{spec_element}\". Conflict exists in subgraph(s): ({})",
                    sg.name,
                    conflicting.join(",")
                ),
                place(),
            );
            return None;
        }
    }
    Some((
        name.to_owned(),
        Item {
            sg,
            application,
            name_in_spec,
            identity: link.identity.clone(),
            major: link.version.0,
        },
    ))
}

/// Federation's own directives compose by themselves (a hint) or not at all (an error).
fn federation_directive(
    sg: &Subgraph,
    application: &Node<Directive>,
    name: &str,
    raw: &str,
    d: &mut Diagnostics,
) {
    let n = &sg.names;
    let by_default = [
        &n.tag,
        &n.inaccessible,
        &n.authenticated,
        &n.requires_scopes,
        &n.policy,
        &n.context,
    ];
    if by_default.iter().any(|x| x.as_str() == name) {
        d.hint(
            "DIRECTIVE_COMPOSITION_INFO",
            format!(
                "Directive \"@{name}\" should not be explicitly manually composed since it is a federation directive composed by default"
            ),
            vec![sg.place(application.location())],
        );
    } else {
        d.error(
            "DIRECTIVE_COMPOSITION_ERROR",
            format!(
                "Composing federation directive \"{raw}\" in subgraph \"{}\" is not supported",
                sg.name
            ),
            vec![sg.place(application.location())],
        );
    }
}

fn federation_name<'a>(sg: &'a Subgraph, element: &str) -> &'a str {
    match element {
        "tag" => &sg.names.tag,
        _ => &sg.names.inaccessible,
    }
}

/// The linked spec a directive named `local` comes from, and its name in that spec (`None`
/// if the local name is the spec's default name for an element imported under another name).
fn source_feature<'a>(
    links: &'a [LinkedSpec],
    local: &str,
) -> Option<(&'a LinkedSpec, Option<String>)> {
    let imported = format!("@{local}");
    for link in links {
        if let Some((element, _)) = link.imports.iter().find(|(_, l)| *l == imported) {
            return Some((link, Some(element.trim_start_matches('@').to_owned())));
        }
    }
    for link in links {
        let in_spec = if local == link.prefix {
            link.name.clone()
        } else if let Some(rest) = local
            .strip_prefix(link.prefix.as_str())
            .and_then(|r| r.strip_prefix("__"))
        {
            rest.to_owned()
        } else {
            continue;
        };
        let element = format!("@{in_spec}");
        let shadowed = link.imports.iter().any(|(e, _)| *e == element);
        return Some((link, (!shadowed).then_some(in_spec)));
    }
    None
}
