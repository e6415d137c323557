//! Prometheus metrics (docs/observability.md): counters and histograms kept in atomics, labeled
//! series in a mutexed map, rendered as the text exposition format 0.0.4 at `GET /metrics`.
//!
//! One [`Metrics`] lives as long as the process serves: every runtime built on reload is given
//! the same `Arc`, so counters never reset while the gateway runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use weft_executor::{ExecutorMetrics, FetchErrorKind};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the duration histograms' buckets, in seconds (Prometheus' defaults).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A family stops growing at this many label sets; further ones are counted under the label
/// value `other`, so a subgraph returning ever-new error codes cannot exhaust memory.
const MAX_SERIES: usize = 256;

/// Observations bucketed by [`BUCKETS`]; counts are stored per bucket (the last slot is above
/// every bound) and made cumulative when rendered, so `+Inf` always equals `_count`.
#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        if let Some(count) = self.counts.get(slot) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &[(&str, &str)]) {
        let mut cumulative = 0u64;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            sample(out, &format!("{name}_bucket"), &with_le, cumulative);
        }
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        sample(out, &format!("{name}_sum"), labels, sum);
        sample(out, &format!("{name}_count"), labels, cumulative);
    }
}

/// Series of one metric by label values (in the order of the family's label names).
#[derive(Debug)]
struct Family<T> {
    labels: &'static [&'static str],
    series: Mutex<BTreeMap<Vec<String>, Arc<T>>>,
}

