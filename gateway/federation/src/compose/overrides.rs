//! `@override(from:, label:)` (Apollo's `validateOverride`): which definitions of a field an
//! override takes the field away from, whether the old definition stays (because federation
//! directives of its subgraph still use it), and the progressive-override label both sides
//! carry. Invalid overrides are errors; overrides that do nothing are hints.

use apollo_compiler::schema::ExtendedType;

use super::errors::{Diagnostics, Place};
use super::merge::{Context, FieldOcc};

/// Applies every `@override` among one field's definitions, marking the overridden ones.
pub(super) fn apply(
    ctx: &Context,
    type_name: &str,
    fname: &str,
    occs: &mut [FieldOcc],
    d: &mut Diagnostics,
) {
    let overriding: Vec<usize> = (0..occs.len())
        .filter(|&i| occs[i].override_.is_some())
        .collect();
    let with_override: Vec<String> = overriding
        .iter()
        .map(|&i| occs[i].sg.name.clone())
        .collect();
    for i in overriding {
        let Some((from, label)) = occs[i].override_.clone() else {
            continue;
        };
        let coordinate = format!("{type_name}.{fname}");
        let Some(j) = source_of(
            ctx,
            &coordinate,
            type_name,
            fname,
            occs,
            i,
            &from,
            &with_override,
            d,
        ) else {
            continue;
        };
        if collides(&coordinate, occs, i, j, d) {
            continue;
        }
        take_over(&coordinate, occs, i, j, label.is_some(), d);
        if let Some(label) = label {
            progressive(&coordinate, occs, i, j, &label, d);
        }
    }
}

/// Where the `@override` in `occs[i]` sits, for messages.
fn override_place(o: &FieldOcc) -> Place {
    let location = o
        .def
        .directives
        .get(&o.sg.names.override_)
        .and_then(|d| d.location())
        .or(o.def.location());
    o.sg.place(location)
}

/// The definition `occs[i]` overrides, if the override is one that can apply; reports why
/// not otherwise.
#[allow(clippy::too_many_arguments)]
fn source_of(
    ctx: &Context,
    coordinate: &str,
    type_name: &str,
    fname: &str,
    occs: &[FieldOcc],
    i: usize,
    from: &str,
    with_override: &[String],
    d: &mut Diagnostics,
) -> Option<usize> {
    let o = &occs[i];
    let name = &o.sg.name;
    match o.parent {
        ExtendedType::Interface(_) => {
            d.error(
                "OVERRIDE_ON_INTERFACE",
                format!("@override cannot be used on field \"{coordinate}\" on subgraph \"{name}\": @override is not supported on interface type fields."),
                vec![override_place(o)],
            );
            return None;
        }
        ExtendedType::Object(t) if t.directives.has(&o.sg.names.interface_object) => {
            d.error(
                "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                format!("@override is not yet supported on fields of @interfaceObject types: cannot be used on field \"{coordinate}\" on subgraph \"{name}\"."),
                vec![override_place(o)],
            );
            return None;
        }
        _ => {}
    }
    let Some(from_graph) = ctx.subgraphs.iter().position(|s| s.name == from) else {
        d.hint(
            "FROM_SUBGRAPH_DOES_NOT_EXIST",
            format!("Source subgraph \"{from}\" for field \"{coordinate}\" on subgraph \"{name}\" does not exist."),
            vec![override_place(o)],
        );
        return None;
    };
    if from == name {
        d.error(
            "OVERRIDE_FROM_SELF_ERROR",
            format!("Source and destination subgraphs \"{from}\" are the same for overridden field \"{coordinate}\""),
            vec![override_place(o)],
        );
        return None;
    }
    if with_override.iter().any(|s| s == from) {
        let mut places = vec![override_place(o)];
        places.extend(
            occs.iter()
                .filter(|x| x.sg.name == from)
                .map(override_place),
        );
        d.error(
            "OVERRIDE_SOURCE_HAS_OVERRIDE",
            format!("Field \"{coordinate}\" on subgraph \"{name}\" is also marked with directive @override in subgraph \"{from}\". Only one @override directive is allowed per field."),
            places,
        );
        return None;
    }
    if let Some(j) = occs.iter().position(|x| x.graph == from_graph) {
        return Some(j);
    }
    let abstracting = ctx.abstracting_fields(type_name, fname, from_graph);
    if abstracting.is_empty() {
        d.hint(
            "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
            format!("Field \"{coordinate}\" on subgraph \"{name}\" no longer exists in the from subgraph. The @override directive can be removed."),
            vec![override_place(o)],
        );
    } else {
        let types: Vec<String> = abstracting
            .iter()
            .map(|(i, _)| format!("\"{i}\""))
            .collect();
        d.error(
            "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
            format!(
                "Invalid @override on field \"{coordinate}\" of subgraph \"{name}\": source subgraph \"{from}\" does not have field \"{coordinate}\" but abstract it in {} {} and overriding abstracted fields is not supported.",
                if types.len() == 1 { "type" } else { "types" },
                super::mismatch::join_and(&types)
            ),
            vec![override_place(o)],
        );
    }
    None
}

