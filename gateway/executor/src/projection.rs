//! What one fetch asked its subgraph for, as the shape of the answer it accepts
//! (docs/subgraph-answers.md). A subgraph is untrusted: whatever it answers beyond what the
//! fetch selected (extra fields, keys, `__typename`s, another subgraph's fields, fields the
//! client may not see) is skipped while the answer is read (`store/read.rs`), so it can never
//! reach the response data, overwrite what another fetch put there, or enter a cache.
//!
//! Type conditions are not told apart: an object keeps every field selected under any of the
//! fragments at its level. That is a superset only of what this fetch selected, so nothing
//! another fetch owns (or the client may not see) gets in.

use std::sync::{Arc, Mutex, PoisonError};

use apollo_compiler::ast::{Definition, Document, Selection};
use rustc_hash::FxHashMap;
use weft_federation::text::same;

/// The response keys an object keeps, each with what it keeps inside (`None`: everything —
/// a leaf, whose value the shaping checks, or the subgraph's `errors`).
#[derive(Debug, Default, PartialEq)]
pub struct Projection {
    keys: Vec<(Box<str>, Option<Projection>)>,
    /// Many keys: looked up by hash rather than by walking `keys`.
    index: Option<FxHashMap<Box<str>, usize>>,
}

/// Above this many keys at one level, look-ups go through a map.
const SCAN: usize = 12;

/// How deep fragments may nest in a subgraph operation (the planner writes a few levels; a
/// bound keeps a spread cycle from looping).
const MAX_NESTING: usize = 64;

impl Projection {
    /// What an answer to `operation` may hold: `data` with the operation's selection, and
    /// `errors` as sent. `None` when the operation cannot be read (then nothing is kept).
    pub fn of_answer(operation: &str) -> Option<Projection> {
        let doc = Document::parse(operation, "fetch.graphql").ok()?;
        let mut fragments = FxHashMap::default();
        let mut op = None;
        for d in &doc.definitions {
            match d {
                Definition::OperationDefinition(o) if op.is_none() => op = Some(o),
                Definition::FragmentDefinition(f) => {
                    fragments.insert(f.name.as_str(), &f.selection_set);
                }
                _ => {}
            }
        }
        let mut data = Projection::default();
        add(&mut data, &op?.selection_set, &fragments, 0);
        let mut body = Projection::default();
        body.insert("data", Some(data));
        body.insert("errors", None);
        body.finish();
        Some(body)
    }

    /// What to keep of `key`: `None` when it was not asked for (skip it), `Some(None)` to
    /// keep all of it.
    pub fn get(&self, key: &str) -> Option<Option<&Projection>> {
        let i = self.position(key)?;
        self.keys.get(i).map(|(_, p)| p.as_ref())
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.keys.iter().position(|(k, _)| same(k, key)),
        }
    }

    /// Adds `key`; the index is kept up to date as keys arrive, so building a level of many
    /// keys (an operation of thousands of aliases) costs linear time too.
    fn insert(&mut self, key: &str, inner: Option<Projection>) {
        match self.position(key).and_then(|i| self.keys.get_mut(i)) {
            None => {
                self.keys.push((key.into(), inner));
                let at = self.keys.len() - 1;
                match &mut self.index {
                    Some(index) => {
                        index.insert(key.into(), at);
                    }
                    None if self.keys.len() > SCAN => self.reindex(),
                    None => {}
                }
            }
            // The same key twice (two fragments): keep what either keeps.
            Some((_, existing)) => match (existing.as_mut(), inner) {
                (Some(e), Some(i)) => {
                    for (k, p) in i.keys {
                        e.insert(&k, p);
                    }
                }
                (_, _) => *existing = None,
            },
        }
    }

    /// Indexes levels with many keys, all the way down.
    fn finish(&mut self) {
        for (_, inner) in &mut self.keys {
            if let Some(p) = inner {
                p.finish();
            }
        }
        if self.index.is_none() {
            self.reindex();
        }
    }

    fn reindex(&mut self) {
        if self.keys.len() > SCAN {
            self.index = Some(
                self.keys
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            );
        }
    }
}

fn add(
    into: &mut Projection,
    set: &[Selection],
    fragments: &FxHashMap<&str, &Vec<Selection>>,
    nesting: usize,
) {
    if nesting > MAX_NESTING {
        return;
    }
    for s in set {
        match s {
            Selection::Field(f) => {
                let inner = (!f.selection_set.is_empty()).then(|| {
                    let mut p = Projection::default();
                    add(&mut p, &f.selection_set, fragments, nesting + 1);
                    p
                });
                into.insert(f.response_name().as_str(), inner);
            }
            Selection::InlineFragment(i) => add(into, &i.selection_set, fragments, nesting + 1),
            Selection::FragmentSpread(s) => {
                if let Some(set) = fragments.get(s.fragment_name.as_str()) {
                    add(into, set, fragments, nesting + 1);
                }
            }
        }
    }
}

/// The projections of the operations fetches send, each read once: plans are cached, and so
/// are their operations' projections (cleared when too many have been seen, which only costs
/// reading them again).
#[derive(Default)]
pub struct Projections {
    known: Mutex<FxHashMap<Arc<str>, Arc<Option<Projection>>>>,
}

const MAX_KNOWN: usize = 10_000;

impl Projections {
    pub fn of(&self, operation: &str) -> Arc<Option<Projection>> {
        if let Some(p) = self
            .known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(operation)
        {
            return p.clone();
        }
        let p = Arc::new(Projection::of_answer(operation));
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= MAX_KNOWN {
            known.clear();
        }
        known.insert(operation.into(), p.clone());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entity_fetch_keeps_what_its_fragments_select() {
        let p = Projection::of_answer(
            "query($representations:[_Any!]!){_entities(representations:$representations){...on User{score a: name friends { id }} ...on Bot{score owner}}}",
        );
        let Some(p) = p else { panic!("readable") };
        assert_eq!(p.get("errors"), Some(None));
        assert_eq!(p.get("extensions"), None);
        let Some(Some(data)) = p.get("data") else {
            panic!("data")
        };
        let Some(Some(entities)) = data.get("_entities") else {
            panic!("_entities")
        };
        assert_eq!(entities.get("score"), Some(None));
        assert_eq!(entities.get("a"), Some(None));
        assert_eq!(entities.get("owner"), Some(None));
        assert_eq!(entities.get("name"), None);
        assert_eq!(entities.get("__typename"), None);
        assert_eq!(entities.get("id"), None);
        let Some(Some(friends)) = entities.get("friends") else {
            panic!("friends")
        };
        assert_eq!(friends.get("id"), Some(None));
    }

    #[test]
    fn many_keys_are_found_by_index() {
        let fields: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let op = format!("{{ {} }}", fields.join(" "));
        let Some(p) = Projection::of_answer(&op) else {
            panic!("readable")
        };
        let Some(Some(data)) = p.get("data") else {
            panic!("data")
        };
        assert!(fields.iter().all(|f| data.get(f) == Some(None)));
        assert_eq!(data.get("f40"), None);
    }
}
