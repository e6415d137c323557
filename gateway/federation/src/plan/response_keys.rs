//! The response keys a subgraph operation's answer puts into the objects it is for, read off
//! the operation's text by a scanner rather than a parser: the schedule (`schedule.rs`) needs
//! them for every fetch of every plan, and a plan-cache miss paid 130 µs to parse the public
//! benchmark's twelve operations with a full GraphQL parser. The scanner reads the subset of
//! GraphQL the planner prints — fields, aliases, arguments (strings, block strings, nested
//! values), directives, inline fragments — and gives up (`None`) on anything else, such as a
//! fragment spread; the caller then treats the whole path as written.

/// A root fetch's top-level response keys (`entities` false), or an entity fetch's keys under
/// each of its top-level fields (`_entities`, however aliased). `None` when the text is not
/// what the planner prints.
pub fn written_keys(operation: &str, entities: bool) -> Option<Vec<&str>> {
    let mut s = Scanner {
        text: operation.as_bytes(),
        at: 0,
        depth: 0,
    };
    // The operation's header: its kind, name and variable definitions (whose default values
    // may hold braces, inside the parentheses).
    loop {
        s.skip_ignored();
        match s.peek()? {
            b'{' => break,
            b'(' => s.skip_balanced(b'(', b')')?,
            b'"' => s.skip_string()?,
            _ => s.at += 1,
        }
    }
    let mut keys = Vec::new();
    s.selection_set(if entities { 1 } else { 0 }, 0, &mut keys)?;
    s.skip_ignored();
    // A second definition (a fragment) would be one this scanner does not follow.
    (s.at == s.text.len()).then_some(keys)
}

struct Scanner<'t> {
    text: &'t [u8],
    at: usize,
    /// Selection sets entered and not yet left (fields and inline fragments alike).
    depth: usize,
}

/// How deep selection sets may nest, inline fragments included, before the scanner gives up
/// (the planner writes a few levels; the bound keeps recursion small whatever the text).
const MAX_DEPTH: usize = 64;

