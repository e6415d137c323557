//! The block outline of a YAML text: which lines belong to which key or list item. The YAML
//! parser stops at its first error, so to report every error of a file in one run the parts of
//! the file are parsed again alone ([`every_error`]); and a check across keys, made after
//! parsing, finds the place of a key in the file with [`locate`].
//!
//! Only indentation is read here, not YAML: a key's block is its line and the lines indented
//! under it. Flow collections and block scalars that span lines are kept whole (never split).

use std::ops::Range;

/// A key or list item: its first line and the lines under it (0-based, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    lines: Range<usize>,
    children: Vec<Block>,
}

/// At most this many parses for one file, so a large broken file cannot take long.
const MAX_PARSES: usize = 200;

/// What parsing a text (or part of it) failed with.
#[derive(Debug)]
pub struct Failure<E> {
    pub error: E,
    /// 1-based line of the error, if known.
    pub line: Option<usize>,
    /// The error may come of a part left out (a required key missing): believed only when
    /// every sibling of the part was parsed with it.
    pub needs_context: bool,
}

/// Every error of `text` that `parse` finds, each found by parsing its part of the file alone
/// (the other lines blank, so line numbers hold), and the text with those parts blanked (what
/// can still be read; `None` if that fails too). `parse` answers `None` if a text is fine.
/// An error `parse` only gives for the whole (a clash between parts) is reported alone.
pub fn every_error<E>(
    text: &str,
    parse: impl Fn(&str) -> Option<Failure<E>>,
) -> (Vec<E>, Option<String>) {
    let Some(whole) = parse(text) else {
        return (Vec::new(), Some(text.to_owned()));
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let outline = outline(&lines);
    let mut search = Search {
        lines: &lines,
        parse: &parse,
        parses: 1,
        found: Vec::new(),
    };
    search.within(&outline, &[]);
    if search.found.is_empty() {
        return (vec![whole.error], None);
    }
    let mut blank = vec![false; lines.len()];
    for (_, range) in &search.found {
        blank[range.clone()].iter_mut().for_each(|b| *b = true);
    }
    let rest = keep(&lines, |i| !blank[i]);
    let rest = parse(&rest).is_none().then_some(rest);
    (search.found.into_iter().map(|(e, _)| e).collect(), rest)
}

struct Search<'a, E, P> {
    lines: &'a [&'a str],
    parse: &'a P,
    parses: usize,
    /// Each error with the lines of the part it was found in.
    found: Vec<(E, Range<usize>)>,
}

impl<E, P: Fn(&str) -> Option<Failure<E>>> Search<'_, E, P> {
    /// Parses each of `blocks` alone under the first lines of its `parents`; a block that fails
    /// is searched further, down to the smallest part that fails alone.
    fn within(&mut self, blocks: &[Block], parents: &[usize]) {
        for block in blocks {
            if self.parses >= MAX_PARSES {
                return;
            }
            let alone = keep(self.lines, |i| {
                parents.contains(&i) || block.lines.contains(&i)
            });
            self.parses += 1;
            let Some(failure) = (self.parse)(&alone) else {
                continue;
            };
            // An error outside the block, or one that may come of leaving its siblings out
            // (a key they would have given), is not the block's own.
            let inside = failure
                .line
                .is_some_and(|l| block.lines.contains(&(l.saturating_sub(1))));
            if !inside || (failure.needs_context && !parents.is_empty()) {
                continue;
            }
            let before = self.found.len();
            let mut deeper = parents.to_vec();
            deeper.push(block.lines.start);
            self.within(&block.children, &deeper);
            if self.found.len() == before {
                self.found.push((failure.error, block.lines.clone()));
            }
        }
    }
}

/// `lines` with those `keep` refuses made empty (their line breaks kept).
fn keep(lines: &[&str], keep: impl Fn(usize) -> bool) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if keep(i) {
            out.push_str(line);
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The 1-based line and column of the key at dotted `path` (`auth.jwks`) in `text`, if the
/// file writes it in block style.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut blocks = outline(&lines);
    let mut found = None;
    for segment in path.split('.') {
        let block = blocks
            .iter()
            .find(|b| key_of(lines[b.lines.start]) == Some(segment))?;
        let line = lines[block.lines.start];
        found = Some((block.lines.start + 1, indent(line) + 1));
        blocks = block.children.clone();
    }
    found
}

/// The key a line starts with (`key: …`), if it does.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.trim().split_once(':')?;
    let key = key.trim().trim_matches(['"', '\'']);
    (!key.is_empty() && !key.contains(' ')).then_some(key)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A line that holds nothing: blank, or only a comment.
fn is_empty(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#') || t == "---"
}

/// The blocks of `lines`, nested by indentation.
fn outline(lines: &[&str]) -> Vec<Block> {
    let mut at = 0;
    blocks_from(lines, &mut at, None)
}

/// The blocks from line `*at` on while they are under a parent indented `parent` (a key's
/// list may sit at the key's own indentation, `key:\n- item`).
fn blocks_from(lines: &[&str], at: &mut usize, parent: Option<(usize, bool)>) -> Vec<Block> {
    let mut blocks = Vec::new();
    while *at < lines.len() {
        let line = lines[*at];
        if is_empty(line) {
            *at += 1;
            continue;
        }
        let i = indent(line);
        let item = line.trim_start().starts_with('-');
        let under = match parent {
            None => true,
            Some((p, parent_is_item)) => i > p || (i == p && item && !parent_is_item),
        };
        if !under {
            break;
        }
        let start = *at;
        *at += 1;
        let open = open_brackets(line);
        let children = if open > 0 {
            // A flow collection over several lines: one value, to where it closes.
            let mut depth = open;
            while *at < lines.len() && depth > 0 {
                depth += open_brackets(lines[*at]);
                *at += 1;
            }
            Vec::new()
        } else if opens_block_scalar(line) {
            while *at < lines.len() && (is_empty(lines[*at]) || indent(lines[*at]) > i) {
                *at += 1;
            }
            Vec::new()
        } else {
            blocks_from(lines, at, Some((i, item)))
        };
        // Trailing blank lines belong to no block.
        let mut end = *at;
        while end > start + 1 && is_empty(lines[end - 1]) {
            end -= 1;
        }
        blocks.push(Block {
            lines: start..end,
            children,
        });
    }
    blocks
}

