//! The public gateways benchmark (`graphql-hive/graphql-gateways-benchmark`), run from a clone
//! the user points at (`--public-bench DIR`): its subgraph binary, its supergraph with every
//! subgraph URL rewritten to the counting forwarder, its heavy query from `k6.js` and Hive
//! Router's configuration from `gateways/hive-router/`. Nothing of it is in this repository,
//! and nothing is fetched at run time (bench/README.md says how to get and build it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::scenarios::Scenario;

/// What can be wrong with the clone or its files.
#[derive(Debug, thiserror::Error)]
pub enum PublicError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0}: the subgraph binary is missing; build it with `cargo build --release` in the \
         clone's subgraphs/ (bench/README.md), or name it with --public-subgraphs"
    )]
    NoSubgraphBinary(PathBuf),
    #[error("{0}: no query found (expected `query: \\`...\\`` in its graphqlRequest)")]
    NoQuery(PathBuf),
    #[error("the heavy query has no `users {{`, where the distinct mode puts its alias")]
    NoAliasPlace,
    #[error("{0}: no @join__graph(name: \"...\", url: \"...\") found")]
    NoSubgraphs(PathBuf),
    #[error("@join__graph url {0:?} is not an http:// URL")]
    BadUrl(String),
    #[error("starting the subgraphs ({0}): {1}")]
    Start(PathBuf, std::io::Error),
    #[error("the subgraphs did not answer /health within 30 s")]
    NotReady,
}

/// The clone and the subgraph binary built in it.
pub struct Bench {
    /// The clone's commit (`git rev-parse --short HEAD`), for the report.
    pub commit: Option<String>,
    pub subgraphs_bin: PathBuf,
    /// The heavy query of `k6.js`, as the benchmark sends it.
    pub query: String,
    /// `gateways/hive-router/supergraph.graphql`, URLs as committed there.
    pub supergraph: String,
    /// `gateways/hive-router/router.config.yaml`: Hive Router runs with the benchmark's own
    /// configuration (inbound de-duplication on).
    pub hive_config: PathBuf,
}

fn read(path: &Path) -> Result<String, PublicError> {
    std::fs::read_to_string(path).map_err(|source| PublicError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Finds everything the loads need in the clone at `dir`; `subgraphs_bin` overrides where the
/// built subgraph binary is (default: `DIR/target/release/subgraphs`).
pub fn locate(dir: &Path, subgraphs_bin: Option<PathBuf>) -> Result<Bench, PublicError> {
    let subgraphs_bin = subgraphs_bin.unwrap_or_else(|| dir.join("target/release/subgraphs"));
    if !subgraphs_bin.is_file() {
        return Err(PublicError::NoSubgraphBinary(subgraphs_bin));
    }
    let k6 = dir.join("k6.js");
    let query = query_of_k6(&read(&k6)?).ok_or(PublicError::NoQuery(k6))?;
    if !query.contains("users {") {
        return Err(PublicError::NoAliasPlace);
    }
    let hive = dir.join("gateways/hive-router");
    let hive_config = hive.join("router.config.yaml");
    read(&hive_config)?;
    let commit = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned());
    Ok(Bench {
        commit,
        subgraphs_bin,
        query,
        supergraph: read(&hive.join("supergraph.graphql"))?,
        hive_config,
    })
}

/// The query text of k6.js's request: the template literal after `query:`.
fn query_of_k6(k6: &str) -> Option<String> {
    let start = k6.find("query: `")? + "query: `".len();
    let len = k6[start..].find('`')?;
    Some(k6[start..start + len].to_owned())
}

/// A subgraph of the supergraph: its name and the URL it was committed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub name: String,
    pub url: String,
}

