//! `weft check`: what a proposed subgraph change does. Composition errors first, then the
//! classified API diff, federation-only changes, client operations that stop validating, and
//! client operations whose plans cost a different number of subgraph requests.
//! Exit status: 0 clean, 1 breaking (or composition error, or broken operation), 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde::Serialize;
use weft_federation::check::operations::{OperationVerdict, check as check_operation};
use weft_federation::check::plan_impact::{PlanImpact, PlanShape, impacts};
use weft_federation::check::{Category, Change, Severity, api_diff, federation_diff, recompose};
use weft_federation::compose::{CompositionDiagnostic, SubgraphInput, compose};
use weft_federation::graph::QueryGraph;
use weft_federation::{Supergraph, SupergraphError};

use crate::report::{self, INPUT_ERROR, errln, line};

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The current supergraph SDL.
    #[arg(long)]
    supergraph: PathBuf,
    /// A proposed subgraph schema: NAME=FILE (repeatable). A new NAME adds a subgraph.
    #[arg(long = "subgraph", value_name = "NAME=FILE", required = true)]
    subgraphs: Vec<String>,
    /// The current subgraphs, exactly, instead of recovering them from the supergraph: a
    /// Rover-style supergraph.yaml, or NAME=FILE (repeatable). Subgraphs not given are
    /// recovered.
    #[arg(long, value_name = "SUPERGRAPH_YAML|NAME=FILE")]
    current: Vec<String>,
    /// Client operations to check, as glob patterns (`'ops/**/*.graphql'`; repeatable).
    #[arg(long, value_name = "GLOB")]
    operations: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Fail (exit 1) when composing the proposal gives a hint the current subgraphs do not.
    #[arg(long)]
    fail_on_hints: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    ok: bool,
    composition: CompositionReport,
    changes: Vec<ChangeReport>,
    operations: Vec<OperationReport>,
    summary: Summary,
}

#[derive(Debug, Serialize)]
struct CompositionReport {
    ok: bool,
    errors: Vec<DiagnosticReport>,
    hints: Vec<DiagnosticReport>,
}

#[derive(Debug, Serialize)]
struct DiagnosticReport {
    code: &'static str,
    message: String,
    locations: Vec<LocationReport>,
    hint: Option<String>,
}

#[derive(Debug, Serialize)]
struct LocationReport {
    subgraph: String,
    file: String,
    line: usize,
    column: usize,
}

#[derive(Debug, Serialize)]
struct ChangeReport {
    severity: &'static str,
    category: &'static str,
    code: &'static str,
    path: String,
    message: String,
}

#[derive(Debug, Serialize)]
struct OperationReport {
    file: String,
    /// `valid`, `broken`, `unplannable` (valid, but the proposed supergraph cannot plan it) or
    /// `already-invalid`.
    status: &'static str,
    problems: Vec<ProblemReport>,
    /// The operations of the file whose plans change (valid ones only).
    plans: Vec<PlanReport>,
}

#[derive(Debug, Serialize)]
struct PlanReport {
    /// The operation's name; `null` for the file's anonymous operation.
    operation: Option<String>,
    before: ShapeReport,
    /// `null` when the proposed supergraph cannot plan it (see `error`).
    after: Option<ShapeReport>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct ShapeReport {
    requests: usize,
    waves: usize,
    subgraphs: Vec<String>,
}

impl From<&PlanShape> for ShapeReport {
    fn from(s: &PlanShape) -> ShapeReport {
        ShapeReport {
            requests: s.requests,
            waves: s.waves,
            subgraphs: s.subgraphs.iter().cloned().collect(),
        }
    }
}

impl PlanReport {
    /// `Name: subgraph requests 2 -> 1, waves 2 -> 1`, or `None` when it cannot be planned.
    fn change(&self) -> Option<String> {
        let a = self.after.as_ref()?;
        Some(format!(
            "{}: subgraph requests {} -> {}, waves {} -> {}",
            self.name(),
            self.before.requests,
            a.requests,
            self.before.waves,
            a.waves
        ))
    }

