#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Hostile operations, sent as a client would, to `weft serve` over the real reference
//! subgraphs: each costs work linear in its size with every limit off, and the default limits
//! refuse what they should before any subgraph request. The assertions are on answers, codes
//! and work counts (subgraph requests), never on timings (bench/'s attack runner measures those).

mod support;

use serde_json::{Value, json};
use support::Stack;

/// Every operation limit switched off.
const LIMITS_OFF: &str = "limits:\n  max_depth: 0\n  max_aliases: 0\n  max_root_fields: 0\n  \
                          max_height: 0\n  max_tokens: 0\n  max_recursion: 0\n  \
                          max_selections: 0\n  max_planning_steps: 0\n";

impl Stack {
    async fn start(tag: &str, yaml: &str) -> Stack {
        let subgraphs = support::reference_subgraphs().await;
        let config = support::config_file(tag, &subgraphs, yaml);
        let arg = config.display().to_string();
        Stack::serve(subgraphs, ["--config", arg.as_str()])
    }

    async fn post(&self, query: &str) -> (u16, Value) {
        support::query(
            &self.url,
            &[("accept", "application/graphql-response+json")],
            query,
        )
        .await
    }
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `{ users { ...F<n> } }` where each fragment spreads the one before twice: 2^n copies of
/// `name` if expanded naively.
fn doubling_fragments(n: usize) -> String {
    let mut q = format!("{{ users {{ ...F{n} }} }}\nfragment F0 on User {{ name }}\n");
    for i in 1..=n {
        q.push_str(&format!(
            "fragment F{i} on User {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    q
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doubling_fragments_are_answered_like_the_field_they_select() {
    for (tag, yaml) in [("frag-default", ""), ("frag-off", LIMITS_OFF)] {
        let gw = Stack::start(tag, yaml).await;
        let (status, plain) = gw.post("{ users { name } }").await;
        assert_eq!(status, 200, "{plain}");
        let before = gw.requests();
        let (status, body) = gw.post(&doubling_fragments(30)).await;
        assert_eq!(status, 200, "{tag}: {body}");
        assert_eq!(body, plain, "{tag}");
        // One fetch, as for `{ users { name } }` (the answer is not shared: the text differs).
        assert_eq!(gw.requests() - before, 1, "{tag}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_aliases_are_refused_by_default_and_planned_in_one_fetch_without_limits() {
    let aliases: String = (0..10_000)
        .map(|i| format!("a{i}: user(id: \"1\") {{ name }} "))
        .collect();
    let query = format!("{{ {aliases} }}");

    let gw = Stack::start("alias-default", "").await;
    let before = gw.requests();
    // Ten thousand: past the token limit before the aliases are even counted.
    let (status, body) = gw.post(&query).await;
    assert_eq!(
        (status, codes(&body)),
        (400, vec!["MAX_TOKENS_LIMIT".to_owned()]),
        "{body}"
    );
    // Three hundred: within the tokens, past the aliases.
    let some: String = (0..300)
        .map(|i| format!("a{i}: user(id: \"1\") {{ name }} "))
        .collect();
    let (status, body) = gw.post(&format!("{{ {some} }}")).await;
    assert_eq!(
        (status, codes(&body)),
        (400, vec!["MAX_ALIASES_LIMIT".to_owned()]),
        "{body}"
    );
    assert_eq!(
        gw.requests(),
        before,
        "a refused operation reached a subgraph"
    );
    drop(gw);

    let gw = Stack::start("alias-off", LIMITS_OFF).await;
    let before = gw.requests();
    let (status, body) = gw.post(&query).await;
    assert_eq!(status, 200, "{}", &body.to_string()[..500]);
    assert!(body.get("errors").is_none(), "{}", &body.to_string()[..500]);
    let data = body["data"].as_object().unwrap();
    assert_eq!(data.len(), 10_000);
    let first = &data["a0"];
    assert!(first["name"].is_string(), "{first}");
    assert!(data.values().all(|v| v == first));
    assert_eq!(gw.requests() - before, 1, "one root fetch for every alias");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_of_braces_reports_a_hundred_errors() {
    for (tag, yaml) in [("braces-default", ""), ("braces-off", LIMITS_OFF)] {
        let gw = Stack::start(tag, yaml).await;
        let braces = format!("{}{}", "{".repeat(5000), "}".repeat(5000));
        let (status, body) = gw.post(&braces).await;
        assert_eq!(status, 400, "{tag}");
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(
            errors.len(),
            101,
            "{tag}: the first 100 and a count of the rest"
        );
        assert!(
            codes(&body).iter().all(|c| c == "GRAPHQL_PARSE_FAILED"),
            "{tag}"
        );
        assert_eq!(errors[0]["locations"][0]["line"], 1, "{tag}");
        assert!(
            errors[100]["message"]
                .as_str()
                .unwrap()
                .contains("more errors, which are not reported"),
            "{tag}"
        );
        // 200,000 braces (400 KB): the same answer, from a prefix of the document.
        let huge = format!("{}{}", "{".repeat(200_000), "}".repeat(200_000));
        let (status, body) = gw.post(&huge).await;
        assert_eq!(status, 400, "{tag}");
        assert_eq!(body["errors"].as_array().unwrap().len(), 101, "{tag}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_limits_refuse_deep_nesting_and_pass_the_classic_query() {
    let gw = Stack::start("defaults", "").await;
    // users → reviews → author, ten times: depth 21 over the demo data.
    let mut deep = String::from("id");
    for _ in 0..10 {
        deep = format!("reviews {{ author {{ {deep} }} }}");
    }
    let before = gw.requests();
    let (status, body) = gw.post(&format!("{{ users {{ {deep} }} }}")).await;
    assert_eq!(
        (status, codes(&body)),
        (400, vec!["MAX_DEPTH_LIMIT".to_owned()]),
        "{body}"
    );
    assert_eq!(gw.requests(), before);

    // Nested past the parser's recursion limit (within the token limit).
    let nested = format!("{{ {}id{} }}", "users { ".repeat(600), " }".repeat(600));
    let (status, body) = gw.post(&nested).await;
    assert_eq!(
        (status, codes(&body)),
        (400, vec!["MAX_RECURSION_LIMIT".to_owned()]),
        "{body}"
    );

    // The README's classic query, the deepest the project documents.
    let classic = "{ users { name reviews { body product { upc name reviews { author { username \
                   reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }";
    let (status, body) = gw.post(classic).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert!(!body["data"]["users"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selections_and_planning_have_budgets() {
    let gw = Stack::start(
        "budgets",
        "limits:\n  max_selections: 3\n  max_planning_steps: 2\n",
    )
    .await;
    let before = gw.requests();
    // Four selections once merged (the repeated `name` is one).
    let (status, body) = gw.post("{ users { id name name username } }").await;
    assert_eq!(
        (status, codes(&body)),
        (400, vec!["MAX_SELECTIONS_LIMIT".to_owned()]),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limits.max_selections")
    );
    // Three selections, three fields to plan: past two steps.
    let (status, body) = gw.post("{ users { reviews { body } } }").await;
    assert_eq!(
        (status, codes(&body)),
        (400, vec!["QUERY_PLANNING_BUDGET_EXCEEDED".to_owned()]),
        "{body}"
    );
    assert_eq!(gw.requests(), before);
    // Within both.
    let (status, body) = gw.post("{ users { id } }").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["users"][0], json!({ "id": "1" }));
}

/// `{ users { reviews { body author { ...  id name } } } }` with `n` levels of reviews/author.
fn reviews_authors(n: usize) -> String {
    let mut deep = String::from("id name");
    for _ in 0..n {
        deep = format!("reviews {{ body author {{ {deep} }} }}");
    }
    format!("{{ users {{ {deep} }} }}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_multiply_through_nested_lists_are_refused_or_cut() {
    // The demo's users and reviews are few, so the gateway stores each once, but an answer
    // writes them at every place they are reached: each reviews/author level multiplies it by
    // the reviews a user has.
    let gw = Stack::start("multiply", "server:\n  max_response_bytes: 1000000\n").await;
    let before = gw.requests();
    // Six levels (depth 14, within the default depth): estimated far over the default cost
    // limit, refused before any subgraph request.
    let (status, body) = gw.post(&reviews_authors(6)).await;
    assert_eq!(
        (status, codes(&body)),
        (400, vec!["COST_ESTIMATED_TOO_EXPENSIVE".to_owned()]),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limits.max_estimated_cost")
    );
    assert_eq!(gw.requests(), before);
    // Four levels: within the estimate, but megabytes of answer, over the configured 1 MB
    // response cap: cut while it is written, refused whole.
    let (status, body) = gw.post(&reviews_authors(4)).await;
    assert_eq!(
        (status, codes(&body)),
        (500, vec!["RESPONSE_TOO_LARGE".to_owned()]),
        "{body}"
    );
    // One level fits, and is answered in full.
    let (status, body) = gw.post(&reviews_authors(1)).await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none());
    assert!(body["data"]["users"][0]["reviews"][0]["author"]["name"].is_string());
}
