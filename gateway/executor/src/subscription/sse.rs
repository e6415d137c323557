//! Server-sent events as a subgraph writes them (the GraphQL over SSE spec, distinct
//! connections mode: `event: next` with a result in `data`, `event: complete`), read
//! incrementally from chunks as they arrive. Pure: bytes in, events out.
//!
//! The reader holds at most one event's text: a line or an event over `max_event_bytes` is
//! an error (a subgraph cannot make the gateway buffer without bound), and the work per
//! chunk is linear in its size (each byte is scanned once for line ends).

/// One event: its `event:` name (`message` when none is given, as the SSE standard says)
/// and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: String,
}

/// The stream broke the rules the reader keeps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event is longer than {0} bytes")]
    TooLarge(usize),
    #[error("an event is not UTF-8")]
    NotUtf8,
}

/// The incremental reader.
pub struct Reader {
    /// Bytes of a line not yet ended.
    line: Vec<u8>,
    /// The event being read.
    name: Option<String>,
    data: Option<String>,
    /// Bytes held for the event being read (its lines so far and the current line).
    held: usize,
    max_event_bytes: usize,
    /// The last chunk ended a line with `\r`: a `\n` starting the next is part of that line
    /// end, not a blank line.
    after_cr: bool,
}

impl Reader {
    pub fn new(max_event_bytes: usize) -> Reader {
        Reader {
            line: Vec::new(),
            name: None,
            data: None,
            held: 0,
            max_event_bytes,
            after_cr: false,
        }
    }

    /// Reads `chunk`, appending each event it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Event>) -> Result<(), SseError> {
        let mut rest = chunk;
        if std::mem::take(&mut self.after_cr) && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        while !rest.is_empty() {
            match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(end) => {
                    self.line.extend_from_slice(&rest[..end]);
                    self.count(end)?;
                    // `\r\n` is one line end; a lone `\r` as well.
                    let skip = if rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n') {
                        2
                    } else {
                        // A `\r` at the chunk's end may be followed by the next's `\n`.
                        self.after_cr = rest[end] == b'\r' && end + 1 == rest.len();
                        1
                    };
                    rest = &rest[end + skip..];
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out)?;
                }
                None => {
                    self.line.extend_from_slice(rest);
                    self.count(rest.len())?;
                    rest = &[];
                }
            }
        }
        Ok(())
    }

    fn count(&mut self, bytes: usize) -> Result<(), SseError> {
        self.held += bytes;
        if self.held > self.max_event_bytes {
            return Err(SseError::TooLarge(self.max_event_bytes));
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<Event>) -> Result<(), SseError> {
        if line.is_empty() {
            // A blank line ends the event (one with no data is no event).
            self.held = 0;
            let name = self.name.take();
            if let Some(data) = self.data.take() {
                out.push(Event {
                    name: name.unwrap_or_else(|| "message".to_owned()),
                    data,
                });
            } else if let Some(name) = name.filter(|n| n == "complete") {
                // `complete` may come with no data line at all.
                out.push(Event {
                    name,
                    data: String::new(),
                });
            }
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment: the heartbeat
        }
        let text = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text, ""),
        };
        match field {
            "event" => self.name = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {} // `id`, `retry` and unknown fields: nothing to do here
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(chunks: &[&[u8]], max: usize) -> Result<Vec<Event>, SseError> {
        let mut reader = Reader::new(max);
        let mut out = Vec::new();
        for c in chunks {
            reader.feed(c, &mut out)?;
        }
        Ok(out)
    }

    fn event(name: &str, data: &str) -> Event {
        Event {
            name: name.to_owned(),
            data: data.to_owned(),
        }
    }

    #[test]
    fn events_split_anywhere_across_chunks_read_the_same() {
        let text = b"event: next\ndata: {\"data\":{\"a\":1}}\n\n:\n\nevent: next\r\ndata: {\"data\":\r\ndata: 2}\r\n\r\nevent: complete\ndata:\n\n";
        let whole = read_all(&[text], 1 << 20).unwrap();
        assert_eq!(
            whole,
            vec![
                event("next", "{\"data\":{\"a\":1}}"),
                event("next", "{\"data\":\n2}"),
                event("complete", ""),
            ]
        );
        for cut in 1..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(read_all(&[a, b], 1 << 20).unwrap(), whole, "cut at {cut}");
        }
        // Byte by byte.
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(read_all(&bytes, 1 << 20).unwrap(), whole);
    }

    #[test]
    fn complete_without_data_and_data_without_a_name() {
        let out = read_all(&[b"event: complete\n\ndata: x\n\n"], 100).unwrap();
        assert_eq!(out, vec![event("complete", ""), event("message", "x")]);
    }

    #[test]
    fn an_event_over_the_limit_is_an_error_however_it_arrives() {
        let long = format!("data: {}\n\n", "x".repeat(200));
        assert_eq!(
            read_all(&[long.as_bytes()], 100),
            Err(SseError::TooLarge(100))
        );
        // Many short data lines with no blank line: the same.
        let lines = "data: x\n".repeat(50);
        assert_eq!(
            read_all(&[lines.as_bytes()], 100),
            Err(SseError::TooLarge(100))
        );
        // The limit is per event: many small events pass.
        let many = "data: x\n\n".repeat(1000);
        assert_eq!(read_all(&[many.as_bytes()], 100).unwrap().len(), 1000);
    }
}
