//! `weft config schema` prints the JSON Schema of `weft.yaml`; `weft config check FILE`
//! validates a file as `weft serve --config FILE` would read it (environment included).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use weft_config::Sources;

use crate::report::{self, errln};

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the JSON Schema of the configuration file (for editors and CI).
    Schema,
    /// Validate a configuration file: exit 0 if valid, else errors as file:line:col, exit 2.
    Check {
        /// The configuration file (weft.yaml).
        file: PathBuf,
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
        ConfigCommand::Check { file } => {
            let sources = Sources {
                file: Some(file.clone()),
                ..Sources::default()
            };
            match sources.load() {
                Ok(_) => {
                    report::print_then(&format!("{}: ok\n", file.display()), ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for e in errors {
                        errln!("error: {e}");
                    }
                    ExitCode::from(report::INPUT_ERROR)
                }
            }
        }
    }
}
