//! Watching the gateway while an attack runs: its resident memory every 10 ms (killing it past
//! a cap, so an unfixed gateway cannot take the machine down) and `/health` every 10 ms.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::gateway::Gateway;
use crate::procfs;

const EVERY: Duration = Duration::from_millis(10);
/// A probe still unanswered this long when the attack ends counts as failed (its time so far
/// still counts as its latency). No client time-out: a stalled probe is timed to the end.
const UNANSWERED: Duration = Duration::from_secs(1);

/// Samples `VmRSS` on its own thread (not the runtime's, which an attack may keep busy).
pub struct RssWatch {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    killed_at: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RssWatch {
    /// Starts sampling; past `kill_kib` the gateway is killed and the size recorded.
    pub fn start(gateway: &Gateway, kill_kib: u64) -> RssWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let killed_at = Arc::new(AtomicU64::new(0));
        let pid = gateway.pid;
        let child = Arc::clone(&gateway.child);
        let (s, p, k) = (Arc::clone(&stop), Arc::clone(&peak), Arc::clone(&killed_at));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Some(rss) = procfs::rss_kib_read(pid) else {
                    break;
                };
                p.fetch_max(rss, Ordering::Relaxed);
                if rss > kill_kib {
                    kill(&child);
                    k.store(rss, Ordering::Relaxed);
                    break;
                }
                std::thread::sleep(EVERY);
            }
        });
        RssWatch {
            stop,
            peak,
            killed_at,
            thread: Some(thread),
        }
    }

    /// Stops sampling: (peak KiB, the size it was killed at if it was).
    pub fn finish(mut self) -> (u64, Option<u64>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let killed = self.killed_at.load(Ordering::Relaxed);
        (
            self.peak.load(Ordering::Relaxed),
            (killed > 0).then_some(killed),
        )
    }
}

fn kill(child: &Mutex<std::process::Child>) {
    if let Ok(mut c) = child.lock() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// What the health prober saw.
pub struct HealthSeen {
    pub worst: Option<Duration>,
    pub failures: usize,
    pub probes: usize,
}

/// Sends `GET /health` every 10 ms, one at a time, until stopped.
pub struct HealthWatch {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<HealthSeen>,
}

impl HealthWatch {
    pub fn start(base: &str) -> HealthWatch {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let url = format!("{base}/health");
        let task = tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut seen = HealthSeen {
                worst: None,
                failures: 0,
                probes: 0,
            };
            loop {
                let started = Instant::now();
                let probe = client.get(&url).send();
                tokio::select! {
                    answer = probe => {
                        let took = started.elapsed();
                        seen.probes += 1;
                        seen.worst = seen.worst.max(Some(took));
                        if !answer.is_ok_and(|r| r.status().is_success()) {
                            seen.failures += 1;
                        }
                    }
                    _ = stopped.changed() => {
                        // A probe still waiting when the attack ends counts as slow as it was
                        // then (a lower bound), and as failed when it waited long.
                        let took = started.elapsed();
                        if took > EVERY {
                            seen.worst = seen.worst.max(Some(took));
                            seen.failures += usize::from(took >= UNANSWERED);
                        }
                        break;
                    }
                }
                if *stopped.borrow() {
                    break;
                }
                let next = started + EVERY;
                tokio::select! {
                    _ = tokio::time::sleep_until(next.into()) => {}
                    _ = stopped.changed() => break,
                }
            }
            seen
        });
        HealthWatch { stop, task }
    }

    pub async fn finish(self) -> HealthSeen {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or(HealthSeen {
            worst: None,
            failures: 1,
            probes: 0,
        })
    }
}
