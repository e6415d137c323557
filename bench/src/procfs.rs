//! What /proc says about a process: resident memory (now and peak) and CPU time; and CPU
//! pinning. Shared by the load programs (`#[path]`), each using part of it.

use std::process::Command;

/// Pins this process (all its threads, present and future) to `cpu`.
pub fn pin_self_to_cpu(cpu: u32) {
    let pid = std::process::id().to_string();
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &pid])
        .stdout(std::process::Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("warning: could not pin the load generator to CPU {cpu} (taskset)");
    }
}

/// Peak resident set size in KiB (`VmHWM`) of `pid` and its children is not summed: the
/// gateways are single processes.
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

/// Resident set size now (`VmRSS`) of `pid`, in KiB; 0 when it cannot be read.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// Resident set size now (`VmRSS`) of `pid`, in KiB; `None` once the process is gone.
pub fn rss_kib_read(pid: u32) -> Option<u64> {
    status_kib_read(pid, "VmRSS:")
}

fn status_kib(pid: u32, key: &str) -> u64 {
    status_kib_read(pid, key).unwrap_or(0)
}

/// The KiB figure of line `key` of `pid`'s `/proc/<pid>/status`; `None` when it cannot be read.
fn status_kib_read(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&text, key)
}

/// The KiB figure of line `key` of a `/proc/<pid>/status` text.
fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Descriptors `pid` holds open now; `None` when they cannot be listed.
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// User + system CPU time of `pid` so far, in seconds; 0 when it cannot be read.
pub fn cpu_seconds(pid: u32) -> f64 {
    cpu_seconds_read(pid).unwrap_or(0.0)
}

/// User + system CPU time of `pid` so far, in seconds; `None` when /proc cannot be read (the
/// process is gone, or this one is out of descriptors).
pub fn cpu_seconds_read(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(parse_stat_ticks(&text)? as f64 / clock_ticks())
}

/// User + system CPU time, in clock ticks, of a `/proc/<pid>/stat` text.
fn parse_stat_ticks(stat: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces) start after the last ')';
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Asked once: a process out of descriptors (subscription-load near its limit) cannot start
/// `getconf`, and would divide by the wrong number.
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` gives them: how busy the
/// machine was around a run, for its report.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    if fields.is_empty() {
        "unknown".to_owned()
    } else {
        fields.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vmrss_and_cpu_ticks() {
        let status = "Name:\tweft\nVmHWM:\t  90000 kB\nVmRSS:\t   51234 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(51234));
        let stat = "4242 (weft (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 17 0 0 20 0 9";
        assert_eq!(parse_stat_ticks(stat), Some(267));
        assert!(rss_kib_read(std::process::id()).is_some_and(|k| k > 0));
        assert!(cpu_seconds_read(std::process::id()).is_some());
    }
}
