//! Fetch merging (issue 20; docs/decisions.md "Fetch merging"): the entity fetches of one plan
//! level to one subgraph go out as one request. Real HTTP subgraphs behind a real
//! `weft serve`: the scores subgraph records every request it gets and answers each
//! `_entities` field from the representations it was sent, so the tests see exactly what the
//! gateway sent and that each result went back to every path that needed it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Map, Value, json};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
type Query { users: [User] top: [User] }
type User @key(fields: "id") { id: ID! name: String }
"#;

const SCORES: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
type User @key(fields: "id") { id: ID! score: Int rating: Int }
"#;

/// How the scores subgraph misbehaves, if at all.
#[derive(Clone, Copy)]
enum Scores {
    Honest,
    /// An error at the first representation of each `_entities` field.
    ErrorAtFirst,
    /// One result too few for the field `_entities_1`.
    ShortSecond,
}

/// `users` are 1 and 2, `top` are 2 and 3: user 2 is at both paths.
async fn accounts() -> support::Recorded {
    support::recording_subgraph(|_| {
        let user = |id: &str| json!({ "__typename": "User", "id": id, "name": format!("u{id}") });
        json!({ "data": { "users": [user("1"), user("2")], "top": [user("2"), user("3")] } })
    })
    .await
}

/// Answers every representation list `representations[_N]` under the field
/// `_entities[_N]`: score = 10 × id, rating = id.
async fn scores(how: Scores) -> support::Recorded {
    support::recording_subgraph(move |request| {
        let mut data = Map::new();
        let mut errors = Vec::new();
        let variables = request["variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, list) in variables {
            let Some(suffix) = name.strip_prefix("representations") else {
                continue;
            };
            let field = format!("_entities{suffix}");
            let mut results: Vec<Value> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|rep| {
                    let id: i64 = rep["id"].as_str().unwrap().parse().unwrap();
                    json!({ "__typename": "User", "score": id * 10, "rating": id })
                })
                .collect();
            match how {
                Scores::Honest => {}
                Scores::ErrorAtFirst => {
                    results[0] = Value::Null;
                    errors.push(json!({ "message": "no score", "path": [field, 0] }));
                }
                Scores::ShortSecond if field == "_entities_1" => {
                    results.pop();
                }
                Scores::ShortSecond => {}
            }
            data.insert(field, Value::Array(results));
        }
        let mut body = json!({ "data": data });
        if !errors.is_empty() {
            body["errors"] = Value::Array(errors);
        }
        body
    })
    .await
}

/// `weft serve` over the two subgraphs, with `yaml` in its config.
fn gateway(tag: &str, accounts: &str, scores: &str, yaml: &str) -> (support::Process, String) {
    let inputs = [
        support::input("accounts", accounts, ACCOUNTS),
        support::input("scores", scores, SCORES),
    ];
    let config = support::composed_config(tag, &inputs, yaml);
    support::serve(["--config", &config.display().to_string()])
}

/// The ids in a representation list, in order.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn paths(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["path"].to_string())
        .collect();
    out.sort();
    out
}

/// Two paths asking the same fields: one request, one list, user 2 sent once, and its
/// score at both places — with the entity cache and cross-request batching off and on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_selection_at_two_paths_is_one_request_with_each_representation_once() {
    let accounts = accounts().await;
    let scores = scores(Scores::Honest).await;
    for yaml in [
        "",
        "entity_batching:\n  enabled: true\n",
        "entity_cache:\n  enabled: true\n",
    ] {
        let (_gw, url) = gateway("merge-same", &accounts.url, &scores.url, yaml);
        let (status, body) =
            support::query(&url, &[], "{ users { id score } top { id score } }").await;
        assert_eq!(status, 200, "{yaml}: {body}");
        assert_eq!(
            body,
            json!({ "data": {
                "users": [{ "id": "1", "score": 10 }, { "id": "2", "score": 20 }],
                "top": [{ "id": "2", "score": 20 }, { "id": "3", "score": 30 }],
            } }),
            "{yaml}"
        );
        let sent = scores.take();
        assert_eq!(sent.len(), 1, "{yaml}: {sent:?}");
        let variables = sent[0]["variables"].as_object().unwrap();
        assert_eq!(variables.len(), 1, "{yaml}: {sent:?}");
        assert_eq!(
            ids(&variables["representations"]),
            ["1", "2", "3"],
            "{yaml}"
        );
        accounts.take();
    }
}

/// Two paths asking different fields: still one request, with an `_entities` field (and a
/// list) each; every object gets only what its path asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_selections_at_two_paths_are_one_request_with_a_field_each() {
    let accounts = accounts().await;
    let scores = scores(Scores::Honest).await;
    let (_gw, url) = gateway("merge-different", &accounts.url, &scores.url, "");
    let (_, body) = support::query(&url, &[], "{ users { id score } top { id rating } }").await;
    assert_eq!(
        body,
        json!({ "data": {
            "users": [{ "id": "1", "score": 10 }, { "id": "2", "score": 20 }],
            "top": [{ "id": "2", "rating": 2 }, { "id": "3", "rating": 3 }],
        } })
    );
    let sent = scores.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let query = sent[0]["query"].as_str().unwrap();
    assert!(
        query.contains("_entities_0: _entities(representations: $representations_0)")
            && query.contains("_entities_1: _entities(representations: $representations_1)"),
        "{query}"
    );
    let variables = &sent[0]["variables"];
    assert_eq!(ids(&variables["representations_0"]), ["1", "2"]);
    assert_eq!(ids(&variables["representations_1"]), ["2", "3"]);
}

/// A subgraph error at a shared representation lands at every object that sent it, with
/// the path each would have had from a fetch of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_at_a_shared_representation_reaches_every_path_that_sent_it() {
    let accounts = accounts().await;
    let scores = scores(Scores::ErrorAtFirst).await;
    let (_gw, url) = gateway("merge-errors", &accounts.url, &scores.url, "");
    // One list in the order found, users first: [1, 2, 3]; the first (user 1) fails.
    let (_, body) = support::query(&url, &[], "{ users { id score } top { id score } }").await;
    assert_eq!(paths(&body), [r#"["users",0]"#], "{body}");
    assert_eq!(body["data"]["users"][1]["score"], 20, "{body}");
    assert_eq!(body["data"]["top"][0]["score"], 20, "{body}");
    // Make the shared one fail: top first puts user 2 first in the list.
    let (_, body) = support::query(&url, &[], "{ top { id score } users { id score } }").await;
    assert_eq!(paths(&body), [r#"["top",0]"#, r#"["users",1]"#], "{body}");
    // Aliased fields: each error goes to its own field's paths.
    let (_, body) = support::query(&url, &[], "{ users { id score } top { id rating } }").await;
    assert_eq!(paths(&body), [r#"["top",0]"#, r#"["users",0]"#], "{body}");
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["extensions"]["serviceName"] == "scores")
    );
}

/// An `_entities` list of the wrong length fails the fetches that used it, not the others
/// in the same request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_length_list_fails_only_its_own_paths() {
    let accounts = accounts().await;
    let scores = scores(Scores::ShortSecond).await;
    let (_gw, url) = gateway("merge-short", &accounts.url, &scores.url, "");
    let (_, body) = support::query(&url, &[], "{ users { id score } top { id rating } }").await;
    assert_eq!(body["data"]["users"][0]["score"], 10, "{body}");
    assert_eq!(body["data"]["users"][1]["score"], 20, "{body}");
    assert_eq!(body["data"]["top"][0]["rating"], Value::Null, "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
    assert_eq!(errors[0]["path"], json!(["top", 0]), "{body}");
}
