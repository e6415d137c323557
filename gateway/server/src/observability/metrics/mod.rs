//! The gateway's metrics (docs/observability.md), kept by the OpenTelemetry metrics SDK: one
//! set of instruments, read by two readers. `GET /metrics` collects from a manual reader and
//! renders the Prometheus text format (`text.rs`); with `telemetry.otlp_endpoint` set, a
//! periodic reader also sends them over OTLP (`observability::telemetry` builds it). The
//! metrics themselves, names and help texts, are listed in `families.rs`.
//!
//! One [`Metrics`] lives as long as the process serves: every runtime built on reload is given
//! the same `Arc`, so counters never reset while the gateway runs.

mod families;
#[cfg(test)]
mod tests;
mod text;

use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::http::StatusCode;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, MeterProvider as _};
use opentelemetry::{KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, InstrumentKind, ManualReader, MeterProviderBuilder, Pipeline,
    SdkMeterProvider, Stream, Temporality,
};
use weft_executor::{ExecutorMetrics, FetchErrorKind};

use crate::report::errln;
use families::{BUCKETS, Family, MAX_SERIES};
pub use text::CONTENT_TYPE;

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

/// The reader `/metrics` collects from when scraped. The provider owns its readers, so it
/// gets a handle to one shared with [`Metrics`].
#[derive(Debug, Clone, Default)]
struct Scrape(Arc<ManualReader>);

impl MetricReader for Scrape {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// The stream of every instrument: at most [`MAX_SERIES`] label sets, and for histograms the
/// buckets of [`BUCKETS`] (a view replaces the instrument's own bucket advice, so it says them
/// again).
fn bounded(instrument: &Instrument) -> Option<Stream> {
    let stream = Stream::builder().with_cardinality_limit(MAX_SERIES);
    let stream = if instrument.kind() == InstrumentKind::Histogram {
        stream.with_aggregation(Aggregation::ExplicitBucketHistogram {
            boundaries: BUCKETS.to_vec(),
            record_min_max: true,
        })
    } else {
        stream
    };
    stream.build().ok()
}

fn counter(meter: &Meter, family: &Family) -> Counter<u64> {
    meter
        .u64_counter(family.name)
        .with_description(family.help)
        .build()
}

fn histogram(meter: &Meter, family: &Family) -> Histogram<f64> {
    meter
        .f64_histogram(family.name)
        .with_description(family.help)
        .with_unit("s")
        .with_boundaries(BUCKETS.to_vec())
        .build()
}

/// The gateway's instruments, and the provider keeping what they measured.
#[derive(Debug)]
pub struct Metrics {
    provider: SdkMeterProvider,
    scrape: Scrape,
    http_requests: Counter<u64>,
    graphql_errors: Counter<u64>,
    http_duration: Histogram<f64>,
    fetch_duration: Histogram<f64>,
    fetch_errors: Counter<u64>,
    retries: Counter<u64>,
    retries_refused: Counter<u64>,
    /// 0 closed, 1 open, 2 half-open.
    circuit_state: Gauge<u64>,
    plan_hits: Counter<u64>,
    plan_misses: Counter<u64>,
    plans_computed: Counter<u64>,
    plan_shared_lookups: Counter<u64>,
    plan_redis_errors: Counter<u64>,
    entity_cache: Counter<u64>,
    apq_redis_errors: Counter<u64>,
    entity_cache_redis_errors: Counter<u64>,
    cost_estimated: Counter<u64>,
    cost_estimates: Counter<u64>,
    cost_refused: Counter<u64>,
    supergraph_updates: Counter<u64>,
    rate_limited: Counter<u64>,
    rate_limit_fallbacks: Counter<u64>,
    subscriptions_active: Gauge<u64>,
    subscription_events: Counter<u64>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Metrics read by `/metrics` alone.
    pub fn new() -> Metrics {
        Metrics::with(SdkMeterProvider::builder())
    }

    /// Metrics read by `/metrics` and by `export` too (the OTLP exporter's periodic reader),
    /// which sends them as coming from `resource`.
    pub fn exporting(export: impl MetricReader, resource: Resource) -> Metrics {
        Metrics::with(
            SdkMeterProvider::builder()
                .with_reader(export)
                .with_resource(resource),
        )
    }

