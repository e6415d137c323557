//! Federation rules inside one subgraph, checked before merging: `@key` field sets select
//! valid fields (not of interface or union type, without arguments); `@requires` and
//! `@provides` select `@external` fields that exist; `@provides` sits on a field of composite
//! type; every `@external` field is used; a root type not named `Query` (`Mutation`,
//! `Subscription`) leaves that name free; a `@key` on an interface is on its implementations.

use std::collections::HashSet;

use apollo_compiler::Name;
use apollo_compiler::executable::{FieldSet, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};

use super::errors::Diagnostics;
use super::fieldset::{FieldSetUse as Use, first_directive, syntax_error};
use super::subgraph::Subgraph;
use super::usage::{Usage, fields_arg, implementations, parse_lenient};

pub fn validate(sg: &Subgraph, d: &mut Diagnostics) {
    // Apollo stops reading a subgraph at these: its other rules would misread such fields.
    if external_collisions(sg, d) {
        return;
    }
    let n = &sg.names;
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
            validate_key(sg, tname, key, d);
        }
        for (fname, field) in fields {
            if matches!(ty, ExtendedType::Interface(_)) {
                // Interfaces take neither (`check_interface_fields` says so): nothing to read.
                continue;
            }
            for (directive, usage) in [(&n.requires, Use::Requires), (&n.provides, Use::Provides)] {
                let Some(dir) = field.directives.get(directive) else {
                    continue;
                };
                let Some(fields_value) = dir.specified_argument_by_name("fields") else {
                    continue;
                };
                let Some(fields_arg) = fields_value.as_str() else {
                    d.error(
                        usage.invalid_type_code(),
                        format!("[{}] On field \"{tname}.{fname}\", for @{directive}(fields: {fields_value}): Invalid value for argument \"fields\": must be a string.", sg.name),
                        vec![sg.place(dir.location())],
                    );
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
                let code = usage.invalid_fields_code();
                if !field_set_text_ok(sg, usage, &target, fields_arg, &context, dir.location(), d) {
                    continue;
                }
                if let Some(set) =
                    field_set(sg, &target, fields_arg, &context, code, dir.location(), d)
                {
                    if usage == Use::Provides {
                        check_no_args(sg, usage, &set.selection_set, &context, dir.location(), d);
                    }
                    check_external(
                        sg,
                        &set.selection_set,
                        false,
                        usage,
                        &context,
                        dir.location(),
                        d,
                    );
                }
            }
        }
    }
    check_interface_fields(sg, d);
    super::demand_control::validate(sg, d);
    super::context::validate(sg, d);
    if sg.fed2 {
        super::definitions::validate(sg, &super::subgraph::spec_definitions(sg), d);
    }
    check_auth_not_on_interfaces(sg, d);
    check_interface_objects_have_keys(sg, d);
    check_merged_directives_on_external(sg, d);
    if !sg.fed2 {
        check_types_with_only_unused_external(sg, &Usage::of(sg).used, d);
    }
    check_shareable_usage(sg, d);
    check_unused_external(sg, &Usage::of(sg).used, d);
    check_root_type_names(sg, d);
    if sg.fed2 && sg.version < (2, 3) {
        keys_on_interfaces_unsupported(sg, d);
    } else if sg.fed2 {
        check_interface_keys(sg, d);
    }
}

/// Interface fields resolve nothing themselves: `@provides`, `@requires` and `@external` on
/// them are not supported (Federation 2 only; Federation 1 subgraphs are read leniently).
fn check_interface_fields(sg: &Subgraph, d: &mut Diagnostics) {
    if !sg.fed2 {
        return;
    }
    let n = &sg.names;
    for (tname, ty) in &sg.schema.types {
        let ExtendedType::Interface(i) = ty else {
            continue;
        };
        for (fname, field) in &i.fields {
            for (directive, code) in [
                (&n.provides, "PROVIDES_UNSUPPORTED_ON_INTERFACE"),
                (&n.requires, "REQUIRES_UNSUPPORTED_ON_INTERFACE"),
            ] {
                if let Some(dir) = field.directives.get(directive) {
                    d.error(
                        code,
                        format!("[{}] Cannot use @{directive} on field \"{tname}.{fname}\" of parent type \"{tname}\": @{directive} is not yet supported within interfaces", sg.name),
                        vec![sg.place(dir.location())],
                    );
                }
            }
            if let Some(dir) = field.directives.get(&n.external) {
                d.error(
                    "EXTERNAL_ON_INTERFACE",
                    format!("[{}] Interface type field \"{tname}.{fname}\" is marked @{} but @{} is not allowed on interface fields (it is nonsensical).", sg.name, n.external, n.external),
                    vec![sg.place(dir.location())],
                );
            }
        }
    }
}

