//! Loading one subgraph for composition: parse its SDL, tell Federation 1 from 2, resolve the
//! local names of federation directives (`@link` imports, `as:` renames, `@federation__x`),
//! add the definitions the SDL leaves implicit, drop the `_entities`/`_service` plumbing, and
//! validate it as GraphQL.
//!
//! This module holds the loader and the loaded subgraph; the local names of federation's
//! elements, the checks of `@link`s and their imports, and the implicit definitions have
//! their own modules.

mod implicit;
mod links;
mod names;

use apollo_compiler::ast::{Definition, Document};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use super::errors::{Diagnostics, Place};
use crate::supergraph::links::{LinkedSpec, linked_spec, parse_spec_url};
use crate::supergraph::read::span_location;

use implicit::implicit_definitions;
pub use implicit::{IMPLICIT_DEFINITIONS_FILE, spec_definitions};
use links::{
    check_federation_imports, check_import_renames, check_known_spec_imports,
    federation_version_known, separately_linked_specs,
};
pub use names::FedNames;

/// A subgraph as the composition config names it.
#[derive(Clone, Debug)]
pub struct SubgraphInput {
    pub name: String,
    /// Routing URL written into the supergraph.
    pub url: String,
    pub sdl: String,
    /// Where the SDL came from, for error locations (a path or URL).
    pub source: String,
}

/// A subgraph ready to merge.
#[derive(Debug, Clone)]
pub struct Subgraph {
    pub name: String,
    pub url: String,
    pub source: String,
    pub schema: Valid<Schema>,
    pub names: FedNames,
    /// Federation 2 (`@link` to the federation spec) or Federation 1.
    pub fed2: bool,
    /// Federation spec version (`(2, 5)`); `(1, 0)` for Federation 1.
    pub version: (u32, u32),
    /// Every spec linked with `@link` (federation's included).
    pub links: Vec<LinkedSpec>,
    /// Local root type names: query, mutation, subscription.
    pub roots: [Option<Name>; 3],
    /// Types the SDL only extends (`extend type X`) without defining them.
    pub extension_only: std::collections::HashSet<Name>,
}

impl Subgraph {
    /// A place in this subgraph's SDL.
    pub fn place(&self, span: Option<apollo_compiler::parser::SourceSpan>) -> Place {
        let (line, column) = span_location(span, &self.schema.sources).unwrap_or((1, 1));
        Place {
            subgraph: self.name.clone(),
            source: self.source.clone(),
            line,
            column,
        }
    }

    /// The canonical name (`Query`, `Mutation`, `Subscription`) of a local root type name.
    pub fn canonical_type_name<'a>(&self, local: &'a str) -> &'a str {
        const CANONICAL: [&str; 3] = ["Query", "Mutation", "Subscription"];
        for (i, root) in self.roots.iter().enumerate() {
            if root.as_ref().is_some_and(|r| r == local) {
                return CANONICAL[i];
            }
        }
        local
    }
}

/// Loads a subgraph; problems go to `diagnostics` (code `INVALID_GRAPHQL` and friends).
pub fn load(input: &SubgraphInput, diagnostics: &mut Diagnostics) -> Option<Subgraph> {
    load_at(input, LATEST_FEDERATION_VERSION, diagnostics)
}

