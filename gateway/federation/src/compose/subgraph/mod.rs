//! Loading one subgraph for composition: parse its SDL, tell Federation 1 from 2, resolve the
//! local names of federation directives (`@link` imports, `as:` renames, `@federation__x`),
//! add the definitions the SDL leaves implicit, drop the `_entities`/`_service` plumbing, and
//! validate it as GraphQL.

use apollo_compiler::ast::{Definition, Document};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use super::errors::{Diagnostics, Place};
use crate::supergraph::links::{LinkedSpec, linked_spec, parse_spec_url};
use crate::supergraph::read::span_location;

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

/// Local names of the federation directives and types in one subgraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FedNames {
    pub key: String,
    pub requires: String,
    pub provides: String,
    pub external: String,
    pub extends: String,
    pub shareable: String,
    pub inaccessible: String,
    pub override_: String,
    pub tag: String,
    pub interface_object: String,
    pub compose_directive: String,
    pub authenticated: String,
    pub requires_scopes: String,
    pub policy: String,
    pub context: String,
    pub from_context: String,
    pub cost: String,
    pub list_size: String,
    pub cache_tag: String,
    /// Local names (without `@`) of custom directives kept by `@composeDirective`.
    pub composed: Vec<String>,
    /// Those of `composed` that this subgraph defines as repeatable.
    pub composed_repeatable: Vec<String>,
    pub field_set: String,
    pub scope: String,
    pub policy_type: String,
    pub context_field_value: String,
}

impl FedNames {
    fn resolve(federation: Option<&LinkedSpec>) -> FedNames {
        let d = |element: &str| match federation {
            Some(spec) => spec.directive(element),
            None => element.to_owned(),
        };
        let t = |element: &str, fed1: &str| match federation {
            Some(spec) => spec.type_name(element),
            None => fed1.to_owned(),
        };
        FedNames {
            key: d("key"),
            requires: d("requires"),
            provides: d("provides"),
            external: d("external"),
            extends: d("extends"),
            shareable: d("shareable"),
            inaccessible: d("inaccessible"),
            override_: d("override"),
            tag: d("tag"),
            interface_object: d("interfaceObject"),
            compose_directive: d("composeDirective"),
            authenticated: d("authenticated"),
            requires_scopes: d("requiresScopes"),
            policy: d("policy"),
            context: d("context"),
            from_context: d("fromContext"),
            cost: d("cost"),
            list_size: d("listSize"),
            cache_tag: d("cacheTag"),
            composed: Vec::new(),
            composed_repeatable: Vec::new(),
            field_set: t("FieldSet", "_FieldSet"),
            scope: t("Scope", "federation__Scope"),
            policy_type: t("Policy", "federation__Policy"),
            context_field_value: t("ContextFieldValue", "federation__ContextFieldValue"),
        }
    }

    /// Whether `name` (a directive, without `@`) is one of federation's.
    pub fn is_federation_directive(&self, name: &str) -> bool {
        [
            &self.key,
            &self.requires,
            &self.provides,
            &self.external,
            &self.extends,
            &self.shareable,
            &self.inaccessible,
            &self.override_,
            &self.tag,
            &self.interface_object,
            &self.compose_directive,
            &self.authenticated,
            &self.requires_scopes,
            &self.policy,
            &self.context,
            &self.from_context,
            &self.cost,
            &self.list_size,
            &self.cache_tag,
        ]
        .iter()
        .any(|n| n.as_str() == name)
            || name == "link"
            || name.starts_with("federation__")
    }

