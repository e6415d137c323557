//! Reads a subgraph's JSON answer straight into the store, in one pass: keys interned, text
//! copied into the store's buffer, objects and lists allocated at their exact size, only what
//! the fetch asked for kept (`projection.rs`; the rest is checked to be JSON and skipped), and
//! every number kept as the text the subgraph sent (a gateway passes values through; reading
//! them as `f64` would change some of them).

use std::fmt;

use super::{KeyId, Store, Val};
use crate::projection::Projection;

/// Why an answer is not JSON, and where.
#[derive(Debug)]
pub struct ReadError {
    what: &'static str,
    at: usize,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for ReadError {}

impl ReadError {
    pub(super) fn utf8(at: usize) -> ReadError {
        ReadError {
            what: "invalid UTF-8",
            at,
        }
    }
}

/// Deeper answers are refused (as serde_json does at 128): the walk is recursive.
const MAX_DEPTH: u32 = 128;

/// What to keep of a value: everything, or what a projection keeps.
#[derive(Clone, Copy)]
enum Keep<'p> {
    All,
    Only(&'p Projection),
}

/// A string just read: where its text is.
enum Str {
    /// In the answer, between these bytes (nothing to unescape).
    Raw(usize, usize),
    /// Unescaped into the reader's scratch buffer.
    Scratch,
}

pub(super) struct Reader<'j, 's> {
    json: &'j str,
    bytes: &'j [u8],
    at: usize,
    depth: u32,
    store: &'s mut Store,
    scratch: String,
}

impl<'j, 's> Reader<'j, 's> {
    pub(super) fn new(json: &'j str, store: &'s mut Store) -> Reader<'j, 's> {
        Reader {
            json,
            bytes: json.as_bytes(),
            at: 0,
            depth: 0,
            store,
            scratch: String::new(),
        }
    }

    /// The whole text as one value, keeping what `projection` keeps (all without one).
    pub(super) fn read(mut self, projection: Option<&Projection>) -> Result<Val, ReadError> {
        let keep = projection.map_or(Keep::All, Keep::Only);
        let value = self.value(keep)?;
        self.ws();
        if self.at < self.bytes.len() {
            return Err(self.error("trailing characters"));
        }
        Ok(value)
    }

