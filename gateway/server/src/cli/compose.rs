//! `weft compose --config supergraph.yaml [--output FILE]`: subgraph SDLs (files or running
//! subgraphs) in, supergraph SDL out. Errors carry Apollo composition's codes and
//! `file:line:col`; hints are printed as warnings.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use weft_federation::compose::{CompositionDiagnostic, SubgraphInput, compose_at};

use crate::cli::compose_config::{ComposeConfig, resolve};
use crate::report::{self, INPUT_ERROR, errln};
use crate::runtime::composed::introspect;

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Composition config listing the subgraphs (Rover's supergraph.yaml shape).
    #[arg(long)]
    config: PathBuf,
    /// Write the supergraph here instead of to stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

pub fn run(args: ComposeArgs) -> ExitCode {
    let (inputs, federation_version) = match load(&args.config) {
        Ok(loaded) => loaded,
        Err(message) => {
            errln!("error: {message}");
            return ExitCode::from(INPUT_ERROR);
        }
    };
    match compose_at(&inputs, federation_version) {
        Ok(composed) => {
            for hint in &composed.hints {
                print_diagnostic("warning", hint);
            }
            let written = match &args.output {
                Some(path) => std::fs::write(path, &composed.supergraph_sdl)
                    .map_err(|e| format!("{}: {e}", path.display())),
                None => match report::print(&composed.supergraph_sdl) {
                    report::Written::Done => Ok(()),
                    report::Written::Failed(e) => Err(format!("stdout: {e}")),
                },
            };
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    errln!("error: cannot write the supergraph: {message}");
                    ExitCode::from(INPUT_ERROR)
                }
            }
        }
        Err(failed) => {
            for e in &failed.errors {
                print_diagnostic("error", e);
            }
            for h in &failed.hints {
                print_diagnostic("warning", h);
            }
            errln!(
                "composition failed with {} error{}",
                failed.errors.len(),
                if failed.errors.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
    }
}

/// `level: file:line:col: [CODE] message`, then further places and the hint.
pub fn print_diagnostic(level: &str, d: &CompositionDiagnostic) {
    errln!("{level}: {d}");
}

/// The subgraphs a supergraph.yaml lists, read (files) or asked for (running subgraphs), and
/// the federation version to compose them as.
pub fn load(config_path: &PathBuf) -> Result<(Vec<SubgraphInput>, (u32, u32)), String> {
    let shown = config_path.display();
    let text = std::fs::read_to_string(config_path).map_err(|e| {
        format!("{shown}: {e}\n  hint: pass --config with the path of a supergraph.yaml")
    })?;
    let config = ComposeConfig::parse(&text).map_err(|e| {
        format!(
            "{shown}:{}:{}: {}\n  hint: see docs/compose.md for the config format",
            e.line, e.column, e.message
        )
    })?;
    let federation_version = config
        .federation_version()
        .map_err(|e| format!("{shown}: {e}"))?;
    let mut inputs = Vec::new();
    for (name, sg) in &config.subgraphs {
        let (sdl, source) = match (&sg.schema.file, &sg.schema.subgraph_url) {
            (Some(file), _) => {
                let path = resolve(config_path, file);
                let sdl = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{shown}: subgraph `{name}`: {}: {e}", path.display()))?;
                (sdl, path.display().to_string())
            }
            (None, Some(url)) => (
                introspect(url).map_err(|e| format!("{shown}: subgraph `{name}`: {e}"))?,
                url.clone(),
            ),
            (None, None) => return Err(format!("{shown}: subgraph `{name}` has no schema source")),
        };
        let url = sg
            .routing_url
            .clone()
            .or_else(|| sg.schema.subgraph_url.clone())
            .ok_or_else(|| format!("{shown}: subgraph `{name}` needs a routing_url"))?;
        inputs.push(SubgraphInput {
            name: name.clone(),
            url,
            sdl,
            source,
        });
    }
    Ok((inputs, federation_version))
}
