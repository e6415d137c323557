//! `@fromContext` arguments: each object's values, read from its ancestors by the fetch's
//! context rewrites (the planner's `plan/build/context.rs` says where).

use serde_json::{Map, Value};
use weft_federation::plan::model::{ContextRewrite, PARENT};

use super::representation::select_value;
use crate::store::{ObjId, Reach, Store, Val};

/// The objects of a fetch whose ancestors give the same values: one request.
pub(super) struct Group {
    pub values: Map<String, Value>,
    pub objects: Vec<(ObjId, Reach)>,
    /// Every non-null argument has a value (not null): the subgraph can accept the request.
    pub complete: bool,
}

/// The objects at `path`, grouped by the values `rewrites` read for them, in the order first
/// met. The values are read once per distinct set of ancestors (many objects share theirs).
pub(super) fn groups(data: &Store, path: &[String], rewrites: &[ContextRewrite]) -> Vec<Group> {
    let mut levels: Vec<usize> = rewrites.iter().map(ups).collect();
    levels.sort_unstable();
    levels.dedup();
    let mut groups: Vec<Group> = Vec::new();
    let mut by_values: rustc_hash::FxHashMap<String, usize> = Default::default();
    let mut by_ancestors: rustc_hash::FxHashMap<Vec<Option<ObjId>>, usize> = Default::default();
    for (object, anchors) in data.find_with_ancestors(path, &levels) {
        let group = match by_ancestors.get(&anchors) {
            Some(&g) => g,
            None => {
                let values = values(data, &levels, &anchors, rewrites);
                let key = serde_json::to_string(&values).unwrap_or_default();
                let g = *by_values.entry(key).or_insert_with(|| {
                    let complete = rewrites
                        .iter()
                        .filter(|r| r.required)
                        .all(|r| values.get(&r.rename_key_to).is_some_and(|v| !v.is_null()));
                    groups.push(Group {
                        values,
                        objects: Vec::new(),
                        complete,
                    });
                    groups.len() - 1
                });
                by_ancestors.insert(anchors, g);
                g
            }
        };
        groups[group].objects.push((object, 0));
    }
    groups
}

/// How many object levels up a rewrite's ancestor is.
fn ups(r: &ContextRewrite) -> usize {
    r.path.iter().take_while(|p| *p == PARENT).count()
}

/// The variables an object's fetch is sent with: for each rewrite's variable, the value the
/// first rewrite finding its ancestor reads. `anchors`: the object's ancestors at `levels`.
/// A variable no rewrite fills is left out (the subgraph sees it null).
fn values(
    data: &Store,
    levels: &[usize],
    anchors: &[Option<ObjId>],
    rewrites: &[ContextRewrite],
) -> Map<String, Value> {
    let mut out = Map::new();
    for r in rewrites {
        if out.contains_key(&r.rename_key_to) {
            continue;
        }
        let up = ups(r);
        let Some(Some(ancestor)) = levels
            .iter()
            .position(|l| *l == up)
            .and_then(|i| anchors.get(i))
        else {
            continue;
        };
        if let Some(v) = read(data, &Val::Object(*ancestor), &r.path[up..], r) {
            out.insert(r.rename_key_to.clone(), v);
        }
    }
    out
}

