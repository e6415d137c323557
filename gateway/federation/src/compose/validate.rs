//! Federation rules inside one subgraph, checked before merging: `@key` field sets select
//! valid fields; `@requires` and `@provides` select `@external` fields that exist;
//! `@provides` sits on a field of composite type; every `@external` field is used.

use std::collections::HashSet;

use apollo_compiler::Name;
use apollo_compiler::executable::{FieldSet, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};

use super::errors::Diagnostics;
use super::subgraph::Subgraph;

/// Which directive a field set belongs to, for messages and codes.
#[derive(Clone, Copy)]
enum Use {
    Requires,
    Provides,
}

pub fn validate(sg: &Subgraph, d: &mut Diagnostics) {
    let n = &sg.names;
    let mut used: HashSet<(Name, Name)> = HashSet::new();
    for (tname, ty) in &sg.schema.types {
        if ty.is_built_in() || n.is_federation_type(tname) {
            continue;
        }
        let fields = match ty {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => continue,
        };
        for key in ty.directives().get_all(&n.key) {
            let Some(fields_arg) = key
                .specified_argument_by_name("fields")
                .and_then(|v| v.as_str())
            else {
                continue;
            };
            let context = format!(
                "On type \"{tname}\", for @{}(fields: \"{fields_arg}\")",
                n.key
            );
            if let Some(set) = field_set(
                sg,
                tname,
                fields_arg,
                &context,
                "KEY_INVALID_FIELDS",
                key.location(),
                d,
            ) {
                check_key_fields(sg, &set.selection_set, &context, key.location(), d);
                mark_used(&set.selection_set, &mut used);
            }
        }
        for (fname, field) in fields {
            for (directive, usage) in [(&n.requires, Use::Requires), (&n.provides, Use::Provides)] {
                let Some(dir) = field.directives.get(directive) else {
                    continue;
                };
                let Some(fields_arg) = dir
                    .specified_argument_by_name("fields")
                    .and_then(|v| v.as_str())
                else {
                    continue;
                };
                let context = format!(
                    "On field \"{tname}.{fname}\", for @{directive}(fields: \"{fields_arg}\")"
                );
                let target = match usage {
                    Use::Provides => {
                        let inner = field.ty.inner_named_type();
                        let composite = matches!(
                            sg.schema.types.get(inner),
                            Some(
                                ExtendedType::Object(_)
                                    | ExtendedType::Interface(_)
                                    | ExtendedType::Union(_)
                            )
                        );
                        if !composite {
                            d.error(
                                "PROVIDES_ON_NON_OBJECT_FIELD",
                                format!("[{}] Invalid @{directive} directive on field \"{tname}.{fname}\": field has type \"{}\" which is not a Composite Type", sg.name, field.ty),
                                vec![sg.place(dir.location())],
                            );
                            continue;
                        }
                        inner.clone()
                    }
                    _ => tname.clone(),
                };
                let code = match usage {
                    Use::Requires => "REQUIRES_INVALID_FIELDS",
                    _ => "PROVIDES_INVALID_FIELDS",
                };
                if let Some(set) =
                    field_set(sg, &target, fields_arg, &context, code, dir.location(), d)
                {
                    check_external(
                        sg,
                        &set.selection_set,
                        false,
                        usage,
                        &context,
                        dir.location(),
                        d,
                    );
                    mark_used(&set.selection_set, &mut used);
                }
            }
        }
    }
    check_unused_external(sg, &used, d);
}

/// Parses and validates a field set against `type_name`; errors reported under `code`.
fn field_set(
    sg: &Subgraph,
    type_name: &Name,
    fields: &str,
    context: &str,
    code: &'static str,
    location: Option<apollo_compiler::parser::SourceSpan>,
    d: &mut Diagnostics,
) -> Option<FieldSet> {
    match FieldSet::parse_and_validate(&sg.schema, type_name.clone(), fields, "fields") {
        Ok(set) => Some(set.into_inner()),
        Err(with_errors) => {
            for e in with_errors.errors.iter() {
                let message = e.error.to_string();
                let hint = if code == "KEY_INVALID_FIELDS" {
                    "the field should either be added to this subgraph or, if it should not be resolved by this subgraph, you need to add it to this subgraph with @external"
                } else {
                    "if the field is defined in another subgraph, you need to add it to this subgraph with @external"
                };
                d.error(
                    code,
                    format!("[{}] {context}: {message} ({hint}).", sg.name),
                    vec![sg.place(location)],
                );
            }
            None
        }
    }
}

