#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The composition corpus (`tests/compose_corpus/`): small cases, one composition rule each,
//! with Apollo composition's verdict recorded next to the subgraphs. Weft must agree with it:
//! a case Apollo composes must compose to a semantically equal supergraph (and the same API
//! schema); a case Apollo rejects must be rejected with the same set of error codes.
//!
//! Every disagreement of the run is collected and reported at once.

use std::collections::BTreeSet;
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

fn show(codes: &BTreeSet<String>) -> String {
    codes.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// How Weft's result differs from Apollo's for one case, or `None` if it agrees.
fn disagreement(dir: &Path) -> Option<String> {
    let expected = apollo_verdict(dir);
    let result = catch_unwind(AssertUnwindSafe(|| compose(&inputs(dir))));
    let result = match result {
        Ok(result) => result,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            return Some(format!("Weft's composer panicked: {msg}"));
        }
    };
    match (expected, result) {
        (Some(codes), Ok(_)) => Some(format!(
            "expected errors [{}], got a successful composition",
            show(&codes)
        )),
        (Some(codes), Err(e)) => {
            let ours: BTreeSet<String> = e.errors.iter().map(|d| d.code.to_owned()).collect();
            (ours != codes).then(|| {
                format!(
                    "expected errors [{}], got [{}]:\n{e}",
                    show(&codes),
                    show(&ours)
                )
            })
        }
        (None, Err(e)) => {
            let ours: BTreeSet<String> = e.errors.iter().map(|d| d.code.to_owned()).collect();
            Some(format!(
                "expected a successful composition, got errors [{}]:\n{e}",
                show(&ours)
            ))
        }
        (None, Ok(composed)) => {
            let apollo_sdl =
                std::fs::read_to_string(dir.join("supergraph.graphql")).expect("supergraph");
            let apollo =
                Supergraph::parse(&apollo_sdl, "apollo").expect("Apollo's supergraph loads");
            let ours = match Supergraph::parse(&composed.supergraph_sdl, "ours") {
                Ok(ours) => ours,
                Err(e) => return Some(format!("our supergraph does not load: {e}")),
            };
            let mut diffs = differences(&ours, &apollo);
            let (ours_api, apollo_api) = (ours.api_sdl(), apollo.api_sdl());
            if ours_api != apollo_api {
                diffs.push(format!(
                    "API schemas differ{}",
                    line_diff(&ours_api, &apollo_api)
                ));
            }
            (!diffs.is_empty()).then(|| {
                format!(
                    "supergraph differs from Apollo's ({} differences):\n{}",
                    diffs.len(),
                    diffs.join("\n")
                )
            })
        }
    }
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
    assert!(cases.len() >= 64, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for dir in &cases {
        if let Some(why) = disagreement(dir) {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            failures.push(format!("--- {name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "Weft disagrees with Apollo on {} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
