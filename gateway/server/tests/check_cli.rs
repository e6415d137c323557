#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! `weft check` as a CI user runs it, against supergraphs other composers built (Apollo's and
//! Hive's, recorded by the oracle script in the check corpus's `bases/`).

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn case(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../federation/tests/check_corpus")
        .join(path)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-check-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn check(args: &[String]) -> (Option<i32>, Value, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("check")
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("run weft");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code(), report, stderr)
}

fn arg(flag: &str, value: String) -> [String; 2] {
    [flag.to_owned(), value]
}

/// An unchanged subgraph proposed against an Apollo- or Hive-composed supergraph with
/// executable directives: exit 0, no change, no hint (it used to be DIRECTIVE_REMOVED).
#[test]
fn unchanged_proposal_on_apollo_and_hive_bases_is_silent() {
    for base in ["apollo", "hive"] {
        for (case_dir, subgraph) in [
            ("116-fed-executable-directive", "a"),
            ("115-fed-override-removed", "inventory"),
            ("115-fed-override-removed", "products"),
        ] {
            let mut args = Vec::new();
            args.extend(arg(
                "--supergraph",
                case(&format!("{case_dir}/bases/{base}.graphql"))
                    .display()
                    .to_string(),
            ));
            args.extend(arg(
                "--subgraph",
                format!(
                    "{subgraph}={}",
                    case(&format!("{case_dir}/before/{subgraph}.graphql")).display()
                ),
            ));
            let (code, report, stderr) = check(&args);
            assert_eq!(
                code,
                Some(0),
                "{base} {case_dir} {subgraph}: {report}{stderr}"
            );
            // Hive leaves executable directives' descriptions out of its supergraph: they are
            // not compared against such a base (docs/decisions.md).
            assert_eq!(
                report["changes"],
                Value::Array(Vec::new()),
                "{base} {case_dir} {subgraph}"
            );
            assert_eq!(
                report["composition"]["hints"],
                Value::Array(Vec::new()),
                "{base} {case_dir} {subgraph}"
            );
        }
    }
}

/// Case 115 against Apollo's supergraph: `inventory` proposed without its `@override`.
fn override_removed_args() -> Vec<String> {
    let mut args = Vec::new();
    args.extend(arg(
        "--supergraph",
        case("115-fed-override-removed/bases/apollo.graphql")
            .display()
            .to_string(),
    ));
    args.extend(arg(
        "--subgraph",
        format!(
            "inventory={}",
            case("115-fed-override-removed/after/inventory.graphql").display()
        ),
    ));
    args
}