impl<'t> Scanner<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.text[self.at..].starts_with(s)
    }

    /// Skips white space, commas and comments.
    fn skip_ignored(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.at += 1,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.at += 1;
                    }
                }
                _ => return,
            }
        }
    }

    fn name(&mut self) -> Option<&'t str> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.at += 1;
        }
        let text: &'t [u8] = self.text;
        let name = std::str::from_utf8(&text[start..self.at]).ok()?;
        (!name.is_empty() && !name.as_bytes()[0].is_ascii_digit()).then_some(name)
    }

    /// Skips a string or block string starting here.
    fn skip_string(&mut self) -> Option<()> {
        if self.starts_with(b"\"\"\"") {
            self.at += 3;
            loop {
                if self.starts_with(b"\\\"\"\"") {
                    self.at += 4;
                } else if self.starts_with(b"\"\"\"") {
                    self.at += 3;
                    return Some(());
                } else {
                    self.peek()?;
                    self.at += 1;
                }
            }
        }
        self.at += 1;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\n' => return None,
                _ => self.at += 1,
            }
        }
    }

    /// Skips from `open` (here) to its matching `close`, over strings and nested pairs.
    fn skip_balanced(&mut self, open: u8, close: u8) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.skip_string()?;
                    continue;
                }
                b'#' => {
                    self.skip_ignored();
                    continue;
                }
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        self.at += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }

    /// Skips directives: `@name` with arguments, any number of them.
    fn skip_directives(&mut self) -> Option<()> {
        loop {
            self.skip_ignored();
            if self.peek() != Some(b'@') {
                return Some(());
            }
            self.at += 1;
            self.name()?;
            self.skip_ignored();
            if self.peek() == Some(b'(') {
                self.skip_balanced(b'(', b')')?;
            }
        }
    }

    /// Reads the selection set starting here (at `{`), `level` levels of fields below the
    /// operation's, pushing the response keys of the fields `target` levels down.
    fn selection_set(
        &mut self,
        target: usize,
        level: usize,
        keys: &mut Vec<&'t str>,
    ) -> Option<()> {
        if self.depth >= MAX_DEPTH || self.peek()? != b'{' {
            return None;
        }
        self.depth += 1;
        self.at += 1;
        let read = self.selections(target, level, keys);
        self.depth -= 1;
        read
    }

    /// The selections of a set, up to and past its `}`.
    fn selections(&mut self, target: usize, level: usize, keys: &mut Vec<&'t str>) -> Option<()> {
        loop {
            self.skip_ignored();
            match self.peek()? {
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                b'.' => {
                    if !self.starts_with(b"...") {
                        return None;
                    }
                    self.at += 3;
                    self.skip_ignored();
                    // `... on T`, `... @dir`, `... {`: an inline fragment, at the same level.
                    if self.starts_with(b"on")
                        && !self
                            .text
                            .get(self.at + 2)
                            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    {
                        self.at += 2;
                        self.skip_ignored();
                        self.name()?;
                    } else if self.peek()? != b'{' && self.peek()? != b'@' {
                        return None; // a fragment spread
                    }
                    self.skip_directives()?;
                    self.selection_set(target, level, keys)?;
                }
                _ => {
                    let mut key = self.name()?;
                    self.skip_ignored();
                    if self.peek() == Some(b':') {
                        self.at += 1;
                        self.skip_ignored();
                        self.name()?;
                        self.skip_ignored();
                    }
                    if level == target {
                        keys.push(key);
                        key = "";
                    }
                    if self.peek() == Some(b'(') {
                        self.skip_balanced(b'(', b')')?;
                    }
                    self.skip_directives()?;
                    if self.peek() == Some(b'{') {
                        if key.is_empty() {
                            self.skip_balanced(b'{', b'}')?;
                        } else {
                            self.selection_set(target, level + 1, keys)?;
                        }
                    } else if level < target {
                        // A leaf where the keys were to be found below.
                        return None;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use apollo_compiler::ast::{Definition, Document, Selection};

    use super::written_keys;

    fn owned(keys: Option<Vec<&str>>) -> Option<Vec<String>> {
        keys.map(|k| k.into_iter().map(str::to_owned).collect())
    }

    /// The same keys as GraphQL's own parser finds.
    fn parsed_keys(operation: &str, entities: bool) -> Option<Vec<String>> {
        fn keys_of(selection: &[Selection], keys: &mut Vec<String>) -> Option<()> {
            for s in selection {
                match s {
                    Selection::Field(f) => keys.push(f.response_name().to_string()),
                    Selection::InlineFragment(i) => keys_of(&i.selection_set, keys)?,
                    Selection::FragmentSpread(_) => return None,
                }
            }
            Some(())
        }
        let doc = Document::parse(operation, "fetch.graphql").ok()?;
        let [Definition::OperationDefinition(op)] = &doc.definitions[..] else {
            return None;
        };
        let mut keys = Vec::new();
        if entities {
            for s in &op.selection_set {
                let Selection::Field(f) = s else {
                    return None;
                };
                keys_of(&f.selection_set, &mut keys)?;
            }
        } else {
            keys_of(&op.selection_set, &mut keys)?;
        }
        Some(keys)
    }

    #[test]
    fn the_scanner_finds_what_the_parser_finds() {
        let root = [
            "query Q { users { id } top: topProducts { upc } }",
            "{ me { username } }",
            "query Q($a: String = \"}{\", $b: In = {x: [1, {y: 2}]}) { f(a: $a) @include(if: true) { x } g }",
            "query { a(s: \"\"\"a } \\\"\"\" b\"\"\") { b } c: d(x: \"\\\"}\") e @skip(if: false) }",
            "query # a comment {\n { a # }\n b }",
            "{ ... on Query { a b: c } ... @include(if: $v) { d } }",
        ];
        for op in root {
            assert_eq!(
                owned(written_keys(op, false)),
                parsed_keys(op, false),
                "{op}"
            );
            assert!(written_keys(op, false).is_some(), "{op}");
        }
        let entities = [
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { inStock s: shippingEstimate } } }",
            "query($r0: [_Any!]!, $r1: [_Any!]!) { _entities_0: _entities(representations: $r0) { ... on User { reviews { body } } } _entities_1: _entities(representations: $r1) { ... on Product { name } } }",
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on A { x(y: {z: \"}\"}) { w } } ... on B { v } } }",
        ];
        for op in entities {
            assert_eq!(owned(written_keys(op, true)), parsed_keys(op, true), "{op}");
            assert!(written_keys(op, true).is_some(), "{op}");
        }
    }

    #[test]
    fn what_the_scanner_does_not_follow_is_none() {
        for op in [
            "query Q { ...F } fragment F on Query { a }",
            "{ a ...F }",
            "{ a ",
            "{ a(b: \"unterminated) }",
            "not graphql",
            "{ 1a }",
            "",
        ] {
            assert_eq!(written_keys(op, false), None, "{op}");
        }
        // An entity fetch whose top-level field has no selection.
        assert_eq!(written_keys("{ _entities }", true), None);
        // Inline fragments deeper than the bound.
        let deep = format!("{{ {}a{} }}", "... { ".repeat(100), "}".repeat(100));
        assert_eq!(written_keys(&deep, false), None);
        let shallow = format!("{{ {}a{} }}", "... { ".repeat(10), "}".repeat(10));
        assert_eq!(written_keys(&shallow, false), Some(vec!["a"]));
    }
}