    fn with(builder: MeterProviderBuilder) -> Metrics {
        let scrape = Scrape::default();
        let provider = builder
            .with_reader(scrape.clone())
            .with_view(bounded)
            .build();
        let meter = provider.meter("weft");
        Metrics {
            http_requests: counter(&meter, &families::HTTP_REQUESTS),
            graphql_errors: counter(&meter, &families::GRAPHQL_ERRORS),
            http_duration: histogram(&meter, &families::HTTP_DURATION),
            fetch_duration: histogram(&meter, &families::FETCH_DURATION),
            fetch_errors: counter(&meter, &families::FETCH_ERRORS),
            retries: counter(&meter, &families::RETRIES),
            retries_refused: counter(&meter, &families::RETRIES_REFUSED),
            circuit_state: meter
                .u64_gauge(families::CIRCUIT_STATE.name)
                .with_description(families::CIRCUIT_STATE.help)
                .build(),
            plan_hits: counter(&meter, &families::PLAN_HITS),
            plan_misses: counter(&meter, &families::PLAN_MISSES),
            plans_computed: counter(&meter, &families::PLANS_COMPUTED),
            plan_shared_lookups: counter(&meter, &families::PLAN_SHARED_LOOKUPS),
            plan_redis_errors: counter(&meter, &families::PLAN_REDIS_ERRORS),
            entity_cache: counter(&meter, &families::ENTITY_CACHE_LOOKUPS),
            apq_redis_errors: counter(&meter, &families::APQ_REDIS_ERRORS),
            entity_cache_redis_errors: counter(&meter, &families::ENTITY_CACHE_REDIS_ERRORS),
            cost_estimated: counter(&meter, &families::COST_ESTIMATED),
            cost_estimates: counter(&meter, &families::COST_ESTIMATES),
            cost_refused: counter(&meter, &families::COST_REFUSED),
            supergraph_updates: counter(&meter, &families::SUPERGRAPH_UPDATES),
            rate_limited: counter(&meter, &families::RATE_LIMITED),
            rate_limit_fallbacks: counter(&meter, &families::RATE_LIMIT_FALLBACKS),
            subscriptions_active: meter
                .u64_gauge(families::SUBSCRIPTIONS_ACTIVE.name)
                .with_description(families::SUBSCRIPTIONS_ACTIVE.help)
                .build(),
            subscription_events: counter(&meter, &families::SUBSCRIPTION_EVENTS),
            provider,
            scrape,
        }
    }

    /// One answered GraphQL HTTP request: its status and how long it took.
    pub fn record_request(&self, status: StatusCode, duration: Duration) {
        // The status as a number: no string is made per request (`/metrics` shows it as text).
        self.http_requests
            .add(1, &[KeyValue::new("status", i64::from(status.as_u16()))]);
        self.http_duration.record(duration.as_secs_f64(), &[]);
    }

    /// One GraphQL error in a response, by its `extensions.code`: a `&'static str` or a
    /// `String` (taken as it is, not copied).
    pub fn record_error(&self, code: impl Into<StringValue>) {
        self.graphql_errors
            .add(1, &[KeyValue::new("code", Value::String(code.into()))]);
    }

    /// One look-up in the cache of validated and planned operations.
    pub fn plan_cache(&self, hit: bool) {
        let counter = if hit {
            &self.plan_hits
        } else {
            &self.plan_misses
        };
        counter.add(1, &[]);
    }

    /// One plan made by the planner.
    pub fn record_plan_computed(&self) {
        self.plans_computed.add(1, &[]);
    }

    /// One look-up of a shared plan: `hit`, `miss`, `invalid` or `unavailable`.
    pub fn record_shared_plan(&self, result: &'static str) {
        self.plan_shared_lookups
            .add(1, &[KeyValue::new("result", result)]);
    }

    /// One failed use of the shared plan cache's Redis (not reached, timed out, refused).
    pub fn record_plan_redis_error(&self) {
        self.plan_redis_errors.add(1, &[]);
    }

    /// One failed use of the APQ store's Redis (not reached, timed out, refused).
    pub fn record_apq_redis_error(&self) {
        self.apq_redis_errors.add(1, &[]);
    }