impl<T: Default> Family<T> {
    fn new(labels: &'static [&'static str]) -> Family<T> {
        Family {
            labels,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    fn get(&self, values: &[&str]) -> Arc<T> {
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        if let Some(found) = series.get(&key) {
            return found.clone();
        }
        let key = if series.len() < MAX_SERIES {
            key
        } else {
            vec!["other".to_owned(); values.len()]
        };
        series.entry(key).or_default().clone()
    }

    fn snapshot(&self) -> Vec<(Vec<String>, Arc<T>)> {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn pairs<'a>(&self, values: &'a [String]) -> Vec<(&'static str, &'a str)> {
        self.labels
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect()
    }
}

/// The `extensions.code` of every error in a GraphQL response (`UNKNOWN` when an error has
/// none), or in each response of a batch, taken from the typed errors
/// (`ResponseBody::error_codes`). Put on a response as an extension, they are counted by
/// `http::metrics::track`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorCodes(pub Vec<String>);

impl ErrorCodes {
    /// One error's code (`None`: it has none).
    pub(crate) fn push(&mut self, code: Option<&str>) {
        self.0.push(code.unwrap_or("UNKNOWN").to_owned());
    }
}

/// The gateway's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    http_requests: Family<AtomicU64>,
    graphql_errors: Family<AtomicU64>,
    http_duration: Histogram,
    fetch_duration: Family<Histogram>,
    fetch_errors: Family<AtomicU64>,
    retries: Family<AtomicU64>,
    retries_refused: Family<AtomicU64>,
    /// A gauge: 0 closed, 1 open, 2 half-open.
    circuit_state: Family<AtomicU64>,
    plan_hits: AtomicU64,
    plan_misses: AtomicU64,
    entity_cache: Family<AtomicU64>,
    apq_redis_errors: AtomicU64,
    entity_cache_redis_errors: AtomicU64,
    cost_estimated: AtomicU64,
    cost_estimates: AtomicU64,
    cost_refused: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            http_requests: Family::new(&["status"]),
            graphql_errors: Family::new(&["code"]),
            http_duration: Histogram::default(),
            fetch_duration: Family::new(&["subgraph"]),
            fetch_errors: Family::new(&["subgraph", "kind"]),
            retries: Family::new(&["subgraph"]),
            retries_refused: Family::new(&["subgraph"]),
            circuit_state: Family::new(&["subgraph"]),
            plan_hits: AtomicU64::new(0),
            plan_misses: AtomicU64::new(0),
            entity_cache: Family::new(&["subgraph", "result"]),
            apq_redis_errors: AtomicU64::new(0),
            entity_cache_redis_errors: AtomicU64::new(0),
            cost_estimated: AtomicU64::new(0),
            cost_estimates: AtomicU64::new(0),
            cost_refused: AtomicU64::new(0),
        }
    }

    /// One answered GraphQL HTTP request: its status and how long it took.
    pub fn record_request(&self, status: StatusCode, duration: Duration) {
        self.http_requests
            .get(&[status.as_str()])
            .fetch_add(1, Ordering::Relaxed);
        self.http_duration.observe(duration);
    }

    /// One GraphQL error in a response, by its `extensions.code`.
    pub fn record_error(&self, code: &str) {
        self.graphql_errors
            .get(&[code])
            .fetch_add(1, Ordering::Relaxed);
    }

    /// One look-up in the cache of validated and planned operations.
    pub fn plan_cache(&self, hit: bool) {
        let counter = if hit {
            &self.plan_hits
        } else {
            &self.plan_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// One failed use of the APQ store's Redis (not reached, timed out, refused).
    pub fn record_apq_redis_error(&self) {
        self.apq_redis_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// One operation's estimated cost (demand control).
    pub fn record_cost(&self, estimated: u64) {
        self.cost_estimates.fetch_add(1, Ordering::Relaxed);
        self.cost_estimated.fetch_add(estimated, Ordering::Relaxed);
    }

    /// One operation refused by demand control.
    pub fn record_cost_refused(&self) {
        self.cost_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        header_lines(
            &mut out,
            "weft_http_requests_total",
            "GraphQL HTTP requests answered, by status code.",
            "counter",
        );
        for (values, count) in self.http_requests.snapshot() {
            let labels = self.http_requests.pairs(&values);
            sample(
                &mut out,
                "weft_http_requests_total",
                &labels,
                count.load(Ordering::Relaxed),
            );
        }
        header_lines(
            &mut out,
            "weft_http_request_duration_seconds",
            "Time to answer a GraphQL HTTP request.",
            "histogram",
        );
        self.http_duration
            .render(&mut out, "weft_http_request_duration_seconds", &[]);
        header_lines(
            &mut out,
            "weft_graphql_errors_total",
            "GraphQL errors in responses, by extensions.code.",
            "counter",
        );
        for (values, count) in self.graphql_errors.snapshot() {
            let labels = self.graphql_errors.pairs(&values);
            sample(
                &mut out,
                "weft_graphql_errors_total",
                &labels,
                count.load(Ordering::Relaxed),
            );
        }
        header_lines(
            &mut out,
            "weft_subgraph_fetch_duration_seconds",
            "Time of one request to a subgraph, answered or not.",
            "histogram",
        );
        for (values, histogram) in self.fetch_duration.snapshot() {
            let labels = self.fetch_duration.pairs(&values);
            histogram.render(&mut out, "weft_subgraph_fetch_duration_seconds", &labels);
        }
        header_lines(
            &mut out,
            "weft_subgraph_fetch_errors_total",
            "Failed subgraph requests, by subgraph and kind (http, timeout, invalid).",
            "counter",
        );
        for (values, count) in self.fetch_errors.snapshot() {
            let labels = self.fetch_errors.pairs(&values);
            sample(
                &mut out,
                "weft_subgraph_fetch_errors_total",
                &labels,
                count.load(Ordering::Relaxed),
            );
        }
        for (name, help, kind, family) in [
            (
                "weft_subgraph_retries_total",
                "Retries sent to a subgraph (not counting first attempts).",
                "counter",
                &self.retries,
            ),
            (
                "weft_subgraph_retries_refused_total",
                "Retries not sent because the subgraph's retry budget was spent.",
                "counter",
                &self.retries_refused,
            ),
            (
                "weft_subgraph_circuit_state",
                "A subgraph's circuit breaker: 0 closed, 1 open, 2 half-open.",
                "gauge",
                &self.circuit_state,
            ),
        ] {
            header_lines(&mut out, name, help, kind);
            for (values, value) in family.snapshot() {
                let labels = family.pairs(&values);
                sample(&mut out, name, &labels, value.load(Ordering::Relaxed));
            }
        }
        for (name, help, counter) in [
            (
                "weft_query_plan_cache_hits_total",
                "Operations found validated and planned in the cache.",
                &self.plan_hits,
            ),
            (
                "weft_query_plan_cache_misses_total",
                "Operations not in the cache (validated and planned, or refused).",
                &self.plan_misses,
            ),
            (
                "weft_operation_cost_estimates_total",
                "Operations whose cost demand control estimated.",
                &self.cost_estimates,
            ),
            (
                "weft_operation_cost_estimated_total",
                "The estimated costs of those operations, added up.",
                &self.cost_estimated,
            ),
            (
                "weft_operation_cost_refused_total",
                "Operations demand control refused (too expensive, or bad slicing arguments).",
                &self.cost_refused,
            ),
            (
                "weft_apq_redis_errors_total",
                "Failed uses of the APQ store's Redis; the in-memory store answered alone.",
                &self.apq_redis_errors,
            ),
            (
                "weft_entity_cache_redis_errors_total",
                "Failed uses of the entity cache's Redis; process memory answered alone.",
                &self.entity_cache_redis_errors,
            ),
        ] {
            header_lines(&mut out, name, help, "counter");
            sample(&mut out, name, &[], counter.load(Ordering::Relaxed));
        }
        header_lines(
            &mut out,
            "weft_entity_cache_lookups_total",
            "Entity cache look-ups, by subgraph and result (hit, miss).",
            "counter",
        );
        for (values, count) in self.entity_cache.snapshot() {
            let labels = self.entity_cache.pairs(&values);
            sample(
                &mut out,
                "weft_entity_cache_lookups_total",
                &labels,
                count.load(Ordering::Relaxed),
            );
        }
        out
    }
}

/// What the executor counts (`weft_executor::ExecutorMetrics`), under the names above.
impl ExecutorMetrics for Metrics {
    /// The entity cache look-ups of one fetch to `subgraph` (entities, or a root fetch):
    /// counted per fetch, not per look-up, as a fetch may look up hundreds of entities.
    fn entity_cache(&self, subgraph: &str, hits: u64, misses: u64) {
        for (result, n) in [("hit", hits), ("miss", misses)] {
            if n > 0 {
                self.entity_cache
                    .get(&[subgraph, result])
                    .fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// One request to `subgraph`, answered or not, and how long it took.
    fn record_fetch(&self, subgraph: &str, duration: Duration) {
        self.fetch_duration.get(&[subgraph]).observe(duration);
    }

    /// One failed request to `subgraph`.
    fn record_fetch_error(&self, subgraph: &str, kind: FetchErrorKind) {
        self.fetch_errors
            .get(&[subgraph, kind.as_str()])
            .fetch_add(1, Ordering::Relaxed);
    }

    /// One failed use of the entity cache's Redis (not reached, timed out, refused).
    fn record_entity_cache_redis_error(&self) {
        self.entity_cache_redis_errors
            .fetch_add(1, Ordering::Relaxed);
    }

    /// One retry sent to `subgraph`.
    fn record_retry(&self, subgraph: &str) {
        self.retries
            .get(&[subgraph])
            .fetch_add(1, Ordering::Relaxed);
    }

    /// One retry to `subgraph` not sent: the retry budget was spent.
    fn record_retry_refused(&self, subgraph: &str) {
        self.retries_refused
            .get(&[subgraph])
            .fetch_add(1, Ordering::Relaxed);
    }

    /// `subgraph`'s circuit breaker is now in `state` (0 closed, 1 open, 2 half-open).
    fn set_circuit_state(&self, subgraph: &str, state: u64) {
        self.circuit_state
            .get(&[subgraph])
            .store(state, Ordering::Relaxed);
    }
}

fn header_lines(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(label);
            out.push_str("=\"");
            escape_label(out, v);
            out.push('"');
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Label values escape `\`, `"` and line feeds (exposition format 0.0.4).
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
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
            m.record_error(&code);
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
                "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
                "+Inf"
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
        m.record_error(nasty);
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
            m.record_error(&format!("CODE_{i}"));
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
}
