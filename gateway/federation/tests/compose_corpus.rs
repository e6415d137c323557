#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The composition corpus (`tests/compose_corpus/`): small cases, one composition rule each,
//! with Apollo composition's verdict recorded next to the subgraphs. Weft must agree with it:
//! a case Apollo composes must compose to a semantically equal supergraph (and the same API
//! schema); a case Apollo rejects must be rejected with the same set of error codes. The
//! expectations are written by the oracle (`gateway/federation/oracle/`), never by hand.
//!
//! The only exceptions are the rows of the known-differences table in docs/compose.md, and each
//! row must still describe exactly what Weft does: a fixed case must leave the table, a changed
//! one must be updated. Every problem of the run is collected and reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use weft_federation::Supergraph;
use weft_federation::compose::{SubgraphInput, compose};
use weft_federation::supergraph::compare::differences;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compose_corpus")
}

/// The case folders (`NNN-name/`), sorted.
fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus folder")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.join("subgraphs").is_dir())
        .collect();
    // The oracle records `NNN-name` folders only: a case named otherwise would have no
    // expectations checked by CI.
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy();
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        assert!(
            digits == 3 && name.as_bytes().get(3) == Some(&b'-'),
            "case folder {name} is not named NNN-name"
        );
    }
    dirs.sort();
    dirs
}

/// The case's subgraphs, named for their file stems, with the URLs `record.mjs` gives them.
fn inputs(dir: &Path) -> Vec<SubgraphInput> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("subgraphs"))
        .expect("subgraphs folder")
        .map(|e| e.expect("subgraph entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            SubgraphInput {
                url: format!("http://{name}:4000/graphql"),
                name,
                sdl: std::fs::read_to_string(path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
                source: path.display().to_string(),
            }
        })
        .collect()
}

