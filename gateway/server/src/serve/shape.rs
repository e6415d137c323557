//! The client's response from the merged subgraph data: exactly the fields the operation
//! selects, in its order, under its aliases, with `__typename` filled in, fragments applied by
//! type, and null propagation per the GraphQL spec (a null in a non-null position nulls the
//! nearest nullable parent, with one error naming the field).

use apollo_compiler::Schema;
use apollo_compiler::ast::Type;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use serde_json::{Map, Value, json};
use weft_federation::operation::{Condition, Field, Operation, Selection, SelectionSet};

use super::exec::Seg;

/// A null reached a non-null position: the parent must become null too.
struct Bubble;

/// Shapes `data` for `op`; errors from null propagation are appended to `errors`. Enum values
/// the API schema does not have (unknown, or `@inaccessible`) become null with an error.
pub fn shape(
    op: &Operation,
    data: &Value,
    variables: &Map<String, Value>,
    api: &Valid<Schema>,
    errors: &mut Vec<Value>,
) -> Value {
    let empty = Map::new();
    let root = data.as_object().unwrap_or(&empty);
    let mut s = Shaper {
        variables,
        errors,
        api,
    };
    match s.object(
        &[&op.selection_set],
        root,
        &op.selection_set.parent_type,
        &mut Vec::new(),
    ) {
        Ok(map) => Value::Object(map),
        Err(Bubble) => Value::Null,
    }
}

struct Shaper<'a> {
    variables: &'a Map<String, Value>,
    errors: &'a mut Vec<Value>,
    api: &'a Valid<Schema>,
}

impl Shaper<'_> {
    fn passes(&self, conditions: &[Condition]) -> bool {
        conditions.iter().all(|c| {
            let value = self
                .variables
                .get(&c.variable)
                .and_then(Value::as_bool)
                .unwrap_or(false);
            value == c.passes_when
        })
    }

    /// The fields that apply to an object of type `typename`, grouped by response key in
    /// order (the spec's CollectFields).
    fn collect<'o>(
        &self,
        sets: &[&'o SelectionSet],
        typename: &str,
        out: &mut Vec<(String, Vec<&'o Field>)>,
    ) {
        for set in sets {
            for item in &set.items {
                match item {
                    Selection::Field(f) => {
                        if !self.passes(&f.conditions) {
                            continue;
                        }
                        match out.iter_mut().find(|(k, _)| *k == f.response_key) {
                            Some((_, fields)) => fields.push(f),
                            None => out.push((f.response_key.clone(), vec![f])),
                        }
                    }
                    Selection::InlineFragment(frag) => {
                        if !self.passes(&frag.conditions) {
                            continue;
                        }
                        let applies = frag.type_condition.is_none()
                            || frag.possible_types.iter().any(|t| t == typename);
                        if applies {
                            self.collect(&[&frag.selection_set], typename, out);
                        }
                    }
                }
            }
        }
    }

    fn object(
        &mut self,
        sets: &[&SelectionSet],
        data: &Map<String, Value>,
        declared: &str,
        path: &mut Vec<Seg>,
    ) -> Result<Map<String, Value>, Bubble> {
        let typename = data
            .get("__typename")
            .and_then(Value::as_str)
            .unwrap_or(declared)
            .to_owned();
        let mut fields = Vec::new();
        self.collect(sets, &typename, &mut fields);
        let mut out = Map::new();
        for (key, group) in fields {
            let first = group[0];
            path.push(Seg::Key(key.clone()));
            let value = if first.name == "__typename" {
                Ok(Value::String(typename.clone()))
            } else if first.name == "__schema" || first.name == "__type" {
                // Introspection is answered separately and merged in by the caller.
                path.pop();
                continue;
            } else {
                let raw = data.get(&key).unwrap_or(&Value::Null);
                let subsets: Vec<&SelectionSet> = group
                    .iter()
                    .filter_map(|f| f.selection_set.as_ref())
                    .collect();
                self.complete(&first.ty, raw, &subsets, &typename, first, path)
            };
            path.pop();
            match value {
                Ok(v) => {
                    out.insert(key, v);
                }
                Err(Bubble) => return Err(Bubble),
            }
        }
        Ok(out)
    }

    fn complete(
        &mut self,
        ty: &Type,
        raw: &Value,
        subsets: &[&SelectionSet],
        parent: &str,
        field: &Field,
        path: &mut Vec<Seg>,
    ) -> Result<Value, Bubble> {
        if raw.is_null() {
            if ty.is_non_null() {
                self.null_error(parent, field, path);
                return Err(Bubble);
            }
            return Ok(Value::Null);
        }
        let result = match ty {
            Type::List(inner) | Type::NonNullList(inner) => match raw {
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    let mut failed = false;
                    for (i, item) in items.iter().enumerate() {
                        path.push(Seg::Index(i));
                        let r = self.complete(inner, item, subsets, parent, field, path);
                        path.pop();
                        match r {
                            Ok(v) => out.push(v),
                            Err(Bubble) => {
                                failed = true;
                                break;
                            }
                        }
                    }
                    if failed {
                        Err(Bubble)
                    } else {
                        Ok(Value::Array(out))
                    }
                }
                // A subgraph returned a non-list for a list: treat as null.
                _ => Err(Bubble),
            },
            Type::Named(_) | Type::NonNullNamed(_) => {
                if subsets.is_empty() {
                    self.leaf(ty, raw, path)
                } else {
                    match raw {
                        // An object of a type clients cannot see (`@inaccessible`) is null
                        // to them.
                        Value::Object(map)
                            if map
                                .get("__typename")
                                .and_then(Value::as_str)
                                .is_some_and(|t| !self.api.types.contains_key(t)) =>
                        {
                            Err(Bubble)
                        }
                        Value::Object(map) => {
                            let declared = ty.inner_named_type().as_str();
                            self.object(subsets, map, declared, path).map(Value::Object)
                        }
                        _ => Err(Bubble),
                    }
                }
            }
        };
        match result {
            Ok(v) => Ok(v),
            // The value below failed: this position is null, or bubbles further if non-null.
            Err(Bubble) if ty.is_non_null() => {
                self.null_error(parent, field, path);
                Err(Bubble)
            }
            Err(Bubble) => Ok(Value::Null),
        }
    }

    /// A scalar or enum value; enum values must be ones the API schema has.
    fn leaf(&mut self, ty: &Type, raw: &Value, path: &[Seg]) -> Result<Value, Bubble> {
        let name = ty.inner_named_type();
        let Some(ExtendedType::Enum(e)) = self.api.types.get(name) else {
            return Ok(raw.clone());
        };
        match raw.as_str() {
            Some(v) if e.values.contains_key(v) => Ok(raw.clone()),
            _ => {
                self.errors.push(json!({
                    "message": format!("Enum \"{name}\" cannot represent value: {raw}"),
                    "path": path.iter().map(Seg::to_json).collect::<Vec<_>>(),
                }));
                Err(Bubble)
            }
        }
    }

    /// Records "cannot return null" unless an error is already reported at or below `path`.
    fn null_error(&mut self, parent: &str, field: &Field, path: &[Seg]) {
        let here: Vec<Value> = path.iter().map(Seg::to_json).collect();
        let covered = self.errors.iter().any(|e| {
            e.get("path").and_then(Value::as_array).is_some_and(|p| {
                let n = p.len().min(here.len());
                p[..n] == here[..n]
            })
        });
        if covered {
            return;
        }
        self.errors.push(json!({
            "message": format!("Cannot return null for non-nullable field {parent}.{}.", field.name),
            "path": here,
        }));
    }
}
