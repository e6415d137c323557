//! The federation definitions a subgraph may leave out (directives, scalars and enums of the
//! spec version it links, with its local names): added when loading it, and compared against
//! what it defines itself.

use apollo_compiler::ast::Document;

use super::{FedNames, Subgraph};

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

/// The federation definitions a subgraph may leave out, with the local names it uses.
pub(super) fn implicit_definitions(
    n: &FedNames,
    fed2: bool,
    version: (u32, u32),
) -> Vec<(&str, String)> {
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
