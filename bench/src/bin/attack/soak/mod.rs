//! Soak mode: ordinary traffic and the attack mix together on one gateway (default
//! configuration) for minutes, at the concurrency where ordinary p99 is twice its unloaded
//! value (`--calibrate` finds it). Judged by [`verdict`].

mod traffic;
mod verdict;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::attacks::{post, raw};
use crate::gateway::{Gateway, Subgraphs};
use crate::judge::Ending;
use crate::procfs;
use traffic::{AttackRequest, ORDINARY, Rng, attack_mix, ordinary_body};
use verdict::Soak;

pub struct Options {
    pub minutes: f64,
    pub attack_share: f64,
    pub concurrency: Option<usize>,
    pub calibrate: bool,
    pub timeout: Duration,
    pub kill_kib: u64,
    /// `--attacks`: which attacks the mix holds (all when empty).
    pub attacks: Vec<String>,
}

/// How long each calibration step runs.
const STEP: Duration = Duration::from_secs(10);
/// The highest concurrency calibration tries.
const MAX_CONCURRENCY: usize = 256;
/// Failures described in the report.
const SAMPLES: usize = 5;

pub async fn run(
    weft: &Path,
    subgraphs: &Subgraphs,
    work: &Path,
    o: &Options,
) -> Result<bool, String> {
    let gateway = Gateway::start(weft, subgraphs, None, &work.join("gateway-soak.log")).await?;
    let url = format!("{}/graphql", gateway.base);
    for (i, (name, _)) in ORDINARY.iter().enumerate() {
        let (ending, _) = post::send_all(&url, &[ordinary_body(i, 0)], o.timeout).await;
        if !matches!(&ending, Ending::Answered { status: 200, codes, data: true, .. } if codes.is_empty())
        {
            return Err(format!(
                "the ordinary query {name} fails on its own: {ending:?}"
            ));
        }
    }
    let concurrency = match o.concurrency {
        Some(c) if !o.calibrate => c,
        _ => calibrate(&gateway, o).await?,
    };
    let run = Duration::from_secs_f64(o.minutes * 60.0);
    eprintln!(
        "soak: {:.1} min at concurrency {concurrency}, {:.0}% attacks",
        o.minutes,
        o.attack_share * 100.0
    );
    let samples = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(
        &gateway,
        o.kill_kib,
        Arc::clone(&samples),
        Arc::clone(&stop),
    );
    let mut soak = load(&gateway, concurrency, run, o.attack_share, o).await;
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    let (first, last) = verdict::first_and_last_peaks(&samples, run, verdict::rss_window(run));
    soak.rss_first_kib = first;
    soak.rss_last_kib = last;
    soak.rss_profile = verdict::window_profile(&samples, verdict::rss_window(run));
    let csv: String = samples
        .iter()
        .map(|(t, kib)| format!("{t:.1},{kib}\n"))
        .collect();
    let csv_path = work.join("soak-rss.csv");
    if let Err(e) = std::fs::write(&csv_path, format!("seconds,rss_kib\n{csv}")) {
        eprintln!("{}: {e}", csv_path.display());
    }
    // Alive: the process still runs; whether it answered is what the ordinary counts say.
    soak.alive = gateway.running();
    let failures = verdict::judge(&soak);
    print_report(&soak, concurrency, o, run, &failures);
    Ok(failures.is_empty())
}

