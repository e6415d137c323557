//! The `fields:` argument of `@key`, `@requires` and `@provides` before it is read as fields:
//! it must be a string, parse as one selection set on its own (Apollo reads it as
//! `{<fields>}`, so a stray `}` or a second operation is a syntax error, never a shorter
//! field set), and carry no directive applications.

use apollo_compiler::ast::{Definition, Document};
use apollo_compiler::executable::{Selection, SelectionSet};

/// The three directives whose `fields:` is a field set, with the codes of their rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSetUse {
    Key,
    Requires,
    Provides,
}

impl FieldSetUse {
    /// The directive's federation name (its local name may differ).
    pub fn directive(self) -> &'static str {
        match self {
            FieldSetUse::Key => "key",
            FieldSetUse::Requires => "requires",
            FieldSetUse::Provides => "provides",
        }
    }

    /// The `fields:` value is not a string.
    pub fn invalid_type_code(self) -> &'static str {
        match self {
            FieldSetUse::Key => "KEY_INVALID_FIELDS_TYPE",
            FieldSetUse::Requires => "REQUIRES_INVALID_FIELDS_TYPE",
            FieldSetUse::Provides => "PROVIDES_INVALID_FIELDS_TYPE",
        }
    }

    /// The field set is not a valid selection of the type (syntax included).
    pub fn invalid_fields_code(self) -> &'static str {
        match self {
            FieldSetUse::Key => "KEY_INVALID_FIELDS",
            FieldSetUse::Requires => "REQUIRES_INVALID_FIELDS",
            FieldSetUse::Provides => "PROVIDES_INVALID_FIELDS",
        }
    }

    /// The field set applies a directive (`@include`, ...). Apollo's codes, not its constant
    /// names (`KEY_HAS_DIRECTIVE_IN_FIELDS_ARGS` is `KEY_DIRECTIVE_IN_FIELDS_ARG`).
    pub fn directive_code(self) -> &'static str {
        match self {
            FieldSetUse::Key => "KEY_DIRECTIVE_IN_FIELDS_ARG",
            FieldSetUse::Requires => "REQUIRES_DIRECTIVE_IN_FIELDS_ARG",
            FieldSetUse::Provides => "PROVIDES_DIRECTIVE_IN_FIELDS_ARG",
        }
    }
}

/// Why `fields` is not one selection set, if it is not.
pub fn syntax_error(fields: &str) -> Option<String> {
    let wrapped = format!("{{{fields}}}");
    match Document::parse(wrapped, "fields") {
        Err(with_errors) => Some(
            with_errors
                .errors
                .iter()
                .next()
                .map(|e| format!("Syntax Error: {}", e.error))
                .unwrap_or_else(|| "Syntax Error".to_owned()),
        ),
        Ok(doc) => {
            let operations = doc
                .definitions
                .iter()
                .filter(|d| matches!(d, Definition::OperationDefinition(_)))
                .count();
            (doc.definitions.len() != 1 || operations != 1).then(|| {
                "Syntax Error: a field set is a single selection set, without operations or fragments"
                    .to_owned()
            })
        }
    }
}

/// The first directive application (printed) anywhere in a selection set.
pub fn first_directive(set: &SelectionSet) -> Option<String> {
    for selection in &set.selections {
        let (directives, inner) = match selection {
            Selection::Field(f) => (&f.directives, Some(&f.selection_set)),
            Selection::InlineFragment(i) => (&i.directives, Some(&i.selection_set)),
            Selection::FragmentSpread(s) => (&s.directives, None),
        };
        if let Some(d) = directives.iter().next() {
            return Some(d.to_string());
        }
        if let Some(found) = inner.and_then(first_directive) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_brace_or_a_second_operation_is_a_syntax_error() {
        assert!(syntax_error("volumeL }").is_some());
        assert!(syntax_error("id {").is_some());
        assert!(syntax_error("a } query X { b").is_some());
        assert!(syntax_error("a } fragment F on T { b").is_some());
        assert_eq!(syntax_error("id organization { id }"), None);
        assert_eq!(syntax_error("... on Book { title }"), None);
    }
}
