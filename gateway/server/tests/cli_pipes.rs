#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Every `weft` command that prints, with its stdout closed before it writes (as
//! `weft config schema | head -c 10` does once `head` has had its bytes): no panic, and the
//! status the command would have had with a reader (decided in docs/decisions.md).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Runs `weft args` with a stdout pipe whose read end is closed at once, so every write gets
/// EPIPE; the exit status and stderr.
fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(repo(""))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weft");
    // The only read end is ours: dropping it closes the pipe before weft writes.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code(), stderr)
}

/// The same command with a reader: its status.
fn with_reader(args: &[&str]) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(repo(""))
        .stdin(Stdio::null())
        .output()
        .expect("run weft")
        .status
        .code()
}

#[test]
fn no_command_panics_when_its_reader_goes_away() {
    let plan_query = "{ me { name } }";
    let commands: Vec<Vec<&str>> = vec![
        vec!["config", "schema"],
        vec![
            "check",
            "--supergraph",
            "schema/supergraph.graphql",
            "--subgraph",
            "accounts=schema/accounts.graphql",
            "--format",
            "json",
        ],
        vec![
            "check",
            "--supergraph",
            "schema/supergraph.graphql",
            "--subgraph",
            "accounts=schema/accounts.graphql",
        ],
        vec![
            "check",
            "--supergraph",
            "schema/supergraph.graphql",
            "--subgraph",
            "accounts=schema/accounts.graphql",
            "--format",
            "github",
        ],
        vec!["api-schema", "schema/supergraph.graphql"],
        vec![
            "plan",
            "--supergraph",
            "schema/supergraph.graphql",
            plan_query,
        ],
        vec![
            "plan",
            "--supergraph",
            "schema/supergraph.graphql",
            "--json",
            plan_query,
        ],
        vec!["compose", "--config", "schema/supergraph.yaml"],
        vec!["--help"],
        vec!["--version"],
    ];
    for args in &commands {
        let expected = with_reader(args);
        assert!(
            expected.is_some(),
            "{args:?} ended by a signal with a reader"
        );
        let (status, stderr) = closed_stdout(args);
        assert!(
            !stderr.contains("panicked"),
            "{args:?} panicked on a closed stdout: {stderr}"
        );
        assert!(
            !stderr.contains("Broken pipe"),
            "{args:?} reported the closed pipe: {stderr}"
        );
        assert_eq!(status, expected, "{args:?}: {stderr}");
    }
}

#[test]
fn config_check_with_a_closed_stdout_still_reports_to_stderr() {
    let dir = std::env::temp_dir().join(format!("weft-pipes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("weft.yaml");
    std::fs::write(&bad, "limits:\n  max_depht: 3\n").unwrap();
    let path = bad.display().to_string();
    let (status, stderr) = closed_stdout(&["config", "check", &path]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("max_depht"), "{stderr}");
    let good = dir.join("good.yaml");
    let supergraph =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/supergraph.graphql");
    std::fs::write(
        &good,
        format!(
            "supergraph:\n  path: {}\nlimits:\n  max_depth: 3\n",
            supergraph.display()
        ),
    )
    .unwrap();
    let path = good.display().to_string();
    let (status, stderr) = closed_stdout(&["config", "check", &path]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
