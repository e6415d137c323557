//! `weft plan --supergraph F [--operation-name N] [--json] QUERY`: prints the query plan of an
//! operation, Apollo-style (or as JSON). QUERY is the operation text, `@path` to read a file,
//! or `-` for standard input.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use apollo_compiler::ExecutableDocument;
use clap::Args;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::{NormalizeError, normalize};
use weft_federation::plan::{PlanError, plan};
use weft_federation::{Supergraph, SupergraphError};

use crate::report::{self, INPUT_ERROR, errln};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The supergraph SDL.
    #[arg(long)]
    supergraph: PathBuf,
    /// Which operation of the document to plan.
    #[arg(long)]
    operation_name: Option<String>,
    /// Print the plan as JSON (the shape `weft-query-plan: include` returns).
    #[arg(long)]
    json: bool,
    /// Progressive-override labels to plan with switched on (repeatable).
    #[arg(long = "label")]
    labels: Vec<String>,
    /// The operation: GraphQL text, `@file`, or `-` for stdin.
    query: String,
}

pub fn run(args: PlanArgs) -> ExitCode {
    match plan_text(&args) {
        Ok(text) => report::print_then(&format!("{text}\n"), ExitCode::SUCCESS),
        // Its diagnostics are the whole report.
        Err(PlanCommandError::InvalidSupergraph(e)) => {
            report::supergraph_error(&e);
            ExitCode::from(INPUT_ERROR)
        }
        Err(e) => {
            errln!("error: {e}");
            ExitCode::from(INPUT_ERROR)
        }
    }
}

/// Why `weft plan` printed no plan. `origin` names where the operation came from
/// (`<query>`, `<stdin>` or the file).
#[derive(Debug, thiserror::Error)]
enum PlanCommandError {
    #[error("{name}: {source}")]
    SupergraphUnreadable {
        name: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    InvalidSupergraph(SupergraphError),
    #[error("stdin: {0}")]
    Stdin(std::io::Error),
    #[error("{path}: {source}")]
    QueryFile {
        path: String,
        source: std::io::Error,
    },
    /// The operation does not validate: `(line, column, message)` per problem, printed as
    /// `origin:line:col: message`, one `error:` line each.
    #[error("{}", located(origin, problems))]
    InvalidOperation {
        origin: String,
        problems: Vec<(usize, usize, String)>,
    },
    #[error("{origin}: {error}\n  hint: pass --operation-name")]
    Operation {
        origin: String,
        error: NormalizeError,
    },
    #[error("{origin}: cannot plan: {error}")]
    Plan { origin: String, error: PlanError },
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

fn located(origin: &str, problems: &[(usize, usize, String)]) -> String {
    problems
        .iter()
        .map(|(line, column, message)| format!("{origin}:{line}:{column}: {message}"))
        .collect::<Vec<_>>()
        .join("\nerror: ")
}

fn plan_text(args: &PlanArgs) -> Result<String, PlanCommandError> {
    let name = args.supergraph.display().to_string();
    let sdl = match std::fs::read_to_string(&args.supergraph) {
        Ok(sdl) => sdl,
        Err(source) => return Err(PlanCommandError::SupergraphUnreadable { name, source }),
    };
    let supergraph = Supergraph::parse(&sdl, &name).map_err(PlanCommandError::InvalidSupergraph)?;
    let (origin, text) = match args.query.as_str() {
        "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(PlanCommandError::Stdin)?;
            ("<stdin>".to_owned(), text)
        }
        q if q.starts_with('@') => {
            let path = &q[1..];
            let text =
                std::fs::read_to_string(path).map_err(|source| PlanCommandError::QueryFile {
                    path: path.to_owned(),
                    source,
                })?;
            (path.to_owned(), text)
        }
        q => ("<query>".to_owned(), q.to_owned()),
    };
    let document = ExecutableDocument::parse_and_validate(supergraph.api_schema(), &text, &origin)
        .map_err(|with_errors| PlanCommandError::InvalidOperation {
            origin: origin.clone(),
            problems: with_errors
                .errors
                .iter()
                .map(|d| {
                    let json = d.to_json();
                    let (line, column) = json
                        .locations
                        .first()
                        .map_or((1, 1), |l| (l.line, l.column));
                    (line, column, json.message)
                })
                .collect(),
        })?;
    let operation = normalize(
        supergraph.api_schema(),
        &document,
        args.operation_name.as_deref(),
    )
    .map_err(|error| PlanCommandError::Operation {
        origin: origin.clone(),
        error,
    })?;
    let graph = QueryGraph::new(Arc::new(supergraph));
    let labels: std::collections::BTreeSet<String> = args.labels.iter().cloned().collect();
    let plan = plan(&graph, &operation, &labels).map_err(|error| PlanCommandError::Plan {
        origin: origin.clone(),
        error,
    })?;
    if args.json {
        Ok(serde_json::to_string_pretty(&plan)?)
    } else {
        Ok(plan.to_string())
    }
}