/// The value at `path` below `value`: `... on T` holds only for an object of type `T`, keys
/// go down (through lists, element by element). `None`: the rewrite does not apply here.
fn read(data: &Store, value: &Val, path: &[String], r: &ContextRewrite) -> Option<Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(if r.selections.is_empty() {
            data.to_value(value)
        } else {
            select_value(data, value, &r.selections)
        });
    };
    match value {
        Val::Object(o) => match first.strip_prefix("... on ") {
            Some(ty) => {
                if data.typename(*o) == Some(ty) {
                    read(data, value, rest, r)
                } else {
                    None
                }
            }
            None => read(data, data.get(*o, first)?, rest, r),
        },
        Val::List(items) => Some(Value::Array(
            items
                .iter()
                .map(|v| read(data, v, path, r).unwrap_or(Value::Null))
                .collect(),
        )),
        Val::Null => Some(Value::Null),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rewrite(path: &[&str], variable: &str) -> ContextRewrite {
        ContextRewrite {
            path: path.iter().map(|p| (*p).to_owned()).collect(),
            rename_key_to: variable.to_owned(),
            selections: Vec::new(),
            required: false,
        }
    }

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|p| (*p).to_owned()).collect()
    }

    /// Each item gets the currency of the store above it (two levels up, through lists); items
    /// under stores with the same currency go in one group, in the order met.
    #[test]
    fn objects_are_grouped_by_what_their_ancestors_give() {
        let mut store = Store::new();
        let data = store.import(&json!({
            "stores": [
                {"__typename": "Store", "currency": "EUR", "shelves": [
                    {"items": [{"__typename": "Item", "sku": "1"}, {"__typename": "Item", "sku": "2"}]}
                ]},
                {"__typename": "Store", "currency": "USD", "shelves": [
                    {"items": [{"__typename": "Item", "sku": "1"}]}
                ]},
                {"__typename": "Store", "currency": "EUR", "shelves": [{"items": []}]},
                {"__typename": "Popup", "currency": "GBP", "shelves": [
                    {"items": [{"__typename": "Item", "sku": "3"}]}
                ]},
            ]
        }));
        store.merge_value(Store::ROOT, data);
        let rewrites = [
            rewrite(&["..", "..", "... on Store", "currency"], "c"),
            rewrite(&["..", "..", "... on Market", "currency"], "c"),
        ];
        let groups = groups(
            &store,
            &path(&["stores", "@", "shelves", "@", "items", "@"]),
            &rewrites,
        );
        let summary: Vec<(Value, usize)> = groups
            .iter()
            .map(|g| (Value::Object(g.values.clone()), g.objects.len()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (json!({"c": "EUR"}), 2),
                (json!({"c": "USD"}), 1),
                // No rewrite's type matches a Popup: the variable is left out.
                (json!({}), 1),
            ]
        );
        // A nullable argument: every group can be sent.
        assert!(groups.iter().all(|g| g.complete));
        // A non-null one: the group without a value cannot (it goes in a request of its own).
        let required: Vec<ContextRewrite> = rewrites
            .iter()
            .cloned()
            .map(|r| ContextRewrite {
                required: true,
                ..r
            })
            .collect();
        let path = path(&["stores", "@", "shelves", "@", "items", "@"]);
        let complete: Vec<bool> = super::groups(&store, &path, &required)
            .iter()
            .map(|g| g.complete)
            .collect();
        assert_eq!(complete, [true, true, false]);
    }

    /// A list value is read element by element; a null on the way gives null; an
    /// input-object value keeps only the selected fields.
    #[test]
    fn values_go_down_lists_and_keep_only_selected_fields() {
        let mut store = Store::new();
        let data = store.import(&json!({
            "t": {"__typename": "T", "tags": [{"name": "a", "x": 1}, {"name": "b", "x": 2}],
                  "owner": null, "ids": {"id": "7", "legacy": "9", "extra": true},
                  "u": {"__typename": "U", "id": "1"}}
        }));
        store.merge_value(Store::ROOT, data);
        let mut projected = rewrite(&["..", "... on T", "ids"], "ids");
        projected.selections = serde_json::from_value(json!([
            {"kind": "Field", "responseName": "id"},
            {"kind": "Field", "responseName": "legacy"}
        ]))
        .unwrap_or_default();
        let rewrites = [
            rewrite(&["..", "... on T", "tags", "name"], "names"),
            rewrite(&["..", "... on T", "owner", "name"], "owner"),
            projected,
        ];
        let groups = groups(&store, &path(&["t", "u"]), &rewrites);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            Value::Object(groups[0].values.clone()),
            json!({"names": ["a", "b"], "owner": null, "ids": {"id": "7", "legacy": "9"}})
        );
    }
}
