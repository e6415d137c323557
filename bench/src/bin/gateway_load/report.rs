//! The Markdown tables: one row per load and gateway, with ratios to Hive Router's row of the
//! same load. With several rounds, each figure is the median of the rounds, and each ratio the
//! median of the rounds' ratios (each taken within one round), with their range.

use crate::drive::Measured;
use crate::forwarder::Tally;

pub struct Row {
    pub scenario: &'static str,
    pub gateway: String,
    pub same_answer: bool,
    /// One per round, in round order.
    pub results: Vec<Measured>,
    /// The public loads: what each subgraph received for the first request of a freshly
    /// started gateway (cold), one per round; empty for the reference loads.
    pub cold: Vec<Vec<Tally>>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

impl Row {
    fn median(&self, f: impl Fn(&Measured) -> f64) -> f64 {
        median(self.results.iter().map(f).collect())
    }
}

/// Hive Router's row of the same load.
fn hive_of<'a>(rows: &'a [Row], row: &Row) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.scenario == row.scenario && r.gateway == "hive")
}

/// This row's figure over Hive Router's, round by round: the median, and the range when there
/// are several rounds.
fn ratio(rows: &[Row], row: &Row, f: impl Fn(&Measured) -> f64) -> String {
    let Some(hive) = hive_of(rows, row) else {
        return "–".to_owned();
    };
    let ratios: Vec<f64> = row
        .results
        .iter()
        .zip(&hive.results)
        .filter(|(_, h)| f(h) > 0.0)
        .map(|(ours, h)| f(ours) / f(h))
        .collect();
    if ratios.is_empty() {
        return "–".to_owned();
    }
    let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mid = median(ratios.clone());
    if ratios.len() == 1 {
        format!("{mid:.2}×")
    } else {
        format!("{mid:.2}× ({min:.2}–{max:.2})")
    }
}

fn header(setup: &str, legend: &[(&str, &str)]) -> String {
    let mut out = format!("Setup: {setup}.\n\n");
    for (name, what) in legend {
        out.push_str(&format!("- ({name}) {what}\n"));
    }
    out.push('\n');
    out
}

pub fn markdown(rows: &[Row], setup: &str, legend: &[(&str, &str)]) -> String {
    let mut out = header(setup, legend);
    out.push_str(
        "| load | gateway | requests | RPS | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | subgraph req/req | failures | same data | RPS vs Hive | CPU/req vs Hive |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.0} | {:.2} | {:.0} | {} | {} | {} |\n",
            row.scenario,
            row.gateway,
            row.median(|m| m.requests as f64),
            row.median(|m| m.rps),
            row.median(|m| m.p50_ms),
            row.median(|m| m.p99_ms),
            row.median(|m| m.peak_rss_mib),
            row.median(|m| m.cpu_us_per_request),
            row.median(|m| m.subgraph_requests_per_request),
            row.median(|m| m.failures as f64),
            if row.same_answer { "yes" } else { "NO" },
            ratio(rows, row, |m| m.rps),
            ratio(rows, row, |m| m.cpu_us_per_request),
        ));
    }
    out
}

/// The public benchmark's loads: the load table, then the cold counts.
pub fn public_markdown(rows: &[Row], setup: &str, legend: &[(&str, &str)]) -> String {
    let mut out = header(setup, legend);
    out.push_str(
        "| load | gateway | requests | RPS | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | gateway CPU | CPU 1 | subgraph req/req | repr./req | failures | same data | RPS vs Hive | CPU/req vs Hive | RSS vs Hive | p50 vs Hive |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0}% | {:.0}% | {:.2} | {:.2} | {:.0} | {} | {} | {} | {} | {} |\n",
            row.scenario,
            row.gateway,
            row.median(|m| m.requests as f64),
            row.median(|m| m.rps),
            row.median(|m| m.p50_ms),
            row.median(|m| m.p99_ms),
            row.median(|m| m.peak_rss_mib),
            row.median(|m| m.cpu_us_per_request),
            row.median(|m| m.cpu_busy * 100.0),
            row.median(|m| m.other_side_busy * 100.0),
            row.median(|m| m.subgraph_requests_per_request),
            row.median(|m| m.representations_per_request.unwrap_or(0.0)),
            row.median(|m| m.failures as f64),
            if row.same_answer { "yes" } else { "NO" },
            ratio(rows, row, |m| m.rps),
            ratio(rows, row, |m| m.cpu_us_per_request),
            ratio(rows, row, |m| m.peak_rss_mib),
            ratio(rows, row, |m| m.p50_ms),
        ));
    }
    out.push_str(
        "\nCold: the first request of a freshly started gateway, alone, as the counting \
         forwarder saw it (requests/representations per subgraph).\n\n",
    );
    out.push_str("| load | gateway | subgraph requests | representations | per subgraph |\n");
    out.push_str("|---|---|---|---|---|\n");
    for row in rows {
        let Some(first) = row.cold.first() else {
            continue;
        };
        let total = |t: &[Tally]| {
            t.iter()
                .fold((0, 0), |(q, r), s| (q + s.requests, r + s.representations))
        };
        let (requests, representations) = total(first);
        let per: Vec<String> = first
            .iter()
            .map(|t| format!("{} {}/{}", t.name, t.requests, t.representations))
            .collect();
        // Planning is deterministic: a round that differs is worth seeing.
        let differs = row.cold.iter().any(|c| c != first);
        let note = if differs {
            let all: Vec<String> = row
                .cold
                .iter()
                .map(|c| {
                    let (q, r) = total(c);
                    format!("{q}/{r}")
                })
                .collect();
            format!(" (rounds differ: {})", all.join(", "))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {} | {} | {requests} | {representations} | {}{note} |\n",
            row.scenario,
            row.gateway,
            per.join(", "),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