/// A field is `@external` (resolved elsewhere) or `@provides` fields of its own value, not both.
fn external_collisions(sg: &Subgraph, d: &mut Diagnostics) -> bool {
    let n = &sg.names;
    let mut found = false;
    for (tname, ty) in &sg.schema.types {
        let ExtendedType::Object(o) = ty else {
            continue;
        };
        for (fname, field) in &o.fields {
            if field.directives.has(&n.external) && field.directives.has(&n.provides) {
                d.error(
                    "EXTERNAL_COLLISION_WITH_ANOTHER_DIRECTIVE",
                    format!(
                        "[{}] Cannot have both @{} and @{} on field \"{tname}.{fname}\"",
                        sg.name, n.provides, n.external
                    ),
                    vec![sg.place(field.location())],
                );
                found = true;
            }
        }
    }
    found
}

/// Authorization is decided on concrete types and their fields: an interface (or an
/// `@interfaceObject`, which stands for one) and its fields take no auth directive.
fn check_auth_not_on_interfaces(sg: &Subgraph, d: &mut Diagnostics) {
    if !sg.fed2 {
        return;
    }
    let n = &sg.names;
    let auth = [&n.authenticated, &n.requires_scopes, &n.policy];
    for (tname, ty) in &sg.schema.types {
        let (kind, fields) = match ty {
            ExtendedType::Interface(i) => ("interface", &i.fields),
            ExtendedType::Object(o) if o.directives.has(&n.interface_object) => {
                ("interface object", &o.fields)
            }
            _ => continue,
        };
        let mut report = |directive: &str, kind: &str, coord: String, place| {
            d.error(
                "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
                format!("[{}] Invalid use of @{directive} on {kind} \"{coord}\": @{directive} cannot be applied on interfaces, interface fields and interface objects", sg.name),
                vec![place],
            );
        };
        for directive in auth {
            if let Some(dir) = ty.directives().get(directive) {
                report(directive, kind, tname.to_string(), sg.place(dir.location()));
            }
        }
        if kind != "interface" {
            continue;
        }
        for (fname, field) in fields {
            for directive in auth {
                if let Some(dir) = field.directives.get(directive) {
                    report(
                        directive,
                        "field",
                        format!("{tname}.{fname}"),
                        sg.place(dir.location()),
                    );
                }
            }
        }
    }
}

/// `@interfaceObject` stands for an entity interface: the object needs a `@key` here.
fn check_interface_objects_have_keys(sg: &Subgraph, d: &mut Diagnostics) {
    let n = &sg.names;
    for (tname, ty) in &sg.schema.types {
        if ty.directives().has(&n.interface_object) && !ty.directives().has(&n.key) {
            d.error(
                "INTERFACE_OBJECT_USAGE_ERROR",
                format!("[{}] The @{} directive can only be applied to entity types but type \"{tname}\" has no @{} in this subgraph.", sg.name, n.interface_object, n.key),
                vec![sg.place(ty.location())],
            );
        }
    }
}

