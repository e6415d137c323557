//! `limits.*` enforced: how big an operation may be. Measured on the validated executable
//! document, before normalization and planning, which are what the limits protect. Fragments
//! are measured once each and counted at every spread, so a document that spreads fragments
//! exponentially is measured in linear time and counted at its full expanded size. The
//! section's keys and defaults are configuration (`Limits`); this is the operation pipeline's.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;

use apollo_compiler::ast;
use apollo_compiler::executable::{ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::validation::WithErrors;
use weft_config::model::Limits;
use weft_executor::ErrorCode;

/// An operation over a limit: the error code and a message naming the limit and the value.
#[derive(Debug, PartialEq, Eq)]
pub struct Exceeded {
    pub code: ErrorCode,
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
    let Ok(operation) = document.operations.get(name) else {
        return Ok(());
    };
    let m = measure(document, &operation.selection_set, &mut HashMap::new());
    let height = match limits.max_height {
        Some(max) => height(document, &operation.selection_set, u64::from(max.get())),
        None => 0,
    };
    let checks = [
        (
            limits.max_depth,
            m.depth,
            ErrorCode::MaxDepthLimit,
            "depth",
            "max_depth",
        ),
        (
            limits.max_aliases,
            m.aliases,
            ErrorCode::MaxAliasesLimit,
            "number of aliases",
            "max_aliases",
        ),
        (
            limits.max_root_fields,
            m.fields,
            ErrorCode::MaxRootFieldsLimit,
            "number of root fields",
            "max_root_fields",
        ),
        (
            limits.max_height,
            height,
            ErrorCode::MaxHeightLimit,
            "height (unique fields)",
            "max_height",
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

/// Why a document did not parse: too many tokens (`limits.max_tokens`), nested too deeply
/// (`limits.max_recursion`), or its syntax.
pub enum ParseFailure {
    Tokens(Exceeded),
    Recursion(Exceeded),
    /// Syntax errors. `cut`: only a prefix of the document was parsed, which had errors
    /// enough to report; the last error is then the parser's note that it stopped.
    Syntax {
        errors: Box<WithErrors<ast::Document>>,
        cut: bool,
    },
}

/// How many syntax errors are worth finding: past this many, the parser's error recovery on
/// the rest of the document is work (and memory: a few hundred bytes an error) for nothing.
pub const SYNTAX_ERRORS_WANTED: usize = 100;

/// The first prefix of a document parsed, in tokens; each next attempt parses four times more.
const FIRST_PREFIX_TOKENS: usize = 4096;

/// Parses `query`, giving up after `limits.max_tokens` tokens or past `limits.max_recursion`
/// levels of nesting: a document over a limit is refused before it is fully parsed, so its
/// size costs no more than the limit.
///
/// A long document is parsed by growing prefixes (4,096 tokens, then four times more each
/// time, up to the whole or the token limit), stopping at the first prefix with
/// [`SYNTAX_ERRORS_WANTED`] syntax errors: a document of 200,000 `{` costs the errors of its
/// first few thousand tokens, not 800,000 of them, whatever the limits. A valid document costs
/// at most 4/3 of one parse more.
pub fn parse(limits: &Limits, query: &str) -> Result<ast::Document, ParseFailure> {
    let max_tokens = limits.max_tokens.map(|n| n.get() as usize);
    let mut prefix = FIRST_PREFIX_TOKENS;
    loop {
        let budget = max_tokens.map_or(prefix, |max| max.min(prefix));
        let mut parser = apollo_compiler::parser::Parser::new().token_limit(budget);
        if let Some(max) = limits.max_recursion {
            parser = parser.recursion_limit(max.get() as usize);
        }
        let errors = match parser.parse_ast(query, "query.graphql") {
            Ok(document) => return Ok(document),
            Err(errors) => errors,
        };
        if parser.tokens_reached() <= budget {
            // The whole document was read.
            if let Some(max) = limits.max_recursion
                && parser.recursion_reached() >= max.get() as usize
            {
                return Err(recursion_exceeded(max));
            }
            return Err(ParseFailure::Syntax {
                errors: Box::new(errors),
                cut: false,
            });
        }
        if max_tokens.is_some_and(|max| budget >= max) {
            return Err(ParseFailure::Tokens(Exceeded {
                code: ErrorCode::MaxTokensLimit,
                message: format!(
                    "The operation has more than {budget} tokens, the limit \
                     (`limits.max_tokens`)."
                ),
            }));
        }
        if let Some(max) = limits.max_recursion
            && parser.recursion_reached() >= max.get() as usize
        {
            return Err(recursion_exceeded(max));
        }
        // Cut by the prefix: the errors before the cut are the document's own.
        if errors.errors.len() > SYNTAX_ERRORS_WANTED {
            return Err(ParseFailure::Syntax {
                errors: Box::new(errors),
                cut: true,
            });
        }
        prefix = prefix.saturating_mul(4);
    }
}

fn recursion_exceeded(max: NonZeroU32) -> ParseFailure {
    ParseFailure::Recursion(Exceeded {
        code: ErrorCode::MaxRecursionLimit,
        message: format!(
            "The operation nests more than {max} levels deep, the limit \
             (`limits.max_recursion`)."
        ),
    })
}

/// The fields of a response's shape, below each response key (borrowed from the document),
/// with how many there are in all: merging adds to the count instead of counting again.
#[derive(Default, Clone)]
struct Shape<'a> {
    fields: BTreeMap<&'a str, Shape<'a>>,
    /// The fields below, each counted once: `1 + size` of every child.
    size: u64,
}

impl<'a> Shape<'a> {
    /// Adds `other` into `self`; `false` as soon as the result is over `cap` fields.
    fn merge(&mut self, other: Shape<'a>, cap: u64) -> bool {
        for (key, sub) in other.fields {
            match self.fields.get_mut(key) {
                Some(mine) => {
                    let before = mine.size;
                    if !mine.merge(sub, cap) {
                        return false;
                    }
                    self.size += mine.size - before;
                }
                None => {
                    self.size += 1 + sub.size;
                    self.fields.insert(key, sub);
                }
            }
            if self.size > cap {
                return false;
            }
        }
        true
    }
}

/// The height: how many unique fields the operation selects, a field being unique by its
/// response key and its place (fields merged by GraphQL's rules count once, however many
/// fragments select them). Counting stops above `max` (the answer is then `max + 1`), so a
/// document whose fragments multiply its fields costs no more than the limit.
fn height(document: &ExecutableDocument, set: &SelectionSet, max: u64) -> u64 {
    let cap = max.saturating_add(1);
    let mut fragments = HashMap::new();
    match shape(document, set, cap, &mut fragments) {
        Some(s) => s.size,
        None => cap,
    }
}

fn shape<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    cap: u64,
    fragments: &mut HashMap<&'a str, Option<Shape<'a>>>,
) -> Option<Shape<'a>> {
    let mut out = Shape::default();
    for selection in &set.selections {
        let inner = match selection {
            Selection::Field(field) => {
                let sub = shape(document, &field.selection_set, cap, fragments)?;
                let mut one = Shape {
                    size: 1 + sub.size,
                    ..Shape::default()
                };
                one.fields.insert(field.response_key().as_str(), sub);
                one
            }
            Selection::InlineFragment(inline) => {
                shape(document, &inline.selection_set, cap, fragments)?
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.fragment_name.as_str();
                match fragments.get(name) {
                    Some(known) => known.clone()?,
                    None => {
                        let s = document
                            .fragments
                            .get(name)
                            .and_then(|f| shape(document, &f.selection_set, cap, fragments));
                        fragments.insert(name, s.clone());
                        s?
                    }
                }
            }
        };
        if !out.merge(inner, cap) {
            return None;
        }
    }
    Some(out)
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
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const SCHEMA: &str = "type Query { a: A b: Int } type A { a: A b: Int }";

    fn doc(query: &str) -> ExecutableDocument {
        let schema = apollo_compiler::Schema::parse_and_validate(SCHEMA, "s.graphql").unwrap();
        ExecutableDocument::parse_and_validate(&schema, query, "q.graphql")
            .unwrap()
            .into_inner()
    }

    fn unlimited() -> Limits {
        Limits::off()
    }

    fn limits(depth: u32, aliases: u32, root: u32) -> Limits {
        Limits {
            max_depth: NonZeroU32::new(depth),
            max_aliases: NonZeroU32::new(aliases),
            max_root_fields: NonZeroU32::new(root),
            ..unlimited()
        }
    }

    #[test]
    fn height_counts_unique_fields() {
        let height_limit = |n| Limits {
            max_height: NonZeroU32::new(n),
            ..unlimited()
        };
        // a, a.b, a.a, a.a.b, b: fields selected again (directly or by fragments) count once.
        let q = "{ a { b ...F } a { b } b ... on Query { b } } fragment F on A { a { b } b }";
        assert_eq!(code(&height_limit(5), q), None);
        assert_eq!(code(&height_limit(4), q), Some("MAX_HEIGHT_LIMIT"));
        // Aliases are distinct fields.
        assert_eq!(code(&height_limit(2), "{ b x: b }"), None);
        assert_eq!(
            code(&height_limit(1), "{ b x: b }"),
            Some("MAX_HEIGHT_LIMIT")
        );
        // Fragments that double the shape at each level stop at the limit.
        let mut q = String::from("{ a { ...F39 } }\nfragment F0 on A { b }\n");
        for i in 1..40 {
            q.push_str(&format!(
                "fragment F{i} on A {{ x: a {{ ...F{p} }} y: a {{ ...F{p} }} }}\n",
                p = i - 1
            ));
        }
        let e = check(&height_limit(1000), &doc(&q), None).unwrap_err();
        assert!(e.message.contains("1001"), "{}", e.message);
    }

    #[test]
    fn tokens_are_counted_while_parsing() {
        let tokens = |n| Limits {
            max_tokens: NonZeroU32::new(n),
            ..unlimited()
        };
        // The lexer's tokens: `{`, `a`, `{`, `b`, `}`, `}`, 5 runs of whitespace, the end.
        let q = "{ a { b } }";
        assert!(parse(&tokens(12), q).is_ok());
        match parse(&tokens(11), q) {
            Err(ParseFailure::Tokens(e)) => assert_eq!(e.code.as_str(), "MAX_TOKENS_LIMIT"),
            _ => panic!("not refused for its tokens"),
        }
        assert!(matches!(
            parse(&tokens(100), "{ a {"),
            Err(ParseFailure::Syntax { cut: false, .. })
        ));
        assert!(parse(&Limits::default(), q).is_ok());
    }

    fn code(l: &Limits, q: &str) -> Option<&'static str> {
        check(l, &doc(q), None).err().map(|e| e.code.as_str())
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

    #[test]
    fn recursion_is_counted_while_parsing() {
        let recursion = |n| Limits {
            max_recursion: NonZeroU32::new(n),
            ..unlimited()
        };
        let q = "{ a { a { a { b } } } }";
        assert!(parse(&recursion(10), q).is_ok());
        match parse(&recursion(3), q) {
            Err(ParseFailure::Recursion(e)) => assert_eq!(e.code.as_str(), "MAX_RECURSION_LIMIT"),
            _ => panic!("not refused for its nesting"),
        }
    }

    #[test]
    fn the_defaults_refuse_what_the_issue_found_and_pass_real_operations() {
        let defaults = Limits::default();
        // Ten thousand aliases of one field.
        let aliases: String = (0..10_000).map(|i| format!("a{i}: b ")).collect();
        assert_eq!(
            code(&defaults, &format!("{{ {aliases} }}")),
            Some("MAX_ALIASES_LIMIT")
        );
        // Nesting past the default depth.
        let deep = format!("{{ {}b{} }}", "a { ".repeat(20), " }".repeat(20));
        assert_eq!(code(&defaults, &deep), Some("MAX_DEPTH_LIMIT"));
        // A valid document of 100,000 tokens: refused by tokens, parsed no further.
        let long = format!("{{ {} }}", "b ".repeat(50_000));
        assert!(matches!(
            parse(&defaults, &long),
            Err(ParseFailure::Tokens(_))
        ));
        // Nesting selections past the recursion limit (within the tokens).
        let nested = format!("{{ {}b{} }}", "a { ".repeat(600), " }".repeat(600));
        assert!(matches!(
            parse(&defaults, &nested),
            Err(ParseFailure::Recursion(_))
        ));
        // A nested operation of ordinary size passes every default.
        let ordinary = format!("{{ {}b{} b x: b }}", "a { ".repeat(10), " }".repeat(10));
        assert_eq!(code(&defaults, &ordinary), None);
        assert!(parse(&defaults, &ordinary).is_ok());
    }

    #[test]
    fn a_document_full_of_errors_is_parsed_only_as_far_as_enough_errors() {
        // 200,000 `{` then as many `}`: 400,000 tokens, about two errors each.
        let braces = format!("{}{}", "{".repeat(200_000), "}".repeat(200_000));
        match parse(&unlimited(), &braces) {
            Err(ParseFailure::Syntax { errors, cut }) => {
                assert!(cut);
                assert!(errors.errors.len() > SYNTAX_ERRORS_WANTED);
                assert!(
                    errors.errors.len() < 2 * FIRST_PREFIX_TOKENS,
                    "{}",
                    errors.errors.len()
                );
            }
            _ => panic!("not a syntax error"),
        }
        // A valid document longer than the first prefix parses whole.
        let long = format!("{{ {} }}", "b ".repeat(3 * FIRST_PREFIX_TOKENS));
        assert!(parse(&unlimited(), &long).is_ok());
        // An error past the first prefixes is found.
        let late = format!("{{ {} }} }}", "b ".repeat(3 * FIRST_PREFIX_TOKENS));
        assert!(matches!(
            parse(&unlimited(), &late),
            Err(ParseFailure::Syntax { cut: false, .. })
        ));
    }
}
