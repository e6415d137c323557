//! How the CLI reports: results to stdout, problems to stderr as `file:line:col: message`, then
//! a hint. A reader that goes away (`weft config schema | head -c 10`) is not an error: the
//! output stops and the command ends as it would have (docs/decisions.md, "closed pipes").
//! `println!` would panic there, so the commands write through [`print`] and [`errln!`].

use std::io::{self, Write};
use std::process::ExitCode;

use weft_federation::SupergraphError;

/// Exit status for bad input or usage (0 is success, 1 is reserved for failed checks).
pub const INPUT_ERROR: u8 = 2;

/// A line to stderr, like `eprintln!`, but a closed stderr is ignored rather than a panic.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
pub(crate) use errln;

/// A line into a `String` being built (formatting into a `String` cannot fail).
macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use line;

/// What writing a command's output came to.
#[derive(Debug)]
pub enum Written {
    /// All of it, or as much as a reader that went away wanted (a closed pipe).
    Done,
    /// Another write error (a full disk, say), to report.
    Failed(io::Error),
}

/// Writes `text` to stdout and flushes. A closed pipe ends the output quietly.
pub fn print(text: &str) -> Written {
    written(write_to(&mut io::stdout().lock(), text))
}

fn write_to(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn written(result: io::Result<()>) -> Written {
    match result {
        Ok(()) => Written::Done,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Written::Done,
        Err(e) => Written::Failed(e),
    }
}

/// Prints `text` and returns `status`; `FAILURE` (reported) if stdout failed other than by a
/// reader going away.
pub fn print_then(text: &str, status: ExitCode) -> ExitCode {
    match print(text) {
        Written::Done => status,
        Written::Failed(e) => {
            errln!("error: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints configuration errors to stderr (each `error: origin:line:col: message`, then its
/// hint) and returns the exit status for bad input.
pub fn config_errors(errors: Vec<weft_config::ConfigError>) -> ExitCode {
    for e in errors {
        errln!("error: {e}");
    }
    ExitCode::from(INPUT_ERROR)
}

/// Prints every diagnostic of a supergraph error to stderr.
pub fn supergraph_error(err: &SupergraphError) {
    for d in &err.diagnostics {
        let (line, column) = d.location.unwrap_or((1, 1));
        errln!("error: {}:{line}:{column}: {}", err.source_name, d.message);
        if let Some(hint) = &d.hint {
            errln!("  hint: {hint}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader went away.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::StorageFull))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_output_quietly_other_errors_are_reported() {
        assert!(matches!(written(write_to(&mut Closed, "x")), Written::Done));
        assert!(matches!(
            written(write_to(&mut Full, "x")),
            Written::Failed(_)
        ));
        let mut v = Vec::new();
        assert!(matches!(written(write_to(&mut v, "ok")), Written::Done));
        assert_eq!(v, b"ok");
    }
}
