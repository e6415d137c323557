#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The `weft check` classification corpus: pairs of schemas under `tests/check_corpus/`, each
//! with the classification a GraphQL schema-diff user expects (`expected.json`, written from
//! graphql-js's `findBreakingChanges`/`findDangerousChanges` and docs/check.md, not from
//! Weft's output).
//!
//! A case directory holds either
//! - `before.graphql` / `after.graphql`: two API schemas, compared with [`api_diff::diff`]; or
//! - `before/` / `after/`: subgraph SDLs (`<name>.graphql`, optional `routing_urls.json`
//!   mapping names to URLs), composed by Weft into two supergraphs and compared with
//!   [`api_diff::diff`] on their API schemas and [`federation_diff::diff`] on the supergraphs.
//!   Each is also run the way `weft check` runs it, on three current supergraphs: Weft's
//!   composition of `before/`, and Apollo's and Hive's (`bases/`, written by the oracle script,
//!   `oracle.mjs --bases`). On each, every subgraph proposed unchanged must report no change and
//!   no hint; and when no subgraph is removed and no URL changes, proposing `after/` (the
//!   others recovered from the supergraph, or read from `before/` as with `--current`) must give
//!   the changes of composing `after/` directly. Every run's verdict must be the same on the
//!   three bases.
//!
//! `expected.json`: `{"breaking": ["CODE path"], "dangerous": [...], "safe": [...],
//! "federation": ["severity CODE path"], "notes": "..."}`; lists are compared as sets. An
//! optional `"check_style_known_issue": "why"` records that the `weft check`-style run is
//! known to differ for that case (the test then insists that it still does);
//! `"base_known_issues": {"hive": "why"}` does the same for the runs on one base.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use apollo_compiler::Schema;
use weft_federation::Supergraph;
use weft_federation::check::{Category, Change, Severity, api_diff, federation_diff, recompose};
use weft_federation::compose::{SubgraphInput, compose};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/check_corpus")
}

/// Every case directory, sorted by name.
fn cases() -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(corpus())
        .expect("tests/check_corpus")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, p)
        })
        .collect();
    cases.sort();
    cases
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a case produced: the changes, plus problems met on the way (which are disagreements
/// too, e.g. the `weft check`-style run giving something else).
struct Outcome {
    changes: Vec<Change>,
    /// Each with the base it was met on (`None`: not base-specific).
    problems: Vec<(Option<&'static str>, String)>,
    /// `(base, proposal, verdict)` of every `weft check`-style run.
    verdicts: Vec<(&'static str, String, &'static str)>,
}

/// What `weft check` would conclude: its exit status, in words.
fn verdict(outcome: &Result<Vec<Change>, Vec<String>>) -> &'static str {
    match outcome {
        Err(_) => "composition error",
        Ok(c)
            if c.iter()
                .any(|c| c.severity == Severity::Breaking && c.category == Category::Api) =>
        {
            "breaking"
        }
        Ok(_) => "passes",
    }
}

/// `checks`: also run `weft check` on the three bases (the snapshots only need the changes).
fn run(dir: &Path, checks: bool) -> Result<Outcome, String> {
    if dir.join("before.graphql").is_file() {
        let parse = |file: &str| {
            let path = dir.join(file);
            Schema::parse_and_validate(read(&path), &path)
                .map_err(|e| format!("{file} is not a valid schema:\n{}", e.errors))
        };
        let (old, new) = (parse("before.graphql")?, parse("after.graphql")?);
        Ok(Outcome {
            changes: api_diff::diff(&old, &new),
            problems: Vec::new(),
            verdicts: Vec::new(),
        })
    } else if dir.join("before").is_dir() {
        federation_case(dir, checks)
    } else {
        Err("neither before.graphql nor before/".to_owned())
    }
}

/// The subgraphs of one side: `<name>.graphql` files, URLs from `routing_urls.json` if given.
fn subgraphs(dir: &Path) -> Vec<SubgraphInput> {
    let urls: BTreeMap<String, String> =
        match std::fs::read_to_string(dir.join("routing_urls.json")) {
            Ok(text) => serde_json::from_str(&text).expect("routing_urls.json: {name: url}"),
            Err(_) => BTreeMap::new(),
        };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            SubgraphInput {
                url: urls
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| format!("http://{name}/graphql")),
                sdl: read(&path),
                source: path.display().to_string(),
                name,
            }
        })
        .collect()
}

