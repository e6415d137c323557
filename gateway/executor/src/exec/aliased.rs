//! A `@fromContext` fetch whose objects fall in several groups (other values from their
//! ancestors), sent as one request: the fetch's `_entities` field once per group, aliased
//! `_0`, `_1`, …, each with its own copies of the variables that differ between groups
//! (`$representations_0`, `$contextualArgument_3_0_0`, …) and the client's variables
//! defined once. The answer is read once; each alias's list is checked and merged as the
//! group's own fetch would have been, and each error goes to the group its path names.

use serde_json::{Map, Value};
use weft_federation::plan::model::{FetchNode, OperationKind};

use super::errors::{FetchFailure, Places, map_error};
use super::outgoing::{Reps, Variables};
use super::{Call, Executor, Fetched, Output, Ready, Request};
use crate::error::ResponseError;
use crate::store::Val;

/// At most this many groups go in one request (more: several requests). Each group repeats
/// the fetch's selection, so this bounds the operation text a subgraph has to parse; and the
/// text depends on the number of groups, so it bounds the distinct texts of one fetch that
/// the projection cache keeps (one per count, 2 to 32).
pub(super) const MAX_GROUPS: usize = 32;

/// A context fetch's groups, ready to send as one request.
pub(super) struct Aliased<'p> {
    pub(super) fetch: &'p FetchNode,
    /// Where the fetch's objects are (its flatten path).
    pub(super) path: &'p [String],
    /// The operation sent: the fetch's, with one aliased `_entities` field per group.
    operation: String,
    /// Each group as it would have been sent alone; its variables are in `variables`, its
    /// representations in `lists`.
    groups: Vec<Ready<'p>>,
    variables: Map<String, Value>,
    lists: Vec<(String, Reps)>,
}

impl<'p> Aliased<'p> {
    /// `groups` (at least two, at most [`MAX_GROUPS`]) of `fetch` in one request; the groups
    /// back when the fetch's operation is not one this can rewrite.
    pub(super) fn new(
        fetch: &'p FetchNode,
        path: &'p [String],
        mut groups: Vec<Ready<'p>>,
    ) -> Result<Aliased<'p>, Vec<Ready<'p>>> {
        let mut renamed: Vec<&str> = vec!["representations"];
        for r in &fetch.context_rewrites {
            if !renamed.contains(&r.rename_key_to.as_str()) {
                renamed.push(&r.rename_key_to);
            }
        }
        // A client variable may already have a group's name (`$representations_0`): then the
        // groups' names are made with a longer separator, rather than sending each group alone.
        let Some((operation, sep)) = ["_", "__", "___", "____"].into_iter().find_map(|sep| {
            operation_with(&fetch.operation, &renamed, groups.len(), sep).map(|op| (op, sep))
        }) else {
            return Err(groups);
        };
        let mut variables = Map::new();
        let mut lists = Vec::with_capacity(groups.len());
        for (i, group) in groups.iter_mut().enumerate() {
            lists.push((
                format!("representations{sep}{i}"),
                std::mem::take(&mut group.representations),
            ));
            for (name, value) in std::mem::take(&mut group.variables) {
                if renamed.contains(&name.as_str()) {
                    variables.insert(format!("{name}{sep}{i}"), value);
                } else {
                    // The client's variables: the same in every group.
                    variables.entry(name).or_insert(value);
                }
            }
        }
        Ok(Aliased {
            fetch,
            path,
            operation,
            groups,
            variables,
            lists,
        })
    }
}

impl Executor {
    /// Sends the groups' request (never through the cross-request batcher: it has more than
    /// one representation list).
    pub(super) async fn fetch_aliased(
        &self,
        a: &Aliased<'_>,
        client: Request<'_>,
    ) -> Result<Fetched, FetchFailure> {
        let lists: Vec<(&str, &[_])> = a
            .lists
            .iter()
            .map(|(n, l)| (n.as_str(), l.as_slice()))
            .collect();
        let call = Call {
            graph: a.fetch.graph,
            operation: &a.operation,
            kind: OperationKind::Query,
            variables: Variables {
                map: &a.variables,
                lists: &lists,
            },
            coalesce: false,
        };
        self.send(call, client).await
    }

