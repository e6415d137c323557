//! What stops a comparison run (as opposed to an operation one planner refuses, which is a
//! result and goes in the report).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{path}: {what}")]
    Unreadable { path: PathBuf, what: &'static str },
    #[error("{0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error(
        "starting Apollo's planner ({command}): {source}; install it with `npm install --prefix bench/peers`"
    )]
    ApolloStart {
        command: String,
        source: std::io::Error,
    },
    #[error("talking to Apollo's planner: {0}")]
    ApolloPipe(std::io::Error),
    #[error("Apollo's planner answered something unreadable ({0}): {1}")]
    ApolloAnswer(serde_json::Error, String),
    #[error("Apollo's planner exited (see its stderr above)")]
    ApolloExited,
}