/// Ordinary p99 alone (concurrency 1), then at doubling concurrency until it is twice that.
async fn calibrate(gateway: &Gateway, o: &Options) -> Result<usize, String> {
    let p99 = |s: &Soak| verdict::p50_p99(&s.latencies_us).1;
    let alone = load(gateway, 1, STEP, 0.0, o).await;
    let unloaded = p99(&alone).ok_or("calibration: no ordinary request answered")?;
    println!(
        "Calibration ({} s per step, ordinary traffic only):\n\n| concurrency | p99 ms | failed | shed |\n|---|---|---|---|",
        STEP.as_secs()
    );
    println!(
        "| 1 | {:.1} | {} | {} |",
        ms(unloaded),
        alone.ordinary_failed,
        alone.shed
    );
    let mut steps = Vec::new();
    let mut c = 2;
    while c <= MAX_CONCURRENCY {
        let s = load(gateway, c, STEP, 0.0, o).await;
        let Some(p) = p99(&s) else { break };
        println!(
            "| {c} | {:.1} | {} | {} |",
            ms(p),
            s.ordinary_failed,
            s.shed
        );
        steps.push((c, p));
        if p >= unloaded * 2 {
            break;
        }
        c *= 2;
    }
    let chosen = verdict::knee(unloaded, &steps).unwrap_or(1);
    println!(
        "\nUnloaded p99 {:.1} ms; soaking at concurrency {chosen}.\n",
        ms(unloaded)
    );
    Ok(chosen)
}

/// `concurrency` clients for `run`, each sending an attack with probability `share`, else an
/// ordinary query; every request bounded by `timeout`.
async fn load(
    gateway: &Gateway,
    concurrency: usize,
    run: Duration,
    share: f64,
    o: &Options,
) -> Soak {
    let client = reqwest::Client::builder()
        .timeout(o.timeout)
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap_or_default();
    let mix = Arc::new(attack_mix(&o.attacks));
    let url = Arc::new(format!("{}/graphql", gateway.base));
    let deadline = Instant::now() + run;
    let workers = (0..concurrency).map(|id| {
        let (client, mix, url, addr, child) = (
            client.clone(),
            Arc::clone(&mix),
            Arc::clone(&url),
            gateway.addr,
            Arc::clone(&gateway.child),
        );
        tokio::spawn(async move {
            let mut rng = Rng::new(id as u64 + 1);
            let mut tally = Soak::default();
            let mut k = id as u64;
            while Instant::now() < deadline {
                // A dead gateway (killed at the RSS cap) ends the load: every request would
                // fail at once, in a busy loop.
                if !crate::gateway::running(&child) {
                    tally.ordinary_failed += 1;
                    tally.failure_samples.push("the gateway is gone".into());
                    break;
                }
                if !mix.is_empty() && rng.unit() < share {
                    tally.attacks_sent += 1;
                    let attack = &mix[rng.below(mix.len())];
                    *tally.attacks_by_id.entry(attack.id()).or_default() += 1;
                    match attack {
                        AttackRequest::Post { body, .. } => {
                            let _ = client
                                .post(url.as_str())
                                .header("content-type", "application/json")
                                .body(body.clone())
                                .send()
                                .await;
                        }
                        AttackRequest::Leave { body, .. } => {
                            let _ =
                                raw::send_and_leave(addr, body, Duration::from_millis(100)).await;
                        }
                    }
                    continue;
                }
                k += concurrency as u64;
                let started = Instant::now();
                let sent = client
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .body(ordinary_body(rng.below(ORDINARY.len()), k))
                    .send()
                    .await;
                record(&mut tally, sent, started).await;
            }
            tally
        })
    });
    let mut total = Soak::default();
    for tally in futures::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
    {
        total.ordinary_ok += tally.ordinary_ok;
        total.ordinary_failed += tally.ordinary_failed;
        total.shed += tally.shed;
        total.attacks_sent += tally.attacks_sent;
        for (id, n) in tally.attacks_by_id {
            *total.attacks_by_id.entry(id).or_default() += n;
        }
        total.latencies_us.extend(tally.latencies_us);
        for s in tally.failure_samples {
            if total.failure_samples.len() < SAMPLES {
                total.failure_samples.push(s);
            }
        }
    }
    total
}

