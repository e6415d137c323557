//! Representations: the `requires` selection of an object, read from the store as a map
//! (`select`) or written straight as JSON text (`write_selection`: the usual way, one pass).

use serde_json::{Map, Value};
use weft_federation::plan::model::Selection;

use crate::store::{ObjId, Store, Val, write_str};

/// A representation: the `requires` selection read from the object; `None` when no type
/// condition matches the object.
pub(super) fn select(
    data: &Store,
    object: ObjId,
    selections: &[Selection],
) -> Option<Map<String, Value>> {
    let typename = data.typename(object);
    let mut out = Map::new();
    let mut matched = false;
    for s in selections {
        match s {
            Selection::Field {
                name,
                alias,
                selections,
            } => {
                matched = true;
                let read = alias.as_ref().unwrap_or(name);
                let value = data.get(object, read).unwrap_or(&Val::Null);
                let value = if selections.is_empty() {
                    data.to_value(value)
                } else {
                    select_value(data, value, selections)
                };
                out.insert(name.clone(), value);
            }
            Selection::InlineFragment {
                possible_types,
                selections,
                type_condition,
            } => {
                if applies(typename, type_condition, possible_types)
                    && let Some(inner) = select(data, object, selections)
                {
                    matched = true;
                    for (k, v) in inner {
                        out.insert(k, v);
                    }
                }
            }
        }
    }
    matched.then_some(out)
}

pub(super) fn select_value(data: &Store, value: &Val, selections: &[Selection]) -> Value {
    match value {
        Val::Object(o) => select(data, *o, selections).map_or(Value::Null, Value::Object),
        Val::List(items) => Value::Array(
            items
                .iter()
                .map(|v| select_value(data, v, selections))
                .collect(),
        ),
        other => data.to_value(other),
    }
}

/// Whether a `requires` fragment applies to an object of type `typename` (one without a
/// type condition applies to all).
pub(super) fn applies(typename: Option<&str>, condition: &str, possible_types: &[String]) -> bool {
    possible_types.is_empty() && condition.is_empty()
        || typename.is_some_and(|t| possible_types.iter().any(|p| p == t) || t == condition)
}

/// A response name selected twice in one object: the later value replaces the earlier one in
/// its place, which text written in one pass cannot do.
pub(super) struct Twice;

/// Writes the `requires` selection of `object` as JSON text, the same text as serializing
/// what `select` gives, without building it; `fields` gets the names written at the top and
/// whether their value is null. `Ok(false)`: no type condition matches the object.
pub(super) fn write_selection<'s>(
    data: &Store,
    object: ObjId,
    selections: &'s [Selection],
    out: &mut Vec<u8>,
    fields: &mut Vec<(&'s str, bool)>,
) -> Result<bool, Twice> {
    out.push(b'{');
    let matched = write_fields(data, object, selections, out, fields)?;
    out.push(b'}');
    Ok(matched)
}

pub(super) fn write_fields<'s>(
    data: &Store,
    object: ObjId,
    selections: &'s [Selection],
    out: &mut Vec<u8>,
    fields: &mut Vec<(&'s str, bool)>,
) -> Result<bool, Twice> {
    let mut matched = false;
    for s in selections {
        match s {
            Selection::Field {
                name,
                alias,
                selections,
            } => {
                matched = true;
                if fields.iter().any(|(n, _)| n == name) {
                    return Err(Twice);
                }
                if !fields.is_empty() {
                    out.push(b',');
                }
                write_str(name, out);
                out.push(b':');
                let read = alias.as_ref().unwrap_or(name);
                let value = data.get(object, read).unwrap_or(&Val::Null);
                let null = if selections.is_empty() {
                    data.write(value, out);
                    value.is_null()
                } else {
                    write_selected(data, value, selections, out)?
                };
                fields.push((name, null));
            }
            Selection::InlineFragment {
                possible_types,
                selections,
                type_condition,
            } => {
                if applies(data.typename(object), type_condition, possible_types)
                    && write_fields(data, object, selections, out, fields)?
                {
                    matched = true;
                }
            }
        }
    }
    Ok(matched)
}

/// `select_value` as text; whether it wrote null.
pub(super) fn write_selected(
    data: &Store,
    value: &Val,
    selections: &[Selection],
    out: &mut Vec<u8>,
) -> Result<bool, Twice> {
    match value {
        Val::Object(o) => {
            let start = out.len();
            if write_selection(data, *o, selections, out, &mut Vec::new())? {
                return Ok(false);
            }
            out.truncate(start);
            out.extend_from_slice(b"null");
            Ok(true)
        }
        Val::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_selected(data, item, selections, out)?;
            }
            out.push(b']');
            Ok(false)
        }
        other => {
            data.write(other, out);
            Ok(other.is_null())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn selections(value: Value) -> Vec<Selection> {
        serde_json::from_value(value).unwrap_or_default()
    }

    fn field(name: &str, inner: Value) -> Value {
        json!({ "kind": "Field", "responseName": name, "selections": inner })
    }

    fn on(ty: &str, inner: Value) -> Value {
        json!({ "kind": "InlineFragment", "typeCondition": ty, "possibleTypes": [ty], "selections": inner })
    }

    /// The text written in one pass is the text of the map `select` builds.
    #[test]
    fn written_representations_are_the_selected_ones() {
        let mut store = Store::new();
        let objects = json!([
            {"__typename": "Product", "upc": "1", "extra": 1},
            {"__typename": "Product", "upc": null},
            {"__typename": "Book", "id": "b\"1", "org": {"id": 7, "name": "x"}, "tags": [{"id": 1}, null]},
            {"__typename": "Movie", "id": "m"},
            {"id": "no type"},
        ]);
        let Val::List(objects) = store.import(&objects) else {
            panic!("a list")
        };
        let requires = selections(json!([
            on(
                "Product",
                json!([field("__typename", json!([])), field("upc", json!([]))])
            ),
            on(
                "Book",
                json!([
                    field("__typename", json!([])),
                    field("id", json!([])),
                    field("org", json!([field("id", json!([]))])),
                    field("tags", json!([field("id", json!([]))])),
                ])
            ),
        ]));
        for object in objects.iter() {
            let Val::Object(id) = object else { continue };
            let mut text = Vec::new();
            let mut fields = Vec::new();
            let written = write_selection(&store, *id, &requires, &mut text, &mut fields);
            let selected = select(&store, *id, &requires);
            match (written, selected) {
                (Ok(true), Some(map)) => {
                    assert_eq!(text, serde_json::to_vec(&map).unwrap_or_default());
                    for (name, null) in fields {
                        assert_eq!(map.get(name).is_none_or(Value::is_null), null, "{name}");
                    }
                }
                (Ok(false), None) => {}
                _ => panic!("written and selected disagree on {object:?}"),
            }
        }
        // A name selected twice cannot be written in one pass.
        let twice = selections(json!([
            field("upc", json!([])),
            on("Product", json!([field("upc", json!([]))])),
        ]));
        let Some(Val::Object(first)) = objects.first() else {
            panic!("an object")
        };
        let written = write_selection(&store, *first, &twice, &mut Vec::new(), &mut Vec::new());
        assert!(matches!(written, Err(Twice)));
    }
}
