#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The playground (docs/playground.md) end to end: the real reference subgraphs, `weft serve
//! --expose-query-plans` as a real process, and the page loaded in real headless Chromium,
//! which runs an operation from the URL, fetches its plan and the schema; the DOM it leaves
//! and the console messages it logs are checked. Chromium must be installed (`.ci/run`
//! installs it): without it these tests fail rather than pass silently.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;
use weft_products::demo_product;
use weft_subgraph_kit::Running;

mod support;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
     image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

/// The four subgraphs and `weft serve` over their composition (as in `tests/gateway.rs`).
struct Stack {
    _subgraphs: Vec<Running>,
    _gateway: support::Process,
    /// `http://127.0.0.1:PORT` (no path).
    origin: String,
}

impl Stack {
    async fn start(args: &[&str]) -> Stack {
        let subgraphs = support::reference_subgraphs().await;
        let supergraph = support::supergraph(&support::inputs(&subgraphs));
        let dir = scratch(&format!("sg-{}", subgraphs[0].addr.port()));
        let path = dir.join("supergraph.graphql");
        std::fs::write(&path, supergraph).unwrap();
        let mut all = vec!["--supergraph".to_owned(), path.display().to_string()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let (gateway, url) = support::serve(all);
        let origin = url.trim_end_matches("/graphql").to_owned();
        Stack {
            _subgraphs: subgraphs,
            _gateway: gateway,
            origin,
        }
    }

    async fn get(&self, path: &str, accept: &str) -> (StatusCode, String, String, String) {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.origin))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (content_type, csp) = (header("content-type"), header("content-security-policy"));
        (r.status(), content_type, csp, r.text().await.unwrap())
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-playground-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `CHROMIUM`, else `chromium` on the PATH. Absent: the test fails, saying how to install it.
fn chromium() -> String {
    let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let found = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the playground tests need Chromium: `{bin}` did not run. Install it with \
         `apt-get install -y chromium` (.ci/run does), or point CHROMIUM at a binary."
    );
    bin
}

/// Loads `url` in headless Chromium and returns (the DOM after scripts ran, stderr).
/// `--virtual-time-budget` lets the page's fetches finish before the DOM is dumped: virtual
/// time does not advance while network requests are pending. A fresh profile each run, so
/// no history or session from an earlier run is in localStorage.
async fn dump_dom(url: String) -> (String, String) {
    let bin = chromium();
    let profile = scratch(&format!("profile-{}", url.len()));
    tokio::task::spawn_blocking(move || {
        let out = Command::new(bin)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(&url)
            .stdin(Stdio::null())
            .output()
            .expect("run chromium");
        let _ = std::fs::remove_dir_all(&profile);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "chromium failed: {stderr}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    })
    .await
    .unwrap()
}

/// The element with this id, from its opening tag to its closing `</tag>` (no nesting of the
/// same tag inside the panes checked here).
fn element<'a>(dom: &'a str, tag: &str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<{tag} id=\"{id}\""))
        .unwrap_or_else(|| panic!("no <{tag} id={id}> in\n{dom}"));
    let rest = &dom[start..];
    let end = rest
        .find(&format!("</{tag}>"))
        .unwrap_or_else(|| panic!("<{tag} id={id}> is not closed"));
    &rest[..end]
}

