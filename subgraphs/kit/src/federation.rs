//! Federation directives newer than what async-graphql prints.
//!
//! async-graphql links `federation/v2.5` and knows nothing of `@context`/`@fromContext`
//! (v2.8). A subgraph that uses them applies [`context`] and [`from_context`] like any type
//! directive, prints its SDL through [`link_context`], and serves that SDL with
//! [`crate::http::router_with_sdl`], so `_service { sdl }` and the printed SDL stay one text.

use async_graphql::TypeDirective;

// The two directives as async-graphql applies them. Their definitions, which async-graphql
// prints beside the types, are dropped by `link_context`: federation defines them.
// (No doc comments: a description would print the definition over several lines.)

#[TypeDirective(name = "context", location = "Object")]
pub fn context(name: String) {}

#[TypeDirective(name = "fromContext", location = "ArgumentDefinition")]
pub fn from_context(field: String) {}

/// The federation version that brought `@context` and `@fromContext`.
const CONTEXT_VERSION: &str = "https://specs.apollo.dev/federation/v2.8";

/// `sdl` (as async-graphql prints it) linking `federation/v2.8` with `@context` and
/// `@fromContext` imported besides what it imported, and without async-graphql's own
/// definitions of those two.
pub fn link_context(sdl: &str) -> String {
    let mut out = String::with_capacity(sdl.len() + 64);
    let mut in_link = false;
    for line in sdl.split_inclusive('\n') {
        let text = line.trim();
        if text.starts_with("directive @context(") || text.starts_with("directive @fromContext(") {
            continue;
        }
        if text == "extend schema @link(" {
            in_link = true;
        } else if in_link && text.starts_with("url: \"https://specs.apollo.dev/federation/v2.") {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(&format!("{indent}url: \"{CONTEXT_VERSION}\",\n"));
            continue;
        } else if in_link && text.starts_with("import: [") && text.ends_with(']') {
            if let Some(end) = line.rfind(']') {
                out.push_str(&line[..end]);
                out.push_str(", \"@context\", \"@fromContext\"");
                out.push_str(&line[end..]);
                continue;
            }
        } else if text == ")" {
            in_link = false;
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::link_context;

    #[test]
    fn links_v2_8_and_drops_the_local_definitions() {
        let printed = "type User @key(fields: \"id\") @context(name: \"viewer\") {\n\tid: ID!\n}\n\
            directive @context(name: String!) on OBJECT\n\
            directive @fromContext(field: String!) on ARGUMENT_DEFINITION\n\
            extend schema @link(\n\
            \turl: \"https://specs.apollo.dev/federation/v2.5\",\n\
            \timport: [\"@key\", \"@external\"]\n\
            )\n";
        assert_eq!(
            link_context(printed),
            "type User @key(fields: \"id\") @context(name: \"viewer\") {\n\tid: ID!\n}\n\
            extend schema @link(\n\
            \turl: \"https://specs.apollo.dev/federation/v2.8\",\n\
            \timport: [\"@key\", \"@external\", \"@context\", \"@fromContext\"]\n\
            )\n"
        );
    }
}