    /// Reads the answer once; each group gets its alias's results (a list of the wrong
    /// length, or none, makes only that group's objects unusable) and its errors.
    pub(super) fn merge_aliased(
        &self,
        a: &Aliased<'_>,
        response: Result<Fetched, FetchFailure>,
        out: &mut Output,
    ) {
        let groups: Vec<&Ready<'_>> = a.groups.iter().collect();
        let Some(read) = self.read(&a.operation, response, &groups, out) else {
            return;
        };
        self.aliased_errors(a, &read.errors, out);
        let data = match read.data {
            Some(Val::Object(d)) => d,
            Some(_) => {
                self.unusable(&groups, "the response has no `_entities`", out);
                return;
            }
            None => {
                if !read.had_errors {
                    self.unusable(&groups, "the response has no data", out);
                }
                return;
            }
        };
        for (i, r) in a.groups.iter().enumerate() {
            match out.data.take(data, &format!("_{i}")) {
                Some(Val::List(list)) if list.len() == r.sent.len() => {
                    // Never kept in the entity cache: its keys do not hold the arguments.
                    self.merge_entities(r, list.into_vec(), None, out);
                }
                Some(Val::List(list)) => {
                    let why = format!(
                        "`_entities` returned {} results for {} representations",
                        list.len(),
                        r.sent.len()
                    );
                    // Which result belongs to which representation is unknown: none is used.
                    self.unusable(&[r], &why, out);
                }
                _ => self.unusable(&[r], "the response has no `_entities`", out),
            }
        }
    }

    /// The subgraph's errors: one whose path starts with a group's alias goes to that
    /// group's objects (its path as the group's own fetch would have had it); any other to
    /// the first group.
    fn aliased_errors(&self, a: &Aliased<'_>, errors: &[Value], out: &mut Output) {
        let service = &a.fetch.subgraph;
        // One walk finds the places of every group's objects (all at the fetch's path).
        let groups: Vec<&Ready<'_>> = a.groups.iter().collect();
        let mut places = Places::shared(&groups, &out.data).unwrap_or_default();
        for e in errors {
            let group = e
                .get("path")
                .and_then(Value::as_array)
                .and_then(|p| p.first())
                .and_then(Value::as_str)
                .and_then(|alias| group_of(alias, a.groups.len()));
            let mut local = e.clone();
            let i = match group {
                Some(i) => {
                    if let Some(Value::Array(path)) = local.get_mut("path")
                        && let Some(first) = path.first_mut()
                    {
                        *first = Value::from("_entities");
                    }
                    i
                }
                None => {
                    // Not an alias's: about the request, placed at the first group's first
                    // object (an `_entities` path here would name the wrong objects).
                    if let Value::Object(fields) = &mut local {
                        fields.remove("path");
                    }
                    0
                }
            };
            let Some(r) = a.groups.get(i) else {
                continue;
            };
            let mapped = map_error(&local, service, r, &out.data, &mut places);
            out.errors
                .extend(mapped.into_iter().map(ResponseError::passed));
        }
    }
}

impl Aliased<'_> {
    /// Nothing comes from the entity cache.
    pub(super) fn answered_by_cache(&self) -> bool {
        false
    }
}

/// The group an alias names (`_3`: the fourth), if any of `count`.
fn group_of(alias: &str, count: usize) -> Option<usize> {
    let n = alias.strip_prefix('_')?;
    let i: usize = n.parse().ok()?;
    (i < count && n == i.to_string()).then_some(i)
}

/// `operation` (an entity fetch: `query NAME($representations: …, …) { _entities(…) { … } }`)
/// with its `_entities` field once per group, aliased `_0` to `_{groups - 1}`; the variables
/// named in `renamed` are defined and used once per group with the group's suffix (`$x` in
/// `_1` is `$x_1`), the others defined once. Only whole variable names are renamed (so
/// `$a_1` is not `$a_10`), never text in strings or comments. `None` when the operation is
/// not of that shape (another root field, an alias, fragment definitions, no
/// `$representations`) or a new name is taken already.
#[cfg(test)]
pub(super) fn operation(operation: &str, renamed: &[&str], groups: usize) -> Option<String> {
    operation_with(operation, renamed, groups, "_")
}

