//! Composition diagnostics: Apollo composition's codes, the subgraph and place they concern,
//! and a message a person can act on. Errors fail composition; hints are warnings.

use std::fmt;

/// Where in which subgraph's SDL a diagnostic points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub subgraph: String,
    /// The file (or URL) the SDL came from.
    pub source: String,
    pub line: usize,
    pub column: usize,
}

/// An error or hint of a composition run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositionDiagnostic {
    /// Apollo composition's code, e.g. `INVALID_FIELD_SHARING`.
    pub code: &'static str,
    pub message: String,
    /// Every place involved, in subgraph order.
    pub places: Vec<Place>,
    /// A one-line suggestion.
    pub hint: Option<String>,
}

impl fmt::Display for CompositionDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.places.first() {
            write!(f, "{}:{}:{}: ", p.source, p.line, p.column)?;
        }
        write!(f, "[{}] {}", self.code, self.message)?;
        for p in self.places.iter().skip(1) {
            write!(
                f,
                "\n  also at {}:{}:{} ({})",
                p.source, p.line, p.column, p.subgraph
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every error of a failed composition (and the hints found on the way).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CompositionErrors {
    pub errors: Vec<CompositionDiagnostic>,
    pub hints: Vec<CompositionDiagnostic>,
}

impl fmt::Display for CompositionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics as composition goes.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub errors: Vec<CompositionDiagnostic>,
    pub hints: Vec<CompositionDiagnostic>,
}

impl Diagnostics {
    pub fn error(&mut self, code: &'static str, message: impl Into<String>, places: Vec<Place>) {
        self.errors.push(CompositionDiagnostic {
            code,
            message: message.into(),
            places,
            hint: None,
        });
    }

    /// An error with a fix suggestion.
    pub fn error_with_hint(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        places: Vec<Place>,
        hint: impl Into<String>,
    ) {
        self.errors.push(CompositionDiagnostic {
            code,
            message: message.into(),
            places,
            hint: Some(hint.into()),
        });
    }

    pub fn hint(&mut self, code: &'static str, message: impl Into<String>, places: Vec<Place>) {
        self.hints.push(CompositionDiagnostic {
            code,
            message: message.into(),
            places,
            hint: None,
        });
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}