/// An `@external` field is defined by another subgraph: directives the supergraph merges
/// (`@tag`, `@inaccessible`, the authorization and cost directives, `@deprecated`, composed
/// directives) belong on that definition, where they take effect, not on this one.
fn check_merged_directives_on_external(sg: &Subgraph, d: &mut Diagnostics) {
    let n = &sg.names;
    // Federation 1 marks the key fields of an extension `@external` by convention; Apollo's
    // upgrade to Federation 2 drops that `@external`, so their directives stand.
    let key_fields = if sg.fed2 {
        HashSet::new()
    } else {
        Usage::of(sg).key_fields
    };
    let merged = [
        &n.tag,
        &n.inaccessible,
        &n.authenticated,
        &n.requires_scopes,
        &n.policy,
        &n.cost,
        &n.list_size,
    ];
    for (tname, ty) in &sg.schema.types {
        let ExtendedType::Object(o) = ty else {
            continue;
        };
        for (fname, field) in &o.fields {
            if !field.directives.has(&n.external)
                || key_fields.contains(&(tname.clone(), fname.clone()))
            {
                continue;
            }
            for dir in field.directives.iter() {
                let name = dir.name.as_str();
                let is_merged = merged.iter().any(|m| m.as_str() == name)
                    || n.composed.iter().any(|c| c == name)
                    || name == "deprecated";
                if is_merged {
                    d.error(
                        "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
                        format!("[{}] Cannot apply merged directive {} to external field \"{tname}.{fname}\"", sg.name, dir.to_string().trim()),
                        vec![sg.place(dir.location())],
                    );
                }
            }
        }
    }
}

/// Federation 1 drops `@external` fields nothing uses; a type left without fields that some
/// field still returns cannot be composed.
fn check_types_with_only_unused_external(
    sg: &Subgraph,
    used: &HashSet<(Name, Name)>,
    d: &mut Diagnostics,
) {
    let n = &sg.names;
    for (tname, ty) in &sg.schema.types {
        let fields = match ty {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => continue,
        };
        let all_unused_external = !fields.is_empty()
            && fields.iter().all(|(fname, f)| {
                f.directives.has(&n.external) && !used.contains(&(tname.clone(), fname.clone()))
            });
        if all_unused_external && is_referenced(sg, tname) {
            d.error(
                "TYPE_WITH_ONLY_UNUSED_EXTERNAL",
                format!("[{}] Type {tname} contains only external fields and all those fields are all unused (they do not appear in any @key, @provides or @requires).", sg.name),
                vec![sg.place(ty.location())],
            );
        }
    }
}

/// Whether a field, argument, input field, union or interface list of the subgraph names `ty`.
fn is_referenced(sg: &Subgraph, ty: &Name) -> bool {
    sg.schema.types.values().any(|t| match t {
        ExtendedType::Object(o) => {
            o.implements_interfaces.contains(ty)
                || o.fields.values().any(|f| {
                    f.ty.inner_named_type() == ty
                        || f.arguments.iter().any(|a| a.ty.inner_named_type() == ty)
                })
        }
        ExtendedType::Interface(i) => {
            i.implements_interfaces.contains(ty)
                || i.fields.values().any(|f| f.ty.inner_named_type() == ty)
        }
        ExtendedType::Union(u) => u.members.contains(ty),
        ExtendedType::InputObject(i) => i.fields.values().any(|f| f.ty.inner_named_type() == ty),
        _ => false,
    })
}

/// `@shareable` is for object fields (and object types), once per definition or extension.
fn check_shareable_usage(sg: &Subgraph, d: &mut Diagnostics) {
    if !sg.fed2 {
        return;
    }
    let n = &sg.names;
    for (tname, ty) in &sg.schema.types {
        let fields = match ty {
            ExtendedType::Object(o) => {
                let mut origins = Vec::new();
                for dir in o.directives.get_all(&n.shareable) {
                    if origins.contains(&&dir.origin) {
                        d.error(
                            "INVALID_SHAREABLE_USAGE",
                            format!("[{}] Invalid duplicate application of @{} on type \"{tname}\": @{} is only repeatable on types so it can be used simultaneously on a type definition and its extensions, but it should not be duplicated on the same definition/extension declaration", sg.name, n.shareable, n.shareable),
                            vec![sg.place(dir.location())],
                        );
                    }
                    origins.push(&dir.origin);
                }
                &o.fields
            }
            ExtendedType::Interface(i) => {
                for (fname, field) in &i.fields {
                    if let Some(dir) = field.directives.get(&n.shareable) {
                        d.error(
                            "INVALID_SHAREABLE_USAGE",
                            format!("[{}] Invalid use of @{} on field \"{tname}.{fname}\": only object type fields can be marked with @{}", sg.name, n.shareable, n.shareable),
                            vec![sg.place(dir.location())],
                        );
                    }
                }
                continue;
            }
            _ => continue,
        };
        for (fname, field) in fields {
            if let Some(dir) = field.directives.get_all(&n.shareable).nth(1) {
                d.error(
                    "INVALID_SHAREABLE_USAGE",
                    format!("[{}] Invalid duplicate application of @{} on field \"{tname}.{fname}\": @{} is only repeatable on types so it can be used simultaneously on a type definition and its extensions, but it should not be duplicated on the same definition/extension declaration", sg.name, n.shareable, n.shareable),
                    vec![sg.place(dir.location())],
                );
            }
        }
    }
}

