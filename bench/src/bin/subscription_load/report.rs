//! One row per gateway and subscription count, as a Markdown table.

use std::collections::BTreeMap;
use std::fmt::Write;

/// What one run (one gateway, one count of subscriptions) measured.
pub struct Row {
    pub gateway: String,
    pub transport: &'static str,
    pub subscriptions: usize,
    /// Subscriptions that had read an event when the measurement began.
    pub established: usize,
    /// Streams the stock subgraph served at the end of the window: one per subscription,
    /// unless the gateway shares a stream between identical subscriptions.
    pub streams: usize,
    /// Descriptors the gateway held at the end of the window (sockets to clients, to the
    /// stock subgraph, and its pool to products).
    pub gateway_fds: Option<usize>,
    /// Seconds from the first connection to the last subscription's first event.
    pub setup_secs: f64,
    pub window_secs: f64,
    /// Events the established subscriptions should have read in the window (one per tick
    /// each), and the whole events they did read.
    pub expected: u64,
    pub delivered: u64,
    /// Events the stock subgraph sent in the window, over every stream.
    pub subgraph_events: u64,
    /// Gateway CPU time (user + system) in the window, seconds; `None` when /proc could not
    /// be read (this process out of descriptors).
    pub gateway_cpu_secs: Option<f64>,
    /// This process's CPU time in the window (clients and subgraphs, pinned to one core).
    pub harness_cpu_secs: Option<f64>,
    /// Requests the products subgraph received in the window (the entity fetches).
    pub products_requests: u64,
    /// Gateway RSS before subscribing and at the end of the window, KiB.
    pub rss_idle_kib: u64,
    pub rss_kib: u64,
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
    /// Ticks lost on the way (gaps in what each subscription read) in the window.
    pub drops: u64,
    /// Of those, ticks the stock subgraph could not send because the gateway had not read
    /// the stream's previous event yet.
    pub held_back: u64,
    /// Errors by kind over the whole run, set-up included.
    pub errors: BTreeMap<String, u64>,
}

impl Row {
    fn per_sec(&self, count: u64) -> f64 {
        count as f64 / self.window_secs.max(f64::EPSILON)
    }

    fn per_event(&self, x: f64) -> Option<f64> {
        (self.delivered > 0).then(|| x / self.delivered as f64)
    }

    fn gateway_cpu_per_event(&self) -> String {
        self.gateway_cpu_secs
            .and_then(|cpu| self.per_event(cpu * 1e6))
            .map_or("–".into(), |v| format!("{v:.0}"))
    }

    fn percent_of_window(&self, cpu: Option<f64>) -> String {
        cpu.map_or("–".into(), |cpu| {
            format!("{:.0}", 100.0 * cpu / self.window_secs.max(f64::EPSILON))
        })
    }

    fn kib_per_subscription(&self) -> f64 {
        self.rss_kib.saturating_sub(self.rss_idle_kib) as f64 / self.subscriptions.max(1) as f64
    }

    /// One line for the progress log.
    pub fn summary(&self) -> String {
        format!(
            "{:.0} events/s delivered ({:.1}% of expected; the subgraph sent {:.0}/s), {} µs \
             gateway CPU per event, {:.1} KiB per subscription, p99 {} ms",
            self.per_sec(self.delivered),
            100.0 * self.delivered as f64 / self.expected.max(1) as f64,
            self.per_sec(self.subgraph_events),
            self.gateway_cpu_per_event(),
            self.kib_per_subscription(),
            ms(self.p99_us),
        )
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn ms(us: Option<u64>) -> String {
    us.map_or("–".into(), |us| format!("{:.1}", us as f64 / 1000.0))
}

pub fn markdown(rows: &[Row], setup: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{setup}\n");
    let _ = writeln!(
        out,
        "| gateway | transport | subscriptions | subgraph streams | gateway fds | set up s | \
         events/s delivered | of expected | gateway CPU µs/event | gateway CPU % | RSS idle MiB | RSS MiB | \
         KiB/subscription | p50 ms | p99 ms | products req/event | drops | errors | harness CPU % |"
    );
    let _ = writeln!(out, "|{}", "---|".repeat(19));
    for r in rows {
        let subscriptions = if r.established == r.subscriptions {
            r.subscriptions.to_string()
        } else {
            format!("{} ({} established)", r.subscriptions, r.established)
        };
        let errors = if r.errors.is_empty() {
            "0".to_owned()
        } else {
            r.errors
                .iter()
                .map(|(kind, n)| format!("{n}× {kind}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let drops = if r.held_back == 0 {
            r.drops.to_string()
        } else {
            format!("{} ({} held back at stock)", r.drops, r.held_back)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1} | {:.0} | {:.1}% | {} | {} | {} | {} | {:.1} | {} \
             | {} | {} | {} | {} | {} |",
            r.gateway,
            r.transport,
            subscriptions,
            r.streams,
            r.gateway_fds.map_or("–".into(), |n| n.to_string()),
            r.setup_secs,
            r.per_sec(r.delivered),
            100.0 * r.delivered as f64 / r.expected.max(1) as f64,
            r.gateway_cpu_per_event(),
            r.percent_of_window(r.gateway_cpu_secs),
            mib(r.rss_idle_kib),
            mib(r.rss_kib),
            r.kib_per_subscription(),
            ms(r.p50_us),
            ms(r.p99_us),
            r.per_event(r.products_requests as f64)
                .map_or("–".into(), |v| format!("{v:.2}")),
            drops,
            errors,
            r.percent_of_window(r.harness_cpu_secs),
        );
    }
    out
}