fn supergraph(inputs: &[SubgraphInput], label: &str) -> Result<Supergraph, String> {
    let composed = compose(inputs).map_err(|e| format!("{label} does not compose: {e}"))?;
    Supergraph::parse(&composed.supergraph_sdl, label)
        .map_err(|e| format!("{label} supergraph does not load: {e}"))
}

fn all_changes(old: &Supergraph, new: &Supergraph) -> Vec<Change> {
    let mut changes = api_diff::diff(old.api_schema(), new.api_schema());
    changes.extend(federation_diff::diff(old, new));
    changes
}

/// The current supergraphs a federation case is checked against: Weft's composition of
/// `before/`, and Apollo's and Hive's (`bases/*.graphql`, written by the oracle script:
/// `node gateway/federation/oracle/oracle.mjs --bases`).
fn bases(dir: &Path, weft: &Supergraph) -> Vec<(&'static str, Supergraph)> {
    let mut out = vec![("weft", weft.clone())];
    for name in ["apollo", "hive"] {
        let path = dir.join("bases").join(format!("{name}.graphql"));
        let sdl = read(&path);
        let sg = Supergraph::parse(&sdl, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((name, sg));
    }
    out
}

/// What `weft check` does on `base` with `proposed` (and `given` current files): the changes,
/// or the composition errors; and the hints it shows.
fn check_style(
    base: &Supergraph,
    given: &[SubgraphInput],
    proposed: &[SubgraphInput],
) -> (Result<Vec<Change>, Vec<String>>, Vec<String>) {
    let inputs = recompose::inputs(base, "current supergraph", given, proposed);
    match compose(&inputs.inputs) {
        Ok(composed) => {
            let hints = composed
                .hints
                .iter()
                .filter_map(|h| recompose::locate_hint(h, &inputs))
                .map(|h| h.to_string())
                .collect();
            let next = Supergraph::parse(&composed.supergraph_sdl, "proposed")
                .expect("a composed supergraph loads");
            (Ok(all_changes(base, &next)), hints)
        }
        Err(failed) => (
            Err(failed
                .errors
                .iter()
                .map(|e| recompose::locate_error(e, &inputs).to_string())
                .collect()),
            Vec::new(),
        ),
    }
}

fn federation_case(dir: &Path, checks: bool) -> Result<Outcome, String> {
    let (before, after) = (
        subgraphs(&dir.join("before")),
        subgraphs(&dir.join("after")),
    );
    let old = supergraph(&before, "before")?;
    let new = supergraph(&after, "after")?;
    let changes = all_changes(&old, &new);
    let direct = keys(&changes);
    let mut problems = Vec::new();
    let mut verdicts = Vec::new();
    // As `weft check --subgraph NAME=FILE` for the changed and added subgraphs, on each base:
    // the others are recovered from the current supergraph (or, with `--current`, read from
    // before/). Only possible without removals or URL changes.
    let comparable = before
        .iter()
        .all(|b| after.iter().any(|a| a.name == b.name && a.url == b.url));
    let proposed: Vec<SubgraphInput> = after
        .iter()
        .filter(|a| !before.iter().any(|b| b.name == a.name && b.sdl == a.sdl))
        .cloned()
        .collect();
    let bases = if checks { bases(dir, &old) } else { Vec::new() };
    for (base_name, base) in bases {
        // A no-op proposal of each subgraph: no change, no hint, on every base.
        for b in &before {
            let (outcome, hints) = check_style(&base, &[], std::slice::from_ref(b));
            verdicts.push((
                base_name,
                format!("{} unchanged", b.name),
                verdict(&outcome),
            ));
            let mut problem = |p: String| problems.push((Some(base_name), p));
            match outcome {
                Ok(c) if c.is_empty() && hints.is_empty() => {}
                Ok(c) => problem(format!(
                    "[{base_name} base] proposing `{}` unchanged reports {:?}, hints {hints:?}",
                    b.name,
                    keys(&c)
                )),
                Err(e) => problem(format!(
                    "[{base_name} base] proposing `{}` unchanged fails to compose: {e:?}",
                    b.name
                )),
            }
        }
        if !comparable {
            continue;
        }
        for (how, given) in [("recovered", &[][..]), ("--current", &before[..])] {
            let outcome = check_style(&base, given, &proposed).0;
            verdicts.push((base_name, format!("after/, {how}"), verdict(&outcome)));
            let mut problem = |p: String| problems.push((Some(base_name), p));
            match outcome {
                Ok(c) => {
                    let checked = keys(&c);
                    for k in direct.difference(&checked) {
                        problem(format!(
                            "[{base_name} base, {how}] `{k}` is found composing after/ but not by `weft check`"
                        ));
                    }
                    for k in checked.difference(&direct) {
                        problem(format!(
                            "[{base_name} base, {how}] `{k}` is reported only by `weft check`"
                        ));
                    }
                }
                Err(e) => problem(format!(
                    "[{base_name} base, {how}] `weft check` fails to compose: {e:?}"
                )),
            }
        }
    }
    Ok(Outcome {
        changes,
        problems,
        verdicts,
    })
}

/// `severity category CODE path` for each change.
fn keys(changes: &[Change]) -> BTreeSet<String> {
    changes
        .iter()
        .map(|c| format!("{} {} {} {}", c.severity, category(c), c.code, c.path))
        .collect()
}

fn category(c: &Change) -> &'static str {
    match c.category {
        Category::Api => "api",
        Category::Federation => "federation",
    }
}

