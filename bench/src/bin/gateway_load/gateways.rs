//! Starting each gateway on the same supergraph, pinned to CPU 0: Weft (built from this
//! workspace), Hive Router (`cargo install hive-router`) and Apollo Gateway (npm, through
//! bench/peers/apollo-gateway.mjs). Each is stopped when its [`Gateway`] is dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use weft_federation::compose::{SubgraphInput, compose as weft_compose};
use weft_subgraph_kit::{Running, Subgraph};

pub struct Gateway {
    pub url: String,
    pub pid: u32,
    child: Child,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sdl_of(name: &str) -> String {
    match name {
        "accounts" => weft_accounts::Accounts::sdl(),
        "products" => weft_products::Products::sdl(),
        "inventory" => weft_inventory::Inventory::sdl(),
        _ => weft_reviews::Reviews::sdl(),
    }
}

/// Composes the running subgraphs (at their own URLs) into `work/supergraph.graphql`.
pub fn compose(subgraphs: &[Running], work: &Path) -> PathBuf {
    let inputs: Vec<SubgraphInput> = subgraphs
        .iter()
        .map(|s| SubgraphInput {
            name: s.name.to_owned(),
            url: s.url(),
            sdl: sdl_of(s.name),
            source: s.name.to_owned(),
        })
        .collect();
    let sdl = weft_compose(&inputs).expect("compose").supergraph_sdl;
    let path = work.join("supergraph.graphql");
    std::fs::write(&path, sdl).expect("write supergraph");
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts gateway `name`; `None` when it is not installed. `hive_config` is a Hive Router
/// configuration file (the public benchmark's); without one it runs on its defaults.
pub async fn start(
    name: &str,
    supergraph: &Path,
    work: &Path,
    entity_cache: bool,
    hive_config: Option<&Path>,
) -> Option<Gateway> {
    let port = free_port();
    let mut command = Command::new("taskset");
    command.args(["-c", "0"]);
    match name {
        "weft" => {
            let bin = crate::launch::weft_bin();
            if !bin.exists() {
                return None;
            }
            let config = work.join("weft.yaml");
            let cache = if entity_cache {
                "entity_cache:\n  enabled: true\n  ttl_secs: 60\n  root_fields: true\n"
            } else {
                ""
            };
            std::fs::write(
                &config,
                format!(
                    "supergraph:\n  path: {}\nlisten: 127.0.0.1:{port}\nlog:\n  level: warn\n{cache}",
                    supergraph.display()
                ),
            )
            .expect("weft.yaml");
            command.arg(bin).arg("serve").arg("--config").arg(&config);
        }
        "hive" => {
            let bin = std::env::var("HIVE_ROUTER_BIN").unwrap_or_else(|_| "hive_router".into());
            // Found by path, or on PATH (running it to ask would start a router).
            let on_path = std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(&bin).is_file()));
            if !Path::new(&bin).is_file() && !on_path {
                return None;
            }
            command
                .arg(bin)
                .env("SUPERGRAPH_FILE_PATH", supergraph)
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("LOG_LEVEL", "warn");
            if let Some(config) = hive_config {
                // The file's supergraph, host, port and log level are overridden by the
                // variables above; the rest (de-duplication, traffic shaping) applies.
                command.env("ROUTER_CONFIG_FILE_PATH", config);
            }
        }
        "apollo" => {
            let peers = crate::launch::workspace_root().join("bench/peers");
            if !peers.join("node_modules/@apollo/gateway").exists() {
                return None;
            }
            command
                .arg("node")
                .arg(peers.join("apollo-gateway.mjs"))
                .arg(supergraph)
                .arg(port.to_string());
        }
        other => panic!("unknown gateway {other} (weft, hive, apollo)"),
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gateway");
    let gateway = Gateway {
        url: format!("http://127.0.0.1:{port}/graphql"),
        pid: child.id(),
        child,
    };
    if !crate::launch::answers(&gateway.url).await {
        panic!("{} did not come up within 60 s", gateway.url);
    }
    Some(gateway)
}