/// A `@key`: its fields exist, take no arguments, and are not of an abstract type.
fn validate_key(
    sg: &Subgraph,
    tname: &Name,
    key: &apollo_compiler::Node<apollo_compiler::ast::Directive>,
    d: &mut Diagnostics,
) {
    let Some(fields_value) = key.specified_argument_by_name("fields") else {
        return;
    };
    let Some(fields_arg) = fields_value.as_str() else {
        d.error(
            Use::Key.invalid_type_code(),
            format!(
                "[{}] On type \"{tname}\", for @{}(fields: {fields_value}): Invalid value for argument \"fields\": must be a string.",
                sg.name, sg.names.key
            ),
            vec![sg.place(key.location())],
        );
        return;
    };
    let context = format!(
        "On type \"{tname}\", for @{}(fields: \"{fields_arg}\")",
        sg.names.key
    );
    if !field_set_text_ok(sg, Use::Key, tname, fields_arg, &context, key.location(), d) {
        return;
    }
    // Apollo rejects an interface or union field as soon as it meets it, before looking at
    // the rest of the selection (which is then usually invalid too: it lacks a subselection).
    if let Some(set) = parse_lenient(sg, tname, fields_arg)
        && let Some((path, kind)) = first_abstract_field(sg, &set.selection_set)
    {
        d.error(
            "KEY_FIELDS_SELECT_INVALID_TYPE",
            format!(
                "[{}] {context}: field \"{path}\" is a {kind} type which is not allowed in @key",
                sg.name
            ),
            vec![sg.place(key.location())],
        );
        return;
    }
    if let Some(set) = field_set(
        sg,
        tname,
        fields_arg,
        &context,
        "KEY_INVALID_FIELDS",
        key.location(),
        d,
    ) {
        check_no_args(
            sg,
            Use::Key,
            &set.selection_set,
            &context,
            key.location(),
            d,
        );
    }
}

