//! The Markdown table: one row per scenario and gateway, with ratios to Hive Router's row of
//! the same scenario.

use crate::drive::Measured;

pub struct Row {
    pub scenario: &'static str,
    pub gateway: String,
    pub same_answer: bool,
    pub result: Measured,
}

pub fn markdown(rows: &[Row], setup: &str, legend: &[(&str, &str)]) -> String {
    let mut out = format!("Setup: {setup}.\n\n");
    for (name, what) in legend {
        out.push_str(&format!("- ({name}) {what}\n"));
    }
    out.push('\n');
    out.push_str(
        "| load | gateway | requests | RPS | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | subgraph req/req | failures | same data | RPS vs Hive | CPU/req vs Hive |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for row in rows {
        let hive = rows
            .iter()
            .find(|r| r.scenario == row.scenario && r.gateway == "hive")
            .map(|r| &r.result);
        let m = &row.result;
        let ratio = |ours: f64, theirs: Option<f64>| match theirs {
            Some(t) if t > 0.0 => format!("{:.2}×", ours / t),
            _ => "–".to_owned(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.0} | {:.2} | {} | {} | {} | {} |\n",
            row.scenario,
            row.gateway,
            m.requests,
            m.rps,
            m.p50_ms,
            m.p99_ms,
            m.peak_rss_mib,
            m.cpu_us_per_request,
            m.subgraph_requests_per_request,
            m.failures,
            if row.same_answer { "yes" } else { "NO" },
            ratio(m.rps, hive.map(|h| h.rps)),
            ratio(m.cpu_us_per_request, hive.map(|h| h.cpu_us_per_request)),
        ));
    }
    out
}
