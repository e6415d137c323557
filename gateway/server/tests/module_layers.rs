#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The server crate's modules point one way (docs/DESIGN.md, issue 14): `cli -> http ->
//! runtime -> observability`, with `report` (printing) under all of them and `fuzzing` on top.
//! Each source file of `gateway/server/src` is read as text; every `crate::<module>` path in
//! it (in code, not comments), the names in a grouped `crate::{...}`, and a `super::` path
//! that climbs out of its layer to the crate root, name a top-level module. A file may name
//! its own layer and any layer below it, never one above.

use std::path::{Path, PathBuf};

/// The top-level modules of the crate, lowest first; a module may use those before it.
/// `lib.rs` and `main.rs` declare and call everything and are not checked.
const LAYERS: [&str; 6] = [
    "report",
    "observability",
    "runtime",
    "http",
    "cli",
    "fuzzing",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == module)
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path under `src`: `runtime/auth/token.rs` is `[runtime, auth, token]`,
/// `runtime/mod.rs` is `[runtime]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// The text without `//` comments (doc comments name modules freely).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Whether the keyword at `at` starts a path of its own (not `$crate`, not `my_crate`).
fn starts_path(text: &str, at: usize) -> bool {
    !text[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The top-level modules a file's code names: through `crate::` paths (grouped or not), and
/// through `super::` chains reaching the crate root from a file `depth` modules deep (inline
/// modules are not counted, so a chain is taken to reach at least as high as it does).
fn named_modules(code: &str, depth: usize) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    for (at, _) in code.match_indices("crate::") {
        if !starts_path(code, at) {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::b, c}`: the first name of each item at the group's top level.
            let mut level = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => level += 1,
                    '}' if level == 0 => break,
                    '}' => level -= 1,
                    ',' if level == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        found.push((ident_at(&group[i..]).to_owned(), line_of(at)));
                        item_start = false;
                    }
                    c if c.is_whitespace() => {}
                    _ => item_start = false,
                }
            }
        } else {
            found.push((ident_at(rest).to_owned(), line_of(at)));
        }
    }
    for (at, _) in code.match_indices("super::") {
        if !starts_path(code, at) || code[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut climbs = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = r;
        }
        if climbs >= depth {
            found.push((ident_at(rest).to_owned(), line_of(at)));
        }
    }
    found
}

/// Every upward reference in `code`, a file of `layer` `depth` modules deep.
fn upward(layer: &str, code: &str, depth: usize) -> Vec<String> {
    let own = rank(layer).unwrap();
    named_modules(code, depth)
        .into_iter()
        .filter(|(module, _)| rank(module).is_some_and(|r| r > own))
        .map(|(module, line)| format!("line {line}: `{module}` is above `{layer}`"))
        .collect()
}

#[test]
fn no_module_of_the_server_imports_one_above_it() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap();
        let path = module_path(relative);
        let top = path[0].as_str();
        if top == "lib" || top == "main" {
            continue;
        }
        if rank(top).is_none() {
            wrong.push(format!(
                "{}: `{top}` is not a layer; add it to LAYERS (lowest first) and DESIGN.md",
                relative.display()
            ));
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for problem in upward(top, &code(&text), path.len()) {
            wrong.push(format!("{}: {problem}", relative.display()));
        }
        checked += 1;
    }
    assert!(
        checked >= 30,
        "only {checked} files read under {}",
        root.display()
    );
    assert!(
        wrong.is_empty(),
        "upward references between the server's layers \
         (cli -> http -> runtime -> observability -> report):\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_scan_sees_every_form_of_path() {
    // A plain path, a grouped import, a path in an expression, and `super::` to the root.
    assert_eq!(upward("runtime", "use crate::http::router;", 2).len(), 1);
    assert_eq!(
        upward("runtime", "use crate::{report::errln, cli::demo};", 2).len(),
        1
    );
    assert_eq!(
        upward("observability", "let x = crate::runtime::Live::new(s);", 2).len(),
        1
    );
    assert_eq!(
        upward("runtime", "use super::super::http::edge;", 2).len(),
        1
    );
    assert_eq!(upward("http", "use super::cli;", 1).len(), 1);
    // Downward, sideways within the layer, comments, `$crate` and test modules are fine.
    assert!(upward("http", "use crate::runtime::{Live, pipeline};", 2).is_empty());
    assert!(upward("runtime", "use super::keys::Key;", 3).is_empty());
    assert!(upward("runtime", &code("// see crate::cli::serve"), 2).is_empty());
    assert!(upward("report", "$crate::report::print(x)", 1).is_empty());
    assert!(upward("runtime", "use super::*;", 1).is_empty());
}
