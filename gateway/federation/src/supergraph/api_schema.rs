//! The API schema: what clients see. The supergraph minus its machinery (every linked spec's
//! directives and types: link, join, tag, inaccessible, auth, cost, ...), minus everything
//! `@inaccessible`, minus type-system directives that are not built in. Executable directives
//! stay, reduced to their executable locations.

use std::collections::HashSet;

use apollo_compiler::ast::{DirectiveList, DirectiveLocation, FieldDefinition};
use apollo_compiler::collections::IndexMap;
use apollo_compiler::schema::{Component, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use super::error::Diagnostic;
use super::links::LinkedSpec;

/// Derives the API schema of a (valid) supergraph schema.
pub fn derive(
    supergraph: &Schema,
    links: &[LinkedSpec],
    inaccessible: Option<&str>,
) -> Result<Valid<Schema>, Vec<Diagnostic>> {
    let mut api = supergraph.clone();
    let hidden = |directives: &DirectiveList| inaccessible.is_some_and(|name| directives.has(name));
    let owned_by_link = |name: &str| links.iter().any(|l| l.owns(name));

    // Directive definitions: drop every linked spec's, and every custom type-system-only one.
    api.directive_definitions.retain(|name, def| {
        def.is_built_in() || (!owned_by_link(name) && def.locations.iter().any(is_executable))
    });
    for def in api.directive_definitions.values_mut() {
        if !def.is_built_in() {
            def.make_mut().locations.retain(is_executable);
        }
    }
    // Type-system directive applications that survive are the built-in ones (`@deprecated`,
    // `@specifiedBy`, `@oneOf`): the rest were machinery or custom type-system directives.
    let keep: HashSet<Name> = api
        .directive_definitions
        .iter()
        .filter(|(_, d)| d.is_built_in())
        .map(|(n, _)| n.clone())
        .collect();

    let removed: HashSet<Name> = api
        .types
        .iter()
        .filter(|(name, ty)| {
            owned_by_link(name) || inaccessible.is_some_and(|i| ty.directives().has(i))
        })
        .map(|(name, _)| name.clone())
        .collect();
    api.types.retain(|name, _| !removed.contains(name));

    for ty in api.types.values_mut() {
        match ty {
            ExtendedType::Object(o) => {
                let o = o.make_mut();
                o.directives.0.retain(|d| keep.contains(&d.name));
                o.implements_interfaces
                    .retain(|i| !removed.contains(&i.name));
                strip_fields(&mut o.fields, &hidden, &keep);
            }
            ExtendedType::Interface(o) => {
                let o = o.make_mut();
                o.directives.0.retain(|d| keep.contains(&d.name));
                o.implements_interfaces
                    .retain(|i| !removed.contains(&i.name));
                strip_fields(&mut o.fields, &hidden, &keep);
            }
            ExtendedType::Union(u) => {
                let u = u.make_mut();
                u.directives.0.retain(|d| keep.contains(&d.name));
                u.members.retain(|m| !removed.contains(&m.name));
            }
            ExtendedType::Enum(e) => {
                let e = e.make_mut();
                e.directives.0.retain(|d| keep.contains(&d.name));
                e.values.retain(|_, v| !hidden(&v.directives));
                for v in e.values.values_mut() {
                    v.make_mut().directives.0.retain(|d| keep.contains(&d.name));
                }
            }
            ExtendedType::InputObject(io) => {
                let io = io.make_mut();
                io.directives.0.retain(|d| keep.contains(&d.name));
                io.fields.retain(|_, f| !hidden(&f.directives));
                for f in io.fields.values_mut() {
                    f.make_mut().directives.0.retain(|d| keep.contains(&d.name));
                }
            }
            ExtendedType::Scalar(s) => {
                s.make_mut().directives.0.retain(|d| keep.contains(&d.name));
            }
        }
    }

    let def = api.schema_definition.make_mut();
    def.directives.0.clear();
    for root in [&mut def.query, &mut def.mutation, &mut def.subscription] {
        if root.as_ref().is_some_and(|r| removed.contains(&r.name)) {
            *root = None;
        }
    }

    // `@defer` is the gateway's to execute (incremental delivery), as in Apollo Router's API
    // schema: clients may send it whatever the subgraphs define.
    if !api.directive_definitions.contains_key("defer") {
        let definition = "directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD | INLINE_FRAGMENT";
        if let Ok(parsed) = apollo_compiler::ast::Document::parse(definition, "defer.graphql") {
            for d in parsed.definitions {
                if let apollo_compiler::ast::Definition::DirectiveDefinition(d) = d {
                    api.directive_definitions.insert(d.name.clone(), d);
                }
            }
        }
    }

    api.validate().map_err(|with_errors| {
        super::diagnostics(&with_errors.errors)
            .into_iter()
            .map(|d| Diagnostic {
                message: format!("the API schema would be invalid: {}", d.message),
                hint: Some(
                    "an element that references an @inaccessible type must be @inaccessible too"
                        .to_owned(),
                ),
                ..d
            })
            .collect()
    })
}

/// Drops hidden fields and arguments, and directive applications not in `keep`.
fn strip_fields(
    fields: &mut IndexMap<Name, Component<FieldDefinition>>,
    hidden: &impl Fn(&DirectiveList) -> bool,
    keep: &HashSet<Name>,
) {
    fields.retain(|_, f| !hidden(&f.directives));
    for f in fields.values_mut() {
        let f = f.make_mut();
        f.directives.0.retain(|d| keep.contains(&d.name));
        f.arguments.retain(|a| !hidden(&a.directives));
        for a in &mut f.arguments {
            a.make_mut().directives.0.retain(|d| keep.contains(&d.name));
        }
    }
}

/// Locations in operations (as opposed to the type system).
fn is_executable(location: &DirectiveLocation) -> bool {
    use DirectiveLocation::*;
    matches!(
        location,
        Query
            | Mutation
            | Subscription
            | Field
            | FragmentDefinition
            | FragmentSpread
            | InlineFragment
            | VariableDefinition
    )
}