/// What `expected.json` says.
struct Expected {
    /// `"CODE path"` (API) or `"federation CODE path"` keys, each with the severities it is
    /// expected at.
    changes: BTreeMap<String, BTreeSet<String>>,
    /// Why the `weft check`-style run is known to differ, if it is.
    check_style_known_issue: Option<String>,
    /// Bases (`weft`, `apollo`, `hive`) on which the `weft check`-style run is known to
    /// report something else, with why (a difference between the composers' supergraphs).
    base_known_issues: BTreeMap<String, String>,
}

fn expected(dir: &Path) -> Result<Expected, String> {
    let text = read(&dir.join("expected.json"));
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("expected.json: {e}"))?;
    let object = json.as_object().ok_or("expected.json: not an object")?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut check_style_known_issue = None;
    let mut base_known_issues = BTreeMap::new();
    for (section, value) in object {
        match section.as_str() {
            "notes" => continue,
            "base_known_issues" => {
                let bases = value
                    .as_object()
                    .ok_or("expected.json: `base_known_issues` is not {base: why}")?;
                for (base, why) in bases {
                    base_known_issues
                        .insert(base.clone(), why.as_str().unwrap_or_default().to_owned());
                }
                continue;
            }
            "check_style_known_issue" => {
                check_style_known_issue = Some(value.as_str().unwrap_or_default().to_owned());
                continue;
            }
            _ => {}
        }
        let entries = value
            .as_array()
            .ok_or_else(|| format!("expected.json: `{section}` is not a list"))?;
        for entry in entries {
            let entry = entry
                .as_str()
                .ok_or_else(|| format!("expected.json: `{section}` holds a non-string"))?;
            let (severity, key) = match section.as_str() {
                "breaking" | "dangerous" | "safe" => (section.clone(), entry.to_owned()),
                "federation" => {
                    let (severity, rest) = entry.split_once(' ').ok_or_else(|| {
                        format!("expected.json: `{entry}`: expected `severity CODE path`")
                    })?;
                    (severity.to_owned(), format!("federation {rest}"))
                }
                other => return Err(format!("expected.json: unknown section `{other}`")),
            };
            if !["breaking", "dangerous", "safe"].contains(&severity.as_str()) {
                return Err(format!("expected.json: unknown severity in `{entry}`"));
            }
            out.entry(key).or_default().insert(severity);
        }
    }
    Ok(Expected {
        changes: out,
        check_style_known_issue,
        base_known_issues,
    })
}

fn actual(changes: &[Change]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in changes {
        let key = match c.category {
            Category::Api => format!("{} {}", c.code, c.path),
            Category::Federation => format!("federation {} {}", c.code, c.path),
        };
        out.entry(key).or_default().insert(c.severity.to_string());
    }
    out
}

fn severities(s: Option<&BTreeSet<String>>) -> String {
    match s {
        None => "(not reported)".to_owned(),
        Some(s) => s.iter().cloned().collect::<Vec<_>>().join("+"),
    }
}

