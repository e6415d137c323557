//! Subgraph answers are untrusted (issue 19; docs/subgraph-answers.md): misbehaving subgraphs
//! (real HTTP servers answering canned bodies) behind a real `weft serve`. Whatever they
//! answer — fields nobody asked for, values of the wrong type, `_entities` of the wrong
//! length, garbage, 50 MB — changes nothing outside what each fetch asked for and reveals no
//! field the client may not see; numbers reach the client with the text the subgraph sent,
//! cached or not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@authenticated"])
type Query { me: User users: [User] }
type User @key(fields: "id") { id: ID! name: String! email: String @authenticated }
"#;

const SCORES: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
type User @key(fields: "id") {
  id: ID!
  score: Int
  counts: [Int]
  rating: Float
  ratings: [Float]
  tags: [String]
  level: Level
  best: Badge
  big: Big
}
type Badge { label: String }
scalar Big
enum Level { LOW HIGH }
"#;

/// A subgraph answering `answer(request)` as its body, counting the requests it gets.
struct Canned {
    url: String,
    requests: Arc<AtomicUsize>,
}

type Answer = Arc<dyn Fn(&Value) -> Body + Send + Sync>;

async fn canned(answer: impl Fn(&Value) -> Body + Send + Sync + 'static) -> Canned {
    let answer: Answer = Arc::new(answer);
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    let app = axum::Router::new().route(
        "/graphql",
        post(move |axum::Json(request): axum::Json<Value>| {
            let answer = answer.clone();
            count.fetch_add(1, Ordering::SeqCst);
            async move {
                axum::response::Response::builder()
                    .header("content-type", "application/json")
                    .body(answer(&request))
                    .unwrap()
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Canned {
        url: format!("http://{addr}/graphql"),
        requests,
    }
}

fn text(s: &str) -> Body {
    Body::from(s.to_owned())
}

/// The accounts subgraph answering `me` (user 1) and `users` (users 1 and 2) honestly but
/// for the extra fields it volunteers: an `@authenticated` email and a field nobody has.
async fn accounts() -> Canned {
    canned(|_| {
        text(
            r#"{"data":{"me":{"__typename":"User","id":"1","name":"Ada","email":"ada@x","secret":"s"},
               "users":[{"__typename":"User","id":"1","name":"Ada"},{"__typename":"User","id":"2","name":"Bob"}]}}"#,
        )
    })
    .await
}

/// `weft serve` over the two subgraphs, with `yaml` in its config.
fn gateway(tag: &str, accounts: &str, scores: &str, yaml: &str) -> (support::Process, String) {
    let config = config(tag, accounts, scores, yaml);
    support::serve(["--config", &config.display().to_string()])
}

/// The same, with the gateway's log (stderr) going to the file returned.
fn logged_gateway(
    tag: &str,
    accounts: &str,
    scores: &str,
    yaml: &str,
) -> (support::Process, String, std::path::PathBuf) {
    let config = config(tag, accounts, scores, yaml);
    let log = config.with_file_name("weft.log");
    let mut command = support::weft_command();
    command.stderr(std::fs::File::create(&log).unwrap());
    let (process, url) = support::serve_with(command, ["--config", &config.display().to_string()]);
    (process, url, log)
}

/// A scratch folder with the supergraph of the two subgraphs and a config serving it with
/// `yaml`; the config file's path.
fn config(tag: &str, accounts: &str, scores: &str, yaml: &str) -> std::path::PathBuf {
    let inputs = [
        support::input("accounts", accounts, ACCOUNTS),
        support::input("scores", scores, SCORES),
    ];
    support::composed_config(tag, &inputs, yaml)
}

/// The client's answer as text (numbers are compared as written).
async fn raw(url: &str, query: &str) -> String {
    let body = json!({ "query": query }).to_string();
    let headers = [("content-type", "application/json")];
    support::send(url, reqwest::Method::POST, "", &headers, Some(body))
        .await
        .text()
        .await
        .unwrap()
}

fn codes_and_paths(body: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
                e["path"].clone(),
            )
        })
        .collect();
    out.sort_by_key(|(c, p)| format!("{c}{p}"));
    out
}

const SHARING: [&str; 3] = [
    "",
    "entity_batching:\n  enabled: true\ndedupe:\n  subgraph_requests: true\n",
    "entity_cache:\n  enabled: true\n",
];

