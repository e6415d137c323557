//! `weft plan --supergraph F [--operation-name N] [--json] QUERY`: prints the query plan of an
//! operation, Apollo-style (or as JSON). QUERY is the operation text, `@path` to read a file,
//! or `-` for standard input.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use apollo_compiler::ExecutableDocument;
use clap::Args;
use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::normalize;
use weft_federation::plan::plan;

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
        Err(message) => {
            if !message.is_empty() {
                errln!("error: {message}");
            }
            ExitCode::from(INPUT_ERROR)
        }
    }
}

fn plan_text(args: &PlanArgs) -> Result<String, String> {
    let name = args.supergraph.display().to_string();
    let sdl = std::fs::read_to_string(&args.supergraph).map_err(|e| format!("{name}: {e}"))?;
    let supergraph = Supergraph::parse(&sdl, &name).map_err(|e| {
        report::supergraph_error(&e);
        String::new()
    })?;
    let (source, text) = match args.query.as_str() {
        "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("stdin: {e}"))?;
            ("<stdin>".to_owned(), text)
        }
        q if q.starts_with('@') => {
            let path = &q[1..];
            (
                path.to_owned(),
                std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
            )
        }
        q => ("<query>".to_owned(), q.to_owned()),
    };
    let document = ExecutableDocument::parse_and_validate(supergraph.api_schema(), &text, &source)
        .map_err(|with_errors| {
            with_errors
                .errors
                .iter()
                .map(|d| {
                    let json = d.to_json();
                    let (line, column) = json
                        .locations
                        .first()
                        .map_or((1, 1), |l| (l.line, l.column));
                    format!("{source}:{line}:{column}: {}", json.message)
                })
                .collect::<Vec<_>>()
                .join("\nerror: ")
        })?;
    let operation = normalize(
        supergraph.api_schema(),
        &document,
        args.operation_name.as_deref(),
    )
    .map_err(|e| format!("{source}: {e}\n  hint: pass --operation-name"))?;
    let graph = QueryGraph::new(Arc::new(supergraph));
    let labels: std::collections::BTreeSet<String> = args.labels.iter().cloned().collect();
    let plan =
        plan(&graph, &operation, &labels).map_err(|e| format!("{source}: cannot plan: {e}"))?;
    if args.json {
        serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())
    } else {
        Ok(plan.to_string())
    }
}
