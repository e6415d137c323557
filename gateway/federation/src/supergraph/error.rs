//! Errors from loading a supergraph: each names what is wrong, where (line and column of the
//! SDL), and when we know one, how to fix it.

use std::fmt;

/// One problem found in a supergraph SDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// 1-based line and column, when the problem has a place in the source.
    pub location: Option<(usize, usize)>,
    /// A one-line suggestion for fixing it.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.location {
            write!(f, "{line}:{column}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Why a supergraph could not be loaded: every problem found, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SupergraphError {
    /// The file name or label the SDL was read from.
    pub source_name: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for SupergraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{d}", self.source_name)?;
        }
        Ok(())
    }
}

impl SupergraphError {
    pub(crate) fn new(source_name: &str, diagnostics: Vec<Diagnostic>) -> Self {
        let mut diagnostics = diagnostics;
        diagnostics.sort_by_key(|d| d.location.unwrap_or((usize::MAX, 0)));
        SupergraphError {
            source_name: source_name.to_owned(),
            diagnostics,
        }
    }
}
