//! One attack against a fresh gateway: start it, watch it (RSS, `/health`), send the attack,
//! and return what was measured (judged by `judge`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::attacks::{Attack, Kind, post, raw};
use crate::gateway::{Gateway, Subgraphs};
use crate::judge::{Ending, Measured};
use crate::procfs;
use crate::watch::{HealthWatch, RssWatch};

pub struct Setup<'a> {
    pub weft: &'a Path,
    pub subgraphs: &'a Subgraphs,
    pub work: &'a Path,
    /// How long an attack may take before it counts as unanswered.
    pub timeout: Duration,
    /// The gateway is killed past this resident size (KiB).
    pub kill_kib: u64,
}

/// Runs `attack` on a gateway of its own (so one attack's leftovers cannot weigh on the
/// next), with `config` if given.
pub async fn run(
    setup: &Setup<'_>,
    attack: &Attack,
    config: Option<&Path>,
    mode: &str,
) -> Result<Measured, String> {
    let log: PathBuf = setup.work.join(format!("gateway-{mode}-{}.log", attack.id));
    let gateway = Gateway::start(setup.weft, setup.subgraphs, config, &log).await?;
    let url = format!("{}/graphql", gateway.base);
    // One ordinary request first: lazy start-up work is not the attack's.
    let _ = post::send_all(
        &url,
        &[r#"{"query":"{ __typename }"}"#.to_owned()],
        Duration::from_secs(10),
    )
    .await;
    let rss = RssWatch::start(&gateway, setup.kill_kib);
    let health = HealthWatch::start(&gateway.base);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut cpu_after = None;
    let (ending, elapsed) = match &attack.kind {
        Kind::Post(bodies) => post::send_all(&url, bodies, setup.timeout).await,
        Kind::Disconnect { body, after, watch } => {
            let started = std::time::Instant::now();
            let ending = raw::send_and_leave(gateway.addr, body, *after).await;
            let elapsed = started.elapsed();
            let before = procfs::cpu_seconds_read(gateway.pid);
            tokio::time::sleep(*watch).await;
            let after = procfs::cpu_seconds_read(gateway.pid);
            if let (Some(b), Some(a)) = (before, after) {
                cpu_after = Some((a - b).max(0.0));
            }
            (ending, elapsed)
        }
        Kind::Slow { stall, connections } => {
            raw::slowloris(gateway.addr, *stall, *connections, setup.timeout).await
        }
    };
    let seen = health.finish().await;
    let (peak_rss_kib, killed_at_kib) = rss.finish();
    // Alive: the process still runs. Whether it answers is what the /health column measures.
    let alive = killed_at_kib.is_none() && gateway.running();
    let ending = match (ending, killed_at_kib) {
        // The runner killed it: the request's own error says nothing more.
        (Ending::Failed(_), Some(_)) => Ending::Failed("gateway killed".into()),
        (e, _) => e,
    };
    drop(gateway);
    Ok(Measured {
        ending,
        elapsed,
        peak_rss_kib,
        worst_health: seen.worst,
        health_failures: seen.failures,
        alive,
        killed_at_kib,
        cpu_after,
    })
}
