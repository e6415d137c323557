//! `@defer` in client operations: the deferred fragments of a normalized operation with where
//! each one attaches, and switching deferring off. The spec's rules (labels static and
//! unique, no `@defer` on a subscription's root fields) are apollo-compiler's validation,
//! against the API schema's `@defer` definition.

use super::model::*;

/// A deferred fragment of a normalized operation, and where its data goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deferred {
    pub defer: Defer,
    /// The deferred fragment it stands in, if any (its part comes after that one's).
    pub parent: Option<u32>,
    /// The response path of the objects it applies to: response keys, `"@"` for every list
    /// element (as plan paths are written).
    pub path: Vec<String>,
}

/// Every deferred fragment of `op`, in id order (parents before the fragments inside them).
pub fn deferred(op: &Operation) -> Vec<Deferred> {
    let mut out = Vec::new();
    walk(&op.selection_set, None, &mut Vec::new(), &mut out);
    out.sort_by_key(|d| d.defer.id);
    out
}

fn walk(set: &SelectionSet, parent: Option<u32>, path: &mut Vec<String>, out: &mut Vec<Deferred>) {
    for item in &set.items {
        match item {
            Selection::Field(f) => {
                let Some(sub) = &f.selection_set else {
                    continue;
                };
                let depth = path.len();
                path.push(f.response_key.clone());
                for _ in 0..list_depth(&f.ty) {
                    path.push(crate::plan::model::LIST.to_owned());
                }
                walk(sub, parent, path, out);
                path.truncate(depth);
            }
            Selection::InlineFragment(i) => {
                let mut inner = parent;
                if let Some(defer) = &i.defer {
                    out.push(Deferred {
                        defer: defer.clone(),
                        parent,
                        path: path.clone(),
                    });
                    inner = Some(defer.id);
                }
                walk(&i.selection_set, inner, path, out);
            }
        }
    }
}

fn list_depth(ty: &apollo_compiler::ast::Type) -> usize {
    use apollo_compiler::ast::Type;
    match ty {
        Type::List(inner) | Type::NonNullList(inner) => 1 + list_depth(inner),
        _ => 0,
    }
}

/// `op` with every `@defer` dropped (`defer.enabled: false`): its fragments are plain ones.
pub fn without_defers(op: &mut Operation) {
    fn strip(set: &mut SelectionSet) {
        for item in &mut set.items {
            match item {
                Selection::Field(f) => {
                    if let Some(sub) = &mut f.selection_set {
                        strip(sub);
                    }
                }
                Selection::InlineFragment(i) => {
                    i.defer = None;
                    strip(&mut i.selection_set);
                }
            }
        }
    }
    strip(&mut op.selection_set);
}

/// Whether `op` has a deferred fragment.
pub fn has_defers(op: &Operation) -> bool {
    fn any(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match item {
            Selection::Field(f) => f.selection_set.as_ref().is_some_and(any),
            Selection::InlineFragment(i) => i.defer.is_some() || any(&i.selection_set),
        })
    }
    any(&op.selection_set)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::operation::normalize;
    use apollo_compiler::{ExecutableDocument, Schema};

    const SCHEMA: &str =
        "directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD | INLINE_FRAGMENT
        type Query { me: User users: [User!]! } type Subscription { tick: User }
        type User { id: ID! name: String friends: [User!]! }";

    fn parse(
        query: &str,
    ) -> (
        apollo_compiler::validation::Valid<Schema>,
        apollo_compiler::validation::Valid<ExecutableDocument>,
    ) {
        let schema = Schema::parse_and_validate(SCHEMA, "s").expect("schema");
        let doc = ExecutableDocument::parse_and_validate(&schema, query, "q").expect("doc");
        (schema, doc)
    }

    #[test]
    fn deferred_fragments_with_paths_and_parents() {
        let (schema, doc) = parse(
            "query($v: Boolean!) { me { id ... @defer(label: \"a\") { name friends { id ... @defer(if: $v) { name } } } }
              users { ...F @defer } users { ... @defer(if: false) { name } } }
             fragment F on User { name }",
        );
        let op = normalize(&schema, &doc, None).expect("normalizes");
        let found = deferred(&op);
        // id, label, parent, path, condition.
        let summary: Vec<String> = found
            .iter()
            .map(|d| {
                format!(
                    "{} {:?} {:?} {} {:?}",
                    d.defer.id,
                    d.defer.label,
                    d.parent,
                    d.path.join("."),
                    d.defer.condition
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "0 Some(\"a\") None me None",
                "1 None Some(0) me.friends.@ Some(\"v\")",
                "2 None None users.@ None",
            ]
        );
        let mut plain = op.clone();
        without_defers(&mut plain);
        assert!(has_defers(&op) && !has_defers(&plain));
    }

    /// The spec's rules for `@defer` (labels static and unique, none at a subscription's
    /// root) are apollo-compiler's validation once the API schema defines `@defer`: nothing of
    /// ours checks them.
    #[test]
    fn validation_refuses_bad_labels_and_defer_at_a_subscription_root() {
        let schema = Schema::parse_and_validate(SCHEMA, "s").expect("schema");
        let refused = |query: &str| {
            ExecutableDocument::parse_and_validate(&schema, query, "q")
                .expect_err("invalid")
                .errors
                .to_string()
        };
        let twice =
            refused("{ me { ... @defer(label: \"x\") { name } ... @defer(label: \"x\") { id } } }");
        assert!(twice.contains("label `x` is not unique"), "{twice}");
        let variable = refused("query($l: String) { me { ... @defer(label: $l) { id } } }");
        assert!(variable.contains("must be a static String"), "{variable}");
        let root = refused("subscription { ... @defer { tick { id } } }");
        assert!(
            root.contains("not allowed on root selections of subscription"),
            "{root}"
        );
    }
}