/// Dropping an `@override` (and the field) moves the field back to its source subgraph: no
/// field is removed from the API, though the source's definition is not in the supergraph.
#[test]
fn removing_an_override_is_not_a_removed_field() {
    let args = override_removed_args();
    let (code, report, stderr) = check(&args);
    assert_eq!(code, Some(0), "{report}{stderr}");
    assert_eq!(report["summary"]["breaking"], 0, "{report}");
    assert!(
        report["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["code"] == "FIELD_NOW_RESOLVED_BY" && c["path"] == "Product.description"),
        "{report}"
    );
}

/// `--operations`: an operation whose field moves back to the subgraph of its root field
/// costs one subgraph request instead of two; one the change does not touch is not listed.
#[test]
fn operations_report_the_plans_a_change_alters() {
    let dir = temp_dir("plans");
    let ops = dir.join("ops");
    std::fs::create_dir_all(&ops).expect("ops dir");
    std::fs::write(
        ops.join("products.graphql"),
        "query WithDescription { topProducts { name description } }\n\
         query NameOnly { topProducts { name } }\n",
    )
    .expect("write");
    let mut args = override_removed_args();
    args.extend(arg("--operations", format!("{}/*.graphql", ops.display())));
    let (code, report, stderr) = check(&args);
    assert_eq!(code, Some(0), "{report}{stderr}");
    assert_eq!(report["summary"]["changedPlans"], 1, "{report}");
    let plans = &report["operations"][0]["plans"];
    assert_eq!(plans.as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(plans[0]["operation"], "WithDescription");
    assert_eq!(plans[0]["before"]["requests"], 2, "{report}");
    assert_eq!(
        plans[0]["before"]["subgraphs"],
        serde_json::json!(["inventory", "products"])
    );
    assert_eq!(plans[0]["after"]["requests"], 1, "{report}");
    assert_eq!(plans[0]["after"]["waves"], 1, "{report}");
    assert_eq!(
        plans[0]["after"]["subgraphs"],
        serde_json::json!(["products"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Recovery cannot know that a field only one subgraph resolves was marked `@shareable`; with
/// `--current` the current subgraphs are read exactly, in both forms, and the check passes.
#[test]
fn current_subgraph_files_replace_recovery() {
    let dir = "114-fed-subgraph-added-sharing-a-single-owner-field";
    let supergraph = case(&format!("{dir}/bases/apollo.graphql"))
        .display()
        .to_string();
    let pricing = format!(
        "pricing={}",
        case(&format!("{dir}/after/pricing.graphql")).display()
    );

    // Recovered: composition fails, located in the user's proposed file only.
    let mut args = Vec::new();
    args.extend(arg("--supergraph", supergraph.clone()));
    args.extend(arg("--subgraph", pricing.clone()));
    let (code, report, _) = check(&args);
    assert_eq!(code, Some(1), "{report}");
    let error = &report["composition"]["errors"][0];
    assert_eq!(error["code"], "INVALID_FIELD_SHARING", "{report}");
    let locations = error["locations"].as_array().expect("locations");
    assert!(!locations.is_empty(), "{report}");
    for l in locations {
        assert!(
            l["file"]
                .as_str()
                .expect("file")
                .ends_with("after/pricing.graphql"),
            "a location outside the proposed file: {report}"
        );
    }
    assert_eq!(
        (&locations[0]["line"], &locations[0]["column"]),
        (&5.into(), &3.into())
    );
    assert!(error["hint"].is_string(), "{report}");

    // --current NAME=FILE, repeated.
    let mut named = args.clone();
    for name in ["accounts", "inventory", "products", "reviews"] {
        named.extend(arg(
            "--current",
            format!(
                "{name}={}",
                case(&format!("{dir}/before/{name}.graphql")).display()
            ),
        ));
    }
    let (code, report, stderr) = check(&named);
    assert_eq!(code, Some(0), "{report}{stderr}");
    assert_eq!(report["composition"]["ok"], true);

    // --current supergraph.yaml (Rover's shape), paths relative to the file.
    let tmp = temp_dir("rover");
    let mut yaml = String::from("federation_version: =2.7.0\nsubgraphs:\n");
    for name in ["accounts", "inventory", "products", "reviews"] {
        yaml.push_str(&format!(
            "  {name}:\n    routing_url: http://{name}/graphql\n    schema:\n      file: {}\n",
            case(&format!("{dir}/before/{name}.graphql")).display()
        ));
    }
    std::fs::write(tmp.join("supergraph.yaml"), yaml).expect("write");
    let mut rover = args.clone();
    rover.extend(arg(
        "--current",
        tmp.join("supergraph.yaml").display().to_string(),
    ));
    let (code, report2, stderr) = check(&rover);
    assert_eq!(code, Some(0), "{report2}{stderr}");
    assert_eq!(report["changes"], report2["changes"]);
}

#[test]
fn current_with_a_missing_file_is_an_input_error() {
    let mut args = Vec::new();
    args.extend(arg(
        "--supergraph",
        case("101-fed-no-change/bases/apollo.graphql")
            .display()
            .to_string(),
    ));
    args.extend(arg(
        "--subgraph",
        format!(
            "accounts={}",
            case("101-fed-no-change/before/accounts.graphql").display()
        ),
    ));
    args.extend(arg(
        "--current",
        "accounts=/nonexistent/accounts.graphql".to_owned(),
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("check")
        .args(&args)
        .output()
        .expect("run weft");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--current accounts"), "{stderr}");
}

/// A hint the proposal brings is shown (at its place in the proposed file) and passes, unless
/// `--fail-on-hints`.
#[test]
fn fail_on_hints_fails_on_a_new_hint() {
    let dir = "101-fed-no-change";
    let tmp = temp_dir("hints");
    let inventory = std::fs::read_to_string(case(&format!("{dir}/before/inventory.graphql")))
        .expect("read")
        .replace(
            "  inStock: Boolean\n",
            "  inStock: Boolean\n  price: Float! @shareable\n",
        );
    assert!(inventory.contains("price"), "the fixture changed");
    std::fs::write(tmp.join("inventory.graphql"), inventory).expect("write");
    let mut args = Vec::new();
    args.extend(arg(
        "--supergraph",
        case(&format!("{dir}/bases/hive.graphql"))
            .display()
            .to_string(),
    ));
    args.extend(arg(
        "--subgraph",
        format!("inventory={}", tmp.join("inventory.graphql").display()),
    ));
    // products marks `price` @shareable, which a supergraph cannot tell while it alone
    // resolves it: give the file.
    args.extend(arg(
        "--current",
        format!(
            "products={}",
            case(&format!("{dir}/before/products.graphql")).display()
        ),
    ));
    let (code, report, _) = check(&args);
    assert_eq!(code, Some(0), "{report}");
    let hint = &report["composition"]["hints"][0];
    assert_eq!(
        hint["code"], "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
        "{report}"
    );
    assert_eq!(hint["locations"][0]["line"], 7, "{report}");
    args.push("--fail-on-hints".to_owned());
    let (code, report, _) = check(&args);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["ok"], false);
}
