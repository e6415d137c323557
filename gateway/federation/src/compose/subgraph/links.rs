//! `@link`s and their imports: which federation versions composition knows, the federation
//! elements each version defines, imports that name no element of their spec or rename one
//! to the wrong kind, and the versions that separately linked specs imply.

use apollo_compiler::ast::{Definition, Document};

use super::{FedNames, LATEST_FEDERATION_VERSION, SubgraphInput};
use crate::compose::errors::{Diagnostics, Place};
use crate::supergraph::links::LinkedSpec;
use crate::supergraph::read::span_location;

/// Federation versions are 2.0 up to the composition's; a later one may mean anything.
pub(super) fn federation_version_known(version: (u32, u32), max: (u32, u32)) -> bool {
    version.0 == 2 && version <= max.min(LATEST_FEDERATION_VERSION)
}

/// Federation directives may also come from their own specs (`@link(url:
/// "https://specs.apollo.dev/authenticated/v0.1")`): they are then named by that link, and the
/// subgraph needs the federation version that introduced them, to which it is implicitly
/// upgraded (with Apollo's hint). Returns the subgraph's federation version.
pub(super) fn separately_linked_specs(
    links: &[LinkedSpec],
    names: &mut FedNames,
    version: (u32, u32),
    input: &SubgraphInput,
    diagnostics: &mut Diagnostics,
) -> (u32, u32) {
    let mut implied = version;
    for link in links {
        let Some(spec) = link.identity.strip_prefix("https://specs.apollo.dev/") else {
            continue;
        };
        let (minimum, targets): ((u32, u32), Vec<(&mut String, &str)>) = match spec {
            "authenticated" => ((2, 5), vec![(&mut names.authenticated, "authenticated")]),
            "requiresScopes" => ((2, 5), vec![(&mut names.requires_scopes, "requiresScopes")]),
            "policy" => ((2, 6), vec![(&mut names.policy, "policy")]),
            "context" => (
                (2, 8),
                vec![
                    (&mut names.context, "context"),
                    (&mut names.from_context, "fromContext"),
                ],
            ),
            "cost" => (
                (2, 9),
                vec![
                    (&mut names.cost, "cost"),
                    (&mut names.list_size, "listSize"),
                ],
            ),
            _ => continue,
        };
        for (target, element) in targets {
            *target = link.directive(element);
        }
        implied = implied.max(minimum);
    }
    if implied > version {
        diagnostics.hint(
            "IMPLICITLY_UPGRADED_FEDERATION_VERSION",
            format!(
                "Subgraph {} has been implicitly upgraded from federation v{}.{} to v{}.{}",
                input.name, version.0, version.1, implied.0, implied.1
            ),
            Vec::new(),
        );
    }
    implied
}

/// The elements of Apollo's other specs (federation's are in `federation_elements`).
fn known_spec_elements(identity: &str) -> Option<&'static [&'static str]> {
    let name = identity.strip_prefix("https://specs.apollo.dev/")?;
    Some(match name {
        "link" => &["@link", "Purpose", "Import"],
        "join" => &[
            "@graph",
            "@type",
            "@field",
            "@implements",
            "@unionMember",
            "@enumValue",
            "@owner",
            "@directive",
            "FieldSet",
            "Graph",
            "FieldValue",
            "DirectiveArguments",
            "ContextArgument",
        ],
        "tag" => &["@tag"],
        "inaccessible" => &["@inaccessible"],
        "authenticated" => &["@authenticated"],
        "requiresScopes" => &["@requiresScopes", "Scope"],
        "policy" => &["@policy", "Policy"],
        "context" => &["@context", "@fromContext", "ContextFieldValue"],
        "cost" => &["@cost", "@listSize"],
        _ => return None,
    })
}