/// The entity fetch for `score` answers a hijacked key, another subgraph's field, an
/// `@authenticated` field and a concrete type of its own; the root fetch volunteers the
/// email. An anonymous client sees none of it, whether the answer is its own, batched with
/// other requests' or de-duplicated, or from the entity cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volunteered_fields_never_reach_the_client_nor_overwrite_other_data() {
    let accounts = accounts().await;
    let retyped = canned(|_| {
        text(
            r#"{"data":{"_entities":[{"__typename":"Admin","id":"HIJACK","name":"HACKED","email":"leaked@x","score":1}]}}"#,
        )
    })
    .await;
    let untyped = canned(|_| {
        text(
            r#"{"data":{"_entities":[{"id":"HIJACK","name":"HACKED","email":"leaked@x","score":1}]}}"#,
        )
    })
    .await;
    for (scores, yaml) in [&untyped, &retyped]
        .into_iter()
        .flat_map(|s| SHARING.map(|y| (s, y)))
    {
        let (_gw, url) = gateway("volunteered", &accounts.url, &scores.url, yaml);
        // Twice: with the entity cache, the second answer is the cached one.
        for _ in 0..2 {
            let (_, body) =
                support::query(&url, &[], "{ me { __typename id name email score } }").await;
            assert_eq!(
                body["data"],
                json!({ "me": { "__typename": "User", "id": "1", "name": "Ada", "email": null, "score": 1 } }),
                "{yaml}: {body}"
            );
            assert_eq!(
                codes_and_paths(&body),
                vec![(
                    "UNAUTHORIZED_FIELD_OR_TYPE".to_owned(),
                    json!(["me", "email"])
                )],
                "{yaml}: {body}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_not_of_their_type_are_null_with_an_error() {
    let accounts = accounts().await;
    let scores = canned(|_| {
        text(
            r#"{"data":{"_entities":[{"score":"x","counts":[1,2.0,3000000000,1.5,"2",null],
               "rating":{"a":1},"ratings":[1,2.5,true],"tags":"t","level":"SECRET",
               "best":"gold","big":{"any":[1,{"deep":true}]}}]}}"#,
        )
    })
    .await;
    let (_gw, url) = gateway("types", &accounts.url, &scores.url, "");
    let (_, body) = support::query(
        &url,
        &[],
        "{ me { id score counts rating ratings tags level best { label } big } }",
    )
    .await;
    assert_eq!(
        body["data"],
        json!({ "me": {
            "id": "1", "score": null, "counts": [1, 2, null, null, null, null], "rating": null,
            "ratings": [1, 2.5, null], "tags": null, "level": null, "best": null,
            "big": { "any": [1, { "deep": true }] }
        } }),
        "{body}"
    );
    let invalid = |path: Value| ("INVALID_SUBGRAPH_VALUE".to_owned(), path);
    let mut expected = vec![
        invalid(json!(["me", "score"])),
        invalid(json!(["me", "counts", 2])),
        invalid(json!(["me", "counts", 3])),
        invalid(json!(["me", "counts", 4])),
        invalid(json!(["me", "rating"])),
        invalid(json!(["me", "ratings", 2])),
        invalid(json!(["me", "tags"])),
        invalid(json!(["me", "level"])),
        invalid(json!(["me", "best"])),
    ];
    expected.sort_by_key(|(c, p)| format!("{c}{p}"));
    assert_eq!(codes_and_paths(&body), expected, "{body}");
    // An object's content is not shown in the error (it may hold what was not asked for).
    assert!(!body.to_string().contains("\"a\""), "{body}");

    // A wrong value in a non-null position nulls its nearest nullable parent.
    let accounts = canned(|_| {
        text(r#"{"data":{"me":{"__typename":"User","id":"1","name":{"first":"Ada"}}}}"#)
    })
    .await;
    let (_gw, url) = gateway("types", &accounts.url, &scores.url, "");
    let (_, body) = support::query(&url, &[], "{ me { id name } }").await;
    assert_eq!(body["data"], json!({ "me": null }), "{body}");
    assert_eq!(
        codes_and_paths(&body),
        vec![("INVALID_SUBGRAPH_VALUE".to_owned(), json!(["me", "name"]))]
    );
}

