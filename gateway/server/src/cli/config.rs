//! `weft config schema` prints the JSON Schema of `weft.yaml`; `weft config check FILE`
//! validates a file as `weft serve --config FILE` would read it (environment included), and
//! makes the checks `serve` makes before serving (`runtime::preflight`), reporting every
//! error in one run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use weft_config::{Flags, Sources};

use crate::report::{self, errln};
use crate::runtime::preflight;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the JSON Schema of the configuration file (for editors and CI).
    Schema,
    /// Validate a configuration file as `weft serve` would before serving (the supergraph and
    /// the files it names included): exit 0 if valid, else every error as file:line:col, exit 2.
    Check {
        /// The configuration file (weft.yaml).
        file: PathBuf,
        /// The supergraph `weft serve --supergraph` would be given, if it is (it overrides
        /// `supergraph.path`).
        #[arg(long)]
        supergraph: Option<PathBuf>,
    },
}

pub fn run(args: ConfigArgs) -> ExitCode {
    match args.command {
        ConfigCommand::Schema => {
            match serde_json::to_string_pretty(&weft_config::schema::json_schema()) {
                Ok(text) => report::print_then(&format!("{text}\n"), ExitCode::SUCCESS),
                Err(e) => {
                    errln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ConfigCommand::Check { file, supergraph } => check(file, supergraph),
    }
}

fn check(file: PathBuf, supergraph: Option<PathBuf>) -> ExitCode {
    let sources = Sources {
        file: Some(file.clone()),
        flags: Flags {
            supergraph,
            ..Flags::default()
        },
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => return report::config_errors(weft_config::unreadable(&file, &e)),
    };
    let checked = sources.check_text(Some(&text));
    let mut errors = checked.errors;
    if let Some(config) = &checked.config {
        let placed = Some((file.as_path(), text.as_str()));
        // A `supergraph.path` the file writes but could not be read was reported above.
        let unread = config.supergraph.path.is_none()
            && weft_config::blocks::locate(&text, "supergraph.path").is_some();
        if let (Err(found), false) = (preflight::supergraph(config, placed), unread) {
            errors.extend(found);
        }
        errors.extend(preflight::jwks_files(config, placed));
    }
    if errors.is_empty() {
        report::print_then(&format!("{}: ok\n", file.display()), ExitCode::SUCCESS)
    } else {
        report::config_errors(errors)
    }
}