/// An override cannot take a field from a definition with `@requires` or `@provides` (they
/// would be lost), nor be `@external` itself (it would resolve nothing).
fn collides(coordinate: &str, occs: &[FieldOcc], i: usize, j: usize, d: &mut Diagnostics) -> bool {
    let (o, from) = (&occs[i], &occs[j]);
    let from_names = &from.sg.names;
    let conflict = if from.requires.is_some() {
        Some((&from_names.requires, &from.sg.name))
    } else if from.provides.is_some() {
        Some((&from_names.provides, &from.sg.name))
    } else if o.external {
        Some((&from_names.external, &o.sg.name))
    } else {
        None
    };
    let Some((directive, marked_in)) = conflict else {
        return false;
    };
    d.error_with_hint(
        "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
        format!(
            "@override cannot be used on field \"{coordinate}\" on subgraph \"{}\" since \"{coordinate}\" on \"{marked_in}\" is marked with directive \"@{directive}\"",
            o.sg.name
        ),
        vec![override_place(o), from.sg.place(from.def.location())],
        "remove the @override, or the conflicting directive",
    );
    true
}

/// Marks `occs[j]` overridden by `occs[i]` (unless it is `@external` anyway).
fn take_over(
    coordinate: &str,
    occs: &mut [FieldOcc],
    i: usize,
    j: usize,
    labelled: bool,
    d: &mut Diagnostics,
) {
    let name = occs[i].sg.name.clone();
    let from = &occs[j];
    let from_name = from.sg.name.clone();
    let from_place = from.sg.place(from.def.location());
    if from.external {
        d.hint(
            "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
            format!("Field \"{coordinate}\" on subgraph \"{name}\" is not resolved anymore by the from subgraph (it is marked \"@external\" in \"{from_name}\"). The @override directive can be removed."),
            vec![override_place(&occs[i])],
        );
        return;
    }
    if !labelled {
        let message = if from.used {
            format!(
                "Field \"{coordinate}\" on subgraph \"{from_name}\" is overridden. It is still used in some federation directive(s) (@key, @requires, and/or @provides) and/or to satisfy interface constraint(s), but consider marking it @external explicitly or removing it along with its references."
            )
        } else {
            format!(
                "Field \"{coordinate}\" on subgraph \"{from_name}\" is overridden. Consider removing it."
            )
        };
        d.hint("OVERRIDDEN_FIELD_CAN_BE_REMOVED", message, vec![from_place]);
    }
    occs[j].overridden = Some(name);
}

/// A progressive override's label: a name (`beta`, `team:x`) or `percent(N)` with N in 0–100.
fn progressive(
    coordinate: &str,
    occs: &mut [FieldOcc],
    i: usize,
    j: usize,
    label: &str,
    d: &mut Diagnostics,
) {
    let name = occs[i].sg.name.clone();
    if is_valid_label(label) {
        occs[i].label = Some(label.to_owned());
        occs[j].label = Some(label.to_owned());
    } else {
        d.error_with_hint(
            "OVERRIDE_LABEL_INVALID",
            format!("Invalid @override label \"{label}\" on field \"{coordinate}\" on subgraph \"{name}\": labels must start with a letter and after that may contain alphanumerics, underscores, minuses, colons, periods, or slashes. Alternatively, labels may be of the form \"percent(x)\" where x is a float between 0-100 inclusive."),
            vec![override_place(&occs[i])],
            "e.g. label: \"percent(25)\" or label: \"my-feature-flag\"",
        );
    }
    let from = &occs[j];
    let message = if from.used {
        format!(
            "Field \"{coordinate}\" on subgraph \"{}\" is currently being migrated via progressive @override. It is still used in some federation directive(s) (@key, @requires, and/or @provides) and/or to satisfy interface constraint(s). Once the migration is complete, consider marking it @external explicitly or removing it along with its references.",
            from.sg.name
        )
    } else {
        format!(
            "Field \"{coordinate}\" is currently being migrated with progressive @override. Once the migration is complete, remove the field from subgraph \"{}\".",
            from.sg.name
        )
    };
    d.hint(
        "OVERRIDE_MIGRATION_IN_PROGRESS",
        message,
        vec![from.sg.place(from.def.location())],
    );
}

/// Apollo's label rules: `^[a-zA-Z][a-zA-Z0-9_\-:./]*$`, or `percent(x)` where x matches
/// `\d{1,2}(\.\d{1,8})?|100`.
pub fn is_valid_label(label: &str) -> bool {
    let mut chars = label.chars();
    let named = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/'));
    named || is_percent(label)
}

fn is_percent(label: &str) -> bool {
    let Some(n) = label
        .strip_prefix("percent(")
        .and_then(|r| r.strip_suffix(')'))
    else {
        return false;
    };
    if n == "100" {
        return true;
    }
    let (int, frac) = match n.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (n, None),
    };
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii_digit())
    };
    digits(int, 2) && frac.is_none_or(|f| digits(f, 8))
}

#[cfg(test)]
mod tests {
    use super::is_valid_label;

    #[test]
    fn labels_follow_apollo() {
        for ok in [
            "beta",
            "a-b_c:d.e/f",
            "percent(0)",
            "percent(50)",
            "percent(99.12345678)",
            "percent(100)",
        ] {
            assert!(is_valid_label(ok), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "percent(150)",
            "percent(100.0)",
            "percent(5.)",
            "percent(1.123456789)",
            "percent()",
            "a b",
        ] {
            assert!(!is_valid_label(bad), "{bad}");
        }
    }
}
