#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Requests refused at the edge, before the GraphQL pipeline, are counted on `/metrics` by
//! status and error code (docs/observability.md): header and body size limits, CSRF, the
//! batch limit, methods the endpoint does not take. `weft serve --config` as a real process.

mod support;

use reqwest::Method;

/// A request (method, headers, body), the status it gets and the error code it carries.
type Case<'a> = (
    Method,
    Vec<(&'a str, &'a str)>,
    Option<String>,
    u16,
    Option<&'a str>,
);

fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_before_the_pipeline_are_counted_by_status_and_code() {
    let subgraphs = support::reference_subgraphs().await;
    let config = support::config_file(
        "edge-metrics",
        &subgraphs,
        "limits:\n  max_header_bytes: 2048\n  max_body_bytes: 1024\nbatching:\n  enabled: \
         true\n  max_size: 2\n",
    );
    let arg = config.display().to_string();
    let (_gateway, url) = support::serve(["--config", arg.as_str()]);
    let json = ("content-type", "application/json");

    let big = "x".repeat(4096);
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            vec![json, ("x-big", big.as_str())],
            Some(r#"{"query":"{ __typename }"}"#.to_owned()),
            431,
            Some("REQUEST_HEADER_FIELDS_TOO_LARGE"),
        ),
        (
            Method::POST,
            vec![json],
            Some(format!(r#"{{"query":"{{ __typename }}","x":"{big}"}}"#)),
            413,
            Some("PAYLOAD_TOO_LARGE"),
        ),
        (
            Method::POST,
            vec![("content-type", "text/plain")],
            Some(r#"{"query":"{ __typename }"}"#.to_owned()),
            400,
            Some("CSRF_ERROR"),
        ),
        (
            Method::POST,
            vec![json],
            Some(r#"[{"query":"{ a: __typename }"},{"query":"{ b: __typename }"},{"query":"{ c: __typename }"}]"#.to_owned()),
            400,
            Some("BATCH_LIMIT_EXCEEDED"),
        ),
        (Method::PUT, vec![json], Some("{}".to_owned()), 405, None),
    ];
    for (method, headers, body, status, code) in cases {
        let response = support::send(&url, method.clone(), "", &headers, body).await;
        assert_eq!(response.status().as_u16(), status, "{method} {code:?}");
        let metrics = support::metrics(&url).await;
        assert!(
            sample(
                &metrics,
                &format!(r#"weft_http_requests_total{{status="{status}"}}"#)
            ) >= 1.0,
            "{method} {status} not counted:\n{metrics}"
        );
        if let Some(code) = code {
            assert_eq!(
                sample(
                    &metrics,
                    &format!(r#"weft_graphql_errors_total{{code="{code}"}}"#)
                ),
                1.0,
                "{code} not counted once:\n{metrics}"
            );
        }
    }
}