/// [`operation`] with the group's number put after `sep` in the renamed variables' names.
fn operation_with(operation: &str, renamed: &[&str], groups: usize, sep: &str) -> Option<String> {
    let toks = lex(operation)?;
    let name = |t: usize| -> Option<&str> {
        let tok = toks.get(t)?;
        (tok.kind == Kind::Name).then(|| &operation[tok.start..tok.end])
    };
    let is = |t: usize, kind: Kind| toks.get(t).is_some_and(|tok| tok.kind == kind);
    if name(0)? != "query" {
        return None;
    }
    let open = if name(1).is_some() { 2 } else { 1 };
    if !is(open, Kind::Open(b'(')) {
        return None;
    }
    let close = matching(&toks, open)?;
    // Each definition: its variable's name and its first and last tokens.
    let mut defs: Vec<(&str, usize, usize)> = Vec::new();
    let mut t = open + 1;
    while t < close {
        if !is(t, Kind::Dollar) {
            return None;
        }
        let var = name(t + 1)?;
        let mut end = t + 2;
        while end < close && !is(end, Kind::Dollar) {
            end = match toks[end].kind {
                Kind::Open(_) => matching(&toks, end)? + 1,
                _ => end + 1,
            };
        }
        defs.push((var, t, end - 1));
        t = end;
    }
    if !defs.iter().any(|(var, _, _)| *var == "representations") {
        return None;
    }
    // New names must be free (and distinct).
    let mut taken: std::collections::HashSet<String> = defs
        .iter()
        .filter(|(var, _, _)| !renamed.contains(var))
        .map(|(var, _, _)| (*var).to_owned())
        .collect();
    for i in 0..groups {
        for (var, _, _) in defs.iter().filter(|(var, _, _)| renamed.contains(var)) {
            if !taken.insert(format!("{var}{sep}{i}")) {
                return None;
            }
        }
    }
    // The operation's directives, up to its selection set: kept once, so they may not use
    // a renamed variable.
    let mut t = close + 1;
    while !is(t, Kind::Open(b'{')) {
        let tok = toks.get(t)?;
        let next = match tok.kind {
            Kind::Open(_) => matching(&toks, t)? + 1,
            _ => t + 1,
        };
        let uses = (t..next)
            .any(|u| is(u, Kind::Dollar) && name(u + 1).is_some_and(|var| renamed.contains(&var)));
        if uses {
            return None;
        }
        t = next;
    }
    let selection = t;
    let end = matching(&toks, selection)?;
    // Nothing after the selection set (no fragment definitions: each group would need its
    // own).
    if end + 1 != toks.len() {
        return None;
    }
    // One field, `_entities`, not aliased, with its own selection set.
    let field = selection + 1;
    if name(field)? != "_entities" || is(field + 1, Kind::Colon) {
        return None;
    }
    let mut t = field + 1;
    let last = loop {
        if t >= end {
            return None;
        }
        t = match toks[t].kind {
            Kind::Open(b'{') => break matching(&toks, t)?,
            Kind::Open(_) => matching(&toks, t)? + 1,
            _ => t + 1,
        };
    };
    if last + 1 != end {
        return None;
    }

    let mut out = String::with_capacity(operation.len() * groups);
    out.push_str(&operation[..toks[open].end]);
    let mut first = true;
    let mut separate = |out: &mut String| {
        if !std::mem::take(&mut first) {
            out.push_str(", ");
        }
    };
    for i in 0..groups {
        let suffix = format!("{sep}{i}");
        for (_, from, to) in defs.iter().filter(|(var, _, _)| renamed.contains(var)) {
            separate(&mut out);
            write_renamed(&mut out, operation, &toks, (*from, *to), renamed, &suffix);
        }
    }
    for (_, from, to) in defs.iter().filter(|(var, _, _)| !renamed.contains(var)) {
        separate(&mut out);
        out.push_str(&operation[toks[*from].start..toks[*to].end]);
    }
    out.push_str(&operation[toks[close].start..toks[selection].end]);
    for i in 0..groups {
        let suffix = format!("{sep}{i}");
        out.push(' ');
        out.push_str(&suffix);
        out.push_str(": ");
        write_renamed(&mut out, operation, &toks, (field, last), renamed, &suffix);
    }
    out.push_str(" }");
    Some(out)
}

