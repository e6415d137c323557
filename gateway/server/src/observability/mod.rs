//! The lowest layer of the server: what the gateway reports about itself, needing nothing of
//! the runtime or HTTP above it. `metrics`: the Prometheus registry (its `/metrics` handler
//! and the middleware counting answers are `http::metrics`); `telemetry`: OpenTelemetry
//! traces (the exporter, request spans, trace context); `log`: the logger.

pub(crate) mod log;
pub(crate) mod metrics;
pub(crate) mod telemetry;
