//! `weft api-schema SUPERGRAPH`: loads a supergraph and prints its API schema.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use weft_federation::Supergraph;

use crate::report::{self, errln};

#[derive(Debug, Args)]
pub struct ApiSchemaArgs {
    /// Path of the supergraph SDL (as Apollo composition, Rover or Hive write it).
    supergraph: PathBuf,
}

pub fn run(args: ApiSchemaArgs) -> ExitCode {
    let name = args.supergraph.display().to_string();
    let sdl = match std::fs::read_to_string(&args.supergraph) {
        Ok(sdl) => sdl,
        Err(err) => {
            errln!("error: {name}: {err}");
            errln!("  hint: pass the path of a supergraph .graphql file");
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    match Supergraph::parse(&sdl, &name) {
        Ok(supergraph) => report::print_then(&supergraph.api_sdl(), ExitCode::SUCCESS),
        Err(err) => {
            report::supergraph_error(&err);
            ExitCode::from(report::INPUT_ERROR)
        }
    }
}
