//! The report: a Markdown table per source (fetch totals, operations where Weft makes more
//! fetches, planning times), then every exception with both plans, then the operations one
//! planner refused; and one JSON line per operation for whoever wants to dig further.

use std::fmt::Write;

use crate::cases::{Case, Source};
use crate::outcome::{Planned, Side, median, percentile};

/// One operation through both planners.
pub struct Compared {
    pub case: Case,
    pub weft: Side,
    pub apollo: Side,
}

impl Compared {
    pub fn both(&self) -> Option<(&Planned, &Planned)> {
        Some((self.weft.planned()?, self.apollo.planned()?))
    }

    /// Weft's plan makes more fetches than Apollo's for the same operation.
    pub fn is_exception(&self) -> bool {
        self.both().is_some_and(|(w, a)| w.fetches > a.fetches)
    }

    fn is_refusal(&self) -> bool {
        self.both().is_none()
    }
}

fn times(ms: &[f64]) -> String {
    format!(
        "{:.2} / {:.2} / {:.2}",
        median(ms),
        percentile(ms, 99.0),
        ms.iter().copied().fold(0.0, f64::max)
    )
}

/// The summary table: one row per source present, then all sources together.
pub fn table(results: &[Compared]) -> String {
    let mut out = String::from(
        "| source | operations | Weft fetches | Apollo fetches | Weft > Apollo | Weft < Apollo | refused (Weft / Apollo) | Weft planning ms (median / p99 / max) | Apollo planning ms (median / p99 / max) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut sources: Vec<Source> = results.iter().map(|r| r.case.source).collect();
    sources.sort();
    sources.dedup();
    let mut rows: Vec<(String, Vec<&Compared>)> = sources
        .iter()
        .map(|s| {
            (
                s.label().to_owned(),
                results.iter().filter(|r| r.case.source == *s).collect(),
            )
        })
        .collect();
    if sources.len() > 1 {
        rows.push(("**all**".to_owned(), results.iter().collect()));
    }
    for (label, rs) in rows {
        let both: Vec<(&Planned, &Planned)> = rs.iter().filter_map(|r| r.both()).collect();
        let weft_ms: Vec<f64> = both.iter().map(|(w, _)| w.median_ms()).collect();
        let apollo_ms: Vec<f64> = both.iter().map(|(_, a)| a.median_ms()).collect();
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} / {} | {} | {} |",
            both.len(),
            both.iter().map(|(w, _)| w.fetches).sum::<usize>(),
            both.iter().map(|(_, a)| a.fetches).sum::<usize>(),
            both.iter().filter(|(w, a)| w.fetches > a.fetches).count(),
            both.iter().filter(|(w, a)| w.fetches < a.fetches).count(),
            rs.iter().filter(|r| r.weft.planned().is_none()).count(),
            rs.iter().filter(|r| r.apollo.planned().is_none()).count(),
            times(&weft_ms),
            times(&apollo_ms),
        );
    }
    out
}

/// How many operations would be exceptions if both branches of every condition counted.
pub fn exceptions_counting_both_branches(results: &[Compared]) -> usize {
    results
        .iter()
        .filter_map(Compared::both)
        .filter(|(w, a)| w.fetches_all_branches > a.fetches_all_branches)
        .count()
}