/// Whether a line's value is a block scalar (`|`, `>`), its text on the lines under it.
fn opens_block_scalar(line: &str) -> bool {
    let value = line.trim().trim_start_matches('-').trim_start();
    let value = value.split_once(": ").map_or(value, |(_, v)| v).trim();
    value.starts_with('|') || value.starts_with('>')
}

/// How many more flow brackets (`[`, `{`) a line opens than it closes (quotes and comments
/// are not told apart: an approximation that at worst keeps lines together).
fn open_brackets(line: &str) -> isize {
    if is_empty(line) {
        return 0;
    }
    let opened = line.matches(['[', '{']).count();
    let closed = line.matches([']', '}']).count();
    opened as isize - closed as isize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_nest_by_indentation_with_lists_at_the_key_level() {
        let text = "a: 1\nb:\n  c: 2\n  d:\n  - x\n  - y\n\ne: |\n  text\n  more\n";
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let top = outline(&lines);
        let ranges: Vec<_> = top.iter().map(|b| b.lines.clone()).collect();
        assert_eq!(ranges, [0..1, 1..6, 7..10]);
        let b: Vec<_> = top[1].children.iter().map(|b| b.lines.clone()).collect();
        assert_eq!(b, [2..3, 3..6]);
        let d: Vec<_> = top[1].children[1]
            .children
            .iter()
            .map(|b| b.lines.clone())
            .collect();
        assert_eq!(d, [4..5, 5..6]);
        assert!(top[2].children.is_empty(), "a block scalar is one value");
        let json = "{\n  \"a\": [\n    1\n  ],\n  \"b\": 2\n}\n";
        let lines: Vec<&str> = json.split_inclusive('\n').collect();
        let top = outline(&lines);
        assert_eq!(top.len(), 1, "{top:?}");
        assert_eq!(top[0].lines, 0..6);
    }

    #[test]
    fn keys_are_located_by_path() {
        let text = "# c\ncors:\n  allow_origins: [\"*\"]\n  allow_credentials: true\nauth:\n  jwks:\n    - a.json\n";
        assert_eq!(locate(text, "cors.allow_credentials"), Some((4, 3)));
        assert_eq!(locate(text, "auth.jwks"), Some((6, 3)));
        assert_eq!(locate(text, "auth"), Some((5, 1)));
        assert_eq!(locate(text, "auth.missing"), None);
    }

    /// A stand-in parser: every line holding `bad` is an error at that line, and a line
    /// `needs: x` fails unless a line `x` is in the text too.
    fn fake(text: &str) -> Option<Failure<String>> {
        for (i, line) in text.lines().enumerate() {
            let line_no = Some(i + 1);
            if line.contains("bad") {
                let error = format!("bad at {}", i + 1);
                return Some(Failure {
                    error,
                    line: line_no,
                    needs_context: false,
                });
            }
            if let Some(x) = line.trim().strip_prefix("needs: ")
                && !text.lines().any(|l| l.trim() == x)
            {
                let error = format!("missing {x}");
                return Some(Failure {
                    error,
                    line: line_no,
                    needs_context: true,
                });
            }
        }
        None
    }

    #[test]
    fn every_error_is_found_in_one_pass_and_the_rest_is_kept() {
        let text = "a:\n  b: bad\n  c: ok\nd: fine\ne:\n  f:\n    g: bad\n  h: bad\n";
        let (errors, rest) = every_error(text, fake);
        assert_eq!(errors, ["bad at 2", "bad at 7", "bad at 8"]);
        assert_eq!(
            rest.as_deref(),
            Some("a:\n\n  c: ok\nd: fine\ne:\n  f:\n\n\n")
        );
        let (errors, rest) = every_error("a: 1\n", fake);
        assert!(errors.is_empty());
        assert_eq!(rest.as_deref(), Some("a: 1\n"));
    }

    #[test]
    fn a_missing_key_is_blamed_on_its_parent_not_on_an_isolated_part() {
        // `needs: y` alone lacks its sibling `y`: not an error of its own.
        let text = "a:\n  needs: y\n  y\n  w: bad\n";
        let (errors, _) = every_error(text, fake);
        assert_eq!(errors, ["bad at 4"]);
        // Really missing: the top-level part fails alone, and no part of it does.
        let text = "a:\n  needs: y\n  z: 1\nb: bad\n";
        let (errors, rest) = every_error(text, fake);
        assert_eq!(errors, ["missing y", "bad at 4"]);
        assert_eq!(rest.as_deref(), Some("\n\n\n\n"));
    }

    #[test]
    fn an_error_only_the_whole_has_is_reported_as_is() {
        // Fails only when both parts are there.
        let clash = |text: &str| {
            (text.contains("p: 1") && text.contains("q: 1")).then(|| Failure {
                error: "clash".to_owned(),
                line: Some(1),
                needs_context: false,
            })
        };
        let (errors, rest) = every_error("p: 1\nq: 1\n", clash);
        assert_eq!(errors, ["clash"]);
        assert_eq!(rest, None);
    }
}
