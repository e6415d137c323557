//! Merging a field's type across subgraphs. Output positions take the most general type every
//! subgraph's value fits (nullable beats non-null, an interface or union beats a member);
//! input positions take the strictest type every subgraph accepts (non-null beats nullable).

use apollo_compiler::ast::Type;

/// The common supertype of two output types, if they are compatible. `is_subtype(a, b)`
/// says whether named type `a` is a member or implementation of `b`.
pub fn merge_output(a: &Type, b: &Type, is_subtype: &impl Fn(&str, &str) -> bool) -> Option<Type> {
    let nullable = |t: &Type| t.clone().nullable();
    match (a.is_non_null(), b.is_non_null()) {
        (true, true) => {
            Some(merge_output_nullable(&nullable(a), &nullable(b), is_subtype)?.non_null())
        }
        _ => merge_output_nullable(&nullable(a), &nullable(b), is_subtype),
    }
}

fn merge_output_nullable(
    a: &Type,
    b: &Type,
    is_subtype: &impl Fn(&str, &str) -> bool,
) -> Option<Type> {
    match (a, b) {
        (Type::Named(x), Type::Named(y)) => {
            if x == y || is_subtype(x, y) {
                Some(b.clone())
            } else if is_subtype(y, x) {
                Some(a.clone())
            } else {
                None
            }
        }
        (Type::List(x), Type::List(y)) => {
            Some(Type::List(Box::new(merge_output(x, y, is_subtype)?)))
        }
        _ => None,
    }
}

/// The common subtype of two input types (argument or input field), if compatible.
pub fn merge_input(a: &Type, b: &Type) -> Option<Type> {
    let nullable = |t: &Type| t.clone().nullable();
    let merged = match (&nullable(a), &nullable(b)) {
        (Type::Named(x), Type::Named(y)) if x == y => nullable(a),
        (Type::List(x), Type::List(y)) => Type::List(Box::new(merge_input(x, y)?)),
        _ => return None,
    };
    Some(if a.is_non_null() || b.is_non_null() {
        merged.non_null()
    } else {
        merged
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apollo_compiler::Name;

    fn ty(s: &str) -> Type {
        // Tiny parser for tests: `[Int!]!` style.
        let (inner, non_null) = match s.strip_suffix('!') {
            Some(rest) => (rest, true),
            None => (s, false),
        };
        let t = match inner.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            Some(item) => Type::List(Box::new(ty(item))),
            None => Type::Named(Name::new(inner).expect("name")),
        };
        if non_null { t.non_null() } else { t }
    }

    fn out(a: &str, b: &str) -> Option<String> {
        let sub = |x: &str, y: &str| x == "Book" && y == "Media";
        merge_output(&ty(a), &ty(b), &sub).map(|t| t.to_string())
    }

    #[test]
    fn output_types_widen() {
        assert_eq!(out("Int!", "Int").as_deref(), Some("Int"));
        assert_eq!(out("Int!", "Int!").as_deref(), Some("Int!"));
        assert_eq!(out("[Int!]!", "[Int]!").as_deref(), Some("[Int]!"));
        assert_eq!(out("Book", "Media!").as_deref(), Some("Media"));
        assert_eq!(out("Int", "String"), None);
        assert_eq!(out("[Int]", "Int"), None);
    }

    #[test]
    fn input_types_narrow() {
        let inp = |a: &str, b: &str| merge_input(&ty(a), &ty(b)).map(|t| t.to_string());
        assert_eq!(inp("Int", "Int!").as_deref(), Some("Int!"));
        assert_eq!(inp("[Int]", "[Int!]").as_deref(), Some("[Int!]"));
        assert_eq!(inp("Int", "String"), None);
    }
}