/// The byte range of the string literal after `key:` in `args`, quotes excluded.
fn quoted_after(args: &str, key: &str) -> Option<(usize, usize)> {
    let at = args.find(key)? + key.len();
    let rest = &args[at..];
    let colon = rest.find(|c: char| !c.is_whitespace())?;
    let rest2 = rest[colon..].strip_prefix(':')?;
    let quote = rest2.find(|c: char| !c.is_whitespace())?;
    if !rest2[quote..].starts_with('"') {
        return None;
    }
    let start = at + colon + 1 + quote + 1;
    let len = args[start..].find('"')?;
    Some((start, start + len))
}

/// The supergraph with each `@join__graph` URL replaced by `url_of(name)`, and the subgraphs
/// as they were.
pub fn rewrite_urls(
    supergraph: &str,
    url_of: impl Fn(&str) -> String,
) -> Option<(String, Vec<Joined>)> {
    const DIRECTIVE: &str = "@join__graph(";
    let mut out = String::with_capacity(supergraph.len());
    let mut joined = Vec::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = supergraph[from..].find(DIRECTIVE) {
        let args_start = from + found + DIRECTIVE.len();
        let args_len = supergraph[args_start..].find(')')?;
        let args = &supergraph[args_start..args_start + args_len];
        from = args_start + args_len;
        // The directive's definition (`name: String!`) has no string literals: not a use.
        let (Some((ns, ne)), Some((us, ue))) =
            (quoted_after(args, "name"), quoted_after(args, "url"))
        else {
            continue;
        };
        let name = args[ns..ne].to_owned();
        out.push_str(&supergraph[copied..args_start + us]);
        out.push_str(&url_of(&name));
        copied = args_start + ue;
        joined.push(Joined {
            name,
            url: args[us..ue].to_owned(),
        });
    }
    out.push_str(&supergraph[copied..]);
    (!joined.is_empty()).then_some((out, joined))
}

/// `url` with its scheme and authority replaced by `http://addr`: where the subgraph binary
/// this harness started serves that path.
pub fn upstream_of(url: &str, addr: SocketAddr) -> Result<String, PublicError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| PublicError::BadUrl(url.to_owned()))?;
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    Ok(format!("http://{addr}{path}"))
}

/// One load of the public benchmark.
pub struct Load {
    pub name: &'static str,
    pub what: &'static str,
    /// A distinct alias in every request (no two documents alike) rather than one document.
    pub distinct: bool,
    /// `SUBGRAPH_DELAY_MS` for the subgraphs: 20 makes the load latency-bound.
    pub delay_ms: u64,
    /// The forwarder holds each subgraph request back a random 0 to `jitter_ms` ms (uneven
    /// subgraph latency, as in production: siblings of one plan level finish apart).
    pub jitter_ms: u64,
}

pub fn loads() -> Vec<Load> {
    vec![
        Load {
            name: "public-identical",
            what: "the public benchmark's heavy query (k6.js), the same document every request",
            distinct: false,
            delay_ms: 0,
            jitter_ms: 0,
        },
        Load {
            name: "public-distinct",
            what: "the same query with a distinct alias per request (`users { n<N>: name`)",
            distinct: true,
            delay_ms: 0,
            jitter_ms: 0,
        },
        Load {
            name: "public-identical-20ms",
            what: "public-identical, subgraphs answering after SUBGRAPH_DELAY_MS=20",
            distinct: false,
            delay_ms: 20,
            jitter_ms: 0,
        },
        Load {
            name: "public-distinct-20ms",
            what: "public-distinct, subgraphs answering after SUBGRAPH_DELAY_MS=20",
            distinct: true,
            delay_ms: 20,
            jitter_ms: 0,
        },
        Load {
            name: "public-identical-jitter",
            what: "public-identical, each subgraph request held back a random 0-20 ms",
            distinct: false,
            delay_ms: 0,
            jitter_ms: 20,
        },
        Load {
            name: "public-distinct-jitter",
            what: "public-distinct, each subgraph request held back a random 0-20 ms",
            distinct: true,
            delay_ms: 0,
            jitter_ms: 20,
        },
    ]
}