/// [`load`] by a composition of federation version `max` (`federation_version` in
/// supergraph.yaml, as Rover picks its composition): a subgraph linking a later federation
/// version is one that composition does not know.
pub fn load_at(
    input: &SubgraphInput,
    max: (u32, u32),
    diagnostics: &mut Diagnostics,
) -> Option<Subgraph> {
    let place_in = |sources: &apollo_compiler::parser::SourceMap, loc: Option<(usize, usize)>| {
        let _ = sources;
        let (line, column) = loc.unwrap_or((1, 1));
        Place {
            subgraph: input.name.clone(),
            source: input.source.clone(),
            line,
            column,
        }
    };
    // `_` names the supergraph's own fields in query plans; no subgraph may take it.
    if input.name == "_" {
        diagnostics.error(
            "INVALID_SUBGRAPH_NAME",
            "Invalid name _ for a subgraph: this name is reserved",
            vec![place_in(&Default::default(), None)],
        );
        return None;
    }
    let mut doc = match Document::parse(input.sdl.as_str(), input.source.as_str()) {
        Ok(doc) => doc,
        Err(with_errors) => {
            for d in with_errors.errors.iter() {
                let json = d.to_json();
                let loc = json.locations.first().map(|l| (l.line, l.column));
                diagnostics.error(
                    "INVALID_GRAPHQL",
                    format!("[{}] {}", input.name, json.message),
                    vec![place_in(&with_errors.partial.sources, loc)],
                );
            }
            return None;
        }
    };

    // @link applications on `schema` / `extend schema`.
    let mut links = Vec::new();
    for def in &doc.definitions {
        let directives = match def {
            Definition::SchemaDefinition(s) => &s.directives,
            Definition::SchemaExtension(s) => &s.directives,
            _ => continue,
        };
        for d in directives.get_all("link") {
            let place = || place_in(&doc.sources, span_location(d.location(), &doc.sources));
            // A URL that names no spec version is not a link identifier at all.
            let url = d.specified_argument_by_name("url").and_then(|v| v.as_str());
            if let Some(url) = url.filter(|u| parse_spec_url(u).is_none()) {
                diagnostics.error(
                    "INVALID_LINK_IDENTIFIER",
                    format!(
                        "[{}] Invalid @link URL \"{url}\": expected https://host/name/vX.Y",
                        input.name
                    ),
                    vec![place()],
                );
                continue;
            }
            match linked_spec(d, "url") {
                Ok(spec) => {
                    check_import_renames(&spec, input, diagnostics, place());
                    check_known_spec_imports(&spec, input, diagnostics, place());
                    // A spec is linked once. Federation subgraphs get `link/v1.0` implicitly:
                    // linking another version of it links it twice.
                    let twice = links
                        .iter()
                        .any(|l: &LinkedSpec| l.identity == spec.identity)
                        || (spec.identity == "https://specs.apollo.dev/link"
                            && spec.version != (1, 0));
                    if twice {
                        diagnostics.error(
                            "INVALID_LINK_DIRECTIVE_USAGE",
                            format!(
                                "[{}] Cannot link feature \"{}\" since it has already been linked in the schema.",
                                input.name, spec.identity
                            ),
                            vec![place()],
                        );
                    }
                    links.push(spec);
                }
                Err(e) => diagnostics.error(
                    "INVALID_LINK_DIRECTIVE_USAGE",
                    format!("[{}] {e}", input.name),
                    vec![place()],
                ),
            }
        }
    }
    let federation = links
        .iter()
        .find(|l| l.identity == "https://specs.apollo.dev/federation")
        .cloned();
    if let Some(spec) = &federation {
        if !federation_version_known(spec.version, max) {
            let (major, minor) = spec.version;
            diagnostics.error(
                "UNKNOWN_FEDERATION_LINK_VERSION",
                format!(
                    "[{}] Invalid version v{major}.{minor} for the federation feature in @link directive on schema",
                    input.name
                ),
                vec![place_in(&doc.sources, None)],
            );
            return None;
        }
        check_federation_imports(spec, input, &doc, diagnostics);
    }
    let mut names = FedNames::resolve(federation.as_ref());
    let mut version = federation.as_ref().map_or((1, 0), |f| f.version);
    if federation.is_some() {
        version = separately_linked_specs(&links, &mut names, version, input, diagnostics);
    }
    for def in &doc.definitions {
        let directives = match def {
            Definition::SchemaDefinition(s) => &s.directives,
            Definition::SchemaExtension(s) => &s.directives,
            _ => continue,
        };
        for d in directives.get_all(&names.compose_directive) {
            if let Some(name) = d
                .specified_argument_by_name("name")
                .and_then(|v| v.as_str())
            {
                // Federation's own directives are carried by their own rules, never as
                // custom ones (`composed::validate` reports composing them).
                let name = name.trim_start_matches('@');
                if !names.is_federation_directive(name) {
                    names.composed.push(name.to_owned());
                }
            }
        }
    }
    let fed2 = federation.is_some();

    let extension_only = extension_only_types(&doc);
    strip_plumbing(&mut doc);
    let defined: std::collections::HashSet<String> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::DirectiveDefinition(d) => Some(d.name.to_string()),
            Definition::ScalarTypeDefinition(d) => Some(d.name.to_string()),
            Definition::EnumTypeDefinition(d) => Some(d.name.to_string()),
            _ => None,
        })
        .collect();
    let mut implicit = implicit_definitions(&names, fed2, version)
        .into_iter()
        .filter(|(name, _)| !defined.contains(*name))
        .map(|(_, sdl)| sdl)
        .collect::<Vec<_>>()
        .join("\n");
    // A subgraph may have no Query of its own (subgraph libraries add `_entities` and
    // `_service` to one); give it the root it will have when served. Merging skips the
    // placeholder field.
    let has_query = doc.definitions.iter().any(|d| match d {
        Definition::SchemaDefinition(s) => s
            .root_operations
            .iter()
            .any(|r| r.0 == apollo_compiler::ast::OperationType::Query),
        _ => d.name().is_some_and(|n| n == "Query"),
    });
    if !has_query {
        implicit.push_str("\ntype Query { _service: String }");
    }
    let implicit_doc = match Document::parse(implicit, IMPLICIT_DEFINITIONS_FILE) {
        Ok(doc) => doc,
        Err(with_errors) => with_errors.partial,
    };

    let built = Schema::builder()
        .adopt_orphan_extensions()
        .ignore_builtin_redefinitions()
        .add_ast(&doc)
        .add_ast(&implicit_doc)
        .build();
    let validated = match built {
        Ok(schema) => schema.validate(),
        Err(with_errors) => Err(with_errors),
    };
    let schema = match validated {
        Ok(schema) => schema,
        Err(with_errors) => {
            for d in with_errors.errors.iter() {
                let json = d.to_json();
                let loc = json.locations.first().map(|l| (l.line, l.column));
                diagnostics.error(
                    "INVALID_GRAPHQL",
                    format!("[{}] {}", input.name, json.message),
                    vec![place_in(&with_errors.partial.sources, loc)],
                );
            }
            return None;
        }
    };
    names.composed_repeatable = names
        .composed
        .iter()
        .filter(|c| {
            schema
                .directive_definitions
                .get(c.as_str())
                .is_some_and(|d| d.repeatable)
        })
        .cloned()
        .collect();
    let def = &schema.schema_definition;
    let roots = [
        def.query.as_ref().map(|n| n.name.clone()),
        def.mutation.as_ref().map(|n| n.name.clone()),
        def.subscription.as_ref().map(|n| n.name.clone()),
    ];
    Some(Subgraph {
        name: input.name.clone(),
        url: input.url.clone(),
        source: input.source.clone(),
        schema,
        names,
        fed2,
        version,
        links,
        roots,
        extension_only,
    })
}

