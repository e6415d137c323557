//! Apollo's side: `bench/peers/apollo-plan.mjs` (`@apollo/query-planner`) in one Node process
//! for the whole run, one JSON line per operation each way. It keeps the Supergraph and
//! QueryPlanner of the last supergraph named, so operations are sent grouped by supergraph.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::Deserialize;

use crate::error::CompareError;
use crate::outcome::{Planned, Side, Stage};

pub struct ApolloPlanner {
    child: Child,
    /// `None` once closed, which ends the script.
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

/// One answer line of the script.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    fetches: Option<usize>,
    fetches_all_branches: Option<usize>,
    #[serde(default)]
    by_subgraph: BTreeMap<String, usize>,
    #[serde(default)]
    times_ms: Vec<f64>,
    plan: Option<String>,
    error: Option<String>,
    stage: Option<String>,
}

impl ApolloPlanner {
    pub fn start(node: &str, script: &Path) -> Result<ApolloPlanner, CompareError> {
        let command = format!("{node} {}", script.display());
        let start_error = |source| CompareError::ApolloStart {
            command: command.clone(),
            source,
        };
        if !script.exists() {
            return Err(start_error(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such script",
            )));
        }
        let mut child = Command::new(node)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(start_error)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(CompareError::ApolloExited);
        };
        Ok(ApolloPlanner {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
        })
    }

    /// Plans `operation` (once untimed, then `reps` times timed) on the supergraph at `path`.
    pub fn plan(
        &mut self,
        supergraph: &Path,
        operation: &str,
        labels: &[String],
        reps: usize,
    ) -> Result<Side, CompareError> {
        let request = serde_json::json!({
            "supergraph": supergraph.display().to_string(),
            "operation": operation,
            "labels": labels,
            "reps": reps,
        });
        let stdin = self.stdin.as_mut().ok_or(CompareError::ApolloExited)?;
        writeln!(stdin, "{request}").map_err(CompareError::ApolloPipe)?;
        stdin.flush().map_err(CompareError::ApolloPipe)?;
        let mut line = String::new();
        let read = self
            .stdout
            .read_line(&mut line)
            .map_err(CompareError::ApolloPipe)?;
        if read == 0 {
            return Err(CompareError::ApolloExited);
        }
        let answer: Answer =
            serde_json::from_str(&line).map_err(|e| CompareError::ApolloAnswer(e, line.clone()))?;
        Ok(side(answer))
    }
}

fn side(answer: Answer) -> Side {
    match (answer.error, answer.fetches) {
        (None, Some(fetches)) => Side::Planned(Planned {
            fetches,
            fetches_all_branches: answer.fetches_all_branches.unwrap_or(fetches),
            by_subgraph: answer.by_subgraph,
            times_ms: answer.times_ms,
            plan: answer.plan.unwrap_or_default(),
        }),
        (error, _) => Side::Refused {
            stage: match answer.stage.as_deref() {
                Some("supergraph") => Stage::Supergraph,
                Some("validate" | "input") => Stage::Validate,
                _ => Stage::Plan,
            },
            error: error.unwrap_or_else(|| "no fetch count in the answer".to_owned()),
        },
    }
}

impl Drop for ApolloPlanner {
    /// Closing stdin ends the script's loop; waiting reaps it.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