/// The full change list as `weft check` orders it (most severe first, then schema order).
fn render(changes: &[Change]) -> String {
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.severity));
    if sorted.is_empty() {
        return "(no changes)\n".to_owned();
    }
    let mut out = String::new();
    for c in sorted {
        let _ = writeln!(
            out,
            "{:<9} {:<10} {} {}\n    {}",
            c.severity.as_str(),
            category(c),
            c.code,
            c.path,
            c.message
        );
    }
    out
}

#[test]
fn corpus_is_large_enough() {
    let cases = cases();
    let federation = cases
        .iter()
        .filter(|(_, d)| d.join("before").is_dir())
        .count();
    assert!(cases.len() >= 44, "only {} cases", cases.len());
    assert!(federation >= 19, "only {federation} federation cases");
}

#[test]
fn classifications_match_expected() {
    let mut disagreements = Vec::new();
    let (mut runs, mut agreeing, mut federation_cases) = (0, 0, 0);
    for (name, dir) in cases() {
        let outcome = match run(&dir, true) {
            Ok(o) => o,
            Err(e) => {
                disagreements.push(format!("{name}: {e}"));
                continue;
            }
        };
        let want = match expected(&dir) {
            Ok(w) => w,
            Err(e) => {
                disagreements.push(format!("{name}: {e}"));
                continue;
            }
        };
        let got = actual(&outcome.changes);
        let all: BTreeSet<&String> = want.changes.keys().chain(got.keys()).collect();
        for key in all {
            let (w, g) = (want.changes.get(key), got.get(key));
            if w != g {
                disagreements.push(format!(
                    "{name}: `{key}`: expected {}, Weft reports {}",
                    severities(w),
                    severities(g)
                ));
            }
        }
        // Problems on a base listed in base_known_issues are that base's; the rest are covered
        // by check_style_known_issue or are disagreements. Each listed issue must still occur.
        let (on_known_base, problems): (Vec<_>, Vec<_>) = outcome
            .problems
            .into_iter()
            .partition(|(base, _)| base.is_some_and(|b| want.base_known_issues.contains_key(b)));
        for base in want.base_known_issues.keys() {
            if !on_known_base.iter().any(|(b, _)| *b == Some(base.as_str())) {
                disagreements.push(format!(
                    "{name}: the known difference on the {base} base is gone: drop it from base_known_issues"
                ));
            }
        }
        for (_, p) in on_known_base {
            println!("{name} (known base difference): {p}");
        }
        match want.check_style_known_issue {
            None => {
                for (_, p) in problems {
                    disagreements.push(format!("{name}: {p}"));
                }
            }
            Some(_) if problems.is_empty() => disagreements.push(format!(
                "{name}: the known `weft check`-style difference is gone: drop check_style_known_issue"
            )),
            Some(_) => {
                for (_, p) in problems {
                    println!("{name} (known issue): {p}");
                }
            }
        }
        // The verdict of every run is the same on the three bases, known issues or not.
        let mut by_run: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
        for (base, run, v) in &outcome.verdicts {
            by_run.entry(run.as_str()).or_default().insert(base, v);
        }
        for (run, per_base) in by_run {
            runs += 1;
            let distinct: BTreeSet<&&str> = per_base.values().collect();
            if distinct.len() == 1 && per_base.len() == 3 {
                agreeing += 1;
            } else {
                disagreements.push(format!(
                    "{name}: `{run}`: verdicts differ between bases: {per_base:?}"
                ));
            }
        }
        if !outcome.verdicts.is_empty() {
            federation_cases += 1;
        }
    }
    println!(
        "check corpus: {federation_cases} federation cases x 3 bases (weft, apollo, hive): \
         {agreeing} of {runs} `weft check` runs give the same verdict on all three bases"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements with the corpus's expected classification:\n  {}",
        disagreements.len(),
        disagreements.join("\n  ")
    );
}

#[test]
fn change_lists_match_snapshots() {
    let mut failed = Vec::new();
    for (name, dir) in cases() {
        let rendered = match run(&dir, false) {
            Ok(o) => render(&o.changes),
            Err(e) => format!("error: {e}\n"),
        };
        let result = std::panic::catch_unwind(|| {
            insta::with_settings!({ prepend_module_to_snapshot => true, omit_expression => true }, {
                insta::assert_snapshot!(name.clone(), rendered);
            });
        });
        if result.is_err() {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "snapshots differ for: {}",
        failed.join(", ")
    );
}