fn per_subgraph(p: &Planned) -> String {
    p.by_subgraph
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn header(out: &mut String, r: &Compared) {
    let _ = writeln!(out, "### {}: {}\n", r.case.source.label(), r.case.name);
    let _ = writeln!(out, "- supergraph: `{}`", r.case.supergraph.display());
    if !r.case.labels.is_empty() {
        let _ = writeln!(out, "- override labels on: {:?}", r.case.labels);
    }
}

/// The whole report file: what ran, the table, the exceptions, the refusals.
pub fn document(results: &[Compared], command: &str, notes: &[String]) -> String {
    let mut out = String::from("# plan-compare: Weft's plans against @apollo/query-planner\n\n");
    let _ = writeln!(out, "Command: `{command}`\n");
    for note in notes {
        let _ = writeln!(out, "- {note}");
    }
    if !notes.is_empty() {
        out.push('\n');
    }
    out.push_str(
        "Fetches: a `Fetch` or a `BatchFetch` is one; under a `Condition` the larger branch \
         counts (the most requests one client request can cause), on both sides.\n\n",
    );
    out.push_str(&table(results));
    let _ = writeln!(
        out,
        "\nCounting both branches of every condition instead: {} operations where Weft > Apollo.",
        exceptions_counting_both_branches(results)
    );
    let exceptions: Vec<&Compared> = results.iter().filter(|r| r.is_exception()).collect();
    let _ = writeln!(
        out,
        "\n## Exceptions: Weft's plan has more fetches ({})\n",
        exceptions.len()
    );
    for r in exceptions {
        let Some((w, a)) = r.both() else { continue };
        header(&mut out, r);
        let _ = writeln!(
            out,
            "- fetches: Weft {} ({}), Apollo {} ({})\n",
            w.fetches,
            per_subgraph(w),
            a.fetches,
            per_subgraph(a)
        );
        let _ = writeln!(
            out,
            "```graphql\n{}\n```\n\nWeft:\n\n```\n{}\n```\n\nApollo:\n\n```\n{}\n```\n",
            r.case.operation,
            w.plan.trim_end(),
            a.plan.trim_end()
        );
    }
    let refusals: Vec<&Compared> = results.iter().filter(|r| r.is_refusal()).collect();
    let _ = writeln!(
        out,
        "## Refused by one planner or both ({})\n",
        refusals.len()
    );
    for r in refusals {
        header(&mut out, r);
        for (who, side) in [("Weft", &r.weft), ("Apollo", &r.apollo)] {
            match side {
                Side::Planned(p) => {
                    let _ = writeln!(out, "- {who}: planned, {} fetches", p.fetches);
                }
                Side::Refused { stage, error } => {
                    let error: String = error.chars().take(400).collect();
                    let _ = writeln!(
                        out,
                        "- {who}: refused at {}: {}",
                        stage.label(),
                        error.replace('\n', " ")
                    );
                }
            }
        }
        let _ = writeln!(out, "\n```graphql\n{}\n```\n", r.case.operation);
        for (who, side) in [("Weft", &r.weft), ("Apollo", &r.apollo)] {
            if let Side::Planned(p) = side {
                let _ = writeln!(out, "{who}:\n\n```\n{}\n```\n", p.plan.trim_end());
            }
        }
    }
    out
}

fn side_json(side: &Side) -> serde_json::Value {
    match side {
        Side::Planned(p) => serde_json::json!({
            "fetches": p.fetches,
            "fetchesAllBranches": p.fetches_all_branches,
            "bySubgraph": p.by_subgraph,
            "medianMs": p.median_ms(),
        }),
        Side::Refused { stage, error } => serde_json::json!({
            "refused": stage.label(),
            "error": error,
        }),
    }
}

/// One JSON object per operation, a line each.
pub fn json_lines(results: &[Compared]) -> String {
    let mut out = String::new();
    for r in results {
        let line = serde_json::json!({
            "source": r.case.source.label(),
            "name": r.case.name,
            "supergraph": r.case.supergraph.display().to_string(),
            "operation": r.case.operation,
            "labels": r.case.labels,
            "weft": side_json(&r.weft),
            "apollo": side_json(&r.apollo),
        });
        let _ = writeln!(out, "{line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::outcome::Stage;

    fn planned(fetches: usize, ms: f64) -> Side {
        Side::Planned(Planned {
            fetches,
            fetches_all_branches: fetches,
            by_subgraph: BTreeMap::new(),
            times_ms: vec![ms],
            plan: format!("QueryPlan with {fetches}"),
        })
    }

    fn compared(source: Source, name: &str, weft: Side, apollo: Side) -> Compared {
        Compared {
            case: Case {
                source,
                name: name.to_owned(),
                supergraph: PathBuf::from("s.graphql"),
                operation: "{ a }".to_owned(),
                labels: Vec::new(),
            },
            weft,
            apollo,
        }
    }

    #[test]
    fn the_table_totals_each_source_and_the_report_lists_exceptions_and_refusals() {
        let results = vec![
            compared(Source::Snapshots, "one", planned(2, 1.0), planned(3, 4.0)),
            compared(Source::Snapshots, "two", planned(4, 2.0), planned(3, 5.0)),
            compared(
                Source::Generated,
                "g1",
                Side::Refused {
                    stage: Stage::Plan,
                    error: "no plan".to_owned(),
                },
                planned(1, 1.0),
            ),
        ];
        let table = table(&results);
        assert!(
            table.contains("| plan snapshots | 2 | 6 | 6 | 1 | 1 | 0 / 0 | 1.50 / 2.00 / 2.00 | 4.50 / 5.00 / 5.00 |"),
            "{table}"
        );
        assert!(
            table.contains("| generated over the audit supergraphs | 0 | 0 | 0 | 0 | 0 | 1 / 0 |"),
            "{table}"
        );
        assert!(table.contains("| **all** | 2 |"), "{table}");
        let doc = document(&results, "plan-compare", &[]);
        assert!(doc.contains("## Exceptions: Weft's plan has more fetches (1)"));
        assert!(doc.contains("### plan snapshots: two"));
        assert!(doc.contains("QueryPlan with 4"));
        assert!(doc.contains("- Weft: refused at planning: no plan"));
        assert!(doc.contains("Apollo:\n\n```\nQueryPlan with 1\n```"));
        assert_eq!(json_lines(&results).lines().count(), 3);
    }
}
