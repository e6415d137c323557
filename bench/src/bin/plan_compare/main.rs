//! `plan-compare`: Weft's query plans against Apollo's `@apollo/query-planner` (run by
//! `bench/peers/apollo-plan.mjs`) for the same operations: fetches per operation and planning
//! time (issue 20). Operations: the planner's snapshots, the audit's suites, the reference
//! supergraph's benchmark loads, the public benchmark's query, and operations generated over
//! the audit's supergraphs. Writes a Markdown report (table, exceptions with both plans,
//! refusals) and one JSON line per operation. See bench/README.md, "Plans against Apollo's".
//!
//! ```sh
//! npm install --prefix bench/peers
//! cargo build --release -p weft-bench --bin plan-compare
//! target/release/plan-compare --audit-repo /work/audit/repo \
//!     --audit-supergraphs /work/audit/supergraphs --gwb /work/bench/gwb
//! ```

mod apollo;
mod cases;
mod count;
mod error;
mod generate;
mod outcome;
mod report;
#[path = "../../rng.rs"]
mod rng;
mod weft_side;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use crate::apollo::ApolloPlanner;
use crate::cases::{Case, Source};
use crate::error::CompareError;
use crate::generate::{Generator, seed_for};
use crate::report::Compared;
use crate::weft_side::WeftPlanner;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SourceArg {
    Snapshots,
    Audit,
    Reference,
    Public,
    Generated,
}

/// Weft's query plans against @apollo/query-planner: fetch counts and planning time.
#[derive(Parser, Debug)]
#[command(name = "plan-compare")]
struct Args {
    /// Which operations to compare.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "snapshots,audit,reference,public,generated"
    )]
    sources: Vec<SourceArg>,
    /// The federation gateway audit's checkout (its src/test-suites/<suite>/test.ts).
    #[arg(long, env = "PLAN_COMPARE_AUDIT_REPO")]
    audit_repo: Option<PathBuf>,
    /// A directory of the audit's supergraphs, one `supergraph-<suite>.graphql` per suite (as
    /// its subgraph server serves them at /<suite>/supergraph).
    #[arg(long, env = "PLAN_COMPARE_AUDIT_SUPERGRAPHS")]
    audit_supergraphs: Option<PathBuf>,
    /// The public benchmark's checkout (graphql-hive/graphql-gateways-benchmark).
    #[arg(long, env = "PLAN_COMPARE_GWB")]
    gwb: Option<PathBuf>,
    /// Generated operations per audit supergraph that both planners plan.
    #[arg(long, default_value_t = 13)]
    generated_per_supergraph: usize,
    /// Items per generated selection set, at most (1 to this many near the root, one fewer
    /// deeper): 3 gives operations of a few fetches, 6 wide fan-outs.
    #[arg(long, default_value_t = 3)]
    width: usize,
    /// The generator's seed; the same seed gives the same operations.
    #[arg(long, default_value_t = 0x5EED)]
    seed: u64,
    /// Timed planning runs per operation (after one untimed); the median is reported.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// The Node.js binary.
    #[arg(long, default_value = "node")]
    node: String,
    /// Apollo's side (default: bench/peers/apollo-plan.mjs).
    #[arg(long)]
    apollo_script: Option<PathBuf>,
    /// Where report.md and results.jsonl go.
    #[arg(long, default_value = "target/plan-compare")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plan-compare: {e}");
            ExitCode::from(2)
        }
    }
}

fn bench_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &Args) -> Result<(), CompareError> {
    let workspace = bench_dir().parent().unwrap_or(bench_dir());
    let wants = |s: SourceArg| args.sources.contains(&s);
    let mut notes = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    if wants(SourceArg::Snapshots) {
        cases.extend(cases::snapshots(&workspace.join("gateway/federation"))?);
    }
    let audit = match (&args.audit_repo, &args.audit_supergraphs) {
        (Some(repo), Some(supergraphs)) => Some((repo, supergraphs)),
        _ => None,
    };
    if wants(SourceArg::Audit) {
        match audit {
            Some((repo, supergraphs)) => cases.extend(cases::audit(repo, supergraphs)?),
            None => notes.push(
                "audit suites skipped: --audit-repo and --audit-supergraphs not given".to_owned(),
            ),
        }
    }
    if wants(SourceArg::Reference) {
        cases.extend(cases::reference(workspace));
    }
    if wants(SourceArg::Public) {
        match &args.gwb {
            Some(gwb) => cases.extend(cases::public_benchmark(gwb)?),
            None => notes.push("public benchmark skipped: --gwb not given".to_owned()),
        }
    }
    let script = args
        .apollo_script
        .clone()
        .unwrap_or_else(|| bench_dir().join("peers/apollo-plan.mjs"));
    let mut apollo = ApolloPlanner::start(&args.node, &script)?;
    let mut results = Vec::new();
    for (supergraph, group) in by_supergraph(cases) {
        let weft = WeftPlanner::load(&supergraph);
        for case in group {
            results.push(compare(&weft, &mut apollo, case, args.reps)?);
            progress(results.len());
        }
    }
    if wants(SourceArg::Generated) {
        match audit {
            Some((_, supergraphs)) => {
                let generated = generate(args, supergraphs, &mut apollo, &mut results)?;
                notes.push(generated);
            }
            None => {
                notes.push("generated operations skipped: --audit-supergraphs not given".to_owned())
            }
        }
    }
    drop(apollo);

    std::fs::create_dir_all(&args.out).map_err(|e| CompareError::Write(args.out.clone(), e))?;
    let command: Vec<String> = std::env::args().collect();
    let report_path = args.out.join("report.md");
    let document = report::document(&results, &command.join(" "), &notes);
    std::fs::write(&report_path, document)
        .map_err(|e| CompareError::Write(report_path.clone(), e))?;
    let jsonl_path = args.out.join("results.jsonl");
    std::fs::write(&jsonl_path, report::json_lines(&results))
        .map_err(|e| CompareError::Write(jsonl_path.clone(), e))?;

    println!("{}", report::table(&results));
    for note in &notes {
        println!("- {note}");
    }
    println!(
        "- counting both branches of every condition: {} operations where Weft > Apollo",
        report::exceptions_counting_both_branches(&results)
    );
    println!(
        "- {} exceptions and {} refusals, with both plans: {} (per operation: {})",
        results.iter().filter(|r| r.is_exception()).count(),
        results.iter().filter(|r| r.both().is_none()).count(),
        report_path.display(),
        jsonl_path.display()
    );
    Ok(())
}

