//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`, docs/fuzzing.md) through the
//! entry points the fuzz targets call, so CI runs every seed and every input a fuzzer ever
//! kept (crashes found included) without building libFuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point

use std::path::{Path, PathBuf};

use weft::fuzzing::{self, Violation};

/// `fuzz/<set>/<target>/`: `corpus` (replayed by CI) or `findings` (inputs that still break a
/// promise, each moved to `corpus` with its fix).
fn dir(set: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(set)
        .join(target)
}

/// Runs every file of `target`'s corpus through `entry`; fails on any broken promise, and
/// when fewer than `at_least` files were found (a moved or emptied corpus must not pass).
fn replay(target: &str, at_least: usize, entry: fn(&[u8]) -> Result<(), Violation>) {
    replay_dir(&dir("corpus", target), at_least, entry);
}

fn replay_dir(dir: &Path, at_least: usize, entry: fn(&[u8]) -> Result<(), Violation>) {
    let target = dir.display();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("a readable corpus file");
        if let Err(v) = entry(&data) {
            failures.push(format!("{}: {v}", file.display()));
        }
    }
    assert!(
        files.len() >= at_least,
        "{target}: {} corpus files, expected at least {at_least}",
        files.len()
    );
    assert!(failures.is_empty(), "{target}:\n{}", failures.join("\n"));
}

#[test]
fn the_operation_corpus_replays() {
    replay("operation", 280, fuzzing::operation);
}

#[test]
fn the_request_corpus_replays() {
    replay("request", 550, fuzzing::request);
}

#[test]
fn the_subgraph_answer_corpus_replays() {
    replay("subgraph_answer", 180, fuzzing::subgraph_answer);
}
