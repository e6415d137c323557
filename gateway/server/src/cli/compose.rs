//! `weft compose --config supergraph.yaml [--output FILE]`: subgraph SDLs (files or running
//! subgraphs) in, supergraph SDL out. Errors carry Apollo composition's codes and
//! `file:line:col`; hints are printed as warnings.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use weft_federation::compose::{CompositionDiagnostic, SubgraphInput, compose_at};

use crate::cli::compose_config::{self, ComposeConfig, FederationVersionError, resolve};
use crate::report::{self, INPUT_ERROR, errln};
use crate::runtime::composed::{IntrospectError, introspect};

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
                // Said on stderr: stdout stays for the supergraph itself (when not written).
                Some(path) => std::fs::write(path, &composed.supergraph_sdl)
                    .map(|()| {
                        errln!(
                            "wrote the supergraph of {} subgraphs to {} ({} bytes)",
                            inputs.len(),
                            path.display(),
                            composed.supergraph_sdl.len()
                        );
                    })
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

/// Why a supergraph.yaml gave no subgraphs to compose; each says the file (`config`) first.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "{}: {source}\n  hint: pass --config with the path of a supergraph.yaml",
        config.display()
    )]
    Unreadable {
        config: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}:{}:{}: {}\n  hint: see docs/compose.md for the config format",
        config.display(),
        error.line,
        error.column,
        error.message
    )]
    Invalid {
        config: PathBuf,
        error: compose_config::ConfigError,
    },
    #[error("{}: {source}", config.display())]
    FederationVersion {
        config: PathBuf,
        source: FederationVersionError,
    },
    #[error("{}: subgraph `{subgraph}`: {}: {source}", config.display(), file.display())]
    SchemaFile {
        config: PathBuf,
        subgraph: String,
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: subgraph `{subgraph}`: {source}", config.display())]
    Introspection {
        config: PathBuf,
        subgraph: String,
        source: IntrospectError,
    },
    #[error("{}: subgraph `{subgraph}` has no schema source", config.display())]
    NoSchema { config: PathBuf, subgraph: String },
    #[error("{}: subgraph `{subgraph}` needs a routing_url", config.display())]
    NoRoutingUrl { config: PathBuf, subgraph: String },
}

/// The subgraphs a supergraph.yaml lists, read (files) or asked for (running subgraphs), and
/// the federation version to compose them as.
pub fn load(config_path: &PathBuf) -> Result<(Vec<SubgraphInput>, (u32, u32)), LoadError> {
    let config = || config_path.clone();
    let text = std::fs::read_to_string(config_path).map_err(|source| LoadError::Unreadable {
        config: config(),
        source,
    })?;
    let parsed = ComposeConfig::parse(&text).map_err(|error| LoadError::Invalid {
        config: config(),
        error,
    })?;
    let federation_version =
        parsed
            .federation_version()
            .map_err(|source| LoadError::FederationVersion {
                config: config(),
                source,
            })?;
    let mut inputs = Vec::new();
    for (name, sg) in &parsed.subgraphs {
        let subgraph = || name.clone();
        let (sdl, source) = match (&sg.schema.file, &sg.schema.subgraph_url) {
            (Some(file), _) => {
                let path = resolve(config_path, file);
                let sdl = match std::fs::read_to_string(&path) {
                    Ok(sdl) => sdl,
                    Err(source) => {
                        return Err(LoadError::SchemaFile {
                            config: config(),
                            subgraph: subgraph(),
                            file: path,
                            source,
                        });
                    }
                };
                (sdl, path.display().to_string())
            }
            (None, Some(url)) => (
                introspect(url).map_err(|source| LoadError::Introspection {
                    config: config(),
                    subgraph: subgraph(),
                    source,
                })?,
                url.clone(),
            ),
            (None, None) => {
                return Err(LoadError::NoSchema {
                    config: config(),
                    subgraph: subgraph(),
                });
            }
        };
        let url = sg
            .routing_url
            .clone()
            .or_else(|| sg.schema.subgraph_url.clone())
            .ok_or_else(|| LoadError::NoRoutingUrl {
                config: config(),
                subgraph: subgraph(),
            })?;
        inputs.push(SubgraphInput {
            name: name.clone(),
            url,
            sdl,
            source,
        });
    }
    Ok((inputs, federation_version))
}
