//! `limits.*`: how big an operation may be. Measured on the validated executable document,
//! before normalization and planning, which are what the limits protect. Fragments are
//! measured once each and counted at every spread, so a document that spreads fragments
//! exponentially is measured in linear time and counted at its full expanded size.

use std::collections::HashMap;

use apollo_compiler::executable::{ExecutableDocument, Selection, SelectionSet};

use super::model::Limits;

/// An operation over a limit: the error code and a message naming the limit and the value.
#[derive(Debug, PartialEq, Eq)]
pub struct Exceeded {
    pub code: &'static str,
    pub message: String,
}

#[derive(Clone, Copy, Default)]
struct Measure {
    /// Deepest field nesting; a root field is 1.
    depth: u64,
    aliases: u64,
    /// Fields directly in the set, through fragments and inline fragments.
    fields: u64,
}

/// `Ok` when the operation `name` of `document` is within `limits` (or there is no such
/// operation: that is reported elsewhere).
pub fn check(
    limits: &Limits,
    document: &ExecutableDocument,
    name: Option<&str>,
) -> Result<(), Exceeded> {
    if limits == &Limits::default() {
        return Ok(());
    }
    let Ok(operation) = document.operations.get(name) else {
        return Ok(());
    };
    let m = measure(document, &operation.selection_set, &mut HashMap::new());
    let checks = [
        (
            limits.max_depth,
            m.depth,
            "MAX_DEPTH_LIMIT",
            "depth",
            "max_depth",
        ),
        (
            limits.max_aliases,
            m.aliases,
            "MAX_ALIASES_LIMIT",
            "number of aliases",
            "max_aliases",
        ),
        (
            limits.max_root_fields,
            m.fields,
            "MAX_ROOT_FIELDS_LIMIT",
            "number of root fields",
            "max_root_fields",
        ),
    ];
    for (limit, actual, code, what, key) in checks {
        if let Some(limit) = limit
            && actual > u64::from(limit.get())
        {
            return Err(Exceeded {
                code,
                message: format!(
                    "The operation's {what} is {actual}, over the limit of {limit} \
                     (`limits.{key}`)."
                ),
            });
        }
    }
    Ok(())
}

fn measure<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    fragments: &mut HashMap<&'a str, Measure>,
) -> Measure {
    let mut out = Measure::default();
    for selection in &set.selections {
        let inner = match selection {
            Selection::Field(field) => {
                let sub = measure(document, &field.selection_set, fragments);
                Measure {
                    depth: sub.depth.saturating_add(1),
                    aliases: sub.aliases.saturating_add(u64::from(field.alias.is_some())),
                    fields: 1,
                }
            }
            Selection::InlineFragment(inline) => {
                measure(document, &inline.selection_set, fragments)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.fragment_name.as_str();
                match fragments.get(name) {
                    Some(m) => *m,
                    // Validation rejects cycles and unknown fragments, so the recursion ends.
                    None => match document.fragments.get(name) {
                        Some(fragment) => {
                            let m = measure(document, &fragment.selection_set, fragments);
                            fragments.insert(name, m);
                            m
                        }
                        None => Measure::default(),
                    },
                }
            }
        };
        out.depth = out.depth.max(inner.depth);
        out.aliases = out.aliases.saturating_add(inner.aliases);
        out.fields = out.fields.saturating_add(inner.fields);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    const SCHEMA: &str = "type Query { a: A b: Int } type A { a: A b: Int }";

    fn doc(query: &str) -> ExecutableDocument {
        let schema = apollo_compiler::Schema::parse_and_validate(SCHEMA, "s.graphql").unwrap();
        ExecutableDocument::parse_and_validate(&schema, query, "q.graphql")
            .unwrap()
            .into_inner()
    }

    fn limits(depth: u32, aliases: u32, root: u32) -> Limits {
        Limits {
            max_depth: NonZeroU32::new(depth),
            max_aliases: NonZeroU32::new(aliases),
            max_root_fields: NonZeroU32::new(root),
            ..Limits::default()
        }
    }

    fn code(l: &Limits, q: &str) -> Option<&'static str> {
        check(l, &doc(q), None).err().map(|e| e.code)
    }

    #[test]
    fn depth_counts_fields_not_fragments() {
        let q = "{ a { ...F } } fragment F on A { a { ... on A { b } } }";
        assert_eq!(code(&limits(3, 0, 0), q), None);
        assert_eq!(code(&limits(2, 0, 0), q), Some("MAX_DEPTH_LIMIT"));
        let e = check(&limits(2, 0, 0), &doc(q), None).unwrap_err();
        assert!(e.message.contains("depth is 3") && e.message.contains("limits.max_depth"));
    }

    #[test]
    fn aliases_count_every_spread() {
        let q = "{ a { ...F ...F x: b } } fragment F on A { y: b z: b }";
        assert_eq!(code(&limits(0, 5, 0), q), None);
        assert_eq!(code(&limits(0, 4, 0), q), Some("MAX_ALIASES_LIMIT"));
    }

    #[test]
    fn root_fields_include_fragments_and_repeats() {
        let q = "{ b b2: b ...R ... on Query { __typename } } fragment R on Query { a { b } b }";
        assert_eq!(code(&limits(0, 0, 5), q), None);
        assert_eq!(code(&limits(0, 0, 4), q), Some("MAX_ROOT_FIELDS_LIMIT"));
    }

    #[test]
    fn exponential_fragments_are_counted_in_full() {
        let mut q = String::from("{ a { ...F0 } }\nfragment F0 on A { x: b }\n");
        for i in 1..40 {
            q.push_str(&format!(
                "fragment F{i} on A {{ ...F{} ...F{} }}\n",
                i - 1,
                i - 1
            ));
        }
        q = q.replace("{ ...F0 } }\n", "{ ...F39 } }\n");
        let e = check(&limits(0, 1000, 0), &doc(&q), None).unwrap_err();
        assert!(
            e.message.contains(&(1u64 << 39).to_string()),
            "{}",
            e.message
        );
    }
}