    fn name(&self) -> &str {
        self.operation.as_deref().unwrap_or("(anonymous)")
    }
}

impl From<PlanImpact> for PlanReport {
    fn from(p: PlanImpact) -> PlanReport {
        let (after, error) = match &p.after {
            Ok(s) => (Some(s.into()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        PlanReport {
            operation: p.operation,
            before: (&p.before).into(),
            after,
            error,
        }
    }
}

#[derive(Debug, Serialize)]
struct ProblemReport {
    line: usize,
    column: usize,
    message: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    breaking: usize,
    dangerous: usize,
    safe: usize,
    federation: usize,
    broken_operations: usize,
    /// Operations whose plan changes shape.
    changed_plans: usize,
    /// Operations the proposed supergraph cannot plan (counted as broken too).
    unplannable_operations: usize,
}

pub fn run(args: CheckArgs) -> ExitCode {
    match build_report(&args) {
        Ok(report) => {
            let status = if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
            let text = match args.format {
                Format::Text => text(&report),
                Format::Json => match serde_json::to_string_pretty(&report) {
                    Ok(json) => format!("{json}\n"),
                    Err(e) => {
                        errln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                },
                Format::Github => github(&report),
            };
            report::print_then(&text, status)
        }
        Err(e) => {
            if let CheckError::InvalidSupergraph { error, .. } = &e {
                report::supergraph_error(error);
            }
            errln!("error: {e}");
            ExitCode::from(INPUT_ERROR)
        }
    }
}

/// Why `weft check` could not compare (bad input: exit status 2).
#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error("{name}: {source}")]
    Unreadable {
        name: String,
        source: std::io::Error,
    },
    /// `error`'s diagnostics are printed before this line.
    #[error("{name} is not a valid supergraph")]
    InvalidSupergraph {
        name: String,
        error: SupergraphError,
    },
    #[error(transparent)]
    NamedFile(#[from] NamedFileError),
    #[error("--current: {0}")]
    Current(#[from] crate::cli::compose::LoadError),
    /// The proposed subgraphs composed into a supergraph that does not load.
    #[error(transparent)]
    Proposed(SupergraphError),
    #[error("--operations `{pattern}`: {source}")]
    Pattern {
        pattern: String,
        source: glob::PatternError,
    },
    /// A path the pattern matched cannot be listed.
    #[error(transparent)]
    Glob(#[from] glob::GlobError),
    #[error("{}: {source}", path.display())]
    Operations {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A `--subgraph` or `--current` `NAME=FILE` that gives no SDL (`flag` is which).
#[derive(Debug, thiserror::Error)]
enum NamedFileError {
    #[error("{flag} `{spec}`: expected NAME=FILE")]
    NotNameEqualsFile { flag: &'static str, spec: String },
    #[error("{flag} {name}: {file}: {source}")]
    Unreadable {
        flag: &'static str,
        name: String,
        file: String,
        source: std::io::Error,
    },
}

fn build_report(args: &CheckArgs) -> Result<Report, CheckError> {
    let name = args.supergraph.display().to_string();
    let sdl = match std::fs::read_to_string(&args.supergraph) {
        Ok(sdl) => sdl,
        Err(source) => return Err(CheckError::Unreadable { name, source }),
    };
    let current = match Supergraph::parse(&sdl, &name) {
        Ok(current) => current,
        Err(error) => return Err(CheckError::InvalidSupergraph { name, error }),
    };
    let mut proposed: Vec<SubgraphInput> = Vec::new();
    for spec in &args.subgraphs {
        proposed.push(named_file("--subgraph", spec)?);
    }
    let mut given: Vec<SubgraphInput> = Vec::new();
    for spec in &args.current {
        match spec.split_once('=') {
            Some(_) => given.push(named_file("--current", spec)?),
            None => given.extend(crate::cli::compose::load(&PathBuf::from(spec))?.0),
        }
    }
    let inputs = recompose::inputs(&current, &name, &given, &proposed);
    let mut report = Report {
        ok: true,
        composition: CompositionReport {
            ok: true,
            errors: Vec::new(),
            hints: Vec::new(),
        },
        changes: Vec::new(),
        operations: Vec::new(),
        summary: Summary::default(),
    };
    let hints = |list: &[CompositionDiagnostic]| -> Vec<DiagnosticReport> {
        list.iter()
            .filter_map(|h| recompose::locate_hint(h, &inputs))
            .map(|h| diagnostic(&h))
            .collect()
    };
    let next = match compose(&inputs.inputs) {
        Ok(composed) => {
            report.composition.hints = hints(&composed.hints);
            Supergraph::parse(&composed.supergraph_sdl, "proposed supergraph")
                .map_err(CheckError::Proposed)?
        }
        Err(failed) => {
            report.ok = false;
            report.composition.ok = false;
            report.composition.errors = failed
                .errors
                .iter()
                .map(|e| diagnostic(&recompose::locate_error(e, &inputs)))
                .collect();
            report.composition.hints = hints(&failed.hints);
            return Ok(report);
        }
    };
    let mut changes: Vec<Change> = api_diff::diff(current.api_schema(), next.api_schema());
    changes.extend(federation_diff::diff(&current, &next));
    changes.sort_by_key(|c| std::cmp::Reverse(c.severity));
    for c in &changes {
        match (c.category, c.severity) {
            (Category::Federation, _) => report.summary.federation += 1,
            (_, Severity::Breaking) => report.summary.breaking += 1,
            (_, Severity::Dangerous) => report.summary.dangerous += 1,
            (_, Severity::Safe) => report.summary.safe += 1,
        }
    }
    report.changes = changes
        .into_iter()
        .map(|c| ChangeReport {
            severity: c.severity.as_str(),
            category: match c.category {
                Category::Api => "api",
                Category::Federation => "federation",
            },
            code: c.code,
            path: c.path,
            message: c.message,
        })
        .collect();
    // Built only when there are operations to plan.
    let mut graphs: Option<(QueryGraph, QueryGraph)> = None;
    for pattern in &args.operations {
        let paths = glob::glob(pattern).map_err(|source| CheckError::Pattern {
            pattern: pattern.clone(),
            source,
        })?;
        for path in paths {
            let path = path?;
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(source) => return Err(CheckError::Operations { path, source }),
            };
            let file = path.display().to_string();
            let (status, problems) =
                match check_operation(current.api_schema(), next.api_schema(), &file, &text) {
                    OperationVerdict::StillValid => ("valid", Vec::new()),
                    OperationVerdict::Broken(p) => ("broken", p),
                    OperationVerdict::AlreadyInvalid(p) => ("already-invalid", p),
                };
            let plans: Vec<PlanReport> = if status == "valid" {
                let (before, after) = graphs.get_or_insert_with(|| {
                    (
                        QueryGraph::new(Arc::new(current.clone())),
                        QueryGraph::new(Arc::new(next.clone())),
                    )
                });
                impacts(before, after, &text)
                    .into_iter()
                    .map(PlanReport::from)
                    .collect()
            } else {
                Vec::new()
            };
            let unplannable = plans.iter().filter(|p| p.error.is_some()).count();
            report.summary.unplannable_operations += unplannable;
            report.summary.changed_plans += plans.len() - unplannable;
            let status = if unplannable > 0 {
                "unplannable"
            } else {
                status
            };
            if status == "broken" || status == "unplannable" {
                report.summary.broken_operations += 1;
            }
            report.operations.push(OperationReport {
                file,
                status,
                plans,
                problems: problems
                    .into_iter()
                    .map(|p| ProblemReport {
                        line: p.line,
                        column: p.column,
                        message: p.message,
                    })
                    .collect(),
            });
        }
    }
    report.ok = report.summary.breaking == 0
        && report.summary.broken_operations == 0
        && (!args.fail_on_hints || report.composition.hints.is_empty());
    Ok(report)
}

/// `NAME=FILE`, read.
fn named_file(flag: &'static str, spec: &str) -> Result<SubgraphInput, NamedFileError> {
    let Some((name, file)) = spec.split_once('=') else {
        return Err(NamedFileError::NotNameEqualsFile {
            flag,
            spec: spec.to_owned(),
        });
    };
    let sdl = std::fs::read_to_string(file).map_err(|source| NamedFileError::Unreadable {
        flag,
        name: name.to_owned(),
        file: file.to_owned(),
        source,
    })?;
    Ok(SubgraphInput {
        name: name.to_owned(),
        url: format!("http://{name}/graphql"),
        sdl,
        source: file.to_owned(),
    })
}

fn diagnostic(d: &CompositionDiagnostic) -> DiagnosticReport {
    DiagnosticReport {
        code: d.code,
        message: d.message.clone(),
        locations: d
            .places
            .iter()
            .map(|p| LocationReport {
                subgraph: p.subgraph.clone(),
                file: p.source.clone(),
                line: p.line,
                column: p.column,
            })
            .collect(),
        hint: d.hint.clone(),
    }
}

/// `file:line:col: ` of a diagnostic's first place, or nothing.
fn at(locations: &[LocationReport]) -> String {
    locations
        .first()
        .map(|l| format!("{}:{}:{}: ", l.file, l.line, l.column))
        .unwrap_or_default()
}

/// The report for people.
fn text(r: &Report) -> String {
    let mut out = String::new();
    if !r.composition.ok {
        line!(
            out,
            "Composition failed ({} errors):",
            r.composition.errors.len()
        );
        for e in &r.composition.errors {
            line!(out, "  {}[{}] {}", at(&e.locations), e.code, e.message);
            if let Some(h) = &e.hint {
                line!(out, "    hint: {h}");
            }
        }
        line!(out, "Result: composition error");
        return out;
    }
    line!(out, "Composition: ok");
    for h in &r.composition.hints {
        line!(
            out,
            "  warning: {}[{}] {}",
            at(&h.locations),
            h.code,
            h.message
        );
    }
    for (label, severity, category) in [
        ("Breaking changes", "breaking", "api"),
        ("Dangerous changes", "dangerous", "api"),
        ("Safe changes", "safe", "api"),
    ] {
        let list: Vec<&ChangeReport> = r
            .changes
            .iter()
            .filter(|c| c.severity == severity && c.category == category)
            .collect();
        if !list.is_empty() {
            line!(out, "{label} ({}):", list.len());
            for c in list {
                line!(out, "  [{}] {}: {}", c.code, c.path, c.message);
            }
        }
    }
    let federation: Vec<&ChangeReport> = r
        .changes
        .iter()
        .filter(|c| c.category == "federation")
        .collect();
    if !federation.is_empty() {
        line!(
            out,
            "Federation changes, which affect query plans ({}):",
            federation.len()
        );
        for c in federation {
            line!(
                out,
                "  [{}] ({}) {}: {}",
                c.code,
                c.severity,
                c.path,
                c.message
            );
        }
    }
    if !r.operations.is_empty() {
        line!(
            out,
            "Operations: {} checked, {} broken, {} with changed plans",
            r.operations.len(),
            r.summary.broken_operations,
            r.summary.changed_plans
        );
        for op in &r.operations {
            for p in &op.plans {
                match (p.change(), &p.after) {
                    (Some(change), Some(a)) => line!(
                        out,
                        "  {}: {change} ({} -> {})",
                        op.file,
                        p.before.subgraphs.join(", "),
                        a.subgraphs.join(", ")
                    ),
                    _ => line!(
                        out,
                        "  {}: {}: cannot be planned any more: {}",
                        op.file,
                        p.name(),
                        p.error.as_deref().unwrap_or_default()
                    ),
                }
            }
            for p in &op.problems {
                line!(
                    out,
                    "  {}:{}:{}: {}{}",
                    op.file,
                    p.line,
                    p.column,
                    p.message,
                    if op.status == "already-invalid" {
                        " (already invalid)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    if r.changes.is_empty() {
        line!(out, "No changes.");
    }
    if !r.ok && r.summary.breaking == 0 && r.summary.broken_operations == 0 {
        line!(out, "Result: hints (--fail-on-hints)");
        return out;
    }
    line!(
        out,
        "Result: {}",
        if r.summary.breaking > 0 || r.summary.broken_operations > 0 {
            "breaking"
        } else if r.summary.dangerous > 0 || r.summary.federation > 0 {
            "dangerous"
        } else {
            "safe"
        }
    );
    out
}

/// GitHub Actions workflow commands, escaped as the runner expects.
fn github(r: &Report) -> String {
    let mut out = String::new();
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| esc(s).replace(':', "%3A").replace(',', "%2C");
    for e in &r.composition.errors {
        match e.locations.first() {
            Some(l) => line!(
                out,
                "::error file={},line={},col={},title={}::{}",
                prop(&l.file),
                l.line,
                l.column,
                prop(e.code),
                esc(&e.message)
            ),
            None => line!(out, "::error title={}::{}", prop(e.code), esc(&e.message)),
        }
    }
    for h in &r.composition.hints {
        match h.locations.first() {
            Some(l) => line!(
                out,
                "::warning file={},line={},col={},title={}::{}",
                prop(&l.file),
                l.line,
                l.column,
                prop(h.code),
                esc(&h.message)
            ),
            None => line!(out, "::warning title={}::{}", prop(h.code), esc(&h.message)),
        }
    }
    for c in &r.changes {
        let level = match c.severity {
            "breaking" => "error",
            "dangerous" => "warning",
            _ => "notice",
        };
        line!(
            out,
            "::{level} title={}::{}",
            prop(&format!("{} {} ({})", c.severity, c.category, c.code)),
            esc(&c.message)
        );
    }
    for op in &r.operations {
        for p in &op.plans {
            match p.change() {
                Some(change) => line!(
                    out,
                    "::notice file={},title=plan changed::{}",
                    prop(&op.file),
                    esc(&change)
                ),
                None => line!(
                    out,
                    "::error file={},title=operation unplannable::{}: {}",
                    prop(&op.file),
                    esc(p.name()),
                    esc(p.error.as_deref().unwrap_or_default())
                ),
            }
        }
    }
    for op in r.operations.iter().filter(|o| o.status == "broken") {
        for p in &op.problems {
            line!(
                out,
                "::error file={},line={},col={},title=operation broken::{}",
                prop(&op.file),
                p.line,
                p.column,
                esc(&p.message)
            );
        }
    }
    out
}
