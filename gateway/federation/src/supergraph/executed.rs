//! Whether the gateway executes everything a supergraph asks of it. A linked spec marked
//! `for: EXECUTION` or `for: SECURITY` changes what a correct answer is (or who may see it):
//! serving a supergraph whose such features are ignored would give wrong data, or leak it.
//! Such a supergraph is refused at load, naming what is not executed.

use apollo_compiler::Schema;

use super::error::Diagnostic;
use super::links::{APOLLO_SPECS, LinkedSpec};
use super::read::{location_of, string_arg};

/// The Apollo specs whose directives Weft executes or enforces (by their names in
/// `https://specs.apollo.dev/<name>`): the bootstrap specs, join (planning), inaccessible
/// (API schema), tag (metadata only), authenticated/requiresScopes/policy (auth), cost
/// (demand control), context (`@fromContext` arguments, by the planner).
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
    "context",
];

/// Every linked feature the gateway would ignore though the supergraph needs it executed: each
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
        if executed {
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
    out
}