/// The cases grouped by supergraph, groups in the order their supergraph first appears, so
/// each supergraph is loaded once on both sides.
fn by_supergraph(cases: Vec<Case>) -> Vec<(PathBuf, Vec<Case>)> {
    let mut groups: Vec<(PathBuf, Vec<Case>)> = Vec::new();
    for case in cases {
        match groups.iter_mut().find(|(path, _)| *path == case.supergraph) {
            Some((_, group)) => group.push(case),
            None => groups.push((case.supergraph.clone(), vec![case])),
        }
    }
    groups
}

fn compare(
    weft: &WeftPlanner,
    apollo: &mut ApolloPlanner,
    case: Case,
    reps: usize,
) -> Result<Compared, CompareError> {
    let weft_side = weft.plan(&case.operation, &case.labels, reps);
    let apollo_side = apollo.plan(&case.supergraph, &case.operation, &case.labels, reps)?;
    Ok(Compared {
        case,
        weft: weft_side,
        apollo: apollo_side,
    })
}

fn progress(done: usize) {
    if done.is_multiple_of(100) {
        eprintln!("plan-compare: {done} operations");
    }
}

/// Generates operations over each audit supergraph until `--generated-per-supergraph` of them
/// are planned by both (or attempts run out: a small schema has few distinct operations).
/// Operations invalid against Weft's API schema are dropped unplanned; those one planner
/// refuses are kept as refusals. Returns a note on what was generated.
fn generate(
    args: &Args,
    supergraphs: &Path,
    apollo: &mut ApolloPlanner,
    results: &mut Vec<Compared>,
) -> Result<String, CompareError> {
    let per = args.generated_per_supergraph;
    let (mut planned, mut invalid, mut duplicates, mut short) =
        (0usize, 0usize, 0usize, Vec::new());
    for (suite, path) in cases::audit_supergraphs(supergraphs)? {
        let weft = WeftPlanner::load(&path);
        let Some(api) = weft.api_schema() else {
            short.push(format!("{suite} (Weft did not load it)"));
            continue;
        };
        let mut generator = Generator::new(api, seed_for(args.seed, &suite), args.width);
        let mut seen = HashSet::new();
        let (mut accepted, mut attempts) = (0usize, 0usize);
        while accepted < per && attempts < per * 40 {
            attempts += 1;
            let Some(operation) = generator.operation() else {
                break;
            };
            if !seen.insert(operation.clone()) {
                duplicates += 1;
                continue;
            }
            if !weft.validates(&operation) {
                invalid += 1;
                continue;
            }
            let case = Case {
                source: Source::Generated,
                name: format!("{suite} #{}", seen.len()),
                supergraph: path.clone(),
                operation,
                labels: Vec::new(),
            };
            let compared = compare(&weft, apollo, case, args.reps)?;
            if compared.both().is_some() {
                accepted += 1;
            }
            results.push(compared);
            progress(results.len());
        }
        planned += accepted;
        if accepted < per {
            short.push(format!("{suite} ({accepted})"));
        }
    }
    let mut note = format!(
        "generated (seed {}, width {}): {planned} operations planned by both, {per} per audit \
         supergraph; {invalid} generated operations were invalid against the API schema and \
         {duplicates} repeated, dropped before planning",
        args.seed, args.width
    );
    if !short.is_empty() {
        note.push_str(&format!("; fewer than {per} for: {}", short.join(", ")));
    }
    Ok(note)
}
