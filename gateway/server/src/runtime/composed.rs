//! `weft serve --subgraph NAME=URL …`: the supergraph composed at start-up from running
//! subgraphs, each asked for its SDL (`{ _service { sdl } }`), as `weft demo` does. Subgraphs
//! that are still starting (containers coming up together) are asked again for up to
//! [`WAIT`], and which one is waited for is said every few seconds. The composition is written to a file in the temporary directory, served like any
//! `--supergraph` file and named in the log, so what is served can be read. [`introspect`]
//! (one subgraph's SDL) is also what `weft compose` asks a subgraph given by URL.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use weft_executor::{ClientError, FetchError, GraphQLRequest, SubgraphClient};
use weft_federation::compose::{CompositionErrors, SubgraphInput, compose};

/// How long a subgraph that does not answer yet is waited for.
const WAIT: Duration = Duration::from_secs(30);

/// What a `--subgraph` argument looks like, for the hints.
const EXAMPLE: &str = "e.g. --subgraph products=http://127.0.0.1:4002/graphql";

/// A `--subgraph` argument that is not `NAME=URL` (the argument as given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubgraphArgError {
    #[error("--subgraph `{0}` is not NAME=URL\n  hint: {EXAMPLE}")]
    NotNameEqualsUrl(String),
    #[error("--subgraph `{0}` is not NAME=URL with an http(s) URL\n  hint: {EXAMPLE}")]
    NotHttp(String),
}

/// Why a running subgraph's SDL could not be had.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    /// The runtime that sends the request could not start.
    #[error("{0}")]
    Runtime(std::io::Error),
    #[error("{0}")]
    Client(ClientError),
    #[error("{url}: {source}")]
    Request { url: String, source: FetchError },
    /// The answer is boxed: it is rare, and large beside the other errors.
    #[error("{url} did not return `_service.sdl`: {answer}")]
    NoSdl {
        url: String,
        answer: Box<serde_json::Value>,
    },
}

/// Why `--subgraph NAME=URL …` gave no supergraph.
#[derive(Debug, thiserror::Error)]
pub enum ComposeFromError {
    #[error(transparent)]
    Argument(#[from] SubgraphArgError),
    #[error("--subgraph `{0}` is given twice")]
    Twice(String),
    /// The subgraph still did not answer after [`WAIT`].
    #[error("subgraph `{name}`: {source}\n  hint: is it running at {url}?")]
    Unreachable {
        name: String,
        url: String,
        source: IntrospectError,
    },
    #[error("the subgraphs do not compose:\n{}", indented(.0))]
    NotComposed(CompositionErrors),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Each composition error on a line of its own, indented under the message.
fn indented(failed: &CompositionErrors) -> String {
    let lines: Vec<String> = failed.errors.iter().map(|e| format!("  {e}")).collect();
    lines.join("\n")
}

/// `NAME=URL` → (name, url).
fn parse(arg: &str) -> Result<(String, String), SubgraphArgError> {
    let (name, url) = arg
        .split_once('=')
        .ok_or_else(|| SubgraphArgError::NotNameEqualsUrl(arg.to_owned()))?;
    let (name, url) = (name.trim(), url.trim());
    if name.is_empty() || !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(SubgraphArgError::NotHttp(arg.to_owned()));
    }
    Ok((name.to_owned(), url.to_owned()))
}

/// While a subgraph does not answer, a line about it this often (the first at once).
const NOTICE_EVERY: Duration = Duration::from_secs(5);

/// What is said while a subgraph does not answer yet: which one, where, why, and how long
/// it is waited for (`waited` so far).
fn waiting_notice(name: &str, url: &str, why: &IntrospectError, waited: Duration) -> String {
    let left = WAIT.saturating_sub(waited).as_secs();
    // The URL is said once, before.
    let why = match why {
        IntrospectError::Request { source, .. } => source.to_string(),
        other => other.to_string(),
    };
    if waited < NOTICE_EVERY {
        format!(
            "waiting for subgraph `{name}` at {url} ({why}): asking again every 0.5 s for up \
             to {} s",
            WAIT.as_secs()
        )
    } else {
        format!(
            "still waiting for subgraph `{name}` at {url} ({why}): {left} s left before giving up"
        )
    }
}

/// Composes the subgraphs named by `args` and writes the supergraph; its path. `notice` is
/// told, every few seconds, which subgraph is waited for while one does not answer yet.
pub fn compose_from(
    args: &[String],
    mut notice: impl FnMut(&str),
) -> Result<PathBuf, ComposeFromError> {
    let mut inputs = Vec::with_capacity(args.len());
    for arg in args {
        let (name, url) = parse(arg)?;
        if inputs.iter().any(|i: &SubgraphInput| i.name == name) {
            return Err(ComposeFromError::Twice(name));
        }
        let started = Instant::now();
        let mut noticed: Option<Instant> = None;
        let sdl = loop {
            match introspect(&url) {
                Ok(sdl) => break sdl,
                Err(source) if started.elapsed() >= WAIT => {
                    return Err(ComposeFromError::Unreachable { name, url, source });
                }
                Err(why) => {
                    if noticed.is_none_or(|at| at.elapsed() >= NOTICE_EVERY) {
                        notice(&waiting_notice(&name, &url, &why, started.elapsed()));
                        noticed = Some(Instant::now());
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        };
        inputs.push(SubgraphInput {
            name: name.clone(),
            url: url.clone(),
            sdl,
            source: url,
        });
    }
    let composed = compose(&inputs).map_err(ComposeFromError::NotComposed)?;
    let path = std::env::temp_dir().join(format!("weft-{}-supergraph.graphql", std::process::id()));
    if let Err(source) = std::fs::write(&path, composed.supergraph_sdl) {
        return Err(ComposeFromError::Write { path, source });
    }
    Ok(path)
}

/// Asks a running subgraph for its SDL.
pub fn introspect(url: &str) -> Result<String, IntrospectError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(IntrospectError::Runtime)?;
    runtime.block_on(async {
        let client =
            SubgraphClient::new(Duration::from_secs(10)).map_err(IntrospectError::Client)?;
        let request = GraphQLRequest {
            query: "{ _service { sdl } }",
            operation_name: None,
            variables: None,
            extensions: None,
        };
        let failed = |source| IntrospectError::Request {
            url: url.to_owned(),
            source,
        };
        let response = client.post(url, &request).await.map_err(failed)?;
        let json = response.json().map_err(failed)?;
        match json["data"]["_service"]["sdl"].as_str() {
            Some(sdl) => Ok(sdl.to_owned()),
            None => Err(IntrospectError::NoSdl {
                url: url.to_owned(),
                answer: Box::new(json),
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_name_equals_url() {
        assert_eq!(
            parse("products=http://p:4002/graphql"),
            Ok(("products".into(), "http://p:4002/graphql".into()))
        );
        assert!(parse("products").is_err());
        assert!(parse("=http://p").is_err());
        assert!(parse("p=ftp://x").is_err());
    }
}
