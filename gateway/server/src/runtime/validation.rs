//! apollo-compiler's diagnostics of an operation, as clients and `weft plan` are told them.
//!
//! - A field whose subselection holds only unknown fields (`{ me { nme } }`) gets, besides
//!   the unknown field's error, "interface, union and object types must have a subselection
//!   set": apollo-compiler drops unknown fields before that check. The field has a
//!   subselection as written, so that error is dropped ([`spurious`]).
//! - An unknown field gets the closest field of its type as a suggestion ([`reworded`]).
//! - Syntax errors name tokens as the parser does (`expected R_CURLY`): said as written
//!   (`` expected `}` ``).

use apollo_compiler::ast;
use apollo_compiler::diagnostic::Diagnostic;
use apollo_compiler::schema::Schema;
use apollo_compiler::validation::DiagnosticData;

/// Where the fields written with a subselection start (file and offset), in one walk of the
/// document: each diagnostic then asks in constant time, so a document with thousands of
/// them costs linear work, not a walk per diagnostic.
pub struct Subselected(std::collections::HashSet<(apollo_compiler::parser::FileId, usize)>);

impl Subselected {
    pub fn of(document: &ast::Document) -> Subselected {
        let mut at = std::collections::HashSet::new();
        for definition in &document.definitions {
            match definition {
                ast::Definition::OperationDefinition(op) => collect(&op.selection_set, &mut at),
                ast::Definition::FragmentDefinition(f) => collect(&f.selection_set, &mut at),
                _ => {}
            }
        }
        Subselected(at)
    }
}

/// The fields with a subselection among `selections`, at any depth. Iterative: nesting is
/// bounded by the limits, but the stack here need not be.
fn collect(
    selections: &[ast::Selection],
    at: &mut std::collections::HashSet<(apollo_compiler::parser::FileId, usize)>,
) {
    let mut pending: Vec<&[ast::Selection]> = vec![selections];
    while let Some(selections) = pending.pop() {
        for selection in selections {
            match selection {
                ast::Selection::Field(field) => {
                    if !field.selection_set.is_empty()
                        && let Some(l) = field.location()
                    {
                        at.insert((l.file_id(), l.offset()));
                    }
                    pending.push(&field.selection_set);
                }
                ast::Selection::InlineFragment(fragment) => pending.push(&fragment.selection_set),
                ast::Selection::FragmentSpread(_) => {}
            }
        }
    }
}

/// Whether `d`, from validating the operation whose fields with a subselection are
/// `written`, is the "must have a subselection set" apollo-compiler gives a field whose
/// written subselection it dropped.
pub fn spurious(d: &Diagnostic<'_, DiagnosticData>, written: &Subselected) -> bool {
    use apollo_compiler::diagnostic::ToCliReport;
    if !d.error.to_string().contains("must have a subselection set") {
        return false;
    }
    d.error
        .location()
        .is_some_and(|at| written.0.contains(&(at.file_id(), at.offset())))
}

/// A diagnostic's message as told: token names as written, and for an unknown field the
/// closest field of its type in `schema`, if one is close.
pub fn reworded(message: &str, schema: Option<&Schema>) -> String {
    if let Some(rest) = message.strip_prefix("syntax error: ") {
        return format!("syntax error: {}", tokens_as_written(rest));
    }
    match unknown_field(message).zip(schema) {
        Some(((ty, field), schema)) => match closest_field(schema, ty, field) {
            Some(near) => format!("{message}. Did you mean `{near}`?"),
            None => message.to_owned(),
        },
        None => message.to_owned(),
    }
}

/// The parser's token names (apollo-parser's `SyntaxKind`) as the characters they stand for.
const TOKENS: [(&str, &str); 14] = [
    ("L_CURLY", "`{`"),
    ("R_CURLY", "`}`"),
    ("L_PAREN", "`(`"),
    ("R_PAREN", "`)`"),
    ("L_BRACK", "`[`"),
    ("R_BRACK", "`]`"),
    ("COLON", "`:`"),
    ("EQ", "`=`"),
    ("BANG", "`!`"),
    ("DOLLAR", "`$`"),
    ("AT", "`@`"),
    ("PIPE", "`|`"),
    ("AMP", "`&`"),
    ("EOF", "the end of the document"),
];

