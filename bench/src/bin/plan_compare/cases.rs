//! The operations compared, read from where they live: the planner's snapshots, the audit's
//! suites (`test.ts` files and the supergraphs its subgraph server composed), the reference
//! supergraph's benchmark loads, and the public benchmark's k6 query. Nothing of the audit or
//! the public benchmark is committed; their paths come from the command line.

use std::path::{Path, PathBuf};

use crate::error::CompareError;

/// Where an operation comes from: one table row of the report each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Snapshots,
    Audit,
    Reference,
    PublicBenchmark,
    Generated,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Snapshots => "plan snapshots",
            Source::Audit => "audit suites' tests",
            Source::Reference => "reference supergraph (gateway-load)",
            Source::PublicBenchmark => "public benchmark (k6 query)",
            Source::Generated => "generated over the audit supergraphs",
        }
    }
}

/// One operation on one supergraph.
#[derive(Clone, Debug)]
pub struct Case {
    pub source: Source,
    /// Names it in the report: the snapshot, the audit suite and test number, ...
    pub name: String,
    pub supergraph: PathBuf,
    pub operation: String,
    /// Progressive-override labels switched on (the same on both sides).
    pub labels: Vec<String>,
}

fn read(path: &Path) -> Result<String, CompareError> {
    std::fs::read_to_string(path).map_err(|e| CompareError::Read(path.to_owned(), e))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, CompareError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CompareError::Read(dir.to_owned(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The operations of the planner's snapshots (`gateway/federation/src/plan/snapshots`), each
/// on the fixture its test names (`tests/fixtures/<fixture>/supergraph.graphql`).
pub fn snapshots(federation: &Path) -> Result<Vec<Case>, CompareError> {
    let dir = federation.join("src/plan/snapshots");
    let mut cases = Vec::new();
    for path in sorted_entries(&dir)? {
        if path.extension().and_then(|e| e.to_str()) != Some("snap") {
            continue;
        }
        let text = read(&path)?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let name = stem.rsplit("__").next().unwrap_or(stem).to_owned();
        let parsed = parse_snapshot(&text).ok_or_else(|| CompareError::Unreadable {
            path: path.clone(),
            what: "no fixture or operation found in the snapshot",
        })?;
        let supergraph = federation
            .join("tests/fixtures")
            .join(&parsed.fixture)
            .join("supergraph.graphql");
        let several = parsed.operations.len() > 1;
        for (i, (operation, labels)) in parsed.operations.into_iter().enumerate() {
            cases.push(Case {
                source: Source::Snapshots,
                name: if several {
                    format!("{name} #{}", i + 1)
                } else {
                    name.clone()
                },
                supergraph: supergraph.clone(),
                operation,
                labels,
            });
        }
    }
    Ok(cases)
}

/// A snapshot's fixture and operations (with their labels).
#[derive(Debug, PartialEq)]
pub struct ParsedSnapshot {
    pub fixture: String,
    pub operations: Vec<(String, Vec<String>)>,
}

/// Reads what `plan/tests.rs` wrote: the header's `expression:` names the fixture as the first
/// argument of `plan_text`, `plan_json` or `plan_with_labels`; in the body, every one-line
/// paragraph is an operation (plans take several lines), `… with labels {"a", "b"}` when the
/// test switched labels on.
pub fn parse_snapshot(text: &str) -> Option<ParsedSnapshot> {
    let rest = text.strip_prefix("---\n")?;
    let (header, body) = rest.split_once("\n---\n")?;
    let expression = header
        .lines()
        .find_map(|l| l.strip_prefix("expression: "))?;
    let fixture = ["plan_text(", "plan_json(", "plan_with_labels("]
        .iter()
        .filter_map(|f| expression.find(f).map(|at| &expression[at + f.len()..]))
        .next()
        .and_then(|args| {
            let args = args.strip_prefix("\\\"")?;
            args.split_once("\\\"")
                .map(|(fixture, _)| fixture.to_owned())
        })?;
    let mut operations = Vec::new();
    for paragraph in body.split("\n\n") {
        let paragraph = paragraph.trim();
        if paragraph.is_empty() || paragraph.contains('\n') || paragraph.starts_with("QueryPlan") {
            continue;
        }
        match paragraph.split_once(" with labels ") {
            Some((operation, labels)) => operations.push((
                operation.to_owned(),
                labels
                    .split('"')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect(),
            )),
            None => operations.push((paragraph.to_owned(), Vec::new())),
        }
    }
    if operations.is_empty() {
        return None;
    }
    Some(ParsedSnapshot {
        fixture,
        operations,
    })
}

/// The audit's suites that have a stored supergraph, sorted: (suite id, supergraph path).
pub fn audit_supergraphs(supergraphs: &Path) -> Result<Vec<(String, PathBuf)>, CompareError> {
    Ok(sorted_entries(supergraphs)?
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?;
            let suite = name
                .strip_prefix("supergraph-")?
                .strip_suffix(".graphql")?
                .to_owned();
            Some((suite, path))
        })
        .collect())
}

/// Every test operation of every audit suite whose supergraph is stored.
pub fn audit(repo: &Path, supergraphs: &Path) -> Result<Vec<Case>, CompareError> {
    let mut cases = Vec::new();
    for (suite, supergraph) in audit_supergraphs(supergraphs)? {
        let test = repo.join("src/test-suites").join(&suite).join("test.ts");
        let text = read(&test)?;
        for (i, operation) in test_operations(&text).into_iter().enumerate() {
            cases.push(Case {
                source: Source::Audit,
                name: format!("{suite} #{}", i + 1),
                supergraph: supergraph.clone(),
                operation,
                labels: Vec::new(),
            });
        }
    }
    Ok(cases)
}

/// The first argument of each `createTest(` in a suite's `test.ts`: a template literal
/// (after an optional `/* GraphQL */`). A `${...}` in it (a request id the suite makes up at
/// run time) becomes `x`: it only ever stands in a string argument.
pub fn test_operations(test_ts: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = test_ts;
    while let Some(at) = rest.find("createTest(") {
        rest = &rest[at + "createTest(".len()..];
        let mut arg = rest.trim_start();
        if let Some(after) = arg.strip_prefix("/*") {
            let Some(end) = after.find("*/") else { break };
            arg = after[end + 2..].trim_start();
        }
        let Some(literal) = arg.strip_prefix('`') else {
            continue;
        };
        let Some(end) = literal.find('`') else { break };
        out.push(substitute_placeholders(literal[..end].trim()));
        rest = &literal[end + 1..];
    }
    out
}

fn substitute_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        match rest[at..].find('}') {
            Some(end) => {
                out.push('x');
                rest = &rest[at + end + 1..];
            }
            None => {
                rest = &rest[at..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// gateway-load's operations on the reference supergraph (bench/src/bin/gateway_load/
/// scenarios.rs): the classic heavy query (loads a and b), and the product mixes (c and d).
pub const REFERENCE_OPERATIONS: &[(&str, &str)] = &[
    (
        "heavy (loads a, b)",
        "{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }",
    ),
    (
        "product mix (load c)",
        "{ topProducts(first: 3) { upc name price shippingEstimate reviews { body author { username } } } }",
    ),
    (
        "product mix with inStock (load d)",
        "{ topProducts(first: 3) { upc name price inStock shippingEstimate reviews { body author { username } } } }",
    ),
];

pub fn reference(workspace: &Path) -> Vec<Case> {
    let supergraph = workspace.join("schema/supergraph.graphql");
    REFERENCE_OPERATIONS
        .iter()
        .map(|(name, operation)| Case {
            source: Source::Reference,
            name: (*name).to_owned(),
            supergraph: supergraph.clone(),
            operation: (*operation).to_owned(),
            labels: Vec::new(),
        })
        .collect()
}

/// The public benchmark's (graphql-hive/graphql-gateways-benchmark) query, read from its
/// `k6.js` (the template literal after `query:`), on the supergraph it gives Hive Router.
pub fn public_benchmark(gwb: &Path) -> Result<Vec<Case>, CompareError> {
    let k6 = gwb.join("k6.js");
    let text = read(&k6)?;
    let operation = text
        .split_once("query: `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(query, _)| query.trim().to_owned())
        .ok_or(CompareError::Unreadable {
            path: k6,
            what: "no query: `...` in it",
        })?;
    Ok(vec![Case {
        source: Source::PublicBenchmark,
        name: "k6 TestQuery".to_owned(),
        supergraph: gwb.join("gateways/hive-router/supergraph.graphql"),
        operation,
        labels: Vec::new(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_gives_its_fixture_and_operation() {
        let text = "---\nsource: gateway/federation/src/plan/tests.rs\nexpression: \"plan_text(\\\"reference\\\",\\n\\\"{ me { id } }\\\")\"\n---\n{ me { id } }\n\nQueryPlan {\n  Fetch(service: \"accounts\") {\n    query { me { id } }\n  },\n}\n";
        assert_eq!(
            parse_snapshot(text),
            Some(ParsedSnapshot {
                fixture: "reference".to_owned(),
                operations: vec![("{ me { id } }".to_owned(), Vec::new())],
            })
        );
    }

    #[test]
    fn a_labels_snapshot_gives_each_operation_with_its_labels() {
        let text = "---\nsource: x\nexpression: \"format!(\\\"{}\\\\n\\\\n{}\\\", plan_with_labels(\\\"fed2-features\\\", q, &[]),\\nplan_with_labels(\\\"fed2-features\\\", q, &[\\\"percent(50)\\\"]))\"\n---\n{ a } with labels {}\n\nQueryPlan {\n}\n\n{ a } with labels {\"percent(50)\"}\n\nQueryPlan {\n}\n";
        let parsed = parse_snapshot(text).map(|p| (p.fixture, p.operations));
        assert_eq!(
            parsed,
            Some((
                "fed2-features".to_owned(),
                vec![
                    ("{ a }".to_owned(), Vec::new()),
                    ("{ a }".to_owned(), vec!["percent(50)".to_owned()]),
                ]
            ))
        );
    }

    #[test]
    fn every_committed_snapshot_parses() {
        let federation = Path::new(env!("CARGO_MANIFEST_DIR")).join("../gateway/federation");
        let cases = snapshots(&federation).expect("snapshots read");
        assert!(cases.len() >= 56, "{} cases", cases.len());
        assert!(cases.iter().all(|c| c.supergraph.exists()));
        assert!(cases.iter().any(|c| c.labels == ["percent(50)"]));
    }

    #[test]
    fn test_ts_gives_each_create_test_query() {
        let ts = "import { createTest } from \"../../testkit.js\";\nexport default [\n  createTest(\n    /* GraphQL */ `\n      query { a(id: \"${randomId}\") }\n    `,\n    { data: {} },\n  ),\n  createTest(`{ b }`, { data: {} }),\n];\n";
        assert_eq!(
            test_operations(ts),
            vec!["query { a(id: \"x\") }".to_owned(), "{ b }".to_owned()]
        );
    }
}
