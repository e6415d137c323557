//! The metrics the gateway keeps (docs/observability.md): each one's name, help text, type and
//! label names, in the order `/metrics` lists them. The instruments (`mod.rs`) are created from
//! these, so OTLP carries the same names and descriptions, and the text encoder (`text.rs`)
//! lists every one of them, sampled yet or not.

/// A metric's type, as the text format's `# TYPE` line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One metric: its samples carry `labels`, in this order.
#[derive(Debug)]
pub(super) struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
}

/// Upper bounds of the duration histograms' buckets, in seconds (Prometheus' defaults).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A metric stops growing at this many label sets; further ones are counted together (under
/// the label value `other` on `/metrics`), so a subgraph returning ever-new error codes cannot
/// exhaust memory. The SDK's cardinality limit, set by a view (`mod.rs`).
pub(super) const MAX_SERIES: usize = 256;

const fn counter(
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
) -> Family {
    Family {
        name,
        help,
        kind: Kind::Counter,
        labels,
    }
}

pub(super) const HTTP_REQUESTS: Family = counter(
    "weft_http_requests_total",
    "GraphQL HTTP requests answered, by status code.",
    &["status"],
);
pub(super) const HTTP_DURATION: Family = Family {
    name: "weft_http_request_duration_seconds",
    help: "Time to answer a GraphQL HTTP request.",
    kind: Kind::Histogram,
    labels: &[],
};
pub(super) const GRAPHQL_ERRORS: Family = counter(
    "weft_graphql_errors_total",
    "GraphQL errors in responses, by extensions.code.",
    &["code"],
);
pub(super) const FETCH_DURATION: Family = Family {
    name: "weft_subgraph_fetch_duration_seconds",
    help: "Time of one request to a subgraph, answered or not.",
    kind: Kind::Histogram,
    labels: &["subgraph"],
};
pub(super) const FETCH_ERRORS: Family = counter(
    "weft_subgraph_fetch_errors_total",
    "Failed subgraph requests, by subgraph and kind (http, timeout, invalid).",
    &["subgraph", "kind"],
);
pub(super) const RETRIES: Family = counter(
    "weft_subgraph_retries_total",
    "Retries sent to a subgraph (not counting first attempts).",
    &["subgraph"],
);
pub(super) const RETRIES_REFUSED: Family = counter(
    "weft_subgraph_retries_refused_total",
    "Retries not sent because the subgraph's retry budget was spent.",
    &["subgraph"],
);
pub(super) const CIRCUIT_STATE: Family = Family {
    name: "weft_subgraph_circuit_state",
    help: "A subgraph's circuit breaker: 0 closed, 1 open, 2 half-open.",
    kind: Kind::Gauge,
    labels: &["subgraph"],
};
pub(super) const PLAN_HITS: Family = counter(
    "weft_query_plan_cache_hits_total",
    "Operations found validated and planned in the cache.",
    &[],
);
pub(super) const PLAN_MISSES: Family = counter(
    "weft_query_plan_cache_misses_total",
    "Operations not in the cache (validated and planned, or refused).",
    &[],
);
pub(super) const PLANS_COMPUTED: Family = counter(
    "weft_query_plans_computed_total",
    "Query plans made by this gateway's planner (neither cache had them).",
    &[],
);
pub(super) const PLAN_SHARED_LOOKUPS: Family = counter(
    "weft_query_plan_shared_lookups_total",
    "Look-ups of plans shared through Redis (query_plan.redis), by result: hit, miss, invalid \
     (an entry that does not read back: planned locally), unavailable (Redis down, slow or \
     paused: planned locally).",
    &["result"],
);
pub(super) const PLAN_REDIS_ERRORS: Family = counter(
    "weft_query_plan_redis_errors_total",
    "Failed uses of the shared plan cache's Redis; the gateway planned on its own.",
    &[],
);
pub(super) const COST_ESTIMATES: Family = counter(
    "weft_operation_cost_estimates_total",
    "Operations whose cost demand control estimated.",
    &[],
);
pub(super) const COST_ESTIMATED: Family = counter(
    "weft_operation_cost_estimated_total",
    "The estimated costs of those operations, added up.",
    &[],
);
pub(super) const COST_REFUSED: Family = counter(
    "weft_operation_cost_refused_total",
    "Operations demand control refused (too expensive, or bad slicing arguments).",
    &[],
);
pub(super) const APQ_REDIS_ERRORS: Family = counter(
    "weft_apq_redis_errors_total",
    "Failed uses of the APQ store's Redis; the in-memory store answered alone.",
    &[],
);
pub(super) const ENTITY_CACHE_REDIS_ERRORS: Family = counter(
    "weft_entity_cache_redis_errors_total",
    "Failed uses of the entity cache's Redis; process memory answered alone.",
    &[],
);
pub(super) const ENTITY_CACHE_LOOKUPS: Family = counter(
    "weft_entity_cache_lookups_total",
    "Entity cache look-ups, by subgraph and result (hit, miss).",
    &["subgraph", "result"],
);

pub(super) const SUPERGRAPH_UPDATES: Family = counter(
    "weft_supergraph_updates_total",
    "New supergraphs seen at the source, by outcome: loaded (now served), invalid (refused: \
     the one in use stays), unreachable (the source failed to answer).",
    &["outcome"],
);
pub(super) const RATE_LIMITED: Family = counter(
    "weft_rate_limited_total",
    "Requests refused by a rate limit (429), by limit: global, client, subgraph.",
    &["limit"],
);
pub(super) const RATE_LIMIT_FALLBACKS: Family = counter(
    "weft_rate_limit_local_fallbacks_total",
    "Rate limit decisions made by this replica alone because the shared Redis failed.",
    &[],
);
pub(super) const SUBSCRIPTIONS_ACTIVE: Family = Family {
    name: "weft_subscriptions_active",
    help: "Subscriptions being served, over every transport.",
    kind: Kind::Gauge,
    labels: &[],
};
pub(super) const SUBSCRIPTION_EVENTS: Family = counter(
    "weft_subscription_events_total",
    "Subscription events, by subgraph and direction: in (received from the subgraph), out \
     (delivered to a client).",
    &["subgraph", "direction"],
);
/// Every metric, in the order of `/metrics`.
pub(super) const ALL: [&Family; 24] = [
    &HTTP_REQUESTS,
    &HTTP_DURATION,
    &GRAPHQL_ERRORS,
    &FETCH_DURATION,
    &FETCH_ERRORS,
    &RETRIES,
    &RETRIES_REFUSED,
    &CIRCUIT_STATE,
    &PLAN_HITS,
    &PLAN_MISSES,
    &PLANS_COMPUTED,
    &PLAN_SHARED_LOOKUPS,
    &PLAN_REDIS_ERRORS,
    &COST_ESTIMATES,
    &COST_ESTIMATED,
    &COST_REFUSED,
    &APQ_REDIS_ERRORS,
    &ENTITY_CACHE_REDIS_ERRORS,
    &ENTITY_CACHE_LOOKUPS,
    &SUPERGRAPH_UPDATES,
    &RATE_LIMITED,
    &RATE_LIMIT_FALLBACKS,
    &SUBSCRIPTIONS_ACTIVE,
    &SUBSCRIPTION_EVENTS,
];
