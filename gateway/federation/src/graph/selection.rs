//! Field sets (`"id org { id } ... on Book { isbn }"`) as small trees, for walking `@key`,
//! `@requires` and `@provides` selections against the supergraph.

/// One selection of a field set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldSetItem {
    Field {
        name: String,
        /// Arguments (`price(currency: "USD")`), as the schema-aware parser read them.
        arguments: Vec<(String, apollo_compiler::Node<apollo_compiler::ast::Value>)>,
        children: Vec<FieldSetItem>,
    },
    /// `... on Type { ... }`
    Fragment {
        type_condition: String,
        children: Vec<FieldSetItem>,
    },
}

/// Parses a field set on type `ty` with the schema's help (arguments and all); falls back to
/// [`parse_field_set`] when the schema does not accept it.
pub fn parse_field_set_in(
    schema: &apollo_compiler::validation::Valid<apollo_compiler::Schema>,
    ty: &str,
    text: &str,
) -> Vec<FieldSetItem> {
    let Ok(name) = apollo_compiler::Name::new(ty) else {
        return parse_field_set(text);
    };
    match apollo_compiler::executable::FieldSet::parse(schema, name, text, "field-set.graphql") {
        Ok(set) => from_selection_set(&set.selection_set),
        Err(_) => parse_field_set(text),
    }
}

fn from_selection_set(set: &apollo_compiler::executable::SelectionSet) -> Vec<FieldSetItem> {
    use apollo_compiler::executable::Selection;
    set.selections
        .iter()
        .filter_map(|s| match s {
            Selection::Field(f) => Some(FieldSetItem::Field {
                name: f.name.to_string(),
                arguments: f
                    .arguments
                    .iter()
                    .map(|a| (a.name.to_string(), a.value.clone()))
                    .collect(),
                children: from_selection_set(&f.selection_set),
            }),
            Selection::InlineFragment(i) => Some(FieldSetItem::Fragment {
                type_condition: i
                    .type_condition
                    .as_ref()
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                children: from_selection_set(&i.selection_set),
            }),
            Selection::FragmentSpread(_) => None,
        })
        .collect()
}

/// Parses a field set; unbalanced or odd input yields what could be read (never panics).
pub fn parse_field_set(text: &str) -> Vec<FieldSetItem> {
    let spaced = text
        .replace('{', " { ")
        .replace('}', " } ")
        .replace("...", " ... ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut i = 0;
    items(&tokens, &mut i)
}

fn items(tokens: &[&str], i: &mut usize) -> Vec<FieldSetItem> {
    let mut out: Vec<FieldSetItem> = Vec::new();
    while *i < tokens.len() {
        let t = tokens[*i];
        *i += 1;
        match t {
            "}" => return out,
            "{" => {
                let children = items(tokens, i);
                if let Some(FieldSetItem::Field { children: c, .. }) = out.last_mut() {
                    *c = children;
                }
            }
            "..." => {
                let mut type_condition = String::new();
                if tokens.get(*i) == Some(&"on") {
                    type_condition = tokens
                        .get(*i + 1)
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    *i += 2;
                }
                let children = if tokens.get(*i) == Some(&"{") {
                    *i += 1;
                    items(tokens, i)
                } else {
                    Vec::new()
                };
                out.push(FieldSetItem::Fragment {
                    type_condition,
                    children,
                });
            }
            name => {
                // `alias: field` is not allowed in field sets; keep the last word.
                let name = name.trim_end_matches(':').to_owned();
                out.push(FieldSetItem::Field {
                    name,
                    arguments: Vec::new(),
                    children: Vec::new(),
                });
            }
        }
    }
    out
}

/// The alias a required field with arguments is fetched under, so that it never collides
/// with the client's own selection of that field with other arguments (nor with another
/// requirement): the name plus a hash of the arguments, stable across runs.
pub fn requirement_alias(
    name: &str,
    arguments: &[(String, apollo_compiler::Node<apollo_compiler::ast::Value>)],
) -> Option<String> {
    if arguments.is_empty() {
        return None;
    }
    // FNV-1a: tiny, deterministic, good enough to tell argument lists apart.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in print_arguments(arguments).bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    Some(format!("{name}__req_{hash:08x}"))
}

/// `(a: 1, b: "x")`, or empty for no arguments.
pub fn print_arguments(
    arguments: &[(String, apollo_compiler::Node<apollo_compiler::ast::Value>)],
) -> String {
    if arguments.is_empty() {
        return String::new();
    }
    let printed: Vec<String> = arguments
        .iter()
        .map(|(n, v)| format!("{n}: {}", v.serialize().no_indent()))
        .collect();
    format!("({})", printed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, children: Vec<FieldSetItem>) -> FieldSetItem {
        FieldSetItem::Field {
            name: name.to_owned(),
            arguments: Vec::new(),
            children,
        }
    }

    #[test]
    fn nested_and_fragments() {
        assert_eq!(
            parse_field_set("id org{ id } ... on Book { isbn }"),
            [
                f("id", vec![]),
                f("org", vec![f("id", vec![])]),
                FieldSetItem::Fragment {
                    type_condition: "Book".to_owned(),
                    children: vec![f("isbn", vec![])]
                }
            ]
        );
        assert_eq!(
            parse_field_set("a { b { c } } }}}"),
            [f("a", vec![f("b", vec![f("c", vec![])])])]
        );
    }
}
