//! `weft serve --subgraph NAME=URL …`: the supergraph composed at start-up from running
//! subgraphs, each asked for its SDL (`{ _service { sdl } }`), as `weft demo` does. Subgraphs
//! that are still starting (containers coming up together) are asked again for up to
//! [`WAIT`]. The composition is written to a file in the temporary directory, served like any
//! `--supergraph` file and named in the log, so what is served can be read. [`introspect`]
//! (one subgraph's SDL) is also what `weft compose` asks a subgraph given by URL.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use weft_executor::{GraphQLRequest, SubgraphClient};
use weft_federation::compose::{SubgraphInput, compose};

/// How long a subgraph that does not answer yet is waited for.
const WAIT: Duration = Duration::from_secs(30);

/// `NAME=URL` → (name, url), with a hint when malformed.
fn parse(arg: &str) -> Result<(String, String), String> {
    let (name, url) = arg.split_once('=').ok_or_else(|| {
        format!("--subgraph `{arg}` is not NAME=URL\n  hint: e.g. --subgraph products=http://127.0.0.1:4002/graphql")
    })?;
    let (name, url) = (name.trim(), url.trim());
    if name.is_empty() || !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "--subgraph `{arg}` is not NAME=URL with an http(s) URL\n  hint: e.g. --subgraph products=http://127.0.0.1:4002/graphql"
        ));
    }
    Ok((name.to_owned(), url.to_owned()))
}

/// Composes the subgraphs named by `args` and writes the supergraph; its path.
pub fn compose_from(args: &[String]) -> Result<PathBuf, String> {
    let mut inputs = Vec::with_capacity(args.len());
    for arg in args {
        let (name, url) = parse(arg)?;
        if inputs.iter().any(|i: &SubgraphInput| i.name == name) {
            return Err(format!("--subgraph `{name}` is given twice"));
        }
        let started = Instant::now();
        let sdl = loop {
            match introspect(&url) {
                Ok(sdl) => break sdl,
                Err(e) if started.elapsed() >= WAIT => {
                    return Err(format!(
                        "subgraph `{name}`: {e}\n  hint: is it running at {url}?"
                    ));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(500)),
            }
        };
        inputs.push(SubgraphInput {
            name: name.clone(),
            url: url.clone(),
            sdl,
            source: url,
        });
    }
    let composed = compose(&inputs).map_err(|failed| {
        let lines: Vec<String> = failed.errors.iter().map(|e| format!("  {e}")).collect();
        format!("the subgraphs do not compose:\n{}", lines.join("\n"))
    })?;
    let path = std::env::temp_dir().join(format!("weft-{}-supergraph.graphql", std::process::id()));
    std::fs::write(&path, composed.supergraph_sdl)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Asks a running subgraph for its SDL.
pub fn introspect(url: &str) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = SubgraphClient::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let request = GraphQLRequest {
            query: "{ _service { sdl } }",
            operation_name: None,
            variables: None,
            extensions: None,
        };
        let response = client
            .post(url, &request)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let json = response.json().map_err(|e| format!("{url}: {e}"))?;
        json["data"]["_service"]["sdl"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{url} did not return `_service.sdl`: {json}"))
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