    /// Whether `name` is a type that only exists for federation's directives.
    pub fn is_federation_type(&self, name: &str) -> bool {
        [
            &self.field_set,
            &self.scope,
            &self.policy_type,
            &self.context_field_value,
        ]
        .iter()
        .any(|n| n.as_str() == name)
            || matches!(
                name,
                "_Any"
                    | "_Entity"
                    | "_Service"
                    | "_FieldSet"
                    | "FieldSet"
                    | "link__Import"
                    | "link__Purpose"
            )
            || name.starts_with("federation__")
            || name.starts_with("link__")
    }
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
                Err(message) => diagnostics.error(
                    "INVALID_LINK_DIRECTIVE_USAGE",
                    format!("[{}] {message}", input.name),
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

/// The name under which the definitions a subgraph leaves out are added to it.
pub const IMPLICIT_DEFINITIONS_FILE: &str = "federation-definitions.graphql";

/// The federation definitions, with this subgraph's local names, as the spec writes them.
pub fn spec_definitions(sg: &Subgraph) -> Document {
    let sdl = implicit_definitions(&sg.names, sg.fed2, sg.version)
        .into_iter()
        .map(|(_, sdl)| sdl)
        .collect::<Vec<_>>()
        .join("\n");
    match Document::parse(sdl, "federation-spec.graphql") {
        Ok(doc) => doc,
        Err(with_errors) => with_errors.partial,
    }
}

/// The latest federation spec version composition knows (Apollo composition 2.14's).
pub const LATEST_FEDERATION_VERSION: (u32, u32) = (2, 14);

/// Federation versions are 2.0 up to the composition's; a later one may mean anything.
fn federation_version_known(version: (u32, u32), max: (u32, u32)) -> bool {
    version.0 == 2 && version <= max.min(LATEST_FEDERATION_VERSION)
}

/// Federation directives may also come from their own specs (`@link(url:
/// "https://specs.apollo.dev/authenticated/v0.1")`): they are then named by that link, and the
/// subgraph needs the federation version that introduced them, to which it is implicitly
/// upgraded (with Apollo's hint). Returns the subgraph's federation version.
fn separately_linked_specs(
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
fn check_known_spec_imports(
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
fn check_import_renames(
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
fn check_federation_imports(
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

/// The federation definitions a subgraph may leave out, with the local names it uses.
fn implicit_definitions(n: &FedNames, fed2: bool, version: (u32, u32)) -> Vec<(&str, String)> {
    const ALL: &str = "FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | \
                       SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION";
    let fs = &n.field_set;
    let mut defs = vec![
        (fs.as_str(), format!("scalar {fs}")),
        (
            n.key.as_str(),
            format!(
                "directive @{}(fields: {fs}!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE",
                n.key
            ),
        ),
        (
            n.requires.as_str(),
            format!(
                "directive @{}(fields: {fs}!) on FIELD_DEFINITION",
                n.requires
            ),
        ),
        (
            n.provides.as_str(),
            format!(
                "directive @{}(fields: {fs}!) on FIELD_DEFINITION",
                n.provides
            ),
        ),
        (
            n.external.as_str(),
            format!(
                "directive @{}(reason: String) on OBJECT | FIELD_DEFINITION",
                n.external
            ),
        ),
        (
            n.extends.as_str(),
            format!("directive @{} on OBJECT | INTERFACE", n.extends),
        ),
        (
            n.tag.as_str(),
            format!(
                "directive @{}(name: String!) repeatable on {ALL} | SCHEMA",
                n.tag
            ),
        ),
        (
            n.inaccessible.as_str(),
            format!("directive @{} on {ALL}", n.inaccessible),
        ),
    ];
    if fed2 {
        defs.extend([
            (
                n.shareable.as_str(),
                format!("directive @{} repeatable on OBJECT | FIELD_DEFINITION", n.shareable),
            ),
            (
                n.override_.as_str(),
                // `label:` (progressive override) came with federation 2.7.
                if version >= (2, 7) {
                    format!(
                        "directive @{}(from: String!, label: String) on FIELD_DEFINITION",
                        n.override_
                    )
                } else {
                    format!("directive @{}(from: String!) on FIELD_DEFINITION", n.override_)
                },
            ),
            (
                n.compose_directive.as_str(),
                format!(
                    "directive @{}(name: String) repeatable on SCHEMA",
                    n.compose_directive
                ),
            ),
            (
                n.interface_object.as_str(),
                format!("directive @{} on OBJECT", n.interface_object),
            ),
            (
                n.authenticated.as_str(),
                format!(
                    "directive @{} on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
                    n.authenticated
                ),
            ),
            (n.scope.as_str(), format!("scalar {}", n.scope)),
            (
                n.requires_scopes.as_str(),
                format!(
                    "directive @{}(scopes: [[{}!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
                    n.requires_scopes, n.scope
                ),
            ),
            (n.policy_type.as_str(), format!("scalar {}", n.policy_type)),
            (
                n.policy.as_str(),
                format!(
                    "directive @{}(policies: [[{}!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
                    n.policy, n.policy_type
                ),
            ),
            (
                n.context.as_str(),
                format!(
                    "directive @{}(name: String!) repeatable on INTERFACE | OBJECT | UNION",
                    n.context
                ),
            ),
            (
                n.context_field_value.as_str(),
                format!("scalar {}", n.context_field_value),
            ),
            (
                n.from_context.as_str(),
                format!(
                    "directive @{}(field: {}) on ARGUMENT_DEFINITION",
                    n.from_context, n.context_field_value
                ),
            ),
            (
                n.cost.as_str(),
                format!(
                    "directive @{}(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
                    n.cost
                ),
            ),
            (
                n.cache_tag.as_str(),
                format!(
                    "directive @{}(format: String!) repeatable on OBJECT | FIELD_DEFINITION",
                    n.cache_tag
                ),
            ),
            (
                n.list_size.as_str(),
                format!(
                    "directive @{}(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
                    n.list_size
                ),
            ),
            ("link__Import", "scalar link__Import".to_owned()),
            (
                "link__Purpose",
                "enum link__Purpose { SECURITY EXECUTION }".to_owned(),
            ),
            (
                "link",
                "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA"
                    .to_owned(),
            ),
        ]);
    }
    defs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, sdl: &str) -> SubgraphInput {
        SubgraphInput {
            name: name.to_owned(),
            url: format!("http://{name}"),
            sdl: sdl.to_owned(),
            source: format!("{name}.graphql"),
        }
    }

    #[test]
    fn fed2_names_follow_imports_and_renames() {
        let mut d = Diagnostics::default();
        let sg = load(
            &input(
                "a",
                r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [{name: "@key", as: "@primaryKey"}, "@shareable"])
                type Query { t: T }
                type T @primaryKey(fields: "id") { id: ID! x: Int @shareable @federation__external }"#,
            ),
            &mut d,
        )
        .unwrap_or_else(|| panic!("{:?}", d.errors));
        assert!(sg.fed2);
        assert_eq!(sg.version, (2, 3));
        assert_eq!(sg.names.key, "primaryKey");
        assert_eq!(sg.names.shareable, "shareable");
        assert_eq!(sg.names.external, "federation__external");
    }

    #[test]
    fn fed1_orphan_extensions_and_plumbing() {
        let mut d = Diagnostics::default();
        let sg = load(
            &input(
                "b",
                r#"scalar _Any
                type _Service { sdl: String }
                extend type Query { me: User _service: _Service! }
                extend type User @key(fields: "id") { id: ID! @external reviews: [String] }"#,
            ),
            &mut d,
        )
        .unwrap_or_else(|| panic!("{:?}", d.errors));
        assert!(!sg.fed2);
        assert!(sg.schema.types.contains_key("User"));
        assert!(!sg.schema.types.contains_key("_Service"));
        let query = sg.schema.get_object("Query").expect("Query");
        assert!(!query.fields.contains_key("_service"));
    }

    #[test]
    fn invalid_graphql_is_located() {
        let mut d = Diagnostics::default();
        assert!(load(&input("c", "type Query {\n  a: Nope\n}"), &mut d).is_none());
        assert_eq!(d.errors[0].code, "INVALID_GRAPHQL");
        assert_eq!(
            (d.errors[0].places[0].line, d.errors[0].places[0].column),
            (2, 6)
        );
    }
}
