//! What /proc says about the gateway: resident memory now and CPU time so far.

/// Current resident set size (`VmRSS`) of `pid` in KiB; `None` once the process is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&text, "VmRSS:")
}

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// User + system CPU time of `pid` so far, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_ticks(&text)
}

fn parse_stat_ticks(stat: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces) start after the last ')';
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux in practice).
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
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
        assert!(rss_kib(std::process::id()).is_some_and(|k| k > 0));
        assert!(cpu_ticks(std::process::id()).is_some());
    }
}
