#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! `POST /graphql` with `Accept: text/event-stream` answers as GraphQL over SSE ("distinct
//! connections" mode), byte for byte; without it, JSON as before. Over real HTTP, on the real
//! inventory subgraph. (The heartbeat keeps its 15 s default here, so no comment line can fall
//! between the frames these tests compare whole.)

use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_inventory::Inventory;
use weft_subgraph_kit::subgraph::open;
use weft_subgraph_kit::{Running, spawn};

async fn start() -> Running {
    let db = open::<Inventory>(None).await.unwrap();
    spawn::<Inventory>(TcpListener::bind("127.0.0.1:0").await.unwrap(), db).unwrap()
}

/// POSTs `body` asking for an event stream; the status, content type and whole body.
async fn post_sse(url: &str, body: &str) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header("accept", "text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = tokio::time::timeout(std::time::Duration::from_secs(20), response.text())
        .await
        .expect("the stream ends")
        .unwrap();
    (status, content_type, text)
}

#[tokio::test]
async fn a_query_is_one_next_event_then_complete() {
    let sg = start().await;
    let body = json!({ "query": "query Q($u: String!) { tracked(upc: $u) }", "variables": { "u": "2" }, "operationName": "Q" });
    let (status, content_type, text) = post_sse(&sg.url(), &body.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/event-stream");
    assert_eq!(
        text,
        "event: next\ndata: {\"data\":{\"tracked\":true}}\n\nevent: complete\ndata:\n\n"
    );
}

#[tokio::test]
async fn a_query_that_does_not_parse_is_reported_in_a_next_event() {
    let sg = start().await;
    let (status, content_type, text) = post_sse(&sg.url(), r#"{"query":"{ tracked(upc: "}"#).await;
    // The protocol: errors found before execution go through the accepted stream, not a 400.
    assert_eq!((status, content_type.as_str()), (200, "text/event-stream"));
    let frames: Vec<&str> = text.split_inclusive("\n\n").collect();
    assert_eq!(frames.len(), 2, "{text}");
    let data = frames[0]
        .strip_prefix("event: next\ndata: ")
        .and_then(|f| f.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("not a next event: {:?}", frames[0]));
    let result: Value = serde_json::from_str(data).unwrap();
    assert!(result["data"].is_null(), "{result}");
    assert!(
        result["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{result}"
    );
    assert_eq!(frames[1], "event: complete\ndata:\n\n");
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_is_a_400_in_json() {
    let sg = start().await;
    for body in ["{not json", r#"[{"query":"{ tracked(upc: \"1\") }"}]"#] {
        let (status, content_type, text) = post_sse(&sg.url(), body).await;
        assert_eq!(
            (status, content_type.as_str()),
            (400, "application/json"),
            "{body}"
        );
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_REQUEST",
            "{body}"
        );
    }
}

#[tokio::test]
async fn without_the_event_stream_accept_the_answer_stays_json() {
    let sg = start().await;
    let response = reqwest::Client::new()
        .post(sg.url())
        .header("accept", "application/json")
        .json(&json!({ "query": "{ tracked(upc: \"4\") }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer, json!({ "data": { "tracked": true } }));
}
