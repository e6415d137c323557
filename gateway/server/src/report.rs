//! How the CLI reports problems: `file:line:col: message`, then a hint.

use weft_federation::SupergraphError;

/// Exit status for bad input or usage (0 is success, 1 is reserved for failed checks).
pub const INPUT_ERROR: u8 = 2;

/// Prints every diagnostic of a supergraph error to stderr.
pub fn supergraph_error(err: &SupergraphError) {
    for d in &err.diagnostics {
        let (line, column) = d.location.unwrap_or((1, 1));
        eprintln!("error: {}:{line}:{column}: {}", err.source_name, d.message);
        if let Some(hint) = &d.hint {
            eprintln!("  hint: {hint}");
        }
    }
}
