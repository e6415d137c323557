//! `weft-attack`: issue 19's request-side attacks against a real `weft serve`, measured
//! (answer time, status and codes, peak RSS, worst `/health` latency meanwhile, alive after)
//! and judged against the "Done when"; and a soak mode mixing the attacks into
//! ordinary traffic. Traffic goes to 127.0.0.1 only; every loop ends by count or time.
//! See bench/README.md, "Attacks and soak".

mod attacks;
mod gateway;
mod judge;
mod modes;
#[path = "../../procfs.rs"]
#[allow(dead_code)] // shared with the other load programs, each using part of it
mod procfs;
mod report;
mod run;
mod soak;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::judge::Thresholds;
use crate::modes::Mode;

#[derive(Debug, Parser)]
#[command(
    name = "weft-attack",
    about = "Issue 19's attacks against a real gateway, measured and judged."
)]
struct Args {
    /// The `weft` binary (default: target/release/weft, else target/debug/weft).
    #[arg(long, env = "WEFT_BIN")]
    weft: Option<PathBuf>,
    /// Configurations to run: `default` (no configuration file), `limits-off` (every
    /// `limits.*` key at 0; only the attacks that must stay cheap without limits), or the
    /// path of a configuration file (every attack).
    #[arg(long, value_delimiter = ',', default_value = "default,limits-off")]
    modes: Vec<Mode>,
    /// Attacks to run, by id prefix (`1`, `2-braces`, `8`...); all when absent.
    #[arg(long, value_delimiter = ',')]
    attacks: Vec<String>,
    /// Seconds an attack may take before it counts as unanswered.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Kill the gateway past this resident size (MiB), recording "killed at".
    #[arg(long, default_value_t = 2048)]
    kill_rss_mb: u64,
    /// Where the configuration files and the gateways' logs go (default: a new temporary
    /// directory).
    #[arg(long)]
    work: Option<PathBuf>,
    /// List the attacks and exit.
    #[arg(long)]
    list: bool,
    /// Soak mode: ordinary traffic mixed with the attacks, on the default configuration.
    #[arg(long)]
    soak: bool,
    /// Soak: minutes to run.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Soak: the share of requests that are attacks.
    #[arg(long, default_value_t = 0.1)]
    attack_share: f64,
    /// Soak: concurrent clients (found by --calibrate when absent).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Soak: find the concurrency at which ordinary p99 is twice its unloaded value first.
    #[arg(long)]
    calibrate: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for a in attacks::all() {
            println!(
                "{:<16} {}{}",
                a.id,
                a.what,
                if a.limits_off {
                    " (also limits-off)"
                } else {
                    ""
                }
            );
        }
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: no async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    // Interrupted, the run is dropped, and with it the subgraph and gateway processes (their
    // `Drop` kills them): nothing is left running.
    let run = async {
        tokio::select! {
            result = start(args) => result,
            signal = interrupted() => Err(format!("interrupted by {signal}")),
        }
    };
    match runtime.block_on(run) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Waits for Ctrl-C or SIGTERM (what `timeout` sends).
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return "Ctrl-C";
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = term.recv() => "SIGTERM",
    }
}

/// `Ok(true)` when every judged item passed.
async fn start(args: Args) -> Result<bool, String> {
    let weft = gateway::find_weft(args.weft.clone())?;
    let work = match &args.work {
        Some(w) => w.clone(),
        None => std::env::temp_dir().join(format!("weft-attack-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    eprintln!("weft: {}  work: {}", weft.display(), work.display());
    let subgraphs = gateway::Subgraphs::start(&weft, &work)?;
    if args.soak {
        let options = soak::Options {
            minutes: args.minutes,
            attack_share: args.attack_share,
            concurrency: args.concurrency,
            calibrate: args.calibrate,
            timeout: Duration::from_secs(args.timeout),
            kill_kib: args.kill_rss_mb * 1024,
            attacks: args.attacks.clone(),
        };
        return soak::run(&weft, &subgraphs, &work, &options).await;
    }
    attack_all(&args, &weft, &subgraphs, &work).await
}

async fn attack_all(
    args: &Args,
    weft: &std::path::Path,
    subgraphs: &gateway::Subgraphs,
    work: &std::path::Path,
) -> Result<bool, String> {
    let setup = run::Setup {
        weft,
        subgraphs,
        work,
        timeout: Duration::from_secs(args.timeout),
        kill_kib: args.kill_rss_mb * 1024,
    };
    let thresholds = Thresholds::default();
    let chosen = attacks::select(&args.attacks);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for mode in &args.modes {
        let config = match mode {
            Mode::Default => None,
            Mode::File(path) => Some(path.clone()),
            Mode::LimitsOff => {
                let off = modes::limits_off(weft, work)?;
                let set = if off.off.is_empty() {
                    "none".to_owned()
                } else {
                    off.off.join(", ")
                };
                notes.push(format!("limits-off: set to 0: {set}"));
                for (key, why) in &off.refused {
                    notes.push(format!(
                        "limits-off: `{key}` does not accept 0 (left at its default): {why}"
                    ));
                }
                for key in &off.not_integers {
                    notes.push(format!(
                        "limits-off: `{key}` is not an integer (left at its default)"
                    ));
                }
                Some(off.config)
            }
        };
        for attack in chosen.iter().filter(|a| mode.runs(a.limits_off)) {
            eprintln!("{mode} / {}: {}", attack.id, attack.what);
            let measured =
                match run::run(&setup, attack, config.as_deref(), &mode.to_string()).await {
                    Ok(m) => m,
                    // A gateway that does not start under this mode's configuration is a finding.
                    Err(e) => judge::Measured {
                        ending: judge::Ending::Failed(format!("gateway did not start: {e}")),
                        elapsed: Duration::ZERO,
                        peak_rss_kib: 0,
                        worst_health: None,
                        health_failures: 0,
                        alive: false,
                        killed_at_kib: None,
                        cpu_after: None,
                    },
                };
            let failures = judge::judge(attack.budget, &measured, &thresholds);
            eprintln!(
                "  -> {:?} in {:?}; {}",
                measured.ending,
                measured.elapsed,
                if failures.is_empty() {
                    "pass".to_owned()
                } else {
                    failures.join("; ")
                }
            );
            rows.push(report::Row {
                attack: attack.id.to_owned(),
                mode: mode.to_string(),
                measured,
                failures,
            });
        }
    }
    println!("{}", report::table(&rows));
    for note in &notes {
        println!("- {note}");
    }
    let failed = rows.iter().filter(|r| !r.failures.is_empty()).count();
    println!(
        "\n{} of {} attack runs failed (timeout {} s, thresholds: answer < {:?}, depth-20 data < {:?}, slow connection closed < {:?}, RSS < {} MB, /health < {:?}, CPU after a client left < {} s in 5 s).",
        failed,
        rows.len(),
        args.timeout,
        thresholds.answer,
        thresholds.data,
        thresholds.close,
        thresholds.rss_mib,
        thresholds.health,
        thresholds.idle_cpu_secs
    );
    Ok(failed == 0)
}
