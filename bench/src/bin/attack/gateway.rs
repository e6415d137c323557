//! The processes under test: the demo subgraphs (`weft demo`, whose own gateway stays idle)
//! and the gateway being attacked (`weft serve --subgraph ...` over them), each a child
//! process so the gateway's memory and CPU are its own. Both are killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `weft` binary: `--weft`/`WEFT_BIN`, else target/release/weft, else target/debug/weft.
pub fn find_weft(given: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{} is not a file", path.display()))
        };
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for candidate in ["target/release/weft", "target/debug/weft"] {
        let path = root.join(candidate);
        if path.is_file() {
            return Ok(path.canonicalize().unwrap_or(path));
        }
    }
    Err("no target/release/weft or target/debug/weft: build one (cargo build -p weft) or pass --weft".into())
}

/// The five reference subgraphs, served by one `weft demo` process.
pub struct Subgraphs {
    child: Child,
    /// `(name, url)` as the demo's banner prints them.
    pub urls: Vec<(String, String)>,
}

impl Subgraphs {
    pub fn start(weft: &Path, work: &Path) -> Result<Subgraphs, String> {
        let log = std::fs::File::create(work.join("subgraphs.log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(weft)
            .args(["demo", "--listen", "127.0.0.1:0", "--base-port", "0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {} demo: {e}", weft.display()))?;
        let Some(stdout) = child.stdout.take() else {
            return Err("weft demo: no stdout".into());
        };
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the banner, then keeps draining stdout so the demo never writes to a closed pipe.
        std::thread::spawn(move || {
            let mut urls = Vec::new();
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(pair) = banner_line(&line) {
                    urls.push(pair);
                }
                if !sent && line.starts_with("Press Ctrl-C") {
                    let _ = tx.send(std::mem::take(&mut urls));
                    sent = true;
                }
            }
        });
        let mut subgraphs = Subgraphs {
            child,
            urls: Vec::new(),
        };
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(urls) => subgraphs.urls = urls,
            Err(_) => return Err("weft demo did not print its subgraphs within 120 s".into()),
        }
        if subgraphs.urls.is_empty() {
            return Err("weft demo printed no subgraph".into());
        }
        Ok(subgraphs)
    }
}

impl Drop for Subgraphs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `  accounts   http://127.0.0.1:41234/graphql` → `("accounts", url)`; the gateway's line
/// is left out (this runner starts its own).
fn banner_line(line: &str) -> Option<(String, String)> {
    let mut words = line.split_whitespace();
    let (name, url) = (words.next()?, words.next()?);
    if words.next().is_some() || !url.starts_with("http://") || name == "gateway" {
        return None;
    }
    Some((name.to_owned(), url.to_owned()))
}

/// The gateway under attack.
pub struct Gateway {
    pub child: Arc<Mutex<Child>>,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub addr: SocketAddr,
}

impl Gateway {
    /// `weft serve` over `subgraphs`, with `config` if given; waits until `/health` answers.
    pub async fn start(
        weft: &Path,
        subgraphs: &Subgraphs,
        config: Option<&Path>,
        log: &Path,
    ) -> Result<Gateway, String> {
        let addr = free_port()?;
        let mut command = Command::new(weft);
        command.arg("serve").arg("--listen").arg(addr.to_string());
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        for (name, url) in &subgraphs.urls {
            command.arg("--subgraph").arg(format!("{name}={url}"));
        }
        let log_file = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let child = command
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot run {} serve: {e}", weft.display()))?;
        let gateway = Gateway {
            pid: child.id(),
            child: Arc::new(Mutex::new(child)),
            base: format!("http://{addr}"),
            addr,
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if !gateway.running() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let last = text.lines().last().unwrap_or("").to_owned();
                return Err(format!(
                    "the gateway exited at start: {last} ({})",
                    log.display()
                ));
            }
            let health = client.get(format!("{}/health", gateway.base)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return Ok(gateway);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "the gateway did not answer /health within 120 s ({})",
            log.display()
        ))
    }

    /// The process has not exited.
    pub fn running(&self) -> bool {
        running(&self.child)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(mut c) = self.child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `child` has not exited.
pub fn running(child: &Mutex<Child>) -> bool {
    child
        .lock()
        .map(|mut c| matches!(c.try_wait(), Ok(None)))
        .unwrap_or(false)
}

/// A port free now on 127.0.0.1 (the gateway binds it a moment later).
fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_lines_give_subgraph_urls_only() {
        assert_eq!(
            banner_line("  accounts   http://127.0.0.1:41234/graphql"),
            Some(("accounts".into(), "http://127.0.0.1:41234/graphql".into()))
        );
        assert_eq!(
            banner_line("  gateway    http://127.0.0.1:4000/graphql"),
            None
        );
        assert_eq!(banner_line("Try:"), None);
        assert_eq!(
            banner_line("  curl -s http://127.0.0.1:4000/graphql -H 'content-type: x'"),
            None
        );
    }
}
