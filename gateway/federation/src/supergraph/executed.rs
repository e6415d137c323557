//! Whether the gateway executes everything a supergraph asks of it. A linked spec marked
//! `for: EXECUTION` or `for: SECURITY` changes what a correct answer is (or who may see it):
//! serving a supergraph whose such features are ignored would give wrong data, or leak it.
//! Such a supergraph is refused at load, naming what is not executed.

use apollo_compiler::Schema;
use apollo_compiler::schema::ExtendedType;

use super::error::Diagnostic;
use super::links::{APOLLO_SPECS, LinkedSpec};
use super::read::{location_of, string_arg};

/// The Apollo specs whose directives Weft executes or enforces (by their names in
/// `https://specs.apollo.dev/<name>`): the bootstrap specs, join (planning), inaccessible
/// (API schema), tag (metadata only), authenticated/requiresScopes/policy (auth), cost
/// (demand control). `context` is executed nowhere yet: fields that use it are refused one by
/// one ([`unexecuted`]).
pub const EXECUTED_SPECS: &[&str] = &[
    "link",
    "core",
    "join",
    "inaccessible",
    "tag",
    "authenticated",
    "requiresScopes",
    "policy",
    "cost",
];

/// Every linked feature the gateway would ignore though the supergraph needs it executed:
/// each field passing `@fromContext` arguments (`contextArguments` in `@join__field`), and each
/// link `for: EXECUTION` or `for: SECURITY` to a spec not in [`EXECUTED_SPECS`].
pub fn unexecuted(schema: &Schema, links: &[LinkedSpec]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for link in links {
        let Some(purpose) = link.purpose.as_deref() else {
            continue;
        };
        if purpose != "EXECUTION" && purpose != "SECURITY" {
            continue;
        }
        let apollo = link.identity.strip_prefix(APOLLO_SPECS);
        let executed = apollo.is_some_and(|name| EXECUTED_SPECS.contains(&name));
        // `context` is judged by its uses, below: a link nothing uses asks nothing.
        if executed || apollo == Some("context") {
            continue;
        }
        out.push(Diagnostic {
            message: format!(
                "the supergraph links {} `for: {purpose}`, which Weft does not execute: \
                 serving it would ignore what the spec requires",
                link.url
            ),
            location: schema
                .schema_definition
                .directives
                .iter()
                .find(|d| {
                    string_arg(d, "url").or_else(|| string_arg(d, "feature"))
                        == Some(link.url.as_str())
                })
                .and_then(|d| location_of(d, schema)),
            hint: Some(
                "compose the supergraph without this feature, or serve it with a gateway that \
                 executes it"
                    .to_owned(),
            ),
        });
    }
    let Some(join) = links
        .iter()
        .find(|l| l.identity == format!("{APOLLO_SPECS}join"))
    else {
        return out;
    };
    let join_field = join.directive("field");
    for (type_name, ty) in &schema.types {
        let fields = match ty {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => continue,
        };
        for (field_name, field) in fields {
            // The `@join__field` that passes context arguments: where the error points.
            let uses_context = field.directives.iter().find(|d| {
                d.name.as_str() == join_field
                    && d.specified_argument_by_name("contextArguments")
                        .and_then(|v| v.as_list())
                        .is_some_and(|items| !items.is_empty())
            });
            if let Some(directive) = uses_context {
                out.push(Diagnostic {
                    message: format!(
                        "field `{type_name}.{field_name}` takes arguments from a context \
                         (`@fromContext`, `contextArguments` in @join__field), which Weft does \
                         not execute yet: the arguments would silently not be passed"
                    ),
                    location: location_of(directive, schema),
                    hint: Some(
                        "until the planner executes @context/@fromContext, compose without \
                         them (pass the value as an ordinary argument or a @requires field)"
                            .to_owned(),
                    ),
                });
            }
        }
    }
    out
}
