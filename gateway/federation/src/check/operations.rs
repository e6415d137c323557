//! Client operations checked against a proposed API schema: which ones stop validating.

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

/// A validation error in one operation file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What a proposed schema does to one operation document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationVerdict {
    /// Valid before and after.
    StillValid,
    /// Valid against the current schema, invalid against the proposed one.
    Broken(Vec<OperationProblem>),
    /// Invalid against the current schema already (not caused by the change).
    AlreadyInvalid(Vec<OperationProblem>),
}

pub fn check(
    current: &Valid<Schema>,
    proposed: &Valid<Schema>,
    source: &str,
    text: &str,
) -> OperationVerdict {
    let problems = |schema: &Valid<Schema>| -> Vec<OperationProblem> {
        match ExecutableDocument::parse_and_validate(schema, text, source) {
            Ok(_) => Vec::new(),
            Err(with_errors) => with_errors
                .errors
                .iter()
                .map(|d| {
                    let json = d.to_json();
                    let (line, column) = json
                        .locations
                        .first()
                        .map_or((1, 1), |l| (l.line, l.column));
                    OperationProblem {
                        line,
                        column,
                        message: json.message,
                    }
                })
                .collect(),
        }
    };
    let before = problems(current);
    if !before.is_empty() {
        return OperationVerdict::AlreadyInvalid(before);
    }
    let after = problems(proposed);
    if after.is_empty() {
        OperationVerdict::StillValid
    } else {
        OperationVerdict::Broken(after)
    }
}