fn check_key_fields(
    sg: &Subgraph,
    set: &SelectionSet,
    context: &str,
    location: Option<apollo_compiler::parser::SourceSpan>,
    d: &mut Diagnostics,
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                let path = format!("{}.{}", set.ty, f.name);
                if !f.definition.arguments.is_empty() {
                    d.error(
                        "KEY_FIELDS_HAS_ARGS",
                        format!("[{}] {context}: field {path} cannot be included because it has arguments (fields with argument are not allowed in @key)", sg.name),
                        vec![sg.place(location)],
                    );
                }
                let inner = f.definition.ty.inner_named_type();
                let kind = match sg.schema.types.get(inner) {
                    Some(ExtendedType::Interface(_)) => Some("Interface"),
                    Some(ExtendedType::Union(_)) => Some("Union"),
                    _ if f.definition.ty.is_list() => Some("List"),
                    _ => None,
                };
                if let Some(kind) = kind {
                    d.error(
                        "KEY_FIELDS_SELECT_INVALID_TYPE",
                        format!("[{}] {context}: field \"{path}\" is a {kind} type which is not allowed in @key", sg.name),
                        vec![sg.place(location)],
                    );
                }
                check_key_fields(sg, &f.selection_set, context, location, d);
            }
            Selection::InlineFragment(i) => {
                check_key_fields(sg, &i.selection_set, context, location, d)
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn is_external(sg: &Subgraph, parent: &Name, def: &FieldDefinition) -> bool {
    def.directives.has(&sg.names.external)
        || sg
            .schema
            .types
            .get(parent)
            .is_some_and(|t| t.directives().has(&sg.names.external))
}

/// In `@requires` and `@provides`, every selected field must be `@external` (or sit under an
/// `@external` field): otherwise this subgraph already resolves it.
fn check_external(
    sg: &Subgraph,
    set: &SelectionSet,
    under_external: bool,
    usage: Use,
    context: &str,
    location: Option<apollo_compiler::parser::SourceSpan>,
    d: &mut Diagnostics,
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                if f.name.starts_with("__") {
                    continue;
                }
                let external = under_external || is_external(sg, &set.ty, &f.definition);
                if !external && f.selection_set.selections.is_empty() {
                    let (code, directive) = match usage {
                        Use::Requires => ("REQUIRES_FIELDS_MISSING_EXTERNAL", "@requires"),
                        _ => ("PROVIDES_FIELDS_MISSING_EXTERNAL", "@provides"),
                    };
                    d.error(
                        code,
                        format!(
                            "[{}] {context}: field \"{}.{}\" should not be part of a {directive} since it is already provided by this subgraph (it is not marked @external)",
                            sg.name, set.ty, f.name
                        ),
                        vec![sg.place(location)],
                    );
                }
                check_external(sg, &f.selection_set, external, usage, context, location, d);
            }
            Selection::InlineFragment(i) => check_external(
                sg,
                &i.selection_set,
                under_external,
                usage,
                context,
                location,
                d,
            ),
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn mark_used(set: &SelectionSet, used: &mut HashSet<(Name, Name)>) {
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                used.insert((set.ty.clone(), f.name.clone()));
                mark_used(&f.selection_set, used);
            }
            Selection::InlineFragment(i) => mark_used(&i.selection_set, used),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// An `@external` field no key, `@requires` or `@provides` uses, and that no interface needs,
/// has no purpose (Federation 2 only: Federation 1 marked key fields external by convention).
fn check_unused_external(sg: &Subgraph, used: &HashSet<(Name, Name)>, d: &mut Diagnostics) {
    if !sg.fed2 {
        return;
    }
    for (tname, ty) in &sg.schema.types {
        let ExtendedType::Object(o) = ty else {
            continue;
        };
        let type_external = o.directives.has(&sg.names.external);
        for (fname, f) in &o.fields {
            if !(type_external || f.directives.has(&sg.names.external)) {
                continue;
            }
            if used.contains(&(tname.clone(), fname.clone())) {
                continue;
            }
            let for_interface = o.implements_interfaces.iter().any(|i| {
                matches!(sg.schema.types.get(&i.name), Some(ExtendedType::Interface(it)) if it.fields.contains_key(fname))
            });
            if for_interface {
                continue;
            }
            d.error(
                "EXTERNAL_UNUSED",
                format!(
                    "[{}] Field \"{tname}.{fname}\" is marked @external but is not used in any federation directive (@key, @provides, @requires) or to satisfy an interface; the field declaration has no use and should be removed (or the field should not be @external).",
                    sg.name
                ),
                vec![sg.place(f.location())],
            );
        }
    }
}
