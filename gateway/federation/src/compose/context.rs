//! `@context` and `@fromContext` in one subgraph: context names, where a contextual argument
//! may be, and that its selection (`"$ctx { field }"`) reads one field, of the argument's
//! type, from every type that sets the context.

use apollo_compiler::Name;
use apollo_compiler::ast::Type;
use apollo_compiler::executable::{FieldSet, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, InputValueDefinition};

use super::errors::Diagnostics;
use super::fieldset::{first_directive, syntax_error};
use super::subgraph::Subgraph;
use super::usage::split_context;

pub fn validate(sg: &Subgraph, d: &mut Diagnostics) {
    if !sg.fed2 {
        return;
    }
    let n = &sg.names;
    // context name -> the types setting it
    let mut contexts: Vec<(String, Name)> = Vec::new();
    for (tname, ty) in &sg.schema.types {
        for c in ty.directives().get_all(&n.context) {
            let Some(name) = c
                .specified_argument_by_name("name")
                .and_then(|v| v.as_str())
            else {
                continue;
            };
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if name.contains('_') {
                d.error(
                    "CONTEXT_NAME_INVALID",
                    format!(
                        "[{}] Context name \"{name}\" may not contain an underscore.",
                        sg.name
                    ),
                    vec![sg.place(c.location())],
                );
            } else if !valid {
                d.error(
                    "CONTEXT_NAME_INVALID",
                    format!("[{}] Context name \"{name}\" is invalid. It should have only alphanumeric characters.", sg.name),
                    vec![sg.place(c.location())],
                );
            }
            contexts.push((name.to_owned(), tname.clone()));
        }
    }
    for (tname, ty) in &sg.schema.types {
        let (fields, is_object) = match ty {
            ExtendedType::Object(o) => (&o.fields, true),
            ExtendedType::Interface(i) => (&i.fields, false),
            _ => continue,
        };
        for (fname, field) in fields {
            for arg in &field.arguments {
                let Some(dir) = arg.directives.get(&n.from_context) else {
                    continue;
                };
                let coord = format!("{tname}.{fname}({}:)", arg.name);
                let place = sg.place(dir.location());
                let mut error = |code: &'static str, message: String| {
                    d.error(
                        code,
                        format!("[{}] {message}", sg.name),
                        vec![place.clone()],
                    );
                };
                if !is_object {
                    error(
                        "CONTEXT_NOT_SET",
                        format!(
                            "@fromContext argument cannot be used on a field that exists on an abstract type \"{coord}\"."
                        ),
                    );
                    continue;
                }
                if let ExtendedType::Object(o) = ty {
                    for iname in &o.implements_interfaces {
                        if let Some(ExtendedType::Interface(i)) = sg.schema.types.get(&iname.name)
                            && i.fields.contains_key(fname)
                        {
                            error(
                                "CONTEXT_NOT_SET",
                                format!(
                                    "@fromContext argument cannot be used on a field implementing an interface field \"{}.{fname}\".",
                                    iname.name
                                ),
                            );
                        }
                    }
                }
                if arg.default_value.is_some() {
                    error(
                        "CONTEXT_NOT_SET",
                        format!(
                            "@fromContext arguments may not have a default value: \"{coord}\"."
                        ),
                    );
                }
                let value = dir
                    .specified_argument_by_name("field")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let Some((context, selection)) =
                    split_context(value).filter(|(_, s)| !s.trim().is_empty())
                else {
                    error(
                        "NO_CONTEXT_IN_SELECTION",
                        format!("@fromContext argument does not reference a context \"{value}\"."),
                    );
                    continue;
                };
                let locations: Vec<&Name> = contexts
                    .iter()
                    .filter(|(c, _)| c == context)
                    .map(|(_, t)| t)
                    .collect();
                if locations.is_empty() {
                    error(
                        "CONTEXT_NOT_SET",
                        format!(
                            "Context \"{context}\" is used at location \"{coord}\" but is never set."
                        ),
                    );
                } else if let Err(why) = check_selection(sg, selection, &locations, arg) {
                    error(
                        "CONTEXT_INVALID_SELECTION",
                        format!(
                            "Context \"{context}\" is used in \"{coord}\" but the selection is invalid: {why}"
                        ),
                    );
                }
                let resolvable_key = ty.directives().get_all(&n.key).any(|k| {
                    k.specified_argument_by_name("resolvable")
                        .and_then(|v| v.to_bool())
                        .unwrap_or(true)
                });
                if !resolvable_key {
                    d.error(
                        "CONTEXT_NO_RESOLVABLE_KEY",
                        format!("[{}] Object \"{tname}\" has no resolvable key but has a field with a contextual argument.", sg.name),
                        vec![sg.place(ty.location())],
                    );
                }
            }
        }
    }
}