/// The text of tokens `from..=to` of `text`, each variable named in `renamed` with `suffix`
/// added; everything else (strings, comments, spacing) as it is.
fn write_renamed(
    out: &mut String,
    text: &str,
    toks: &[Tok],
    (from, to): (usize, usize),
    renamed: &[&str],
    suffix: &str,
) {
    let mut copied = toks[from].start;
    for t in from..=to {
        let tok = toks[t];
        let variable = tok.kind == Kind::Name
            && t > 0
            && toks[t - 1].kind == Kind::Dollar
            && renamed.contains(&&text[tok.start..tok.end]);
        if variable {
            out.push_str(&text[copied..tok.end]);
            out.push_str(suffix);
            copied = tok.end;
        }
    }
    out.push_str(&text[copied..toks[to].end]);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Name,
    Dollar,
    Colon,
    /// `(`, `[` or `{`.
    Open(u8),
    /// `)`, `]` or `}`.
    Close(u8),
    /// A string, a block string, a number's part, any other punctuator.
    Other,
}

/// A token: its kind and where it is in the text (bytes).
#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

/// The tokens of GraphQL `text`, without what the spec ignores (spacing, commas, comments,
/// a byte order mark). Enough to find names, variables and brackets: a string (or block
/// string) is one token, so nothing in it is ever taken for a variable. `None` for an
/// unterminated string.
fn lex(text: &str) -> Option<Vec<Tok>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let kind = match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i = string_end(b, i)?;
                Kind::Other
            }
            b'$' => {
                i += 1;
                Kind::Dollar
            }
            b':' => {
                i += 1;
                Kind::Colon
            }
            c @ (b'(' | b'[' | b'{') => {
                i += 1;
                Kind::Open(c)
            }
            c @ (b')' | b']' | b'}') => {
                i += 1;
                Kind::Close(c)
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                Kind::Name
            }
            c if c.is_ascii() => {
                i += 1;
                Kind::Other
            }
            _ => {
                // A whole character (a byte order mark is ignored; anything else is not
                // GraphQL, kept as it is).
                let ch = text[i..].chars().next()?;
                i += ch.len_utf8();
                if ch == '\u{feff}' {
                    continue;
                }
                Kind::Other
            }
        };
        out.push(Tok {
            kind,
            start,
            end: i,
        });
    }
    Some(out)
}

/// Where the string starting at `i` (`"` or `"""`) ends, past its closing quote(s).
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b[i..].starts_with(b"\"\"\"") {
        let mut j = i + 3;
        while j < b.len() {
            if b[j..].starts_with(b"\\\"\"\"") {
                j += 4;
            } else if b[j..].starts_with(b"\"\"\"") {
                return Some(j + 3);
            } else {
                j += 1;
            }
        }
        return None;
    }
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            b'\n' | b'\r' => return None,
            _ => j += 1,
        }
    }
    None
}

