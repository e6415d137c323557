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
    const AUTH: &str = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM";
    let fs = &n.field_set;
    let mut defs = vec![
        scalar(fs),
        directive(
            &n.key,
            format!("(fields: {fs}!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE"),
        ),
        directive(&n.requires, format!("(fields: {fs}!) on FIELD_DEFINITION")),
        directive(&n.provides, format!("(fields: {fs}!) on FIELD_DEFINITION")),
        directive(&n.external, "(reason: String) on OBJECT | FIELD_DEFINITION"),
        directive(&n.extends, " on OBJECT | INTERFACE"),
        directive(
            &n.tag,
            format!("(name: String!) repeatable on {ALL} | SCHEMA"),
        ),
        directive(&n.inaccessible, format!(" on {ALL}")),
    ];
    if fed2 {
        // `label:` (progressive override) came with federation 2.7.
        let override_label = if version >= (2, 7) {
            ", label: String"
        } else {
            ""
        };
        defs.extend([
            directive(&n.shareable, " repeatable on OBJECT | FIELD_DEFINITION"),
            directive(
                &n.override_,
                format!("(from: String!{override_label}) on FIELD_DEFINITION"),
            ),
            directive(&n.compose_directive, "(name: String) repeatable on SCHEMA"),
            directive(&n.interface_object, " on OBJECT"),
            directive(&n.authenticated, format!(" on {AUTH}")),
            scalar(&n.scope),
            directive(
                &n.requires_scopes,
                format!("(scopes: [[{}!]!]!) on {AUTH}", n.scope),
            ),
            scalar(&n.policy_type),
            directive(
                &n.policy,
                format!("(policies: [[{}!]!]!) on {AUTH}", n.policy_type),
            ),
            directive(
                &n.context,
                "(name: String!) repeatable on INTERFACE | OBJECT | UNION",
            ),
            scalar(&n.context_field_value),
            directive(
                &n.from_context,
                format!("(field: {}) on ARGUMENT_DEFINITION", n.context_field_value),
            ),
            directive(
                &n.cost,
                "(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | \
                 INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
            ),
            directive(
                &n.cache_tag,
                "(format: String!) repeatable on OBJECT | FIELD_DEFINITION",
            ),
            directive(
                &n.list_size,
                "(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], \
                 requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
            ),
            scalar("link__Import"),
            (
                "link__Purpose",
                "enum link__Purpose { SECURITY EXECUTION }".to_owned(),
            ),
            directive(
                "link",
                "(url: String, as: String, for: link__Purpose, import: [link__Import]) \
                 repeatable on SCHEMA",
            ),
        ]);
    }
    defs
}

/// The directive known locally as `name`, declared as `directive @name` and then `rest`
/// (its arguments and locations).
fn directive(name: &str, rest: impl std::fmt::Display) -> (&str, String) {
    (name, format!("directive @{name}{rest}"))
}

/// The scalar known locally as `name`.
fn scalar(name: &str) -> (&str, String) {
    (name, format!("scalar {name}"))
}