    /// One operation's estimated cost (demand control).
    pub fn record_cost(&self, estimated: u64) {
        self.cost_estimates.add(1, &[]);
        self.cost_estimated.add(estimated, &[]);
    }

    /// One operation refused by demand control.
    pub fn record_cost_refused(&self) {
        self.cost_refused.add(1, &[]);
    }

    /// A new supergraph seen at its source: `loaded`, `invalid` or `unreachable`.
    /// How many subscriptions are served now.
    pub fn set_subscriptions_active(&self, count: u64) {
        self.subscriptions_active.record(count, &[]);
    }

    /// A subscription event of `subgraph`'s, received (`in`) or delivered (`out`).
    pub fn record_subscription_event(&self, subgraph: &str, direction: &'static str) {
        self.subscription_events.add(
            1,
            &[
                KeyValue::new("subgraph", subgraph.to_owned()),
                KeyValue::new("direction", direction),
            ],
        );
    }

    pub fn record_supergraph_update(&self, outcome: &'static str) {
        self.supergraph_updates
            .add(1, &[KeyValue::new("outcome", outcome)]);
    }

    /// Everything measured so far, in the Prometheus text format (`GET /metrics`).
    pub fn render(&self) -> String {
        let mut collected = ResourceMetrics::default();
        // Fails only once the provider is shut down, at exit: the metrics then read as empty.
        if let Err(e) = self.scrape.collect(&mut collected) {
            tracing::warn!("metrics: {e}");
        }
        text::encode(&collected)
    }

    /// Sends what the OTLP reader has not sent yet, then stops the readers. `/metrics` reads
    /// nothing after this.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            errln!("warning: telemetry: metrics: {e}");
        }
    }
}

/// A subgraph's name as a label.
fn subgraph(name: &str) -> KeyValue {
    KeyValue::new("subgraph", name.to_owned())
}

/// What the executor counts (`weft_executor::ExecutorMetrics`), under the names above.
impl ExecutorMetrics for Metrics {
    /// The entity cache look-ups of one fetch to `subgraph` (entities, or a root fetch):
    /// counted per fetch, not per look-up, as a fetch may look up hundreds of entities.
    fn entity_cache(&self, subgraph_name: &str, hits: u64, misses: u64) {
        for (result, n) in [("hit", hits), ("miss", misses)] {
            if n > 0 {
                self.entity_cache.add(
                    n,
                    &[subgraph(subgraph_name), KeyValue::new("result", result)],
                );
            }
        }
    }

    /// One request to `subgraph`, answered or not, and how long it took.
    fn record_fetch(&self, subgraph_name: &str, duration: Duration) {
        self.fetch_duration
            .record(duration.as_secs_f64(), &[subgraph(subgraph_name)]);
    }

    /// One failed request to `subgraph`.
    fn record_fetch_error(&self, subgraph_name: &str, kind: FetchErrorKind) {
        self.fetch_errors.add(
            1,
            &[
                subgraph(subgraph_name),
                KeyValue::new("kind", kind.as_str()),
            ],
        );
    }

    /// One failed use of the entity cache's Redis (not reached, timed out, refused).
    fn record_entity_cache_redis_error(&self) {
        self.entity_cache_redis_errors.add(1, &[]);
    }

    /// One retry sent to `subgraph`.
    fn record_retry(&self, subgraph_name: &str) {
        self.retries.add(1, &[subgraph(subgraph_name)]);
    }

    /// One retry to `subgraph` not sent: the retry budget was spent.
    fn record_retry_refused(&self, subgraph_name: &str) {
        self.retries_refused.add(1, &[subgraph(subgraph_name)]);
    }

    /// `subgraph`'s circuit breaker is now in `state` (0 closed, 1 open, 2 half-open).
    fn set_circuit_state(&self, subgraph_name: &str, state: u64) {
        self.circuit_state.record(state, &[subgraph(subgraph_name)]);
    }

    fn record_rate_limited(&self, limit: &'static str) {
        self.rate_limited.add(1, &[KeyValue::new("limit", limit)]);
    }

    fn record_rate_limit_fallback(&self) {
        self.rate_limit_fallbacks.add(1, &[]);
    }
}