/// Counts one ordinary request: answered with data and no error, shed (503), or failed.
async fn record(tally: &mut Soak, sent: reqwest::Result<reqwest::Response>, started: Instant) {
    let failure = match sent {
        Err(e) if e.is_timeout() => Some("timed out".to_owned()),
        Err(e) => Some(format!("transport error: {e}")),
        Ok(r) if r.status().as_u16() == 503 => {
            tally.shed += 1;
            return;
        }
        Ok(r) => {
            let status = r.status().as_u16();
            match r.json::<serde_json::Value>().await {
                Ok(body)
                    if status == 200
                        && body.get("errors").is_none()
                        && body.get("data").is_some_and(|d| !d.is_null()) =>
                {
                    None
                }
                Ok(body) => Some(format!(
                    "HTTP {status}: {}",
                    crate::judge::error_codes(&body)
                        .iter()
                        .map(|(c, _)| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Err(_) => Some(format!("HTTP {status}, body not JSON or cut")),
            }
        }
    };
    match failure {
        None => {
            tally.ordinary_ok += 1;
            tally
                .latencies_us
                .push(started.elapsed().as_micros() as u64);
        }
        Some(why) => {
            tally.ordinary_failed += 1;
            if tally.failure_samples.len() < SAMPLES {
                tally.failure_samples.push(why);
            }
        }
    }
}

/// Samples RSS once a second, `(seconds since start, KiB)`, killing the gateway past the cap.
fn sample_rss(
    gateway: &Gateway,
    kill_kib: u64,
    samples: Arc<Mutex<Vec<(f64, u64)>>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let pid = gateway.pid;
    let child = Arc::clone(&gateway.child);
    std::thread::spawn(move || {
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let Some(rss) = procfs::rss_kib_read(pid) else {
                break;
            };
            if let Ok(mut s) = samples.lock() {
                s.push((started.elapsed().as_secs_f64(), rss));
            }
            if rss > kill_kib {
                if let Ok(mut c) = child.lock() {
                    let _ = c.kill();
                }
                break;
            }
            // Ten checks of `stop` per sample, so the soak's end is not delayed by a second.
            for _ in 0..10 {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_report(s: &Soak, concurrency: usize, o: &Options, run: Duration, failures: &[String]) {
    let (p50, p99) = verdict::p50_p99(&s.latencies_us);
    let show = |d: Option<Duration>| {
        d.map(|d| format!("{:.1}", ms(d)))
            .unwrap_or_else(|| "—".into())
    };
    let ordinary = s.ordinary_ok + s.ordinary_failed + s.shed;
    println!(
        "| minutes | concurrency | attack share | ordinary | failed | shed 503 | attacks | p50 ms | p99 ms | RSS first MB | RSS last MB | alive | verdict |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    println!(
        "| {:.1} | {concurrency} | {:.0}% | {ordinary} | {} | {} ({:.2}%) | {} | {} | {} | {:.0} | {:.0} | {} | {} |",
        o.minutes,
        o.attack_share * 100.0,
        s.ordinary_failed,
        s.shed,
        if ordinary > 0 {
            100.0 * s.shed as f64 / ordinary as f64
        } else {
            0.0
        },
        s.attacks_sent,
        show(p50),
        show(p99),
        s.rss_first_kib as f64 / 1024.0,
        s.rss_last_kib as f64 / 1024.0,
        if s.alive { "yes" } else { "no" },
        if failures.is_empty() {
            "pass".to_owned()
        } else {
            format!("FAIL: {}", failures.join("; "))
        }
    );
    println!(
        "\nRSS windows: the first and last {} s of {} s (peaks; sampled once a second, every \
         sample in `soak-rss.csv` of the work directory).",
        verdict::rss_window(run).as_secs(),
        run.as_secs()
    );
    let profile: Vec<String> = s
        .rss_profile
        .iter()
        .map(|(median, peak)| {
            format!(
                "{:.0}/{:.0}",
                *median as f64 / 1024.0,
                *peak as f64 / 1024.0
            )
        })
        .collect();
    println!("RSS by window, median/peak MiB: {}.", profile.join(", "));
    let by_id: Vec<String> = s
        .attacks_by_id
        .iter()
        .map(|(id, n)| format!("{id} {n}"))
        .collect();
    println!("Attacks sent: {}.", by_id.join(", "));
    for f in &s.failure_samples {
        println!("- ordinary failure: {f}");
    }
}