/// One result for two representations: which belongs to whom is unknown, so neither object
/// gets anything, batched across requests or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entities_list_of_the_wrong_length_fails_the_whole_fetch() {
    let accounts = accounts().await;
    let scores = canned(|_| text(r#"{"data":{"_entities":[{"score":5}]}}"#)).await;
    for yaml in SHARING {
        let (_gw, url) = gateway("count", &accounts.url, &scores.url, yaml);
        let (_, body) = support::query(&url, &[], "{ users { id name score } }").await;
        assert_eq!(
            body["data"],
            json!({ "users": [
                { "id": "1", "name": "Ada", "score": null },
                { "id": "2", "name": "Bob", "score": null }
            ] }),
            "{yaml}: {body}"
        );
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
        assert_eq!(errors[0]["extensions"]["serviceName"], "scores");
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap()
                .contains("1 results for 2"),
            "{body}"
        );
    }
}

/// Answers that are not GraphQL responses fail their fetch only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_fails_only_its_own_fetch() {
    let garbage: &[&str] = &[
        "<html>oops</html>",
        r#"{"data":{"_entities":[{"score":1}]"#,
        r#"{"data":{"_entities":[{"score":1}]}} trailing"#,
        r#"{"data":{"_entities":{"score":1}}}"#,
        r#"{"data":{"_entities":[{"score":01}]}}"#,
        r#"{"data":{"_entities":[{"score":"\ud800"}]}}"#,
        "[1,2]",
        "",
    ];
    let current = Arc::new(Mutex::new(""));
    let served = current.clone();
    let accounts = accounts().await;
    let scores = canned(move |_| text(&served.lock().unwrap())).await;
    let (_gw, url) = gateway("garbage", &accounts.url, &scores.url, "");
    for answer in garbage {
        *current.lock().unwrap() = answer;
        let (status, body) = support::query(&url, &[], "{ me { id name score } }").await;
        assert_eq!(status, 200, "{answer}: {body}");
        assert_eq!(
            body["data"],
            json!({ "me": { "id": "1", "name": "Ada", "score": null } }),
            "{answer}: {body}"
        );
        assert_eq!(
            codes_and_paths(&body),
            vec![("SUBREQUEST_HTTP_ERROR".to_owned(), json!(["me"]))],
            "{answer}: {body}"
        );
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A 50 MB answer, streamed without a length (or with one), fails its fetch at the cap
/// (32 MiB by default, or as configured) without the gateway holding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_answer_fails_its_fetch_and_the_gateway_stays_small() {
    let accounts = accounts().await;
    let streamed = canned(|_| {
        let head = futures::stream::once(async {
            Ok::<_, std::io::Error>(bytes_of(r#"{"data":{"_entities":[{"score":1,"pad":""#))
        });
        let pad = futures::stream::iter(
            (0..50).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 1 << 20]))),
        );
        let tail = futures::stream::once(async { Ok(bytes_of(r#""}]}}"#)) });
        use futures::StreamExt;
        Body::from_stream(head.chain(pad).chain(tail))
    })
    .await;
    let whole = canned(|_| {
        let mut body = br#"{"data":{"_entities":[{"score":1,"pad":""#.to_vec();
        body.resize(body.len() + 50 * (1 << 20), b'x');
        body.extend_from_slice(br#""}]}}"#);
        Body::from(body)
    })
    .await;
    for scores in [&streamed, &whole] {
        let (gw, url) = gateway("big", &accounts.url, &scores.url, "");
        let (_, warm) = support::query(&url, &[], "{ me { id } }").await;
        assert_eq!(warm["data"], json!({ "me": { "id": "1" } }));
        let before = peak_rss_kib(gw.0.id());
        let (status, body) = support::query(&url, &[], "{ me { id name score } }").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"],
            json!({ "me": { "id": "1", "name": "Ada", "score": null } })
        );
        assert_eq!(
            codes_and_paths(&body),
            vec![("SUBREQUEST_RESPONSE_TOO_LARGE".to_owned(), json!(["me"]))],
            "{body}"
        );
        // At most the cap (32 MiB) and what reading it costs (under twice the cap), however
        // long the answer.
        let peak = peak_rss_kib(gw.0.id());
        eprintln!("peak RSS {before} KiB before, {peak} KiB after");
        assert!(
            peak - before < 64 * 1024,
            "peak RSS {before} KiB → {peak} KiB"
        );
        let (_, again) = support::query(&url, &[], "{ me { id } }").await;
        assert_eq!(
            again["data"],
            json!({ "me": { "id": "1" } }),
            "still serving"
        );
    }
    // The cap is the subgraph's own when configured.
    let small =
        canned(|_| text(r#"{"data":{"_entities":[{"score":1,"pad":"0123456789"}]}}"#)).await;
    let yaml = "subgraphs:\n  scores:\n    max_response_bytes: 40\n";
    let (_gw, url) = gateway("big", &accounts.url, &small.url, yaml);
    let (_, body) = support::query(&url, &[], "{ me { id score } }").await;
    assert_eq!(
        codes_and_paths(&body),
        vec![("SUBREQUEST_RESPONSE_TOO_LARGE".to_owned(), json!(["me"]))],
        "{body}"
    );
}

fn bytes_of(s: &str) -> axum::body::Bytes {
    axum::body::Bytes::from(s.to_owned())
}

/// A subgraph that cannot be reached is named, its address is not shown; a subgraph's own
/// messages are hidden when `include_errors` is off for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_name_the_subgraph_never_its_address() {
    let accounts = canned(|_| {
        text(
            r#"{"data":{"me":null},"errors":[{"message":"db password is hunter2","path":["me"],"extensions":{"code":"DB_DOWN","host":"10.0.0.7"}}]}"#,
        )
    })
    .await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/graphql", listener.local_addr().unwrap())
    };
    let (_gw, url) = gateway("address", &accounts.url, &closed, "");
    let (_, body) = support::query(&url, &[], "{ me { id } }").await;
    assert_eq!(body["errors"][0]["message"], "db password is hunter2");

    let honest = self::accounts().await;
    let (_gw, url, log) = logged_gateway("address", &honest.url, &closed, "");
    let (_, body) = support::query(&url, &[], "{ me { id score } }").await;
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "SUBREQUEST_HTTP_ERROR",
        "{body}"
    );
    assert_eq!(error["extensions"]["serviceName"], "scores", "{body}");
    let shown = body.to_string();
    let port = closed.split(':').nth(2).unwrap().split('/').next().unwrap();
    for leak in ["127.0.0.1", "http://", port, "error sending request"] {
        assert!(!shown.contains(leak), "{leak} in {shown}");
    }
    // The operator gets it all, at the default log level.
    let logged = std::fs::read_to_string(&log).unwrap();
    let warning = logged
        .lines()
        .find(|l| l.contains("subgraph fetch failed"))
        .unwrap_or_else(|| panic!("no warning in {logged}"));
    for detail in ["WARN", "scores", &closed, "SUBREQUEST_HTTP_ERROR"] {
        assert!(warning.contains(detail), "{detail} not in {warning}");
    }
    // A down subgraph under load does not flood the log: one line per subgraph per window
    // (the next window's line says how many were held back).
    for _ in 0..20 {
        support::query(&url, &[], "{ me { id score } }").await;
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    let lines = logged
        .lines()
        .filter(|l| l.contains("subgraph fetch failed"))
        .count();
    assert_eq!(lines, 1, "{logged}");

    let yaml = "subgraphs:\n  accounts:\n    include_errors: false\n";
    let (_gw, url) = gateway("address", &accounts.url, &closed, yaml);
    let (_, body) = support::query(&url, &[], "{ me { id } }").await;
    assert_eq!(
        body["errors"],
        json!([{
            "message": "Subgraph errors redacted",
            "path": ["me"],
            "extensions": { "code": "DB_DOWN", "serviceName": "accounts" }
        }]),
        "{body}"
    );
}

/// The text of every number as the subgraph wrote it: 17 significant digits, more digits than
/// a double holds, `-0`, exponents, integers past 2^53 in a custom scalar; an integer `ID` as
/// its text; a `Float` past a double's range is not one. The same through cross-request
/// batching, and from the entity cache, in memory and from Redis (a second gateway sharing
/// it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_reach_the_client_with_the_text_the_subgraph_sent() {
    let accounts = canned(|_| {
        text(r#"{"data":{"me":{"__typename":"User","id":12345678901234567890,"name":"Ada"}}}"#)
    })
    .await;
    let scores = canned(|_| {
        text(
            r#"{"data":{"_entities":[{"score":-0,"counts":[2147483647,-2147483648,1E2],
               "rating":-234.71146943839653,
               "ratings":[0.1000000000000000055511151231257827,-0,-0.0,1e300,1E-7,5e-324,1.7976931348623157e308,1e400],
               "big":123456789012345678901234567890.000000000000000000001}]}}"#,
        )
    })
    .await;
    let query = "{ me { id score counts rating ratings big } }";
    let expected = concat!(
        r#""data":{"me":{"id":"12345678901234567890","score":-0,"counts":[2147483647,-2147483648,100],"#,
        r#""rating":-234.71146943839653,"#,
        r#""ratings":[0.1000000000000000055511151231257827,-0,-0.0,1e300,1E-7,5e-324,1.7976931348623157e308,null],"#,
        r#""big":123456789012345678901234567890.000000000000000000001}}"#,
    );
    let check = |answer: &str, how: &str| {
        assert!(answer.contains(expected), "{how}: {answer}");
        let body: Value = serde_json::from_str(answer).unwrap();
        assert_eq!(
            codes_and_paths(&body),
            vec![(
                "INVALID_SUBGRAPH_VALUE".to_owned(),
                json!(["me", "ratings", 7])
            )],
            "{how}: {answer}"
        );
    };
    let (_gw, url) = gateway("numbers", &accounts.url, &scores.url, "");
    check(&raw(&url, query).await, "uncached");
    let batched = "entity_batching:\n  enabled: true\n";
    let (_gw, url) = gateway("numbers", &accounts.url, &scores.url, batched);
    check(&raw(&url, query).await, "batched across requests");

    let prefix = format!("weft-test-numbers-{}:", std::process::id());
    let yaml = format!(
        "entity_cache:\n  enabled: true\n  redis:\n    url: redis://127.0.0.1:6379\n    key_prefix: \"{prefix}\"\n"
    );
    let (_a, first) = gateway("numbers", &accounts.url, &scores.url, &yaml);
    check(&raw(&first, query).await, "stored");
    let fetched = scores.requests.load(Ordering::SeqCst);
    check(&raw(&first, query).await, "from memory");
    assert_eq!(
        scores.requests.load(Ordering::SeqCst),
        fetched,
        "a cache hit"
    );
    // Redis is written in the background.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_b, second) = gateway("numbers", &accounts.url, &scores.url, &yaml);
    check(&raw(&second, query).await, "from Redis");
    assert_eq!(
        scores.requests.load(Ordering::SeqCst),
        fetched,
        "a Redis hit"
    );
}