/// `text` with token names as the characters they stand for; what follows "got" (the text
/// found, as written) quoted.
fn tokens_as_written(text: &str) -> String {
    let mut after_got = false;
    text.split(' ')
        .map(|word| {
            let bare = word.trim_end_matches([',', '.']);
            let said = match TOKENS.iter().find(|(name, _)| *name == bare) {
                Some((_, written)) => format!("{written}{}", &word[bare.len()..]),
                None if after_got && !bare.is_empty() => format!("`{word}`"),
                None => word.to_owned(),
            };
            after_got = word == "got";
            said
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The type and field of apollo-compiler's "type `T` does not have a field `f`".
fn unknown_field(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix("type `")?;
    let (ty, rest) = rest.split_once('`')?;
    let field = rest
        .strip_prefix(" does not have a field `")?
        .strip_suffix('`')?;
    Some((ty, field))
}

/// The field of `ty` closest to `name`, if it is close: at most a third of the name's
/// letters apart (a typo), as graphql-js suggests.
fn closest_field<'s>(schema: &'s Schema, ty: &str, name: &str) -> Option<&'s str> {
    let fields: Vec<&str> = match schema.types.get(ty)? {
        apollo_compiler::schema::ExtendedType::Object(o) => {
            o.fields.keys().map(|n| n.as_str()).collect()
        }
        apollo_compiler::schema::ExtendedType::Interface(i) => {
            i.fields.keys().map(|n| n.as_str()).collect()
        }
        _ => return None,
    };
    let length = name.chars().count();
    let limit = (length / 3).max(1);
    let name = name.to_lowercase();
    fields
        .into_iter()
        // Names whose lengths differ by more than the limit are farther apart than it: not
        // compared, so a long unknown name costs its length, not its length times each field's.
        .filter(|f| f.chars().count().abs_diff(length) <= limit)
        .map(|f| (strsim::levenshtein(&f.to_lowercase(), &name), f))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, f)| f)
}

/// Fields aliased `__typename` that are not `__typename` (`{ me { __typename: username } }`):
/// their message and line and column. GraphQL allows such an alias, but the gateway reads
/// every object's type from its `__typename` (type conditions, entity representations), so a
/// client's value there would stand for the type: refused, as a validation error. One walk
/// of the document, each definition once.
pub fn typename_aliases(document: &ast::Document) -> Vec<(String, Option<(usize, usize)>)> {
    let mut out = Vec::new();
    let mut pending: Vec<&[ast::Selection]> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            ast::Definition::OperationDefinition(op) => Some(op.selection_set.as_slice()),
            ast::Definition::FragmentDefinition(f) => Some(f.selection_set.as_slice()),
            _ => None,
        })
        .collect();
    while let Some(selections) = pending.pop() {
        for selection in selections {
            match selection {
                ast::Selection::Field(field) => {
                    if field.alias.as_ref().is_some_and(|a| a == "__typename")
                        && field.name != "__typename"
                    {
                        let at = field
                            .location()
                            .and_then(|l| l.line_column(&document.sources))
                            .map(|r| (r.line, r.column));
                        out.push((
                            format!(
                                "The alias `__typename` is reserved for the `__typename` field; \
                                 `{}` needs another alias.",
                                field.name
                            ),
                            at,
                        ));
                    }
                    pending.push(&field.selection_set);
                }
                ast::Selection::InlineFragment(fragment) => pending.push(&fragment.selection_set),
                ast::Selection::FragmentSpread(_) => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { me: User }\ntype User { id: ID! name: String friend: User }";

    /// The messages of validating `query`, as told.
    fn told(query: &str) -> Vec<String> {
        let schema = Schema::parse_and_validate(SDL, "s.graphql").unwrap();
        let document = ast::Document::parse(query, "q.graphql").unwrap();
        let Err(invalid) = document.to_executable_validate(&schema) else {
            return Vec::new();
        };
        invalid
            .errors
            .iter()
            .filter(|d| !spurious(d, &Subselected::of(&document)))
            .map(|d| reworded(&d.error.to_string(), Some(&schema)))
            .collect()
    }

    #[test]
    fn an_unknown_field_is_the_only_error_with_a_suggestion() {
        assert_eq!(
            told("{ me { nme } }"),
            ["type `User` does not have a field `nme`. Did you mean `name`?"]
        );
        assert_eq!(
            told("query { me { friend { zzzz } } }"),
            ["type `User` does not have a field `zzzz`"]
        );
        // A real missing subselection is kept.
        assert_eq!(told("{ me }").len(), 1);
        assert!(told("{ me }")[0].contains("must have a subselection set"));
    }

    #[test]
    fn token_names_are_said_as_written() {
        assert_eq!(
            tokens_as_written("expected R_CURLY, got EOF"),
            "expected `}`, got the end of the document"
        );
        assert_eq!(
            tokens_as_written("expected R_CURLY, got )"),
            "expected `}`, got `)`"
        );
        assert_eq!(tokens_as_written("expected a Name"), "expected a Name");
    }
}
