//! Small readers for directive arguments and source locations.

use apollo_compiler::ast::{Directive, Value};
use apollo_compiler::parser::{SourceMap, SourceSpan};
use apollo_compiler::{Name, Node, Schema};

/// 1-based (line, column) of an element, when it came from the parsed source.
pub fn location_of<T>(node: &Node<T>, schema: &Schema) -> Option<(usize, usize)> {
    span_location(node.location(), &schema.sources)
}

/// 1-based (line, column) of a source span.
pub fn span_location(span: Option<SourceSpan>, sources: &SourceMap) -> Option<(usize, usize)> {
    let start = span?.line_column_range(sources)?.start;
    Some((start.line, start.column))
}

pub fn string_arg<'a>(d: &'a Directive, name: &str) -> Option<&'a str> {
    d.specified_argument_by_name(name).and_then(|v| v.as_str())
}

pub fn bool_arg(d: &Directive, name: &str) -> Option<bool> {
    d.specified_argument_by_name(name).and_then(|v| v.to_bool())
}

pub fn enum_arg<'a>(d: &'a Directive, name: &str) -> Option<&'a Name> {
    d.specified_argument_by_name(name).and_then(|v| v.as_enum())
}

pub fn int_arg(d: &Directive, name: &str) -> Option<i64> {
    match d.specified_argument_by_name(name)?.as_ref() {
        Value::Int(i) => i.try_to_i32().ok().map(i64::from),
        _ => None,
    }
}

/// A list of strings (`["a", "b"]`); a single string counts as a list of one (input coercion).
pub fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::List(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A list of lists of strings (`[["a"], ["b", "c"]]`), as `@requiresScopes` and `@policy` take.
pub fn string_list_list(value: &Value) -> Vec<Vec<String>> {
    match value {
        Value::List(items) => items.iter().map(|inner| string_list(inner)).collect(),
        Value::String(s) => vec![vec![s.clone()]],
        _ => Vec::new(),
    }
}