/// The latest federation spec version composition knows (Apollo composition 2.14's).
pub const LATEST_FEDERATION_VERSION: (u32, u32) = (2, 14);

/// Object and interface types that appear only as `extend type` in the document.
fn extension_only_types(doc: &Document) -> std::collections::HashSet<Name> {
    let mut defined = std::collections::HashSet::new();
    let mut extended = std::collections::HashSet::new();
    for def in &doc.definitions {
        match def {
            Definition::ObjectTypeDefinition(d) => {
                defined.insert(d.name.clone());
            }
            Definition::InterfaceTypeDefinition(d) => {
                defined.insert(d.name.clone());
            }
            Definition::ObjectTypeExtension(d) => {
                extended.insert(d.name.clone());
            }
            Definition::InterfaceTypeExtension(d) => {
                extended.insert(d.name.clone());
            }
            _ => {}
        }
    }
    extended.retain(|n| !defined.contains(n));
    extended
}

/// Removes what subgraph libraries add for the gateway (`_Service`, `_Any`, `_Entity`,
/// `Query._entities`, `Query._service`): composition regenerates none of it.
fn strip_plumbing(doc: &mut Document) {
    doc.definitions.retain(|d| {
        !matches!(
            d.name().map(|n| n.as_str()),
            Some("_Service" | "_Any" | "_Entity")
        )
    });
    for def in &mut doc.definitions {
        let fields = match def {
            Definition::ObjectTypeDefinition(o) => &mut o.make_mut().fields,
            Definition::ObjectTypeExtension(o) => &mut o.make_mut().fields,
            _ => continue,
        };
        fields.retain(|f| f.name != "_entities" && f.name != "_service");
    }
}

#[cfg(test)]
mod tests;