    fn error(&self, what: &'static str) -> ReadError {
        ReadError { what, at: self.at }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.at).copied()
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), ReadError> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, keep: Keep<'_>) -> Result<Val, ReadError> {
        match self.peek() {
            Some(b'{') => self.object(keep),
            Some(b'[') => self.list(keep),
            Some(b'"') => {
                let s = self.string()?;
                let t = self.store.add_text(str_of(self.json, &self.scratch, &s));
                Ok(Val::Str(t))
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.at;
                self.number()?;
                Ok(Val::Num(self.store.add_text(&self.json[start..self.at])))
            }
            Some(b't') => self.literal(b"true").map(|()| Val::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Val::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Val::Null),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end")),
        }
    }

    fn enter(&mut self) -> Result<(), ReadError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.at += 1;
        Ok(())
    }

    fn object(&mut self, keep: Keep<'_>) -> Result<Val, ReadError> {
        self.enter()?;
        let base = self.store.open_fields.len();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a key"));
                }
                let s = self.string()?;
                let name = str_of(self.json, &self.scratch, &s);
                let inner = match keep {
                    Keep::All => Some(Keep::All),
                    Keep::Only(p) => p.get(name).map(|i| i.map_or(Keep::All, Keep::Only)),
                };
                let key: Option<KeyId> = inner.is_some().then(|| self.store.intern(name));
                if self.peek() != Some(b':') {
                    return Err(self.error("expected `:`"));
                }
                self.at += 1;
                match (key, inner) {
                    (Some(key), Some(inner)) => {
                        let value = self.value(inner)?;
                        // A repeated key keeps its first place and its last value, as a JSON
                        // map would.
                        let open = &mut self.store.open_fields;
                        match open[base..].iter_mut().find(|(k, _)| *k == key) {
                            Some(field) => field.1 = value,
                            None => open.push((key, value)),
                        }
                    }
                    _ => self.skip()?,
                }
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `}`")),
                }
            }
        }
        self.depth -= 1;
        let fields = self.store.open_fields.drain(base..).collect();
        Ok(Val::Object(self.store.alloc(fields)))
    }

    fn list(&mut self, keep: Keep<'_>) -> Result<Val, ReadError> {
        self.enter()?;
        let base = self.store.open_items.len();
        if self.peek() == Some(b']') {
            self.at += 1;
        } else {
            loop {
                let v = self.value(keep)?;
                self.store.open_items.push(v);
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b']') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `]`")),
                }
            }
        }
        self.depth -= 1;
        Ok(Val::List(self.store.open_items.drain(base..).collect()))
    }

    /// A value that was not asked for: checked to be JSON, kept nowhere.
    fn skip(&mut self) -> Result<(), ReadError> {
        match self.peek() {
            Some(b'{') => {
                self.enter()?;
                if self.peek() == Some(b'}') {
                    self.at += 1;
                } else {
                    loop {
                        if self.peek() != Some(b'"') {
                            return Err(self.error("expected a key"));
                        }
                        self.string()?;
                        if self.peek() != Some(b':') {
                            return Err(self.error("expected `:`"));
                        }
                        self.at += 1;
                        self.skip()?;
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b'}') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(self.error("expected `,` or `}`")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            Some(b'[') => {
                self.enter()?;
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        self.skip()?;
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b']') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(self.error("expected `,` or `]`")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            Some(b'"') => self.string().map(drop),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end")),
        }
    }

    /// A JSON number (RFC 8259's grammar), left in the text.
    fn number(&mut self) -> Result<(), ReadError> {
        let b = self.bytes;
        let mut i = self.at;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(b, i),
            _ => {
                self.at = i;
                return Err(self.error("invalid number"));
            }
        }
        if b.get(i) == Some(&b'.') {
            let end = digits(b, i + 1);
            if end == i + 1 {
                self.at = end;
                return Err(self.error("invalid number"));
            }
            i = end;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let end = digits(b, i);
            if end == i {
                self.at = end;
                return Err(self.error("invalid number"));
            }
            i = end;
        }
        self.at = i;
        Ok(())
    }

    /// A JSON string starting at the quote: where its text is (unescaped if it had escapes).
    fn string(&mut self) -> Result<Str, ReadError> {
        let b = self.bytes;
        let start = self.at + 1;
        let mut i = plain_run(b, start);
        // Nearly every string has nothing to unescape: found with one scan, used in place.
        while let Some(&c) = b.get(i) {
            match c {
                b'"' => {
                    self.at = i + 1;
                    return Ok(Str::Raw(start, i));
                }
                b'\\' => break,
                0..=0x1f => {
                    self.at = i;
                    return Err(self.error("control character in a string"));
                }
                _ => i += 1,
            }
        }
        self.scratch.clear();
        self.scratch.push_str(&self.json[start..i.min(b.len())]);
        loop {
            let run = i;
            while let Some(&c) = b.get(i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                i += 1;
            }
            self.scratch.push_str(&self.json[run..i]);
            match b.get(i) {
                Some(b'"') => {
                    self.at = i + 1;
                    return Ok(Str::Scratch);
                }
                Some(b'\\') => {
                    let c = match b.get(i + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let (c, end) = self.unicode(i)?;
                            self.scratch.push(c);
                            i = end;
                            continue;
                        }
                        _ => {
                            self.at = i;
                            return Err(self.error("invalid escape"));
                        }
                    };
                    self.scratch.push(c);
                    i += 2;
                }
                Some(_) => {
                    self.at = i;
                    return Err(self.error("control character in a string"));
                }
                None => {
                    self.at = i;
                    return Err(self.error("unterminated string"));
                }
            }
        }
    }

    /// `\uXXXX` at `i` (with its low surrogate when it is a high one): the character and
    /// where the text goes on.
    fn unicode(&mut self, i: usize) -> Result<(char, usize), ReadError> {
        let hex = |at: usize| -> Option<u32> {
            let digits = self.json.get(at..at + 4)?;
            if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(digits, 16).ok()
        };
        let fail = |this: &mut Self| {
            this.at = i;
            Err(this.error("invalid \\u escape"))
        };
        let Some(first) = hex(i + 2) else {
            return fail(self);
        };
        if (0xD800..0xDC00).contains(&first) {
            let low = (self.bytes.get(i + 6) == Some(&b'\\')
                && self.bytes.get(i + 7) == Some(&b'u'))
            .then(|| hex(i + 8))
            .flatten();
            let Some(low) = low.filter(|l| (0xDC00..0xE000).contains(l)) else {
                return fail(self);
            };
            let code = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
            return match char::from_u32(code) {
                Some(c) => Ok((c, i + 12)),
                None => fail(self),
            };
        }
        match char::from_u32(first) {
            Some(c) => Ok((c, i + 6)),
            None => fail(self),
        }
    }
}

/// Where the run of plain string bytes (no quote, backslash or control character) starting at
/// `i` ends, or a little before: eight bytes are tested at a time.
fn plain_run(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let special = zero_byte(v ^ (ONES * u64::from(b'"')))
            | zero_byte(v ^ (ONES * u64::from(b'\\')))
            | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS);
        if special != 0 {
            break;
        }
        i += 8;
    }
    i
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(i) {
        i += 1;
    }
    i
}

fn str_of<'a>(json: &'a str, scratch: &'a str, s: &Str) -> &'a str {
    match s {
        Str::Raw(start, end) => json.get(*start..*end).unwrap_or(""),
        Str::Scratch => scratch,
    }
}
