//! `weft plan --supergraph F [--operation-name N] [--json] QUERY`: prints the query plan of an
//! operation, Apollo-style (or as JSON). QUERY is the operation text, `@path` to read a file,
//! or `-` for standard input.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use apollo_compiler::ast;
use apollo_compiler::validation::DiagnosticList;
use clap::Args;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::{NormalizeError, normalize};
use weft_federation::plan::{PlanError, plan};
use weft_federation::{Supergraph, SupergraphError};

use crate::report::{self, INPUT_ERROR, errln};
use crate::runtime::validation;

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
    /// The hint to pass `--operation-name` only when it was not.
    #[error("{origin}: {error}{hint}")]
    Operation {
        origin: String,
        error: NormalizeError,
        hint: &'static str,
    },
    #[error("{origin}: cannot plan: {error}")]
    Plan { origin: String, error: PlanError },
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// A document's problems, each once, said as `runtime::validation` tells them (`validated`:
/// the document and schema they come of validating, else of parsing).
fn problems(
    list: &DiagnosticList,
    validated: Option<(&ast::Document, &apollo_compiler::Schema)>,
) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let written = validated.map(|(document, _)| validation::Subselected::of(document));
    for d in list.iter() {
        if written
            .as_ref()
            .is_some_and(|w| validation::spurious(&d, w))
        {
            continue;
        }
        let json = d.to_json();
        let (line, column) = json
            .locations
            .first()
            .map_or((1, 1), |l| (l.line, l.column));
        let message = validation::reworded(&json.message, validated.map(|(_, schema)| schema));
        let problem = (line, column, message);
        if seen.insert(problem.clone()) {
            out.push(problem);
        }
    }
    out
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
    let api = supergraph.api_schema();
    let invalid = |list: &DiagnosticList, validated: Option<&ast::Document>| {
        PlanCommandError::InvalidOperation {
            origin: origin.clone(),
            problems: problems(list, validated.map(|document| (document, &**api))),
        }
    };
    // Syntax first, then the schema: a document that does not parse says so once.
    let document = ast::Document::parse(&text, &origin).map_err(|e| invalid(&e.errors, None))?;
    let document = document
        .to_executable_validate(api)
        .map_err(|e| invalid(&e.errors, Some(&document)))?;
    let operation = normalize(api, &document, args.operation_name.as_deref()).map_err(|error| {
        PlanCommandError::Operation {
            origin: origin.clone(),
            hint: match &args.operation_name {
                None => "\n  hint: pass --operation-name",
                Some(_) => "",
            },
            error,
        }
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