/// Imports from one of Apollo's specs name elements of that spec.
pub(super) fn check_known_spec_imports(
    spec: &LinkedSpec,
    input: &SubgraphInput,
    diagnostics: &mut Diagnostics,
    place: Place,
) {
    let Some(known) = known_spec_elements(&spec.identity) else {
        return;
    };
    for (element, _) in &spec.imports {
        if !known.contains(&element.as_str()) {
            diagnostics.error(
                "INVALID_LINK_DIRECTIVE_USAGE",
                format!(
                    "[{}] Cannot import unknown element \"{element}\".",
                    input.name
                ),
                vec![place.clone()],
            );
        }
    }
}

/// An import renamed with `as:` keeps its kind: a directive's new name starts with `@`, a
/// type's does not.
pub(super) fn check_import_renames(
    spec: &LinkedSpec,
    input: &SubgraphInput,
    diagnostics: &mut Diagnostics,
    place: Place,
) {
    for (element, local) in &spec.imports {
        let (what, ok) = if element.starts_with('@') {
            ("directive", local.starts_with('@'))
        } else {
            ("type", !local.starts_with('@'))
        };
        if !ok {
            let rule = if what == "directive" {
                "should start with a '@' character"
            } else {
                "should not start with a '@' character"
            };
            diagnostics.error(
                "INVALID_LINK_DIRECTIVE_USAGE",
                format!(
                    "[{}] Invalid @link import renaming: {what} \"{element}\" imported name {rule}, but got \"{local}\".",
                    input.name
                ),
                vec![place.clone()],
            );
        }
    }
}

/// The elements (directives with `@`, types without) a federation spec version defines.
fn federation_elements(version: (u32, u32)) -> Vec<&'static str> {
    let mut known = vec![
        "FieldSet",
        "@key",
        "@requires",
        "@provides",
        "@external",
        "@tag",
        "@extends",
        "@shareable",
        "@inaccessible",
        "@override",
    ];
    let since: [((u32, u32), &[&'static str]); 7] = [
        ((2, 1), &["@composeDirective"]),
        ((2, 3), &["@interfaceObject"]),
        ((2, 5), &["@authenticated", "@requiresScopes", "Scope"]),
        ((2, 6), &["@policy", "Policy"]),
        ((2, 8), &["@context", "@fromContext", "ContextFieldValue"]),
        ((2, 9), &["@cost", "@listSize"]),
        ((2, 12), &["@cacheTag"]),
    ];
    for (min, elements) in since {
        if version >= min {
            known.extend_from_slice(elements);
        }
    }
    known
}

/// Every name a `@link` to the federation spec imports must be one that version defines.
pub(super) fn check_federation_imports(
    spec: &LinkedSpec,
    input: &SubgraphInput,
    doc: &Document,
    diagnostics: &mut Diagnostics,
) {
    let known = federation_elements(spec.version);
    let link = doc.definitions.iter().find_map(|def| {
        let directives = match def {
            Definition::SchemaDefinition(s) => &s.directives,
            Definition::SchemaExtension(s) => &s.directives,
            _ => return None,
        };
        directives.get_all("link").find(|d| {
            d.specified_argument_by_name("url")
                .and_then(|v| v.as_str())
                .is_some_and(|u| u == spec.url)
        })
    });
    let (line, column) = link
        .and_then(|l| span_location(l.location(), &doc.sources))
        .unwrap_or((1, 1));
    let place = Place {
        subgraph: input.name.clone(),
        source: input.source.clone(),
        line,
        column,
    };
    for (element, _) in &spec.imports {
        if known.contains(&element.as_str()) {
            continue;
        }
        let (major, minor) = spec.version;
        let details =
            if !element.starts_with('@') && known.contains(&format!("@{element}").as_str()) {
                format!(" Did you mean directive \"@{element}\"?")
            } else {
                String::new()
            };
        diagnostics.error_with_hint(
            "INVALID_LINK_DIRECTIVE_USAGE",
            format!(
                "[{}] Cannot import unknown element \"{element}\".{details}",
                input.name
            ),
            vec![place.clone()],
            format!("federation v{major}.{minor} defines: {}", known.join(", ")),
        );
    }
}
