//! Demand control directives in one subgraph (`@cost`, `@listSize`): what a cost is put on,
//! and that a list size names real, integer slicing arguments and real list fields.

use apollo_compiler::ast::{Type, Value};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};

use super::errors::Diagnostics;
use super::subgraph::Subgraph;

pub fn validate(sg: &Subgraph, d: &mut Diagnostics) {
    if !sg.fed2 {
        return;
    }
    let n = &sg.names;
    for (tname, ty) in &sg.schema.types {
        match ty {
            ExtendedType::Interface(i) => {
                for (fname, field) in &i.fields {
                    if let Some(cost) = field.directives.get(&n.cost) {
                        d.error(
                            "COST_APPLIED_TO_INTERFACE_FIELD",
                            format!(
                                "[{}] @{} cannot be applied to interface \"{tname}.{fname}\"",
                                sg.name, n.cost
                            ),
                            vec![sg.place(cost.location())],
                        );
                    }
                    list_size(sg, tname, field, d);
                }
            }
            ExtendedType::Object(o) => {
                for field in o.fields.values() {
                    list_size(sg, tname, field, d);
                }
            }
            _ => {}
        }
    }
}

fn strings(value: Option<&apollo_compiler::Node<Value>>) -> Vec<String> {
    value
        .and_then(|v| v.as_list())
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn is_list(ty: &Type) -> bool {
    matches!(ty, Type::List(_) | Type::NonNullList(_))
}

fn list_size(sg: &Subgraph, tname: &str, field: &FieldDefinition, d: &mut Diagnostics) {
    let Some(dir) = field.directives.get(&sg.names.list_size) else {
        return;
    };
    let coord = format!("{tname}.{}", field.name);
    let mut error = |code: &'static str, message: String| {
        d.error(
            code,
            format!("[{}] {message}", sg.name),
            vec![sg.place(dir.location())],
        );
    };
    let sized_fields = strings(dir.specified_argument_by_name("sizedFields"));
    if sized_fields.is_empty() && !is_list(&field.ty) {
        error(
            "LIST_SIZE_APPLIED_TO_NON_LIST",
            format!("\"{coord}\" is not a list"),
        );
    }
    if let Some(size) = dir
        .specified_argument_by_name("assumedSize")
        .and_then(|v| v.to_i32())
        && size < 0
    {
        error(
            "LIST_SIZE_INVALID_ASSUMED_SIZE",
            format!("Assumed size of \"{coord}\" cannot be negative"),
        );
    }
    for name in strings(dir.specified_argument_by_name("slicingArguments")) {
        match field.arguments.iter().find(|a| a.name == name.as_str()) {
            None => error(
                "LIST_SIZE_INVALID_SLICING_ARGUMENT",
                format!("Slicing argument \"{name}\" is not an argument of \"{coord}\""),
            ),
            Some(arg) if !matches!(arg.ty.as_ref(), Type::Named(t) | Type::NonNullNamed(t) if t == "Int") => {
                error(
                    "LIST_SIZE_INVALID_SLICING_ARGUMENT",
                    format!("Slicing argument \"{coord}({name}:)\" must be Int or Int!"),
                )
            }
            Some(_) => {}
        }
    }
    if sized_fields.is_empty() {
        return;
    }
    let inner = field.ty.inner_named_type();
    let sized_type_fields = match sg.schema.types.get(inner) {
        Some(ExtendedType::Object(o)) => Some(&o.fields),
        Some(ExtendedType::Interface(i)) => Some(&i.fields),
        _ => None,
    };
    let Some(fields) = sized_type_fields else {
        error(
            "LIST_SIZE_INVALID_SIZED_FIELD",
            format!(
                "Sized fields cannot be used because \"{}\" is not a composite type",
                field.ty
            ),
        );
        return;
    };
    for name in sized_fields {
        match fields.get(name.as_str()) {
            None => error(
                "LIST_SIZE_INVALID_SIZED_FIELD",
                format!("Sized field \"{name}\" is not a field on type \"{inner}\""),
            ),
            Some(f) if !is_list(&f.ty) => error(
                "LIST_SIZE_APPLIED_TO_NON_LIST",
                format!("Sized field \"{inner}.{name}\" is not a list"),
            ),
            Some(_) => {}
        }
    }
}
