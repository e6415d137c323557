//! Input rewrites (on representations) and output rewrites (on answers) of a fetch.

use serde_json::{Map, Value};
use weft_federation::plan::model::Rewrite;

use crate::store::{Store, Val};

/// `value` with the fetch's output rewrites applied (rare: most fetches have none).
pub(super) fn rewritten(data: &mut Store, value: Val, rewrites: &[Rewrite]) -> Val {
    if rewrites.is_empty() {
        return value;
    }
    let mut json = data.to_value(&value);
    apply_output_rewrites(&mut json, rewrites);
    data.import(&json)
}

/// Input rewrites: `["... on Book", "__typename"]` sets `__typename` when the object is a Book.
pub(super) fn rewrite(rep: &mut Map<String, Value>, typename: Option<&str>, rewrites: &[Rewrite]) {
    let typename = typename.unwrap_or("");
    for r in rewrites {
        if let Rewrite::ValueSetter { path, set_value_to } = r {
            let (condition, key) = match path.as_slice() {
                [c, k] if c.starts_with("... on ") => (Some(&c[7..]), k),
                [k] => (None, k),
                _ => continue,
            };
            if condition.is_none_or(|c| c == typename) {
                rep.insert(key.clone(), set_value_to.clone());
            }
        }
    }
}

/// Output rewrites: a `KeyRenamer` renames the last key of its path in every object the path
/// reaches (lists are walked through; `... on T` keeps only objects of type T).
pub(super) fn apply_output_rewrites(value: &mut Value, rewrites: &[Rewrite]) {
    for r in rewrites {
        if let Rewrite::KeyRenamer {
            path,
            rename_key_to,
        } = r
        {
            rename_at(value, path, rename_key_to);
        }
    }
}

pub(super) fn rename_at(value: &mut Value, path: &[String], to: &str) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| rename_at(v, path, to)),
        Value::Object(map) => match path {
            [] => {}
            [key] => {
                if let Some(v) = map.remove(key) {
                    map.insert(to.to_owned(), v);
                }
            }
            [first, rest @ ..] => match first.strip_prefix("... on ") {
                Some(ty) => {
                    if map.get("__typename").and_then(Value::as_str) == Some(ty) {
                        rename_at(value, rest, to);
                    }
                }
                None => {
                    if let Some(next) = map.get_mut(first) {
                        rename_at(next, rest, to);
                    }
                }
            },
        },
        _ => {}
    }
}