/// When the fetch that gives an `@interfaceObject` item its concrete type fails, the item's
/// type is unknown: it is null with an error, never an interface's name as `__typename`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_of_unknown_concrete_type_is_null_never_an_interface() {
    let users = canned(|_| {
        text(
            r#"{"data":{"users":[{"__typename":"User","id":"1"},{"__typename":"User","id":"2"}]}}"#,
        )
    })
    .await;
    let kinds = canned(|_| text("oops")).await;
    let inputs = [
        support::input(
            "users",
            &users.url,
            r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@interfaceObject"])
type Query { users: [User] }
type User @key(fields: "id") @interfaceObject { id: ID! name: String }"#,
        ),
        support::input(
            "kinds",
            &kinds.url,
            r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
interface User @key(fields: "id") { id: ID! }
type Admin implements User @key(fields: "id") { id: ID! isMain: Boolean }
type Member implements User @key(fields: "id") { id: ID! }"#,
        ),
    ];
    let dir = support::scratch("interface-typename", 0);
    let path = dir.join("supergraph.graphql");
    std::fs::write(&path, support::supergraph(&inputs)).unwrap();
    let (_gw, url) = support::serve(["--supergraph", &path.display().to_string()]);
    let (_, body) = support::query(
        &url,
        &[],
        "{ users { __typename ... on Admin { isMain } } }",
    )
    .await;
    assert_eq!(body["data"], json!({ "users": [null, null] }), "{body}");
    let codes = codes_and_paths(&body);
    for at in [json!(["users", 0]), json!(["users", 1])] {
        assert!(
            codes.contains(&("INVALID_SUBGRAPH_VALUE".to_owned(), at.clone())),
            "{at}: {body}"
        );
    }
    assert!(
        !body.to_string().contains(r#""__typename":"User""#),
        "{body}"
    );
}
