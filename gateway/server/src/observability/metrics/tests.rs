//! The registry read back through `/metrics`' text: names, types, labels, buckets, escaping
//! and the bound on label sets, checked by a strict reader of the format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::collections::{HashMap, HashSet};

use super::*;
use weft_executor::{ErrorCode, GraphQLError, ResponseError};

/// One sample line: name, labels (unescaped), value.
type Sample = (String, Vec<(String, String)>, f64);

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A strict reader of the text format: every line a comment (`# HELP`, `# TYPE`) or a
/// sample whose family was declared by a `# TYPE` line before it, each family declared once.
fn parse(text: &str) -> (HashMap<String, String>, Vec<Sample>) {
    assert!(text.ends_with('\n'), "the last line ends with a line feed");
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped = HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').unwrap();
            assert!(is_name(name) && helped.insert(name.to_owned()), "{line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(is_name(name), "{line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(is_name(name), "{line}");
        let mut labels = Vec::new();
        let mut rest = &line[name_end..];
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices().peekable();
            let end;
            loop {
                let (start, _) = *chars.peek().unwrap();
                let mut eq = start;
                for (i, c) in chars.by_ref() {
                    if c == '=' {
                        eq = i;
                        break;
                    }
                }
                let label = &body[start..eq];
                assert!(is_name(label), "{line}");
                assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                let mut value = String::new();
                loop {
                    match chars.next().unwrap().1 {
                        '\\' => match chars.next().unwrap().1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            other => panic!("bad escape \\{other} in {line}"),
                        },
                        '"' => break,
                        '\n' => panic!("raw line feed in {line}"),
                        c => value.push(c),
                    }
                }
                labels.push((label.to_owned(), value));
                match chars.next().unwrap() {
                    (_, ',') => continue,
                    (i, '}') => {
                        end = i;
                        break;
                    }
                    (_, c) => panic!("unexpected {c} in {line}"),
                }
            }
            rest = &body[end + 1..];
        }
        let value = rest.strip_prefix(' ').unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("value {v:?} in {line}")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "no TYPE before {line}");
        samples.push((name.to_owned(), labels, value));
    }
    (types, samples)
}

/// What `track` does with the `ErrorCodes` of a response.
fn record_errors(m: &Metrics, errors: &[weft_executor::ResponseError]) {
    let mut codes = ErrorCodes::default();
    errors.iter().for_each(|e| codes.push(e.code()));
    for code in codes.0 {
        m.record_error(code);
    }
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v))
        })
        .map(|s| s.2)
}

