//! Schema checks: what a proposed change does to clients and to query plans.
//!
//! - [`api_diff`]: the API schema before and after, each change classified breaking, dangerous
//!   or safe (graphql-js's reference classification: a change is breaking when a valid
//!   operation or a client's handling of a response can stop working).
//! - [`federation_diff`]: changes that leave the API alone but change how plans are built —
//!   keys, `@requires`, `@provides`, which subgraphs resolve a field.
//! - [`operations`]: which client operations no longer validate.
//! - [`plan_impact`]: which client operations' plans cost more (or fewer) subgraph requests.
//! - [`recompose`]: the subgraphs a check composes, and where its diagnostics point.

pub mod api_diff;
pub mod federation_diff;
pub mod operations;
pub mod plan_impact;
pub mod recompose;

use std::fmt;

/// How much a change can hurt.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Safe,
    Dangerous,
    Breaking,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Safe => "safe",
            Severity::Dangerous => "dangerous",
            Severity::Breaking => "breaking",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a change shows in the API schema or only in federation metadata.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    Api,
    Federation,
}

/// One classified change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub severity: Severity,
    pub category: Category,
    /// Stable code, e.g. `FIELD_REMOVED`, `KEY_REMOVED`.
    pub code: &'static str,
    /// Schema coordinate: `Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`, `@directive`.
    pub path: String,
    pub message: String,
}
