//! Which fields of one subgraph its federation directives refer to, read without validating
//! the field sets (as Apollo's `collectUsedFields` does): an invalid `fields:` argument is
//! reported once, by validation, and the fields it does name still count as used, so no
//! `EXTERNAL_UNUSED` piles on top of it.

use std::collections::HashSet;

use apollo_compiler::Name;
use apollo_compiler::executable::{FieldSet, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;

use super::subgraph::Subgraph;

/// A field of a subgraph: (type name, field name), with the subgraph's local names.
pub type FieldCoord = (Name, Name);

/// What one subgraph's `@key`, `@requires`, `@provides`, `@fromContext` and interfaces use.
#[derive(Debug, Default, Clone)]
pub struct Usage {
    /// Fields named by a key, `@requires`, `@provides` or `@fromContext`, or implementing an
    /// interface field: such a field must stay in the subgraph even when overridden.
    pub used: HashSet<FieldCoord>,
    /// Fields named by a `@provides` (the subgraph resolves them at that path).
    pub provided: HashSet<FieldCoord>,
    /// Fields named by a `@key`, at any depth (implicitly shareable).
    pub key_fields: HashSet<FieldCoord>,
}

impl Usage {
    pub fn of(sg: &Subgraph) -> Usage {
        let mut usage = Usage::default();
        let n = &sg.names;
        for (tname, ty) in &sg.schema.types {
            if ty.is_built_in() || n.is_federation_type(tname) {
                continue;
            }
            for key in ty.directives().get_all(&n.key) {
                if let Some(fields) = fields_arg(key) {
                    let mut found = HashSet::new();
                    collect(sg, tname, fields, &mut found);
                    usage.key_fields.extend(found.iter().cloned());
                    usage.used.extend(found);
                }
            }
            let fields = match ty {
                ExtendedType::Object(o) => &o.fields,
                ExtendedType::Interface(i) => &i.fields,
                _ => continue,
            };
            for field in fields.values() {
                if let Some(fields) = field.directives.get(&n.requires).and_then(fields_arg) {
                    collect(sg, tname, fields, &mut usage.used);
                }
                if let Some(fields) = field.directives.get(&n.provides).and_then(fields_arg) {
                    let target = field.ty.inner_named_type();
                    let mut found = HashSet::new();
                    collect(sg, target, fields, &mut found);
                    usage.provided.extend(found.iter().cloned());
                    usage.used.extend(found);
                }
            }
        }
        usage.used.extend(interface_implementations(sg));
        usage.used.extend(from_context_fields(sg));
        usage
    }
}

/// The `fields:` string of a `@key`, `@requires` or `@provides`.
pub fn fields_arg(d: &apollo_compiler::Node<apollo_compiler::ast::Directive>) -> Option<&str> {
    d.specified_argument_by_name("fields")?.as_str()
}

/// Parses a field set against `type_name`, keeping whatever part of it names real fields.
pub fn parse_lenient(sg: &Subgraph, type_name: &Name, fields: &str) -> Option<FieldSet> {
    // A field set that is not even one selection set names nothing (Apollo's
    // `collectUsedFields` gives up on it too).
    if !sg.schema.types.contains_key(type_name) || super::fieldset::syntax_error(fields).is_some() {
        return None;
    }
    Some(
        match FieldSet::parse(&sg.schema, type_name.clone(), fields, "fields") {
            Ok(set) => set,
            Err(with_errors) => with_errors.partial,
        },
    )
}

/// Every field `fields` names under `type_name`, plus, for fields selected on an interface,
/// the same field on the interface's implementations.
fn collect(sg: &Subgraph, type_name: &Name, fields: &str, out: &mut HashSet<FieldCoord>) {
    if let Some(set) = parse_lenient(sg, type_name, fields) {
        collect_selections(sg, &set.selection_set, out);
    }
}

fn collect_selections(sg: &Subgraph, set: &SelectionSet, out: &mut HashSet<FieldCoord>) {
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                out.insert((set.ty.clone(), f.name.clone()));
                for implementation in implementations(sg, &set.ty) {
                    if object_has_field(sg, &implementation, &f.name) {
                        out.insert((implementation, f.name.clone()));
                    }
                }
                collect_selections(sg, &f.selection_set, out);
            }
            Selection::InlineFragment(i) => collect_selections(sg, &i.selection_set, out),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// Object types of the subgraph that implement `interface` (none if it is not one).
pub fn implementations(sg: &Subgraph, interface: &Name) -> Vec<Name> {
    if !matches!(
        sg.schema.types.get(interface),
        Some(ExtendedType::Interface(_))
    ) {
        return Vec::new();
    }
    sg.schema
        .types
        .iter()
        .filter_map(|(name, ty)| match ty {
            ExtendedType::Object(o) if o.implements_interfaces.contains(interface) => {
                Some(name.clone())
            }
            _ => None,
        })
        .collect()
}

fn object_has_field(sg: &Subgraph, ty: &Name, field: &Name) -> bool {
    matches!(sg.schema.types.get(ty), Some(ExtendedType::Object(o)) if o.fields.contains_key(field))
}

/// Fields that exist to satisfy an interface field.
fn interface_implementations(sg: &Subgraph) -> Vec<FieldCoord> {
    let mut out = Vec::new();
    for (iname, ty) in &sg.schema.types {
        let ExtendedType::Interface(i) = ty else {
            continue;
        };
        for implementation in implementations(sg, iname) {
            for fname in i.fields.keys() {
                if object_has_field(sg, &implementation, fname) {
                    out.push((implementation.clone(), fname.clone()));
                }
            }
        }
    }
    out
}

/// Fields a `@fromContext(field: "$ctx { ... }")` selects from the types setting `ctx`.
fn from_context_fields(sg: &Subgraph) -> HashSet<FieldCoord> {
    let n = &sg.names;
    let mut out = HashSet::new();
    let mut contexts: Vec<(String, Name)> = Vec::new();
    for (tname, ty) in &sg.schema.types {
        for c in ty.directives().get_all(&n.context) {
            if let Some(name) = c
                .specified_argument_by_name("name")
                .and_then(|v| v.as_str())
            {
                contexts.push((name.to_owned(), tname.clone()));
            }
        }
    }
    if contexts.is_empty() {
        return out;
    }
    for ty in sg.schema.types.values() {
        let fields = match ty {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => continue,
        };
        for arg in fields.values().flat_map(|f| f.arguments.iter()) {
            let Some(value) = arg
                .directives
                .get(&n.from_context)
                .and_then(|d| d.specified_argument_by_name("field"))
                .and_then(|v| v.as_str())
            else {
                continue;
            };
            let Some((context, selection)) = split_context(value) else {
                continue;
            };
            let selection = selection.trim();
            let selection = selection
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .unwrap_or(selection);
            for (_, tname) in contexts.iter().filter(|(c, _)| c == context) {
                collect(sg, tname, selection, &mut out);
            }
        }
    }
    out
}

/// `"$ctx { a b }"` → `("ctx", "{ a b }")`.
pub fn split_context(value: &str) -> Option<(&str, &str)> {
    let rest = value.trim_start().strip_prefix('$')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    Some(rest.split_at(end))
}
