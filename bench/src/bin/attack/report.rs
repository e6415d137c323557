//! The Markdown table of an attack run.

use std::time::Duration;

use crate::judge::{Ending, Measured, mib};

pub struct Row {
    pub attack: String,
    pub mode: String,
    pub measured: Measured,
    /// Why it failed; empty when it passed.
    pub failures: Vec<String>,
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| attack | mode | status | codes | time | peak RSS MB | worst /health ms | alive | verdict |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let m = &row.measured;
        let verdict = if row.failures.is_empty() {
            "pass".to_owned()
        } else {
            format!("FAIL: {}", row.failures.join("; "))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.attack,
            row.mode,
            status(&m.ending),
            codes(m),
            time(m),
            rss(m),
            health(m),
            if m.alive { "yes" } else { "no" },
            verdict
        ));
    }
    out
}

fn status(e: &Ending) -> String {
    match e {
        Ending::Answered { status, .. } if *status == 0 => "answer".into(),
        Ending::Answered { status, .. } => status.to_string(),
        Ending::Closed => "closed".into(),
        Ending::TimedOut => "timeout".into(),
        Ending::Abandoned => "left".into(),
        Ending::Failed(why) => format!("error ({why})"),
    }
}

fn codes(m: &Measured) -> String {
    let mut parts = Vec::new();
    if let Ending::Answered {
        codes, data, bytes, ..
    } = &m.ending
    {
        for (code, n) in codes {
            parts.push(if *n > 1 {
                format!("{code}×{n}")
            } else {
                code.clone()
            });
        }
        if *data {
            parts.push("data".into());
        }
        if *bytes > 1024 * 1024 {
            parts.push(format!("{:.1} MB", *bytes as f64 / 1e6));
        }
    }
    if let Some(cpu) = m.cpu_after {
        parts.push(format!("{cpu:.2} CPU s after"));
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(", ")
    }
}

fn time(m: &Measured) -> String {
    let t = secs(m.elapsed);
    match m.ending {
        Ending::TimedOut => format!("> {t}"),
        _ => t,
    }
}

fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn rss(m: &Measured) -> String {
    match m.killed_at_kib {
        Some(k) => format!("killed at {:.0}", mib(k)),
        None => format!("{:.0}", mib(m.peak_rss_kib)),
    }
}

fn health(m: &Measured) -> String {
    let worst = match m.worst_health {
        Some(w) => format!("{:.0}", w.as_secs_f64() * 1000.0),
        None => "—".into(),
    };
    if m.health_failures > 0 {
        format!("{worst} ({} failed)", m.health_failures)
    } else {
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_status_codes_and_verdict() {
        let rows = [
            Row {
                attack: "2-braces".into(),
                mode: "default".into(),
                measured: Measured {
                    ending: Ending::Answered {
                        status: 400,
                        codes: vec![("GRAPHQL_PARSE_FAILED".into(), 5000)],
                        data: false,
                        bytes: 2_300_000,
                    },
                    elapsed: Duration::from_millis(29_000),
                    peak_rss_kib: 80 * 1024,
                    worst_health: Some(Duration::from_millis(2400)),
                    health_failures: 0,
                    alive: true,
                    killed_at_kib: None,
                    cpu_after: None,
                },
                failures: vec!["answered in 29.00 s, over 1.00 s".into()],
            },
            Row {
                attack: "1-fragments".into(),
                mode: "limits-off".into(),
                measured: Measured {
                    ending: Ending::TimedOut,
                    elapsed: Duration::from_secs(10),
                    peak_rss_kib: 2100 * 1024,
                    worst_health: Some(Duration::from_millis(4)),
                    health_failures: 3,
                    alive: false,
                    killed_at_kib: Some(2100 * 1024),
                    cpu_after: None,
                },
                failures: vec![],
            },
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[2],
            "| 2-braces | default | 400 | GRAPHQL_PARSE_FAILED×5000, 2.3 MB | 29.0 s | 80 | 2400 \
             | yes | FAIL: answered in 29.00 s, over 1.00 s |"
        );
        assert_eq!(
            lines[3],
            "| 1-fragments | limits-off | timeout | — | > 10.0 s | killed at 2100 | 4 (3 failed) \
             | no | pass |"
        );
    }
}