/// The load's requests as a [`Scenario`] for the driver (no entity cache: Hive Router has
/// none, and the counts are compared cold).
pub fn scenario(load: &Load, query: &str) -> Scenario {
    let query = query.to_owned();
    let body: Box<dyn Fn(u64) -> String> = if load.distinct {
        Box::new(move |n| {
            let aliased = query.replacen("users {", &format!("users {{ n{n}: name"), 1);
            serde_json::json!({ "query": aliased }).to_string()
        })
    } else {
        let same = serde_json::json!({ "query": query }).to_string();
        Box::new(move |_| same.clone())
    };
    Scenario {
        name: load.name,
        what: load.what,
        entity_cache: false,
        body,
    }
}

/// The benchmark's subgraph binary (all four subgraphs on one port), pinned to CPU 1 with the
/// harness; stopped when dropped.
pub struct Subgraphs {
    pub addr: SocketAddr,
    child: Child,
}

impl Drop for Subgraphs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Subgraphs {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn start(bin: &Path, delay_ms: u64) -> Result<Subgraphs, PublicError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| PublicError::Start(bin.to_owned(), e))?;
        let child = Command::new("taskset")
            .args(["-c", "1"])
            .arg(bin)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("SUBGRAPH_DELAY_MS", delay_ms.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| PublicError::Start(bin.to_owned(), e))?;
        let subgraphs = Subgraphs {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
        };
        let health = format!("http://{}/health", subgraphs.addr);
        let http = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if http
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(subgraphs);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(PublicError::NotReady)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERGRAPH: &str = r#"directive @join__graph(name: String!, url: String!) on ENUM_VALUE
enum join__Graph {
    ACCOUNTS @join__graph(name: "accounts", url: "http://0.0.0.0:4200/accounts")
    INVENTORY
        @join__graph(name: "inventory", url: "http://0.0.0.0:4200/inventory")
}
type Query @join__type(graph: ACCOUNTS) { me: User }"#;

    #[test]
    fn rewrites_every_join_graph_url_and_nothing_else() {
        let (sdl, joined) = rewrite_urls(SUPERGRAPH, |n| format!("http://fwd/{n}")).unwrap();
        assert_eq!(
            joined,
            vec![
                Joined {
                    name: "accounts".into(),
                    url: "http://0.0.0.0:4200/accounts".into()
                },
                Joined {
                    name: "inventory".into(),
                    url: "http://0.0.0.0:4200/inventory".into()
                },
            ]
        );
        assert_eq!(
            sdl,
            SUPERGRAPH
                .replace("http://0.0.0.0:4200/accounts", "http://fwd/accounts")
                .replace("http://0.0.0.0:4200/inventory", "http://fwd/inventory")
        );
        assert!(rewrite_urls("type Query { a: Int }", |n| n.to_owned()).is_none());
    }

    #[test]
    fn upstream_keeps_the_path() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 9));
        assert_eq!(
            upstream_of("http://0.0.0.0:4200/accounts", addr).unwrap(),
            "http://127.0.0.1:9/accounts"
        );
        assert_eq!(
            upstream_of("http://host", addr).unwrap(),
            "http://127.0.0.1:9/"
        );
        assert!(upstream_of("https://host/x", addr).is_err());
    }

    #[test]
    fn reads_the_query_of_k6() {
        let k6 =
            "const r = { payload: JSON.stringify({\n query: `query Q { users { id } }`,\n }) };";
        assert_eq!(query_of_k6(k6).unwrap(), "query Q { users { id } }");
        assert!(query_of_k6("nothing").is_none());
    }

    #[test]
    fn distinct_requests_differ_identical_ones_do_not() {
        let load = |distinct| Load {
            name: "x",
            what: "x",
            distinct,
            delay_ms: 0,
            jitter_ms: 0,
        };
        let same = scenario(&load(false), "query Q { users { id } }");
        assert_eq!((same.body)(1), (same.body)(2));
        let distinct = scenario(&load(true), "query Q { users { id } }");
        assert_ne!((distinct.body)(1), (distinct.body)(2));
        assert!((distinct.body)(7).contains("users { n7: name id }"));
    }
}