#[test]
fn an_empty_registry_renders_every_family() {
    let (types, samples) = parse(&Metrics::new().render());
    for (name, kind) in [
        ("weft_http_requests_total", "counter"),
        ("weft_graphql_errors_total", "counter"),
        ("weft_http_request_duration_seconds", "histogram"),
        ("weft_subgraph_fetch_duration_seconds", "histogram"),
        ("weft_subgraph_fetch_errors_total", "counter"),
        ("weft_query_plan_cache_hits_total", "counter"),
        ("weft_query_plan_cache_misses_total", "counter"),
        ("weft_subgraph_retries_total", "counter"),
        ("weft_subgraph_retries_refused_total", "counter"),
        ("weft_subgraph_circuit_state", "gauge"),
        ("weft_apq_redis_errors_total", "counter"),
        ("weft_entity_cache_redis_errors_total", "counter"),
        ("weft_entity_cache_lookups_total", "counter"),
        ("weft_operation_cost_estimates_total", "counter"),
        ("weft_operation_cost_estimated_total", "counter"),
        ("weft_operation_cost_refused_total", "counter"),
    ] {
        assert_eq!(types.get(name).map(String::as_str), Some(kind), "{name}");
    }
    assert_eq!(
        value(&samples, "weft_query_plan_cache_hits_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        value(&samples, "weft_http_request_duration_seconds_count", &[]),
        Some(0.0)
    );
}

#[test]
fn counters_and_labels() {
    let m = Metrics::new();
    m.record_request(StatusCode::OK, Duration::from_millis(3));
    m.record_request(StatusCode::OK, Duration::from_millis(30));
    m.record_request(StatusCode::BAD_REQUEST, Duration::from_millis(1));
    record_errors(
        &m,
        &[
            GraphQLError::new(ErrorCode::GraphqlParseFailed, "a").into(),
            GraphQLError::message("b").into(),
        ],
    );
    // Passed on (a subgraph's): its own code.
    record_errors(
        &m,
        &[ResponseError::passed(
            serde_json::json!({ "message": "c", "extensions": { "code": "GRAPHQL_PARSE_FAILED" } }),
        )],
    );
    m.plan_cache(true);
    m.plan_cache(false);
    m.plan_cache(false);
    m.record_fetch_error("accounts", FetchErrorKind::Timeout);
    m.record_fetch_error("accounts", FetchErrorKind::Http);
    m.record_fetch_error("accounts", FetchErrorKind::Http);
    let (_, s) = parse(&m.render());
    assert_eq!(
        value(&s, "weft_http_requests_total", &[("status", "200")]),
        Some(2.0)
    );
    assert_eq!(
        value(&s, "weft_http_requests_total", &[("status", "400")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "weft_graphql_errors_total",
            &[("code", "GRAPHQL_PARSE_FAILED")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(&s, "weft_graphql_errors_total", &[("code", "UNKNOWN")]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "weft_query_plan_cache_hits_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "weft_query_plan_cache_misses_total", &[]),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            "weft_subgraph_fetch_errors_total",
            &[("subgraph", "accounts"), ("kind", "http")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            "weft_subgraph_fetch_errors_total",
            &[("subgraph", "accounts"), ("kind", "timeout")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "weft_http_request_duration_seconds_count", &[]),
        Some(3.0)
    );
}

#[test]
fn histogram_buckets_are_cumulative() {
    let m = Metrics::new();
    for ms in [1, 5, 7, 60, 400, 400, 3_000, 20_000] {
        m.record_fetch("products", Duration::from_millis(ms));
    }
    let (_, s) = parse(&m.render());
    let buckets: Vec<(String, f64)> = s
        .iter()
        .filter(|(n, _, _)| n == "weft_subgraph_fetch_duration_seconds_bucket")
        .map(|(_, l, v)| {
            assert!(l.iter().any(|(k, v)| k == "subgraph" && v == "products"));
            let le = l.iter().find(|(k, _)| k == "le").unwrap().1.clone();
            (le, *v)
        })
        .collect();
    let les: Vec<&str> = buckets.iter().map(|(le, _)| le.as_str()).collect();
    assert_eq!(
        les,
        [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
        ]
    );
    let counts: Vec<f64> = buckets.iter().map(|(_, v)| *v).collect();
    // 5 ms lands in le="0.005" (bounds are inclusive); 20 s only in +Inf.
    assert_eq!(
        counts,
        [2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 6.0, 6.0, 6.0, 7.0, 7.0, 8.0]
    );
    assert!(counts.windows(2).all(|w| w[0] <= w[1]));
    let labels = [("subgraph", "products")];
    assert_eq!(
        value(&s, "weft_subgraph_fetch_duration_seconds_count", &labels),
        Some(8.0)
    );
    let sum = value(&s, "weft_subgraph_fetch_duration_seconds_sum", &labels).unwrap();
    assert!((sum - 23.873).abs() < 1e-9, "{sum}");
}

#[test]
fn label_values_are_escaped() {
    let m = Metrics::new();
    let nasty = "a\"b\\c\nd";
    m.record_error(nasty.to_owned());
    let text = m.render();
    assert!(
        text.contains(r#"weft_graphql_errors_total{code="a\"b\\c\nd"} 1"#),
        "{text}"
    );
    let (_, s) = parse(&text);
    assert_eq!(
        value(&s, "weft_graphql_errors_total", &[("code", nasty)]),
        Some(1.0)
    );
}

#[test]
fn families_stop_growing() {
    let m = Metrics::new();
    for i in 0..MAX_SERIES + 10 {
        m.record_error(format!("CODE_{i}"));
    }
    let (_, s) = parse(&m.render());
    let series = s
        .iter()
        .filter(|(n, _, _)| n == "weft_graphql_errors_total")
        .count();
    assert_eq!(series, MAX_SERIES + 1);
    assert_eq!(
        value(&s, "weft_graphql_errors_total", &[("code", "other")]),
        Some(10.0)
    );
}

#[test]
fn a_counted_other_and_the_overflow_are_one_series() {
    let m = Metrics::new();
    m.record_error("other");
    for i in 0..MAX_SERIES + 3 {
        m.record_error(format!("CODE_{i}"));
    }
    let (_, s) = parse(&m.render());
    let others: Vec<_> = s
        .iter()
        .filter(|(n, l, _)| n == "weft_graphql_errors_total" && l.iter().any(|(_, v)| v == "other"))
        .collect();
    // "other" took one of the 256 label sets: 255 codes fit, and 4 overflow.
    assert_eq!(others.len(), 1, "{others:?}");
    assert_eq!(others[0].2, 5.0);
}

#[test]
fn histograms_stop_growing_and_keep_their_buckets() {
    let m = Metrics::new();
    for i in 0..MAX_SERIES + 4 {
        m.record_fetch(&format!("subgraph{i}"), Duration::from_millis(20));
    }
    let (_, s) = parse(&m.render());
    let counts: Vec<_> = s
        .iter()
        .filter(|(n, _, _)| n == "weft_subgraph_fetch_duration_seconds_count")
        .collect();
    assert_eq!(counts.len(), MAX_SERIES + 1);
    let other = [("subgraph", "other")];
    assert_eq!(
        value(&s, "weft_subgraph_fetch_duration_seconds_count", &other),
        Some(4.0)
    );
    let buckets = s
        .iter()
        .filter(|(n, l, _)| {
            n == "weft_subgraph_fetch_duration_seconds_bucket"
                && l.contains(&("subgraph".to_owned(), "other".to_owned()))
        })
        .count();
    assert_eq!(buckets, BUCKETS.len() + 1);
    assert_eq!(
        value(
            &s,
            "weft_subgraph_fetch_duration_seconds_bucket",
            &[("subgraph", "other"), ("le", "0.025")]
        ),
        Some(4.0)
    );
}

#[test]
fn labels_keep_the_family_order_and_gauges_their_last_value() {
    let m = Metrics::new();
    m.record_fetch_error("inventory", FetchErrorKind::Invalid);
    m.set_circuit_state("inventory", 1);
    m.set_circuit_state("inventory", 2);
    m.entity_cache("reviews", 3, 0);
    let text = m.render();
    assert!(
        text.contains(
            "weft_subgraph_fetch_errors_total{subgraph=\"inventory\",kind=\"invalid\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("weft_subgraph_circuit_state{subgraph=\"inventory\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("weft_entity_cache_lookups_total{subgraph=\"reviews\",result=\"hit\"} 3\n"),
        "{text}"
    );
    // A look-up result with nothing to count has no series.
    assert!(!text.contains("result=\"miss\""), "{text}");
}
