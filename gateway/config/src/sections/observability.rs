//! `log:` and `telemetry:`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::values::{HttpUrl, LogFilter, Ratio};

/// Logging to stderr.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `pretty`: one readable line per event; `json`: one JSON object per line. A change needs a
    /// restart.
    #[schemars(example = serde_json::json!("json"))]
    pub format: LogFormat,
    /// A level (`error`, `warn`, `info`, `debug`, `trace`) or `RUST_LOG`-style filter. When absent,
    /// `RUST_LOG`, then `info`. Applied on reload.
    #[schemars(example = serde_json::json!("weft=debug,info"))]
    #[schemars(extend("default" = "info"))]
    pub level: Option<LogFilter>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// OpenTelemetry traces and metrics over OTLP/HTTP (docs/observability.md). A change needs a
/// restart.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Where to send traces: the full OTLP/HTTP traces URL (JSON encoding). Metrics go to the
    /// same URL ending in `/v1/metrics` instead of `/v1/traces`. Absent: neither is exported. A
    /// change needs a restart.
    #[schemars(example = serde_json::json!("http://otel-collector:4318/v1/traces"))]
    pub otlp_endpoint: Option<HttpUrl>,
    /// The `service.name` of the traces' and metrics' resource.
    #[schemars(example = serde_json::json!("gateway-eu"))]
    pub service_name: String,
    /// The share of new traces recorded, from 0 to 1. A request whose `traceparent` says sampled
    /// (or not) is followed as its parent decided.
    #[schemars(example = serde_json::json!(0.25))]
    pub sampling_ratio: Ratio,
}

impl Default for TelemetryConfig {
    fn default() -> TelemetryConfig {
        TelemetryConfig {
            otlp_endpoint: None,
            service_name: "weft".to_owned(),
            sampling_ratio: Ratio::clamped(1.0),
        }
    }
}