/// The first field (depth first) of interface or union type, with its kind's name.
fn first_abstract_field(sg: &Subgraph, set: &SelectionSet) -> Option<(String, &'static str)> {
    for selection in &set.selections {
        let found = match selection {
            Selection::Field(f) => match sg.schema.types.get(f.definition.ty.inner_named_type()) {
                Some(ExtendedType::Interface(_)) => {
                    Some((format!("{}.{}", set.ty, f.name), "Interface"))
                }
                Some(ExtendedType::Union(_)) => Some((format!("{}.{}", set.ty, f.name), "Union")),
                _ => first_abstract_field(sg, &f.selection_set),
            },
            Selection::InlineFragment(i) => first_abstract_field(sg, &i.selection_set),
            Selection::FragmentSpread(_) => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Federation names root types by their kind: a subgraph whose query root is `RootQuery`
/// cannot also have a type called `Query` (it would take the root's name in the supergraph).
fn check_root_type_names(sg: &Subgraph, d: &mut Diagnostics) {
    const KINDS: [(&str, &str, &str); 3] = [
        ("query", "Query", "ROOT_QUERY_USED"),
        ("mutation", "Mutation", "ROOT_MUTATION_USED"),
        ("subscription", "Subscription", "ROOT_SUBSCRIPTION_USED"),
    ];
    for (root, (kind, default, code)) in sg.roots.iter().zip(KINDS) {
        let Some(root) = root else {
            continue;
        };
        if root == default {
            continue;
        }
        let Some(existing) = sg.schema.types.get(default) else {
            continue;
        };
        let root_place = sg.place(sg.schema.types.get(root).and_then(|t| t.location()));
        d.error(
            code,
            format!(
                "[{}] The schema has a type named \"{default}\" but it is not set as the {kind} root type (\"{root}\" is instead): this is not supported by federation. If a root type does not use its default name, there should be no other type with that default name.",
                sg.name
            ),
            vec![root_place, sg.place(existing.location())],
        );
    }
}

/// `@key` on interfaces came with federation 2.3 (with `@interfaceObject`).
fn keys_on_interfaces_unsupported(sg: &Subgraph, d: &mut Diagnostics) {
    let n = &sg.names;
    for (iname, ty) in &sg.schema.types {
        let ExtendedType::Interface(_) = ty else {
            continue;
        };
        if let Some(key) = ty.directives().get(&n.key) {
            d.error(
                "KEY_UNSUPPORTED_ON_INTERFACE",
                format!("[{}] Cannot use @{} on interface \"{iname}\": @{} is not yet supported on interfaces", sg.name, n.key, n.key),
                vec![sg.place(key.location())],
            );
        }
    }
}

/// A `@key` on an interface is a promise that every implementation (in this subgraph) can be
/// fetched by that key: each must carry the same key, resolvable if the interface's is.
fn check_interface_keys(sg: &Subgraph, d: &mut Diagnostics) {
    let n = &sg.names;
    for (iname, ty) in &sg.schema.types {
        let ExtendedType::Interface(_) = ty else {
            continue;
        };
        let implementations = implementations(sg, iname);
        for key in ty.directives().get_all(&n.key) {
            let Some(fields) = fields_arg(key) else {
                continue;
            };
            let Some(wanted) = canonical_field_set(sg, iname, fields) else {
                continue;
            };
            let resolvable = is_resolvable(key);
            let mut missing = Vec::new();
            let mut not_resolvable = Vec::new();
            for implementation in &implementations {
                let Some(object) = sg.schema.types.get(implementation) else {
                    continue;
                };
                let matching = object.directives().get_all(&n.key).find(|k| {
                    fields_arg(k).and_then(|f| canonical_field_set(sg, implementation, f))
                        == Some(wanted.clone())
                });
                match matching {
                    None => missing.push(object),
                    Some(k) if resolvable && !is_resolvable(k) => not_resolvable.push(object),
                    Some(_) => {}
                }
            }
            let key_str = format!("@{}(fields: {})", n.key, super::applied::quote(fields));
            if !missing.is_empty() {
                d.error(
                    "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                    format!(
                        "[{}] Key {key_str} on interface type \"{iname}\" is missing on implementation {}.",
                        sg.name,
                        types_list(&missing)
                    ),
                    missing.iter().map(|t| sg.place(t.location())).collect(),
                );
            } else if !not_resolvable.is_empty() {
                d.error(
                    "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                    format!(
                        "[{}] Key {key_str} on interface type \"{iname}\" should be resolvable on all implementation types, but is declared with argument \"@key(resolvable:)\" set to false in {}.",
                        sg.name,
                        types_list(&not_resolvable)
                    ),
                    not_resolvable.iter().map(|t| sg.place(t.location())).collect(),
                );
            }
        }
    }
}

fn is_resolvable(key: &apollo_compiler::Node<apollo_compiler::ast::Directive>) -> bool {
    key.specified_argument_by_name("resolvable")
        .and_then(|v| v.to_bool())
        .unwrap_or(true)
}

/// `type "A"` or `types "A" and "B"`, as Apollo lists types.
fn types_list(types: &[&ExtendedType]) -> String {
    let names: Vec<String> = types.iter().map(|t| format!("\"{}\"", t.name())).collect();
    let prefix = if names.len() == 1 { "type" } else { "types" };
    format!("{prefix} {}", super::mismatch::join_and(&names))
}

/// A field set printed in a canonical form (fields sorted at every level), so that keys
/// written differently but selecting the same fields compare equal.
pub fn canonical_field_set(sg: &Subgraph, type_name: &Name, fields: &str) -> Option<String> {
    let set = FieldSet::parse(&sg.schema, type_name.clone(), fields, "fields").ok()?;
    Some(canonical_selections(&set.selection_set))
}

fn canonical_selections(set: &SelectionSet) -> String {
    let mut items: Vec<String> = set
        .selections
        .iter()
        .map(|s| match s {
            Selection::Field(f) if f.selection_set.selections.is_empty() => f.name.to_string(),
            Selection::Field(f) => {
                format!("{} {{{}}}", f.name, canonical_selections(&f.selection_set))
            }
            Selection::InlineFragment(i) => format!(
                "... on {} {{{}}}",
                i.type_condition.as_ref().map_or("", |t| t.as_str()),
                canonical_selections(&i.selection_set)
            ),
            Selection::FragmentSpread(f) => format!("...{}", f.fragment_name),
        })
        .collect();
    items.sort();
    items.dedup();
    items.join(" ")
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

/// `@key` and `@provides` field sets select no field that takes arguments (`@requires` may).
fn check_no_args(
    sg: &Subgraph,
    usage: Use,
    set: &SelectionSet,
    context: &str,
    location: Option<apollo_compiler::parser::SourceSpan>,
    d: &mut Diagnostics,
) {
    let code = match usage {
        Use::Provides => "PROVIDES_FIELDS_HAS_ARGS",
        _ => "KEY_FIELDS_HAS_ARGS",
    };
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                let path = format!("{}.{}", set.ty, f.name);
                if !f.definition.arguments.is_empty() {
                    d.error(
                        code,
                        format!("[{}] {context}: field {path} cannot be included because it has arguments (fields with argument are not allowed in @{})", sg.name, usage.directive()),
                        vec![sg.place(location)],
                    );
                }
                check_no_args(sg, usage, &f.selection_set, context, location, d);
            }
            Selection::InlineFragment(i) => {
                check_no_args(sg, usage, &i.selection_set, context, location, d)
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// The field set's text: one selection set, no directive applied in it. Reports and returns
/// false otherwise (the fields are then not read at all, as in Apollo).
fn field_set_text_ok(
    sg: &Subgraph,
    usage: Use,
    type_name: &Name,
    fields: &str,
    context: &str,
    location: Option<apollo_compiler::parser::SourceSpan>,
    d: &mut Diagnostics,
) -> bool {
    if let Some(message) = syntax_error(fields) {
        d.error(
            usage.invalid_fields_code(),
            format!("[{}] {context}: {message}", sg.name),
            vec![sg.place(location)],
        );
        return false;
    }
    if let Some(directive) =
        parse_lenient(sg, type_name, fields).and_then(|set| first_directive(&set.selection_set))
    {
        d.error(
            usage.directive_code(),
            format!(
                "[{}] {context}: cannot have directive applications in the @{}(fields:) argument but found {directive}.",
                sg.name,
                usage.directive()
            ),
            vec![sg.place(location)],
        );
        return false;
    }
    true
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

/// An `@external` field no key, `@requires` or `@provides` uses, and that no interface needs,
/// has no purpose (Federation 2 only: Federation 1 marked key fields external by convention).
fn check_unused_external(sg: &Subgraph, used: &HashSet<(Name, Name)>, d: &mut Diagnostics) {
    if !sg.fed2 {
        return;
    }
    for (tname, ty) in &sg.schema.types {
        let (fields, type_external) = match ty {
            ExtendedType::Object(o) => (&o.fields, o.directives.has(&sg.names.external)),
            ExtendedType::Interface(i) => (&i.fields, false),
            _ => continue,
        };
        for (fname, f) in fields {
            if !(type_external || f.directives.has(&sg.names.external)) {
                continue;
            }
            if used.contains(&(tname.clone(), fname.clone())) {
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