/// The token closing the bracket opened at `open`.
fn matching(toks: &[Tok], open: usize) -> Option<usize> {
    let mut stack = Vec::new();
    for (t, tok) in toks.iter().enumerate().skip(open) {
        match tok.kind {
            Kind::Open(c) => stack.push(c),
            Kind::Close(c) => {
                let opened = stack.pop()?;
                let pair = matches!((opened, c), (b'(', b')') | (b'[', b']') | (b'{', b'}'));
                if !pair {
                    return None;
                }
                if stack.is_empty() {
                    return Some(t);
                }
            }
            _ => {}
        }
        if stack.is_empty() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: &[&str] = &["representations", "contextualArgument_3_0"];

    fn parses(text: &str) {
        if let Err(e) = apollo_compiler::ast::Document::parse(text, "aliased.graphql") {
            panic!("{text}\n{e}");
        }
    }

    /// The plan's operation, once per group: every definition and use of the renamed
    /// variables with the group's suffix, the field aliased by its group.
    #[test]
    fn each_group_gets_an_aliased_field_and_its_own_variables() {
        let op = "query Q__stores__1($representations: [_Any!]!, $contextualArgument_3_0: String) { _entities(representations: $representations) { ... on Stall { fee(currency: $contextualArgument_3_0) } } }";
        let out = operation(op, CONTEXT, 2).unwrap();
        assert_eq!(
            out,
            "query Q__stores__1($representations_0: [_Any!]!, $contextualArgument_3_0_0: String, \
             $representations_1: [_Any!]!, $contextualArgument_3_0_1: String) { \
             _0: _entities(representations: $representations_0) { ... on Stall { fee(currency: $contextualArgument_3_0_0) } } \
             _1: _entities(representations: $representations_1) { ... on Stall { fee(currency: $contextualArgument_3_0_1) } } }"
        );
        parses(&out);
    }

    /// The client's variables are defined once, after the groups', with their default
    /// values (strings and lists in them kept as they are), and used as they are.
    #[test]
    fn client_variables_are_defined_once() {
        let op = r#"query Q($representations:[_Any!]!,$contextualArgument_3_0:String,$limit:Int=3,$tags:[String]=["$representations", "a"]){_entities(representations:$representations){...on Item{price(currency:$contextualArgument_3_0) labels(limit:$limit)}}}"#;
        let out = operation(op, CONTEXT, 3).unwrap();
        assert_eq!(
            out,
            r#"query Q($representations_0:[_Any!]!, $contextualArgument_3_0_0:String, $representations_1:[_Any!]!, $contextualArgument_3_0_1:String, $representations_2:[_Any!]!, $contextualArgument_3_0_2:String, $limit:Int=3, $tags:[String]=["$representations", "a"]){ _0: _entities(representations:$representations_0){...on Item{price(currency:$contextualArgument_3_0_0) labels(limit:$limit)}} _1: _entities(representations:$representations_1){...on Item{price(currency:$contextualArgument_3_0_1) labels(limit:$limit)}} _2: _entities(representations:$representations_2){...on Item{price(currency:$contextualArgument_3_0_2) labels(limit:$limit)}} }"#
        );
        parses(&out);
    }

    /// `$contextualArgument_3_1` is a prefix of `$contextualArgument_3_10` (and
    /// `$representations` of `$representationsOld`): only whole names are renamed.
    #[test]
    fn only_whole_names_are_renamed() {
        let op = "query Q($representations: [_Any!]!, $contextualArgument_3_1: String, $contextualArgument_3_10: String, $representationsOld: Int) { _entities(representations: $representations) { ... on T { a(x: $contextualArgument_3_1, y: $contextualArgument_3_10, z: $representationsOld) } } }";
        let renamed = ["representations", "contextualArgument_3_1"];
        let out = operation(op, &renamed, 2).unwrap();
        assert_eq!(
            out,
            "query Q($representations_0: [_Any!]!, $contextualArgument_3_1_0: String, \
             $representations_1: [_Any!]!, $contextualArgument_3_1_1: String, \
             $contextualArgument_3_10: String, $representationsOld: Int) { \
             _0: _entities(representations: $representations_0) { ... on T { a(x: $contextualArgument_3_1_0, y: $contextualArgument_3_10, z: $representationsOld) } } \
             _1: _entities(representations: $representations_1) { ... on T { a(x: $contextualArgument_3_1_1, y: $contextualArgument_3_10, z: $representationsOld) } } }"
        );
        parses(&out);
        // Both renamed: each gets its own suffix, once.
        let both = [
            "representations",
            "contextualArgument_3_1",
            "contextualArgument_3_10",
        ];
        let out = operation(op, &both, 2).unwrap();
        assert!(out.contains("y: $contextualArgument_3_10_1,"), "{out}");
        assert!(out.contains("x: $contextualArgument_3_1_1,"), "{out}");
        assert_eq!(
            out.matches("$contextualArgument_3_10_0").count(),
            2,
            "{out}"
        );
        parses(&out);
    }

    /// Strings, block strings (with an escaped `"""` inside) and comments are copied as they
    /// are: a client's literal "$representations" stays.
    #[test]
    fn strings_block_strings_and_comments_are_left_alone() {
        let op = "query Q($representations: [_Any!]!, $contextualArgument_3_0: String) {\n  _entities(representations: $representations) {\n    ... on T {\n      a(s: \"$representations \\\" $contextualArgument_3_0\", b: \"\"\"$representations \\\"\"\" $contextualArgument_3_0\"\"\", c: $contextualArgument_3_0) # $representations\n    }\n  }\n}";
        let out = operation(op, CONTEXT, 2).unwrap();
        parses(&out);
        for i in 0..2 {
            let expected = format!(
                "_{i}: _entities(representations: $representations_{i}) {{\n    ... on T {{\n      a(s: \"$representations \\\" $contextualArgument_3_0\", b: \"\"\"$representations \\\"\"\" $contextualArgument_3_0\"\"\", c: $contextualArgument_3_0_{i}) # $representations\n    }}\n  }}"
            );
            assert!(out.contains(&expected), "{out}\n---\n{expected}");
        }
    }

    /// A `$` and its name may stand apart (the spec's tokens allow it); the name still is
    /// the variable's.
    #[test]
    fn a_variable_is_its_name_after_the_dollar() {
        let op = "query Q($ representations: [_Any!]!) { _entities(representations: $ representations) { ... on T { id } } }";
        let out = operation(op, &["representations"], 2).unwrap();
        assert!(out.contains("$ representations_1: [_Any!]!"), "{out}");
        assert!(
            out.contains("_1: _entities(representations: $ representations_1)"),
            "{out}"
        );
        parses(&out);
    }

    /// What this cannot rewrite is left to one request per group.
    #[test]
    fn other_shapes_are_refused() {
        let refused = [
            // A fragment definition (each group would need its own).
            "query Q($representations: [_Any!]!) { _entities(representations: $representations) { ...F } } fragment F on T { a }",
            // Another root field, or an alias already.
            "query Q($representations: [_Any!]!) { _entities(representations: $representations) { ... on T { a } } __typename }",
            "query Q($representations: [_Any!]!) { e: _entities(representations: $representations) { ... on T { a } } }",
            // No `$representations`.
            "query Q($x: Int) { _entities(representations: []) { ... on T { a(x: $x) } } }",
            // A client variable already has a new name.
            "query Q($representations: [_Any!]!, $representations_1: Int) { _entities(representations: $representations) { ... on T { a(x: $representations_1) } } }",
            // An operation directive using a renamed variable.
            "query Q($representations: [_Any!]!) @d(x: $representations) { _entities(representations: $representations) { ... on T { a } } }",
            // Not an operation this reads.
            "query Q($representations: [_Any!]!) { _entities(representations: $representations) { ... on T { a(s: \"open) } } }",
            "query Q($representations: [_Any!]!) { _entities(representations: $representations) { ... on T { a } }",
            "query Q($representations: [_Any!]!) { _entities(representations: $representations) { ... on T { a ] } } }",
            "mutation Q($representations: [_Any!]!) { _entities(representations: $representations) { ... on T { a } } }",
            "{ _entities(representations: []) { ... on T { a } } }",
        ];
        for op in refused {
            assert_eq!(operation(op, CONTEXT, 2), None, "{op}");
        }
    }

    /// What the answer to the text keeps: each alias's list, with the fetch's selection.
    #[test]
    fn the_answer_to_the_text_keeps_each_alias() {
        let op = "query Q($representations: [_Any!]!, $contextualArgument_3_0: String) { _entities(representations: $representations) { ... on Stall { fee(currency: $contextualArgument_3_0) } } }";
        let out = operation(op, CONTEXT, 3).unwrap();
        let projection = crate::projection::Projection::of_answer(&out).unwrap();
        let data = projection.get("data").flatten().unwrap();
        for alias in ["_0", "_1", "_2"] {
            let inner = data.get(alias).flatten().unwrap();
            assert!(inner.get("fee").is_some(), "{alias}");
        }
        assert!(data.get("_entities").is_none());
    }

    #[test]
    fn aliases_name_groups() {
        assert_eq!(group_of("_0", 2), Some(0));
        assert_eq!(group_of("_1", 2), Some(1));
        assert_eq!(group_of("_2", 2), None);
        assert_eq!(group_of("_01", 2), None);
        assert_eq!(group_of("_entities", 2), None);
        assert_eq!(group_of("1", 2), None);
    }

    /// A client variable with a group's name (`$representations_0`) does not send each group
    /// alone: the groups' names take a longer separator.
    #[test]
    fn a_taken_name_gets_a_longer_separator() {
        let op = "query Q($representations: [_Any!]!, $representations_0: Boolean) { _entities(representations: $representations) { ... on T { a @include(if: $representations_0) } } }";
        assert_eq!(operation(op, &["representations"], 2), None);
        let out = operation_with(op, &["representations"], 2, "__").unwrap_or_default();
        assert!(
            out.contains("$representations__0: [_Any!]!")
                && out.contains("_1: _entities(representations: $representations__1)")
                && out.contains("$representations_0: Boolean")
                && out.contains("@include(if: $representations_0)"),
            "{out}"
        );
    }
}
