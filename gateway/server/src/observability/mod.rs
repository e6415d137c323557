//! The lowest layer of the server: what the gateway reports about itself, needing nothing of
//! the runtime or HTTP above it. `metrics`: the OpenTelemetry instruments and the Prometheus
//! text they render (its `/metrics` handler and the middleware counting answers are
//! `http::metrics`); `telemetry`: OTLP export (traces and the metrics' reader), request spans,
//! trace context; `log`: the logger.

pub(crate) mod log;
pub(crate) mod metrics;
pub(crate) mod telemetry;
