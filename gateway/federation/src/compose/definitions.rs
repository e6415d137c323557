//! A subgraph may write out federation's own definitions (`directive @key(...)`,
//! `enum link__Purpose`), but they must agree with the spec's: no unknown or re-typed
//! argument, no extra location, not repeatable where the spec's is not, and types of the
//! spec's kind (`DIRECTIVE_DEFINITION_INVALID`, `TYPE_DEFINITION_INVALID`).

use apollo_compiler::ast::{Definition, DirectiveDefinition, Document, Type};
use apollo_compiler::schema::ExtendedType;

use super::errors::Diagnostics;
use super::subgraph::Subgraph;

/// Checks the subgraph's own definitions of what `expected` (the spec's definitions, with
/// the subgraph's local names) defines.
pub fn validate(sg: &Subgraph, expected: &Document, d: &mut Diagnostics) {
    for def in &expected.definitions {
        match def {
            Definition::DirectiveDefinition(spec) => {
                if let Some(actual) = sg.schema.directive_definitions.get(&spec.name)
                    && written_by_subgraph(sg, actual.location())
                {
                    directive(sg, spec, actual, d);
                }
            }
            Definition::ScalarTypeDefinition(spec) => {
                type_kind(sg, &spec.name, "ScalarType", d);
            }
            Definition::EnumTypeDefinition(spec) => {
                if type_kind(sg, &spec.name, "EnumType", d)
                    && let Some(ExtendedType::Enum(actual)) = sg.schema.types.get(&spec.name)
                {
                    let mut want: Vec<&str> =
                        spec.values.iter().map(|v| v.value.as_str()).collect();
                    let mut got: Vec<&str> = actual.values.keys().map(|v| v.as_str()).collect();
                    want.sort_unstable();
                    got.sort_unstable();
                    if want != got {
                        d.error(
                            "TYPE_DEFINITION_INVALID",
                            format!(
                                "[{}] Invalid definition for type \"{}\": expected values [{}] but found [{}].",
                                sg.name,
                                spec.name,
                                want.join(", "),
                                got.join(", ")
                            ),
                            vec![sg.place(actual.location())],
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a definition comes from the subgraph's SDL, not from the definitions composition
/// adds for what the SDL leaves out.
fn written_by_subgraph(
    sg: &Subgraph,
    location: Option<apollo_compiler::parser::SourceSpan>,
) -> bool {
    location
        .and_then(|l| sg.schema.sources.get(&l.file_id()))
        .is_some_and(|file| file.path() != super::subgraph::IMPLICIT_DEFINITIONS_FILE)
}

/// The type named like a spec type has the spec type's kind; false if it has another.
fn type_kind(sg: &Subgraph, name: &str, kind: &str, d: &mut Diagnostics) -> bool {
    let Some(actual) = sg.schema.types.get(name) else {
        return true;
    };
    let actual_kind = match actual {
        ExtendedType::Scalar(_) => "ScalarType",
        ExtendedType::Enum(_) => "EnumType",
        ExtendedType::Object(_) => "ObjectType",
        ExtendedType::Interface(_) => "InterfaceType",
        ExtendedType::Union(_) => "UnionType",
        ExtendedType::InputObject(_) => "InputObjectType",
    };
    if actual_kind == kind {
        return true;
    }
    d.error(
        "TYPE_DEFINITION_INVALID",
        format!(
            "[{}] Invalid definition for type {name}: {name} should be a {kind} but is defined as a {actual_kind}",
            sg.name
        ),
        vec![sg.place(actual.location())],
    );
    false
}

fn directive(
    sg: &Subgraph,
    spec: &DirectiveDefinition,
    actual: &apollo_compiler::Node<DirectiveDefinition>,
    d: &mut Diagnostics,
) {
    let name = &spec.name;
    let mut error = |message: String| {
        d.error(
            "DIRECTIVE_DEFINITION_INVALID",
            format!(
                "[{}] Invalid definition for directive \"@{name}\": {message}",
                sg.name
            ),
            vec![sg.place(actual.location())],
        );
    };
    for want in &spec.arguments {
        let Some(got) = actual.arguments.iter().find(|a| a.name == want.name) else {
            if want.ty.is_non_null() && want.default_value.is_none() {
                error(format!("missing required argument \"{}\"", want.name));
            }
            continue;
        };
        // A non-null argument where the spec's is nullable is fine; so is any type for a
        // spec argument of a custom scalar type (`FieldSet` and friends are often redefined).
        let got_ty = if got.ty.is_non_null() && !want.ty.is_non_null() {
            got.ty.as_ref().clone().nullable()
        } else {
            got.ty.as_ref().clone()
        };
        if got_ty != *want.ty && !custom_scalar(&want.ty) {
            error(format!(
                "argument \"{}\" should have type \"{}\" but found type \"{}\"",
                want.name, want.ty, got.ty
            ));
        }
    }
    for got in &actual.arguments {
        if !spec.arguments.iter().any(|a| a.name == got.name) {
            error(format!("unknown/unsupported argument \"{}\"", got.name));
        }
    }
    if !spec.repeatable && actual.repeatable {
        error(format!("\"@{name}\" should not be repeatable"));
    }
    if !actual.locations.iter().all(|l| spec.locations.contains(l)) {
        let list = |l: &[apollo_compiler::ast::DirectiveLocation]| {
            l.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        error(format!(
            "\"@{name}\" should have locations {}, but found (non-subset) {}",
            list(&spec.locations),
            list(&actual.locations)
        ));
    }
}

/// Whether the spec argument's innermost type is not a built-in scalar.
fn custom_scalar(ty: &Type) -> bool {
    !matches!(
        ty.inner_named_type().as_str(),
        "String" | "Int" | "Float" | "Boolean" | "ID"
    )
}
