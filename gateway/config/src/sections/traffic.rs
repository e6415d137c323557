//! Sharing and shaping the work: `dedupe:`, `entity_batching:`, `demand_control:`.

use std::num::{NonZeroU32, NonZeroU64};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::values::{nonzero32, nonzero64};

/// Identical requests in flight share one execution (docs/entity-cache.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DedupeConfig {
    /// Identical query requests in flight to the same subgraph (same body and headers) share one
    /// request and its answer. Mutations never do.
    #[schemars(example = serde_json::json!(false))]
    pub subgraph_requests: bool,
    /// Identical client queries in flight (same document, operation, variables, headers and token)
    /// share one execution and its answer. Mutations never do.
    #[schemars(example = serde_json::json!(true))]
    pub client_requests: bool,
    /// Identical subscriptions (same subgraph, operation, variables and headers) share one
    /// subgraph stream: each event is received once and run for every subscriber. A
    /// subscriber that joins a running stream gets the events from then on, not those before
    /// (a subgraph field that replays history to each new subscriber wants this off).
    #[schemars(example = serde_json::json!(false))]
    pub subscriptions: bool,
}

impl Default for DedupeConfig {
    fn default() -> DedupeConfig {
        DedupeConfig {
            subgraph_requests: true,
            // On: bench/README.md shows it multiplies what identical traffic gets through
            // and costs nothing measurable when requests differ.
            client_requests: true,
            // On, as Apollo Router's `enable_deduplication`: one stream for thousands of
            // identical subscribers (bench/README.md, subscription-load).
            subscriptions: true,
        }
    }
}

/// Entity fetches of concurrent requests batched together (docs/entity-cache.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EntityBatchingConfig {
    /// Entity fetches of concurrent client requests for the same subgraph, selection and headers
    /// join one `_entities` request, sent `window_ms` after the first.
    #[schemars(example = serde_json::json!(true))]
    pub enabled: bool,
    /// How long a batch stays open for more fetches, in milliseconds.
    #[schemars(example = serde_json::json!(2))]
    pub window_ms: u64,
    /// The most representations in one batched request; a full batch is sent and the next fetch
    /// opens another.
    #[schemars(example = serde_json::json!(200))]
    pub max_size: NonZeroU32,
}

impl Default for EntityBatchingConfig {
    fn default() -> EntityBatchingConfig {
        EntityBatchingConfig {
            enabled: false,
            window_ms: 1,
            max_size: nonzero32(500),
        }
    }
}

/// Operations' estimated cost from `@cost` and `@listSize` (docs/traffic.md).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DemandControlConfig {
    /// Estimate each operation's cost from the supergraph's `@cost` and `@listSize`: `measure`
    /// reports it (`extensions.cost`, metrics), `enforce` also refuses operations above `max` with
    /// `COST_ESTIMATED_TOO_EXPENSIVE`. Absent: no estimate.
    #[schemars(example = serde_json::json!("enforce"))]
    pub mode: Option<CostMode>,
    /// The highest estimated cost `enforce` lets run.
    #[schemars(example = serde_json::json!(500))]
    pub max: NonZeroU64,
    /// The size assumed for a list whose field has no `@listSize` (or no value for its slicing
    /// arguments and no `assumedSize`).
    #[schemars(example = serde_json::json!(50))]
    pub list_size: NonZeroU32,
}

impl Default for DemandControlConfig {
    fn default() -> DemandControlConfig {
        DemandControlConfig {
            mode: None,
            max: nonzero64(1000),
            list_size: nonzero32(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CostMode {
    // Estimate and report (`extensions.cost`, metrics); never refuse.
    Measure,
    // Also refuse operations above `demand_control.max`.
    Enforce,
}