/// Apollo's recorded verdict: `None` if it composed, else the set of its error codes.
fn apollo_verdict(dir: &Path) -> Option<BTreeSet<String>> {
    let path = dir.join("apollo.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("apollo.json is JSON");
    if json["valid"].as_bool().expect("apollo.json has `valid`") {
        return None;
    }
    let codes: BTreeSet<String> = json["errors"]
        .as_array()
        .expect("apollo.json has `errors`")
        .iter()
        .map(|e| e["code"].as_str().expect("error code").to_owned())
        .collect();
    assert!(
        !codes.is_empty(),
        "{}: invalid without errors",
        path.display()
    );
    Some(codes)
}

/// Apollo's recorded hint codes for a case.
fn apollo_hints(dir: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(dir.join("apollo.json")).expect("apollo.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("apollo.json is JSON");
    json["hints"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter_map(|h| h["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Weft's hint codes for a case Apollo composes (not compared yet: reported as a count).
fn weft_hints(dir: &Path) -> BTreeSet<String> {
    match catch_unwind(AssertUnwindSafe(|| compose(&inputs(dir)))) {
        Ok(Ok(composed)) => composed.hints.iter().map(|h| h.code.to_owned()).collect(),
        _ => BTreeSet::new(),
    }
}

fn show(codes: &BTreeSet<String>) -> String {
    codes.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// What Weft did with one case.
enum Outcome {
    /// Composed to a supergraph equal to Apollo's (or Apollo rejected the case).
    Composed,
    /// Composed, but the supergraph differs from Apollo's.
    ComposedDifferently(String),
    /// Rejected with these codes (and this report).
    Failed(BTreeSet<String>, String),
    Panicked(String),
}

impl Outcome {
    /// The outcome as the known-differences table of docs/compose.md writes it.
    fn label(&self) -> String {
        match self {
            Outcome::Composed => "valid".to_owned(),
            Outcome::ComposedDifferently(_) => "supergraph differs".to_owned(),
            Outcome::Failed(codes, _) => show(codes),
            Outcome::Panicked(_) => "panic".to_owned(),
        }
    }

    fn details(&self) -> &str {
        match self {
            Outcome::Composed => "",
            Outcome::ComposedDifferently(d) | Outcome::Failed(_, d) | Outcome::Panicked(d) => d,
        }
    }
}

/// Composes one case with Weft and compares a successful result with Apollo's supergraph.
fn outcome(dir: &Path, apollo_valid: bool) -> Outcome {
    let result = catch_unwind(AssertUnwindSafe(|| compose(&inputs(dir))));
    let result = match result {
        Ok(result) => result,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            return Outcome::Panicked(msg);
        }
    };
    let composed = match result {
        Err(e) => {
            let ours: BTreeSet<String> = e.errors.iter().map(|d| d.code.to_owned()).collect();
            return Outcome::Failed(ours, e.to_string());
        }
        // Apollo rejects the case: there is no supergraph to compare ours with.
        Ok(_) if !apollo_valid => return Outcome::Composed,
        Ok(composed) => composed,
    };
    // For CI's second oracle step: Apollo's own loader must accept what Weft writes.
    if let Some(out) = std::env::var_os("WEFT_CORPUS_SUPERGRAPHS") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::create_dir_all(&out).expect("output folder");
        std::fs::write(
            Path::new(&out).join(format!("{name}.graphql")),
            &composed.supergraph_sdl,
        )
        .expect("write our supergraph");
    }
    let apollo_sdl = std::fs::read_to_string(dir.join("supergraph.graphql")).expect("supergraph");
    let apollo = Supergraph::parse(&apollo_sdl, "apollo").expect("Apollo's supergraph loads");
    let ours = match Supergraph::parse(&composed.supergraph_sdl, "ours") {
        Ok(ours) => ours,
        Err(e) => {
            return Outcome::ComposedDifferently(format!("our supergraph does not load: {e}"));
        }
    };
    let mut diffs = differences(&ours, &apollo);
    let (ours_api, apollo_api) = (ours.api_sdl(), apollo.api_sdl());
    if ours_api != apollo_api {
        diffs.push(format!(
            "API schemas differ{}",
            line_diff(&ours_api, &apollo_api)
        ));
    }
    if diffs.is_empty() {
        Outcome::Composed
    } else {
        Outcome::ComposedDifferently(diffs.join("\n"))
    }
}

/// One row of the known-differences table: Apollo's outcome and Weft's, as labels.
struct KnownDifference {
    apollo: String,
    weft: String,
}

/// The table `## Known differences from Apollo` of docs/compose.md: `| `case` | Apollo | Weft |
/// why |`, outcomes written as `valid`, `supergraph differs`, or a comma-separated code set.
fn known_differences() -> BTreeMap<String, KnownDifference> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/compose.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Known differences from Apollo"))
        .expect("docs/compose.md has a `## Known differences from Apollo` section");
    let cell = |s: &str| {
        s.trim()
            .trim_matches('`')
            .replace("`", "")
            .trim()
            .to_owned()
    };
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').collect();
            assert!(
                cells.len() >= 4,
                "known difference row without 4 cells: {l}"
            );
            (
                cell(cells[0]),
                KnownDifference {
                    apollo: cell(cells[1]),
                    weft: cell(cells[2]),
                },
            )
        })
        .collect()
}

/// The lines found in only one of two SDLs (ignoring order and indentation).
fn line_diff(ours: &str, theirs: &str) -> String {
    let lines = |s: &str| -> BTreeSet<String> { s.lines().map(|l| l.trim().to_owned()).collect() };
    let (a, b) = (lines(ours), lines(theirs));
    let only = |x: &BTreeSet<String>, y: &BTreeSet<String>, tag: &str| -> String {
        x.difference(y).map(|l| format!("\n  {tag} {l}")).collect()
    };
    let out = format!(
        "{}{}",
        only(&a, &b, "only ours:  "),
        only(&b, &a, "only Apollo:")
    );
    if out.is_empty() {
        " (in order only)".to_owned()
    } else {
        out
    }
}

#[test]
fn weft_composes_the_corpus_like_apollo() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut known = known_differences();
    let mut failures = Vec::new();
    let (mut verdicts_agree, mut failing, mut codes_agree) = (0, 0, 0);
    let (mut with_hints, mut hints_agree, mut extra_hints) = (0, 0, 0);
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expected = apollo_verdict(dir);
        let apollo_label = expected.as_ref().map_or_else(|| "valid".to_owned(), show);
        let ours = outcome(dir, expected.is_none());
        let weft_label = ours.label();
        let weft_composed = matches!(ours, Outcome::Composed | Outcome::ComposedDifferently(_));
        verdicts_agree += usize::from(weft_composed == expected.is_none());
        if expected.is_some() {
            failing += 1;
            codes_agree += usize::from(weft_label == apollo_label);
        } else {
            let hints = apollo_hints(dir);
            if hints.is_empty() {
                let ours = weft_hints(dir);
                extra_hints += usize::from(!ours.is_empty());
                if !ours.is_empty() && std::env::var_os("WEFT_CORPUS_HINTS").is_some() {
                    eprintln!("hints {name}: Apollo [], Weft [{}]", show(&ours));
                }
            } else {
                with_hints += 1;
                let ours = weft_hints(dir);
                hints_agree += usize::from(ours == hints);
                // Hints are not compared yet; `WEFT_CORPUS_HINTS=1` lists the differences.
                if ours != hints && std::env::var_os("WEFT_CORPUS_HINTS").is_some() {
                    eprintln!(
                        "hints {name}: Apollo [{}], Weft [{}]",
                        show(&hints),
                        show(&ours)
                    );
                }
            }
        }
        let listed = known.remove(&name);
        match (weft_label == apollo_label, listed) {
            (true, None) => {}
            (true, Some(_)) => failures.push(format!(
                "--- {name}: Weft now agrees with Apollo ({apollo_label}); remove the case from \
                 the known differences of docs/compose.md"
            )),
            (false, None) => failures.push(format!(
                "--- {name}: Apollo: {apollo_label}; Weft: {weft_label}\n{}",
                ours.details()
            )),
            (false, Some(row)) => {
                if row.apollo != apollo_label || row.weft != weft_label {
                    failures.push(format!(
                        "--- {name}: docs/compose.md lists Apollo: {} / Weft: {}, but Apollo: \
                         {apollo_label} / Weft: {weft_label}\n{}",
                        row.apollo,
                        row.weft,
                        ours.details()
                    ));
                }
            }
        }
    }
    for name in known.keys() {
        failures.push(format!(
            "--- {name}: listed in docs/compose.md's known differences, but no such case"
        ));
    }
    eprintln!(
        "compose corpus: {} cases; verdict agrees on {verdicts_agree}; error codes agree on \
         {codes_agree} of {failing} failing cases; hint codes agree on {hints_agree} of \
         {with_hints} valid cases with hints, and Weft hints on {extra_hints} valid cases \
         Apollo does not hint on (not yet required)",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} problems over {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
