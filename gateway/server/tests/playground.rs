#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The playground (docs/playground.md) end to end: the real reference subgraphs, `weft serve`
//! as a real process, and GraphiQL driven in real headless Chromium over the DevTools
//! protocol (`browser/`) as a user would: typing, completion, markers, prettify, run, the
//! explorer and Weft's plan plugin. Chromium resolves no host but 127.0.0.1, and every
//! request the page makes is checked to go to the gateway itself; console errors fail the
//! test. Chromium must be installed (`.ci/run` installs it): without it these tests fail
//! rather than pass silently. The bundle must be in the binary (Node at build time).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use weft_products::demo_product;
use weft_subgraph_kit::Running;

mod browser;
mod support;

use browser::Browser;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
     image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

/// Four subgraphs and two more hops: products, inventory (`inStock`), reviews, accounts.
const ACROSS_SUBGRAPHS: &str =
    "{ topProducts(first: 2) { name inStock reviews { body author { username } } } }";

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

    /// `POST /graphql`, with `weft-query-plan: <mode>` if given: the answer's JSON.
    async fn post(&self, query: &str, mode: Option<&str>) -> Value {
        let mut request = reqwest::Client::new().post(format!("{}/graphql", self.origin));
        if let Some(mode) = mode {
            request = request.header("weft-query-plan", mode);
        }
        request
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// `weft demo` as a user runs it: the binary, with its own five subgraphs and supergraph. On
/// free ports (`--listen 127.0.0.1:0 --base-port 0`), so it meets neither another test nor a
/// demo already running on 4000-4005.
struct Demo {
    _process: support::Process,
    /// `http://127.0.0.1:PORT` (no path).
    origin: String,
}

impl Demo {
    fn start() -> Demo {
        let mut child = support::weft_command()
            .args(["demo", "--listen", "127.0.0.1:0", "--base-port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start weft demo");
        let stdout = child.stdout.take().unwrap();
        let process = support::Process(child);
        // The banner's `gateway  http://…/graphql` line, read on a thread that then drains
        // stdout, so a demo that never gets there fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            for line in lines.by_ref() {
                let mut words = line.split_whitespace();
                if words.next() == Some("gateway") {
                    let _ = tx.send(words.next().unwrap_or_default().to_owned());
                    break;
                }
            }
            lines.for_each(drop);
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("`weft demo` printed no gateway address within 60 s");
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Demo {
            _process: process,
            origin: url.trim_end_matches("/graphql").to_owned(),
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-playground-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where CI picks the screenshot up (`.ci/run` prints the path): `target/`.
fn screenshot_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&target).unwrap();
    target.join("playground-screenshot.png")
}

/// The text of the Monaco model whose URI ends with `name` (GraphiQL's `operation.graphql`,
/// `response.json`…), through the `__MONACO` global GraphiQL itself sets.
fn model(name: &str) -> String {
    format!(
        "(() => {{ const m = globalThis.__MONACO && __MONACO.editor.getModels()\
         .find(m => m.uri.toString().endsWith({name:?})); return m ? m.getValue() : null; }})()"
    )
}

/// Replaces the operation editor's text as a user would: click into it, select all, type.
fn type_operation(b: &mut Browser, text: &str) {
    b.click(".graphiql-query-editor .monaco-editor .view-lines");
    b.press("a", "KeyA", 65, 2);
    b.press("Delete", "Delete", 46, 0);
    b.insert_text(text);
}

/// The page has GraphiQL with the schema loaded and the example operation in the editor.
fn wait_until_ready(b: &mut Browser) {
    b.wait_for(
        "the playground to start",
        "document.documentElement.dataset.weftReady",
        60,
    );
    b.wait_for(
        "the operation editor",
        &format!("({}) !== null", model("operation.graphql")),
        60,
    );
}

/// No console error, and every request to the gateway itself (the page's `data:` fonts
/// aside); `worker` is a web worker that must have been loaded from there.
fn assert_clean(b: &mut Browser, origin: &str, worker: &str) {
    // The editor starts its language worker once the schema is in: wait for it (20 s at most)
    // rather than expect it by the time the first result shows.
    let wanted = format!("{origin}/playground/{worker}");
    let started = std::time::Instant::now();
    let mut requests = b.requests();
    while !requests.contains(&wanted) && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        requests = b.requests();
    }
    assert!(
        requests.contains(&wanted),
        "{worker} was not loaded from the gateway: {requests:#?}"
    );
    // After the worker's start: what it logs counts too.
    let problems = b.problems();
    assert!(
        problems.is_empty(),
        "console errors:\n{}",
        problems.join("\n")
    );
    let elsewhere: Vec<&String> = requests
        .iter()
        .filter(|u| !u.starts_with(&format!("{origin}/")) && !u.starts_with("data:"))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "requests to other origins: {elsewhere:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_completes_validates_prettifies_runs_explores_and_plans_in_chromium() {
    let stack = Stack::start(&["--expose-query-plans"]).await;
    // The subgraphs the gateway's own plan fetches from: the plugin must show each.
    let planned = stack.post(ACROSS_SUBGRAPHS, Some("dry-run")).await;
    let text = planned["extensions"]["queryPlan"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected: BTreeSet<String> = text
        .split("Fetch(service: \"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .collect();
    assert!(expected.len() >= 3, "{text}");

    let origin = stack.origin.clone();
    let profile = scratch("profile-full");
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch(&profile);
        b.navigate(&format!("{origin}/"));
        wait_until_ready(&mut b);

        // The example operation is built from the schema's first Query fields.
        let example = b.eval(&model("operation.graphql"));
        assert!(
            example.as_str().unwrap().starts_with("query Example {"),
            "{example}"
        );

        // Typing shows completion for a field.
        type_operation(&mut b, "{ topProducts(first: 2) { na");
        b.press(" ", "Space", 32, 2); // Ctrl+Space, as a user would ask for it
        let suggested = b.wait_for(
            "the completion list to offer `name`",
            "[...document.querySelectorAll('.suggest-widget .monaco-list-row')]\
             .map(r => r.getAttribute('aria-label') || r.textContent).join('\\n')",
            20,
        );
        assert!(
            suggested.as_str().unwrap().contains("name"),
            "{suggested}"
        );
        b.press("Escape", "Escape", 27, 0);

        // An unknown field is underlined before anything runs.
        type_operation(&mut b, "{ topProducts(first: 2) { nme } }");
        let marker = b.wait_for(
            "a marker on `nme`",
            "__MONACO.editor.getModelMarkers({})\
             .filter(m => m.resource.toString().endsWith('operation.graphql'))\
             .map(m => m.message).find(m => m.includes('nme'))",
            20,
        );
        assert!(
            marker.as_str().unwrap().contains("Cannot query field"),
            "{marker}"
        );
        b.wait_for(
            "the squiggle under `nme`",
            "document.querySelector('.graphiql-query-editor .squiggly-error') !== null",
            20,
        );

        // Prettify reformats the operation.
        type_operation(&mut b, "{topProducts(first:2){name upc}}");
        b.click(".graphiql-toolbar button[aria-label^='Prettify']");
        let pretty = b.wait_for(
            "the operation to be reformatted",
            &format!("(() => {{ const v = {}; return v && v.includes('\\n') ? v : null; }})()", model("operation.graphql")),
            20,
        );
        assert_eq!(
            pretty.as_str().unwrap().trim_end(),
            "{\n  topProducts(first: 2) {\n    name\n    upc\n  }\n}"
        );

        // The explorer lists the Query fields.
        b.click(".graphiql-sidebar button[aria-label$='GraphiQL Explorer']");
        let explorer = b.wait_for(
            "the explorer",
            "(document.querySelector('.graphiql-explorer-root') || {}).innerText",
            20,
        );
        for field in ["topProducts", "me", "users"] {
            assert!(explorer.as_str().unwrap().contains(field), "{field}: {explorer}");
        }

        // The plan plugin shows a fetch per subgraph, then each fetch's time after a run.
        b.click(".graphiql-sidebar button[aria-label$='Query plan']");
        type_operation(&mut b, ACROSS_SUBGRAPHS);
        let shown = b.wait_for(
            "the plan tree",
            "document.querySelector('[data-weft-plan-state=done] .weft-plan-fetch') && \
             [...new Set([...document.querySelectorAll('.weft-plan-fetch')].map(e => e.dataset.subgraph))].sort().join(',')",
            30,
        );
        let shown: BTreeSet<String> =
            shown.as_str().unwrap().split(',').map(str::to_owned).collect();
        assert_eq!(shown, expected);
        // A fetch shows the operation it sends on click.
        b.click(".weft-plan-fetch[data-subgraph='reviews'] button");
        let operation = b.wait_for(
            "a fetch's operation",
            "(document.querySelector('.weft-plan-fetch[data-subgraph=reviews] .weft-plan-operation') || {}).textContent",
            10,
        );
        assert!(operation.as_str().unwrap().contains("_entities"), "{operation}");

        // Run shows the result.
        b.click(".graphiql-execute-button");
        let response = b.wait_for(
            "the result",
            &format!("(() => {{ const v = {}; return v && v.includes('topProducts') ? v : null; }})()", model("response.json")),
            30,
        );
        let response: Value = serde_json::from_str(response.as_str().unwrap()).unwrap();
        for (i, product) in [1, 2].into_iter().enumerate() {
            assert_eq!(
                response["data"]["topProducts"][i]["name"].as_str(),
                demo_product(product).name.as_deref(),
                "{response}"
            );
        }
        let timed = b.wait_for(
            "each fetch's time",
            "document.querySelectorAll('[data-weft=fetch-time]').length",
            20,
        );
        assert!(timed.as_u64().unwrap() >= expected.len() as u64, "{timed}");

        // The screenshot (CI keeps it): the operation prettified, the plan with its times
        // (still shown: prettifying does not make it another document).
        b.click(".graphiql-toolbar button[aria-label^='Prettify']");
        b.wait_for(
            "the operation to be reformatted",
            &format!("({}).includes('\\n')", model("operation.graphql")),
            20,
        );
        b.screenshot(&screenshot_path());
        assert_clean(&mut b, &origin, "graphql.worker.js");
    })
    .await
    .unwrap();
    assert!(screenshot_path().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_introspection_or_plans_the_page_says_so_and_still_runs_in_chromium() {
    let dir = scratch("no-introspection");
    let config = dir.join("weft.yaml");
    std::fs::write(&config, "introspection: false\n").unwrap();
    let stack = Stack::start(&["--config", config.to_str().unwrap()]).await;
    let origin = stack.origin.clone();
    let profile = scratch("profile-bare");
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch(&profile);
        b.navigate(&format!("{origin}/graphql"));
        wait_until_ready(&mut b);
        let banner = b.wait_for(
            "the introspection message",
            "(document.querySelector('[data-weft=introspection-off]') || {}).innerText",
            20,
        );
        assert!(banner.as_str().unwrap().contains("introspection"), "{banner}");
        // Plans are not exposed: no plan plugin; the explorer is there.
        assert_eq!(
            b.eval("document.documentElement.dataset.weftReady"),
            "no-plans"
        );
        b.wait_for(
            "the sidebar",
            "document.querySelector(\".graphiql-sidebar button[aria-label$='GraphiQL Explorer']\") !== null",
            20,
        );
        assert_eq!(
            b.eval("document.querySelector(\".graphiql-sidebar button[aria-label$='Query plan']\")"),
            Value::Null
        );
        // Operations still run.
        type_operation(&mut b, "{ topProducts(first: 1) { upc } }");
        b.click(".graphiql-execute-button");
        b.wait_for(
            "the result",
            &format!("(() => {{ const v = {}; return v && v.includes('\"upc\"') ? v : null; }})()", model("response.json")),
            30,
        );
        assert_clean(&mut b, &origin, "json.worker.js");
    })
    .await
    .unwrap();
}

/// The issue's first look: `weft demo`, a browser at `/`, no network but 127.0.0.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weft_demo_shows_graphiql_with_its_schema_offline_in_chromium() {
    let demo = Demo::start();
    let origin = demo.origin.clone();
    let profile = scratch("profile-demo");
    let (example, shown) = tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch(&profile);
        b.navigate(&format!("{origin}/"));
        wait_until_ready(&mut b);
        // The demo exposes plans, so the page found them and shows the plan plugin.
        assert_eq!(b.eval("document.documentElement.dataset.weftReady"), "plans");
        b.wait_for(
            "the plan plugin's button",
            "document.querySelector(\".graphiql-sidebar button[aria-label$='Query plan']\") !== null",
            20,
        );

        // The schema is loaded: the docs explorer lists the demo supergraph's Query fields.
        b.click(".graphiql-sidebar button[aria-label$='Documentation Explorer']");
        // `query: Query`, the first root type: its link follows the `query` label.
        b.click(".graphiql-doc-explorer-root-type + a.graphiql-doc-explorer-type-name");
        let fields = b.wait_for(
            "the docs explorer's Query fields",
            "[...document.querySelectorAll('.graphiql-doc-explorer .graphiql-doc-explorer-field-name')]\
             .map(e => e.textContent).join(',')",
            20,
        );
        let fields: BTreeSet<&str> = fields.as_str().unwrap().split(',').collect();
        for field in ["topProducts", "product", "me", "users", "order", "review"] {
            assert!(fields.contains(field), "{field}: {fields:?}");
        }

        // The example operation (built from that schema) runs and shows data.
        let example = b.eval(&model("operation.graphql"));
        let example = example.as_str().unwrap().to_owned();
        assert!(example.starts_with("query Example {"), "{example}");
        b.click(".graphiql-execute-button");
        let shown = b.wait_for(
            "the example's result",
            &format!(
                "(() => {{ const v = {}; return v && v.includes('\"data\"') ? v : null; }})()",
                model("response.json")
            ),
            30,
        );
        let shown: Value = serde_json::from_str(shown.as_str().unwrap()).unwrap();
        assert_clean(&mut b, &origin, "graphql.worker.js");
        (example, shown)
    })
    .await
    .unwrap();
    assert!(shown.get("errors").is_none(), "{shown}");
    assert!(
        shown["data"]["topProducts"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{example}\n{shown}"
    );
    // What the page shows is the demo's answer to that operation.
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/graphql", demo.origin))
        .json(&serde_json::json!({ "query": example }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["data"], answer["data"], "{example}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_variables_in_the_url_prefill_the_editors_in_chromium() {
    let stack = Stack::start(&[]).await;
    let query = "query Top($n: Int) { topProducts(first: $n) { name } }";
    let variables = r#"{"n": 1}"#;
    let url = format!(
        "{}/?query={}&variables={}",
        stack.origin,
        support::encode(query),
        support::encode(variables)
    );
    let origin = stack.origin.clone();
    let profile = scratch("profile-prefill");
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch(&profile);
        b.navigate(&url);
        wait_until_ready(&mut b);
        assert_eq!(b.eval(&model("operation.graphql")), query);
        b.wait_for(
            "the variables editor",
            &format!("({}) !== null", model("variables.json")),
            20,
        );
        assert_eq!(b.eval(&model("variables.json")), variables);
        // Run as given: one product, as the prefilled variables ask.
        b.click(".graphiql-execute-button");
        let response = b.wait_for(
            "the result",
            &format!(
                "(() => {{ const v = {}; return v && v.includes('topProducts') ? v : null; }})()",
                model("response.json")
            ),
            30,
        );
        let response: Value = serde_json::from_str(response.as_str().unwrap()).unwrap();
        assert_eq!(
            response["data"]["topProducts"],
            serde_json::json!([{ "name": demo_product(1).name }]),
            "{response}"
        );
        assert_clean(&mut b, &origin, "json.worker.js");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_the_page_and_graphql_clients_get_graphql() {
    let stack = Stack::start(&["--expose-query-plans"]).await;
    for path in ["/", "/graphql", "/?query=%7B__typename%7D"] {
        for accept in ["text/html", BROWSER_ACCEPT] {
            let (status, content_type, csp, body) = stack.get(path, accept).await;
            assert_eq!(status, StatusCode::OK, "{path} {accept}");
            assert_eq!(content_type, "text/html; charset=utf-8", "{path}");
            for directive in [
                "default-src 'self'",
                "script-src 'self';",
                "worker-src 'self';",
                "connect-src 'self';",
            ] {
                assert!(csp.contains(directive), "{directive}: {csp}");
            }
            assert!(!csp.contains("unsafe-eval"), "{csp}");
            assert!(body.contains("<title>Weft playground</title>"), "{body}");
            assert!(body.contains("playground/index.js"), "{body}");
        }
    }
    for (path, media) in [
        ("/playground/index.js", "text/javascript; charset=utf-8"),
        ("/playground/index.css", "text/css; charset=utf-8"),
        (
            "/playground/graphql.worker.js",
            "text/javascript; charset=utf-8",
        ),
        (
            "/playground/json.worker.js",
            "text/javascript; charset=utf-8",
        ),
        (
            "/playground/editor.worker.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let (status, content_type, _, _) = stack.get(path, "*/*").await;
        assert_eq!(
            (status, content_type.as_str()),
            (StatusCode::OK, media),
            "{path}"
        );
    }
    let (status, _, _, _) = stack.get("/playground/nothing.js", "*/*").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An unchanged file costs a 304.
    let first = reqwest::get(format!("{}/playground/index.css", stack.origin))
        .await
        .unwrap();
    let etag = first.headers()["etag"].clone();
    let again = reqwest::Client::new()
        .get(format!("{}/playground/index.css", stack.origin))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

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
async fn the_page_itself_has_no_inline_script_and_no_other_address() {
    let stack = Stack::start(&[]).await;
    let (status, _, _, body) = stack.get("/", "text/html").await;
    assert_eq!(status, StatusCode::OK);
    for banned in [
        "http://",
        "https://",
        "<script>",
        "<style",
        "style=\"",
        " onclick=",
        " onload=",
    ] {
        assert!(!body.contains(banned), "the page has {banned}:\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_plans_included_reports_each_fetch_time() {
    let stack = Stack::start(&["--expose-query-plans"]).await;
    let body = stack.post(ACROSS_SUBGRAPHS, Some("include")).await;
    assert!(body["data"]["topProducts"][1]["name"].is_string(), "{body}");
    let timings = body["extensions"]["fetchTimings"].as_array().unwrap();
    let text = body["extensions"]["queryPlan"]["text"].as_str().unwrap();
    // One entry per fetch of the plan, each naming a subgraph the plan names.
    assert_eq!(
        timings.len(),
        text.matches("Fetch(service:").count(),
        "{body}"
    );
    for t in timings {
        let subgraph = t["subgraph"].as_str().unwrap();
        assert!(
            text.contains(&format!("Fetch(service: \"{subgraph}\"")),
            "{t}"
        );
        assert!(t["durationMs"].as_f64().unwrap() > 0.0, "{t}");
        assert!(t["startMs"].as_f64().unwrap() >= 0.0, "{t}");
        assert_eq!(t["cached"], false, "{t}");
        assert_eq!(t["kind"], "Fetch", "{t}");
    }
    assert_eq!(timings[0]["path"], "", "the root fetch: {body}");
    assert!(
        timings.iter().any(|t| t["path"] == "topProducts.@"),
        "{body}"
    );
    // Entity fetches start after the root fetch they depend on ends.
    let root_end =
        timings[0]["startMs"].as_f64().unwrap() + timings[0]["durationMs"].as_f64().unwrap();
    assert!(
        timings[1]["startMs"].as_f64().unwrap() >= root_end,
        "{body}"
    );
    // Not asked for: not there.
    let plain = stack.post(ACROSS_SUBGRAPHS, None).await;
    assert!(
        plain
            .get("extensions")
            .is_none_or(|e| e.get("fetchTimings").is_none()),
        "{plain}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_can_be_switched_off() {
    let dir = scratch("off");
    let config = dir.join("weft.yaml");
    std::fs::write(&config, "playground:\n  enabled: false\n").unwrap();
    let stack = Stack::start(&["--config", config.to_str().unwrap()]).await;
    let (status, _, _, _) = stack.get("/", "text/html").await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let (status, _, _, _) = stack.get("/playground/index.js", "*/*").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The bundle's files are compressed once, not per request: a client accepting gzip gets the
/// same gzip bytes each time (which inflate to the file), one accepting only br gets the file
/// as it is (rather than a 5 MB brotli job per request), and the answer varies by encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_files_are_compressed_once_not_per_request() {
    use std::io::Read;
    let stack = Stack::start(&[]).await;
    let client = reqwest::Client::new();
    let fetch = |encoding: &'static str| {
        let request = client
            .get(format!("{}/playground/index.js", stack.origin))
            .header("accept-encoding", encoding);
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(
                r.headers().get("vary").map(|v| v.to_str().unwrap()),
                Some("accept-encoding")
            );
            let coding = r
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            (coding, r.bytes().await.unwrap())
        }
    };
    let (plain_coding, plain) = fetch("identity").await;
    assert_eq!(plain_coding, None);
    assert!(
        plain.len() > 100_000,
        "the bundle's script: {} bytes",
        plain.len()
    );
    let (first_coding, first) = fetch("gzip, deflate, br").await;
    let (_, second) = fetch("br;q=1.0, gzip;q=0.5").await;
    assert_eq!(first_coding.as_deref(), Some("gzip"));
    assert_eq!(first, second, "the same compressed bytes both times");
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&first[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated, plain);
    let (br_coding, br_body) = fetch("br").await;
    assert_eq!(br_coding, None, "br only: sent as it is");
    assert_eq!(br_body, plain);
    let (refused_coding, _) = fetch("gzip;q=0").await;
    assert_eq!(refused_coding, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_runs_over_websocket_in_graphiql_in_chromium() {
    let demo = Demo::start();
    let origin = demo.origin.clone();
    let query = "subscription { stockChanged(upc: \"1\") { upc stock name } }";
    let url = format!("{origin}/?query={}", support::encode(query));
    let profile = scratch("profile-subscription");
    let runtime = tokio::runtime::Handle::current();
    let (before, shown) = tokio::task::spawn_blocking(move || {
        let graphql = format!("{origin}/graphql");
        let mut b = Browser::launch(&profile);
        b.navigate(&url);
        wait_until_ready(&mut b);
        let before = runtime.block_on(async {
            let (_, body) =
                support::query(&graphql, &[], "{ product(upc: \"1\") { stock } }").await;
            body["data"]["product"]["stock"].as_i64().unwrap()
        });
        b.click(".graphiql-execute-button");
        // Subscribed (over graphql-ws, the page's own origin), and inventory's stream open.
        runtime.block_on(support::until_subscriptions(&graphql, 1));
        std::thread::sleep(Duration::from_millis(500));
        // A checkout of product 1 changes its stock: the event shows in the response pane.
        runtime.block_on(async {
            let checkout = "mutation { checkout(input: { userId: \"1\", items: [{ upc: \"1\", \
                            quantity: 1 }], paymentToken: \"tok_ok\" }) { status } }";
            let (_, body) = support::query(&graphql, &[], checkout).await;
            assert_eq!(body["data"]["checkout"]["status"], "CONFIRMED", "{body}");
        });
        let shown = b.wait_for(
            "the subscription's event",
            &format!(
                "(() => {{ const v = {}; return v && v.includes('stockChanged') ? v : null; }})()",
                model("response.json")
            ),
            30,
        );
        let shown: Value = serde_json::from_str(shown.as_str().unwrap()).unwrap();
        assert_clean(&mut b, &origin, "graphql.worker.js");
        (before, shown)
    })
    .await
    .unwrap();
    assert_eq!(
        shown["data"]["stockChanged"],
        serde_json::json!({ "upc": "1", "stock": before - 1, "name": demo_product(1).name }),
        "{shown}"
    );
}