/// Console messages from the page other than its "ready" line: the page logs nothing else,
/// so any is a problem (an uncaught exception, `console.error`, a failed load, a
/// Content-Security-Policy refusal). Chromium 156 writes every console message as
/// `INFO:CONSOLE:<line>] "<message>", source: <url>`, whatever its level (an uncaught
/// exception is `"Uncaught Error: …"`, a CSP refusal `"… violates the following Content
/// Security Policy directive …"`; older versions said `ERROR:CONSOLE` and `Refused to …`),
/// so the level cannot be told apart and every console line counts. Chromium's own log lines
/// (D-Bus, GPU, sandbox and UPower warnings about the container it runs in, and the Debian
/// wrapper script's shell noise) are not about the page and have no `CONSOLE`; the CSP and
/// exception wordings are matched anywhere, in case a version logs them differently.
fn page_problems(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| {
            (line.contains("CONSOLE") && !line.contains("\"weft playground ready\""))
                || line.contains("Uncaught")
                || line.contains("Refused to")
                || line.contains("Content Security Policy")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_runs_an_operation_and_shows_its_plan_in_chromium() {
    let stack = Stack::start(&["--expose-query-plans"]).await;
    let query = "{ topProducts(first: 2) { name } }";
    let url = format!("{}/?query={}&run=1", stack.origin, support::encode(query));
    let (dom, stderr) = dump_dom(url).await;

    let result = element(&dom, "pre", "result");
    assert!(result.contains("data-state=\"done\""), "{result}\n{stderr}");
    for i in [1, 2] {
        let name = demo_product(i).name.unwrap();
        assert!(
            result.contains(&format!("\"name\": \"{name}\"")),
            "{name}: {result}"
        );
    }
    assert!(!result.contains("errors"), "{result}");

    let plan = element(&dom, "pre", "plan");
    assert!(plan.contains("data-state=\"done\""), "{plan}");
    assert!(plan.contains("Fetch(service: \"products\")"), "{plan}");

    let docs = element(&dom, "ul", "docs");
    assert!(docs.contains("data-state=\"done\""), "{docs}");
    for ty in ["Query", "Product", "User", "Review"] {
        assert!(docs.contains(&format!(">{ty}</button>")), "{ty}: {docs}");
    }
    // The editor holds the operation from the URL.
    assert!(dom.contains("topProducts(first: 2)"), "{dom}");

    // The page logs one line when it is done, so console capture demonstrably works and the
    // absence of errors below means something.
    assert!(
        stderr.contains("weft playground ready"),
        "no console output captured:\n{stderr}"
    );
    let problems = page_problems(&stderr);
    assert!(
        problems.is_empty(),
        "console errors:\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_exposed_plans_the_plan_pane_says_so_in_chromium() {
    let stack = Stack::start(&[]).await;
    let url = format!(
        "{}/graphql?query={}&run=1",
        stack.origin,
        support::encode("{ topProducts(first: 1) { upc } }")
    );
    let (dom, stderr) = dump_dom(url).await;
    let result = element(&dom, "pre", "result");
    assert!(result.contains("\"upc\": \"1\""), "{result}\n{stderr}");
    let plan = element(&dom, "pre", "plan");
    assert!(plan.contains("data-state=\"unavailable\""), "{plan}");
    assert!(plan.contains("does not expose query plans"), "{plan}");
    let problems = page_problems(&stderr);
    assert!(
        problems.is_empty(),
        "console errors:\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_the_page_and_graphql_clients_get_graphql() {
    let stack = Stack::start(&["--expose-query-plans"]).await;
    for path in ["/", "/graphql", "/?query=%7B__typename%7D&run=1"] {
        for accept in ["text/html", BROWSER_ACCEPT] {
            let (status, content_type, csp, body) = stack.get(path, accept).await;
            assert_eq!(status, StatusCode::OK, "{path} {accept}");
            assert_eq!(content_type, "text/html; charset=utf-8", "{path}");
            assert!(csp.contains("default-src 'self'"), "{csp}");
            assert!(csp.contains("connect-src 'self'"), "{csp}");
            assert!(body.contains("<title>Weft playground</title>"), "{body}");
        }
    }
    for (path, media) in [
        (
            "/playground/playground.js",
            "text/javascript; charset=utf-8",
        ),
        ("/playground/playground.css", "text/css; charset=utf-8"),
    ] {
        let (status, content_type, _, _) = stack.get(path, "*/*").await;
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, media));
    }

    // GraphQL clients are answered as before.
    let r = reqwest::Client::new()
        .get(format!("{}/graphql", stack.origin))
        .query(&[("query", "{ topProducts(first: 1) { upc } }")])
        .header("accept", "application/json")
        .header("apollo-require-preflight", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["topProducts"][0]["upc"], "1", "{body}");
    for accept in ["application/json", "*/*", "text/html, application/json"] {
        let r = reqwest::Client::new()
            .post(format!("{}/", stack.origin))
            .header("accept", accept)
            .json(&serde_json::json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{accept}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["data"]["__typename"], "Query", "{accept}");
    }
    // POST never gets the page: only-HTML is still 406.
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", stack.origin))
        .header("accept", "text/html")
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_loads_nothing_from_anywhere_else() {
    let stack = Stack::start(&[]).await;
    for path in [
        "/",
        "/playground/playground.js",
        "/playground/playground.css",
    ] {
        let (status, _, _, body) = stack.get(path, "text/html").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for scheme in ["http://", "https://", "//fonts.", "@import"] {
            assert!(!body.contains(scheme), "{path} mentions {scheme}");
        }
        // No eval, no inline handlers or scripts (the CSP would refuse them anyway).
        for banned in [
            "eval(",
            "new Function",
            " onclick=",
            " onload=",
            "innerHTML",
        ] {
            assert!(!body.contains(banned), "{path} has {banned}");
        }
        if path == "/" {
            assert!(!body.contains("<script>"), "inline script in the page");
            assert!(!body.contains("<style"), "inline style in the page");
            assert!(
                !body.contains("style=\""),
                "inline style attribute in the page"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_can_be_switched_off() {
    let dir = scratch("off");
    let config = dir.join("weft.yaml");
    std::fs::write(&config, "playground:\n  enabled: false\n").unwrap();
    let stack = Stack::start(&["--config", config.to_str().unwrap()]).await;
    let (status, _, _, _) = stack.get("/", "text/html").await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let (status, _, _, _) = stack.get("/playground/playground.js", "*/*").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The filter above, on lines Chromium 156 printed for a page with an inline script under a
/// CSP without `'unsafe-inline'`, and for `console.error("bad"); throw new Error("boom")`.
#[test]
fn console_problems_are_recognized() {
    let stderr = r#"/usr/bin/chromium: 9: [: 25274986496: unexpected operator
[1:2:1130/064715.965410:ERROR:dbus/bus.cc:405] Failed to connect to the bus: Failed to connect to socket /run/dbus/system_bus_socket: No such file or directory
[1:1:1130/064716.358347:WARNING:media/gpu/vaapi/vaapi_wrapper.cc:1655] drmGetDevices2() has not found any devices
[1:1:1130/064717.407011:INFO:CONSOLE:447] "weft playground ready", source: http://127.0.0.1:1/playground/playground.js (447)
[2:2:1130/064821.195326:INFO:CONSOLE:1] "Executing inline script violates the following Content Security Policy directive 'script-src https://x.invalid'. The action has been blocked.", source: file:///tmp/csp.html (1)
[3:3:1130/064823.070244:INFO:CONSOLE:1] "bad", source: file:///tmp/err.html (1)
[3:3:1130/064823.070416:INFO:CONSOLE:1] "Uncaught Error: boom", source: file:///tmp/err.html (1)"#;
    let problems = page_problems(stderr);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems.iter().all(|p| !p.contains("ready")));
}
