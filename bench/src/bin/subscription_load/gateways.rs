//! Starting a gateway with subscriptions on, pinned to CPU 0 as in `gateway-load`: Weft (built
//! from this workspace; `WEFT_BIN`) with no limit on subscriptions, and Hive Router
//! (`HIVE_ROUTER_BIN`) with subscriptions and WebSockets switched on and its limit on
//! long-lived clients raised above the run's. Each is stopped when its [`Gateway`] is dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Gateway {
    /// Its GraphQL endpoint (`http://127.0.0.1:PORT/graphql`).
    pub url: String,
    pub pid: u32,
    /// Where it serves Prometheus metrics with `weft_subscriptions_active`, if it does.
    pub weft_metrics: Option<String>,
    child: Child,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0} is not installed (bench/README.md says where it comes from)")]
    NotInstalled(String),
    #[error("unknown gateway {0} (weft, hive)")]
    Unknown(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0} did not answer `{{ __typename }}` within 60 s")]
    NotReady(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}

fn free_port() -> Result<u16, StartError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(io("a free port"))
}

/// Starts gateway `name` on `supergraph`, its files in `work`; `max_clients` sizes the
/// limits a gateway has on long-lived connections. With `share`, identical subscriptions
/// share one subgraph stream in each gateway (Weft does by default, `dedupe.subscriptions`;
/// Hive Router with its router-level de-duplication on); without, in Weft's default only.
pub async fn start(
    name: &str,
    supergraph: &Path,
    work: &Path,
    max_clients: usize,
    share: bool,
) -> Result<Gateway, StartError> {
    let port = free_port()?;
    let mut command = Command::new("taskset");
    command.args(["-c", "0"]);
    let mut weft_metrics = None;
    match name {
        "weft" => {
            let bin = crate::launch::weft_bin();
            if !bin.exists() {
                return Err(StartError::NotInstalled(bin.display().to_string()));
            }
            let config = work.join("weft.yaml");
            // `max_subscriptions: 0`: no limit (10,000 by default), the run decides how many.
            let yaml = format!(
                "supergraph:\n  path: {}\nlisten: 127.0.0.1:{port}\nlog:\n  level: warn\n\
                 limits:\n  max_subscriptions: 0\n",
                supergraph.display()
            );
            std::fs::write(&config, yaml).map_err(io("weft.yaml"))?;
            command.arg(bin).arg("serve").arg("--config").arg(&config);
            // Nothing of the caller's WEFT_* may change the configuration under test.
            for (var, _) in std::env::vars_os() {
                if var.to_string_lossy().starts_with("WEFT_") {
                    command.env_remove(var);
                }
            }
            weft_metrics = Some(format!("http://127.0.0.1:{port}/metrics"));
        }
        "hive" => {
            let bin = std::env::var("HIVE_ROUTER_BIN").unwrap_or_else(|_| "hive_router".into());
            let on_path = std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(&bin).is_file()));
            if !Path::new(&bin).is_file() && !on_path {
                return Err(StartError::NotInstalled(bin));
            }
            let config = work.join("hive-router.yaml");
            // Subscriptions and WebSockets are off by default, and at most 128 long-lived
            // clients. Its 100 connections per subgraph host stay: they bound entity fetches,
            // not subscription streams (a run of 300 opened 300 streams with it).
            let limit = max_clients.max(1) * 2 + 1024;
            // Sharing: the router's de-duplication keyed, like Weft's, on what is sent to the
            // subgraph (no client header is forwarded here), not on each client's headers.
            let dedupe = if share {
                "    dedupe:\n      enabled: true\n      headers: none\n"
            } else {
                ""
            };
            let yaml = format!(
                "subscriptions:\n  enabled: true\nwebsocket:\n  enabled: true\n\
                 traffic_shaping:\n  router:\n    \
                 max_long_lived_clients: {limit}\n{dedupe}"
            );
            std::fs::write(&config, yaml).map_err(io("hive-router.yaml"))?;
            command
                .arg(bin)
                .env("ROUTER_CONFIG_FILE_PATH", &config)
                .env("SUPERGRAPH_FILE_PATH", supergraph)
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("LOG_LEVEL", "warn");
        }
        other => return Err(StartError::Unknown(other.to_owned())),
    }
    let log = std::fs::File::create(work.join(format!("{name}.log"))).map_err(io("gateway log"))?;
    let child = command
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(io(format!("starting {name}")))?;
    let gateway = Gateway {
        url: format!("http://127.0.0.1:{port}/graphql"),
        pid: child.id(),
        weft_metrics,
        child,
    };
    if !crate::launch::answers(&gateway.url).await {
        return Err(StartError::NotReady(gateway.url.clone()));
    }
    Ok(gateway)
}

/// `weft_subscriptions_active` as Weft's `/metrics` gives it; `None` when it cannot be read.
pub async fn weft_subscriptions_active(metrics_url: &str) -> Option<u64> {
    let text = reqwest::get(metrics_url).await.ok()?.text().await.ok()?;
    gauge(&text, "weft_subscriptions_active")
}

/// The value of the unlabelled sample `name` in Prometheus text.
fn gauge(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_gauge_is_read_from_prometheus_text() {
        let text = "# HELP weft_subscriptions_active x\n# TYPE weft_subscriptions_active gauge\n\
                    weft_subscriptions_active_other 3\nweft_subscriptions_active 1200\n";
        assert_eq!(super::gauge(text, "weft_subscriptions_active"), Some(1200));
        assert_eq!(super::gauge("", "weft_subscriptions_active"), None);
    }
}
