#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The `weft` binary as a user runs it: real processes, real ports.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

fn weft() -> Command {
    Command::new(env!("CARGO_BIN_EXE_weft"))
}

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../federation/tests/fixtures")
        .join(path)
}

#[test]
fn help_lists_only_commands_that_exist() {
    let out = weft().arg("--help").output().expect("run weft");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "serve",
            "demo",
            "subgraph",
            "compose",
            "check",
            "plan",
            "api-schema",
            "config",
            "help"
        ]
    );
}

#[test]
fn api_schema_prints_what_clients_see() {
    let out = weft()
        .arg("api-schema")
        .arg(fixture("reference/supergraph.graphql"))
        .output()
        .expect("run weft");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sdl = String::from_utf8_lossy(&out.stdout);
    assert!(sdl.contains("type Query"), "{sdl}");
    assert!(!sdl.contains("join__") && !sdl.contains("@link"), "{sdl}");
}

#[test]
fn api_schema_reports_bad_input_with_file_line_column() {
    let dir = std::env::temp_dir().join(format!("weft-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("broken.graphql");
    std::fs::write(&bad, "schema @link(url: \"https://specs.apollo.dev/link/v1.0\") {\n  query: Query\n}\n\ntype Query {\n  a: \n}\n")
        .expect("write");
    let out = weft()
        .arg("api-schema")
        .arg(&bad)
        .output()
        .expect("run weft");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:7:1:", bad.display())),
        "{stderr}"
    );
}

/// `weft plan` on a bad operation: each error once, in words (no parser token names, no
/// spurious "must have a subselection set"), and `--operation-name` suggested only when it
/// was not given.
#[test]
fn plan_reports_each_problem_once_in_words() {
    let supergraph = repo("schema/supergraph.graphql");
    let plan = |args: &[&str]| {
        let out = weft()
            .arg("plan")
            .arg("--supergraph")
            .arg(&supergraph)
            .args(args)
            .output()
            .expect("run weft");
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_eq!(
        plan(&["{ me { id "]),
        "error: <query>:1:11: syntax error: expected `}`, got the end of the document\n"
    );
    assert_eq!(
        plan(&["{ me { nme } }"]),
        "error: <query>:1:8: type `User` does not have a field `nme`. Did you mean `name`?\n"
    );
    let given = plan(&["--operation-name", "B", "query A { me { id } }"]);
    assert!(given.contains("Unknown operation named \"B\""), "{given}");
    assert!(!given.contains("hint: pass --operation-name"), "{given}");
    let missing = plan(&["query A { me { id } } query C { me { id } }"]);
    assert!(missing.contains("hint: pass --operation-name"), "{missing}");
}

/// `weft subgraph NAME --help` is the subgraph's own help, with its own default port;
/// `weft subgraph --help` is the wrapper's.
#[test]
fn subgraph_help_is_the_subgraphs_own() {
    for (name, port) in [("accounts", 4001), ("orders", 4005)] {
        let out = weft().args(["subgraph", name, "--help"]).output().unwrap();
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains(&format!("Usage: weft subgraph {name} [OPTIONS]")),
            "{help}"
        );
        assert!(help.contains("--database <DATABASE>"), "{help}");
        assert!(
            help.contains(&format!("Port to listen on [default: {port}]")),
            "{help}"
        );
    }
    let out = weft().args(["subgraph", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Usage: weft subgraph <NAME>"), "{help}");
}

/// Kills the demo process when the test ends, pass or fail.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn demo_serves_every_reference_subgraph() {
    let child = weft()
        .args(["demo", "--base-port", "0", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start weft demo");
    let mut demo = Demo(child);
    let stdout = demo.0.stdout.take().expect("stdout");
    let mut urls = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read stdout");
        if line.contains("Press Ctrl-C") {
            break;
        }
        if let Some(url) = line
            .split_whitespace()
            .find(|w| w.starts_with("http://") && w.ends_with("/graphql") && !line.contains("curl"))
        {
            let name = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            urls.push((name, url.to_owned()));
        }
    }
    let names: Vec<&str> = urls.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "gateway",
            "accounts",
            "products",
            "inventory",
            "reviews",
            "orders"
        ]
    );
    let client = reqwest::Client::new();
    let ask = |url: String, query: &'static str| {
        let client = client.clone();
        async move {
            let response = client
                .post(url)
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("send");
            response.json::<Value>().await.expect("json")
        }
    };
    let users = ask(urls[1].1.clone(), "{ users { id } }").await;
    assert_eq!(
        users["data"]["users"].as_array().map(Vec::len),
        Some(40),
        "{users}"
    );
    let top = ask(urls[2].1.clone(), "{ topProducts(first: 3) { upc } }").await;
    assert_eq!(
        top["data"]["topProducts"].as_array().map(Vec::len),
        Some(3),
        "{top}"
    );
    let review = ask(urls[4].1.clone(), "{ review(id: \"1\") { id body } }").await;
    assert_eq!(review["data"]["review"]["id"], "1", "{review}");
    let tracked = ask(urls[3].1.clone(), "{ tracked(upc: \"1\") }").await;
    assert_eq!(tracked["data"]["tracked"], true, "{tracked}");
    // Through the gateway: one query across all four subgraphs.
    let joined = ask(
        urls[0].1.clone(),
        "{ topProducts(first: 1) { name shippingEstimate reviews { author { name } } } }",
    )
    .await;
    assert!(joined.get("errors").is_none(), "{joined}");
    assert!(
        joined["data"]["topProducts"][0]["reviews"][0]["author"]["name"].is_string(),
        "{joined}"
    );
    // The checkout saga runs in the demo: orders reserves stock in inventory.
    let checkout = ask(
        urls[0].1.clone(),
        "mutation { checkout(input: { userId: \"1\", items: [{ upc: \"1\", quantity: 2 }], paymentToken: \"tok_ok\" }) { status items { product { stock } } } }",
    )
    .await;
    assert_eq!(
        checkout["data"]["checkout"]["status"], "CONFIRMED",
        "{checkout}"
    );
    assert_eq!(
        checkout["data"]["checkout"]["items"][0]["product"]["stock"],
        json!(weft_inventory::data::demo_stock(1) - 2),
        "{checkout}"
    );
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[test]
fn committed_supergraph_is_a_fresh_composition() {
    let out = weft()
        .args(["compose", "--config"])
        .arg(repo("schema/supergraph.yaml"))
        .output()
        .expect("run weft");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed =
        std::fs::read_to_string(repo("schema/supergraph.graphql")).expect("committed supergraph");
    assert!(
        committed == String::from_utf8_lossy(&out.stdout),
        "schema/supergraph.graphql is stale.\nhint: cargo run -q -- compose --config schema/supergraph.yaml --output schema/supergraph.graphql"
    );
    // With --output, what was written is said on stderr; stdout stays empty.
    let file =
        std::env::temp_dir().join(format!("weft-compose-out-{}.graphql", std::process::id()));
    let out = weft()
        .args(["compose", "--config"])
        .arg(repo("schema/supergraph.yaml"))
        .arg("--output")
        .arg(&file)
        .output()
        .expect("run weft");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "wrote the supergraph of 5 subgraphs to {} ({} bytes)",
            file.display(),
            committed.len()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), committed);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn composition_errors_have_codes_places_and_exit_1() {
    let dir = std::env::temp_dir().join(format!("weft-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let link =
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])"#;
    std::fs::write(
        dir.join("a.graphql"),
        format!("{link}\ntype Query {{\n  hello: String\n}}\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("b.graphql"),
        format!("{link}\ntype Query {{\n  hello: String\n}}\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("supergraph.yaml"),
        "subgraphs:\n  a:\n    routing_url: http://a\n    schema:\n      file: a.graphql\n  b:\n    routing_url: http://b\n    schema:\n      file: b.graphql\n",
    )
    .expect("write");
    let out = weft()
        .args(["compose", "--config"])
        .arg(dir.join("supergraph.yaml"))
        .output()
        .expect("run weft");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let a = dir.join("a.graphql");
    assert!(
        stderr.contains(&format!(
            "error: {}:3:3: [INVALID_FIELD_SHARING]",
            a.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: mark the field @shareable"),
        "{stderr}"
    );

    std::fs::write(
        dir.join("bad.yaml"),
        "subgraphs:\n  a:\n    routing_url: http://a\n    schemas: {}\n",
    )
    .expect("write");
    let out = weft()
        .args(["compose", "--config"])
        .arg(dir.join("bad.yaml"))
        .output()
        .expect("run weft");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:4:", dir.join("bad.yaml").display())),
        "{stderr}"
    );
}

fn check_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn check_unchanged_subgraph_exits_0() {
    let out = weft()
        .args(["check", "--supergraph"])
        .arg(repo("schema/supergraph.graphql"))
        .arg("--subgraph")
        .arg(format!(
            "accounts={}",
            repo("schema/accounts.graphql").display()
        ))
        .output()
        .expect("run weft");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("No changes."), "{stdout}");
}

#[test]
fn check_removed_field_is_breaking_and_breaks_operations() {
    let dir = check_dir();
    let sdl = std::fs::read_to_string(repo("schema/accounts.graphql")).expect("sdl");
    let proposed = dir.join("accounts.graphql");
    std::fs::write(&proposed, sdl.replace("\tusername: String\n", "")).expect("write");
    let ops = dir.join("ops");
    std::fs::create_dir_all(&ops).expect("ops dir");
    std::fs::write(
        ops.join("me.graphql"),
        "query Me {\n  me {\n    username\n  }\n}\n",
    )
    .expect("write");
    std::fs::write(
        ops.join("users.graphql"),
        "query Users { users { id name } }\n",
    )
    .expect("write");
    let out = weft()
        .args(["check", "--format", "json", "--supergraph"])
        .arg(repo("schema/supergraph.graphql"))
        .arg("--subgraph")
        .arg(format!("accounts={}", proposed.display()))
        .arg("--operations")
        .arg(format!("{}/*.graphql", ops.display()))
        .output()
        .expect("run weft");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["ok"], false);
    assert_eq!(report["changes"][0]["severity"], "breaking");
    assert_eq!(report["changes"][0]["code"], "FIELD_REMOVED");
    assert_eq!(report["changes"][0]["path"], "User.username");
    let broken: Vec<&Value> = report["operations"]
        .as_array()
        .expect("ops")
        .iter()
        .filter(|o| o["status"] == "broken")
        .collect();
    assert_eq!(broken.len(), 1, "{report}");
    assert!(
        broken[0]["file"]
            .as_str()
            .expect("file")
            .ends_with("me.graphql")
    );
    let problems = broken[0]["problems"].as_array().expect("problems");
    assert!(
        problems.iter().any(|p| p["line"] == 3
            && p["column"] == 5
            && p["message"]
                .as_str()
                .is_some_and(|m| m.contains("username"))),
        "{problems:?}"
    );
}

#[test]
fn check_reports_composition_errors() {
    let dir = check_dir();
    let sdl = std::fs::read_to_string(repo("schema/products.graphql")).expect("sdl");
    let proposed = dir.join("products-conflict.graphql");
    // Products now also defines `User.name`, which accounts owns and does not share (in its
    // own `User`, which it has for the wishlists).
    let user = sdl.find("\ntype User ").expect("products has a User");
    let fields = user + sdl[user..].find("{\n").expect("its fields") + 2;
    std::fs::write(
        &proposed,
        format!("{}\tname: String\n{}", &sdl[..fields], &sdl[fields..]),
    )
    .expect("write");
    let out = weft()
        .args(["check", "--supergraph"])
        .arg(repo("schema/supergraph.graphql"))
        .arg("--subgraph")
        .arg(format!("products={}", proposed.display()))
        .output()
        .expect("run weft");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[INVALID_FIELD_SHARING]"), "{stdout}");
    assert!(stdout.contains("Result: composition error"), "{stdout}");
}