/// Why a `@fromContext` selection is invalid (said after "the selection is invalid: ").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum SelectionError {
    /// The selection does not parse as a field set.
    #[error("{0}")]
    Syntax(String),
    /// It parses, but not against this type setting the context; the validator's first error.
    #[error("the selection is invalid for type {location}. Error: {error}")]
    InvalidFor { location: Name, error: String },
    #[error("directives are not allowed in the selection")]
    Directive,
    #[error("aliases are not allowed in the selection")]
    Alias,
    #[error("no selection is made")]
    Empty,
    /// The selected field's type (empty if none) cannot be passed as the argument's.
    #[error(
        "the type of the selection \"{selected}\" does not match the expected type \"{expected}\""
    )]
    TypeMismatch { selected: String, expected: Type },
    #[error("multiple selections are made")]
    SeveralSelections,
    #[error("multiple fields could be selected")]
    SeveralFields,
}

/// The selection: one field (possibly nested), or inline fragments on distinct object types;
/// valid on every type setting the context, without directives or aliases, and selecting a
/// value of the argument's type.
fn check_selection(
    sg: &Subgraph,
    selection: &str,
    locations: &[&Name],
    arg: &InputValueDefinition,
) -> Result<(), SelectionError> {
    let trimmed = selection.trim();
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(trimmed);
    if let Some(message) = syntax_error(inner) {
        return Err(SelectionError::Syntax(message));
    }
    for location in locations {
        let set = FieldSet::parse_and_validate(&sg.schema, (*location).clone(), inner, "selection")
            .map_err(|e| SelectionError::InvalidFor {
                location: (*location).clone(),
                error: e
                    .errors
                    .iter()
                    .next()
                    .map(|e| e.error.to_string())
                    .unwrap_or_default(),
            })?;
        let set = &set.selection_set;
        if first_directive(set).is_some() {
            return Err(SelectionError::Directive);
        }
        if has_alias(set) {
            return Err(SelectionError::Alias);
        }
        match set.selections.as_slice() {
            [] => return Err(SelectionError::Empty),
            [Selection::Field(_)] => {
                let resolved = leaf_type(set);
                if !resolved
                    .as_ref()
                    .is_some_and(|t| implements_type(t, &arg.ty))
                {
                    return Err(SelectionError::TypeMismatch {
                        selected: resolved.map(|t| t.to_string()).unwrap_or_default(),
                        expected: (*arg.ty).clone(),
                    });
                }
            }
            selections
                if selections
                    .iter()
                    .all(|s| matches!(s, Selection::InlineFragment(_))) => {}
            [Selection::Field(_), ..] => return Err(SelectionError::SeveralSelections),
            _ => return Err(SelectionError::SeveralFields),
        }
    }
    Ok(())
}

fn has_alias(set: &SelectionSet) -> bool {
    set.selections.iter().any(|s| match s {
        Selection::Field(f) => f.alias.is_some() || has_alias(&f.selection_set),
        Selection::InlineFragment(i) => has_alias(&i.selection_set),
        Selection::FragmentSpread(_) => false,
    })
}

/// The type of the single field chain a selection makes (`a { b { c } }` → type of `c`).
fn leaf_type(set: &SelectionSet) -> Option<Type> {
    match set.selections.as_slice() {
        [Selection::Field(f)] if f.selection_set.selections.is_empty() => {
            Some(f.definition.ty.clone())
        }
        [Selection::Field(f)] => leaf_type(&f.selection_set),
        _ => None,
    }
}

/// Whether a value of type `actual` can be passed where `expected` is wanted: the same named
/// type and list depth, non-null allowed where nullable is expected.
fn implements_type(actual: &Type, expected: &Type) -> bool {
    match (actual, expected) {
        (Type::NonNullNamed(a), Type::NonNullNamed(e) | Type::Named(e))
        | (Type::Named(a), Type::Named(e)) => a == e,
        (Type::NonNullList(a), Type::NonNullList(e) | Type::List(e))
        | (Type::List(a), Type::List(e)) => implements_type(a, e),
        _ => false,
    }
}
