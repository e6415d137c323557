//! OpenTelemetry over OTLP/HTTP (JSON) when `telemetry.otlp_endpoint` is set
//! (docs/observability.md). Traces: the `tracing` spans of a request — the request, parse,
//! validate, plan, execute and each subgraph fetch — exported by `tracing-opentelemetry`; the
//! request span continues the client's W3C trace context, and each subgraph request carries its
//! fetch span's. Metrics: the reader that sends `observability::metrics` to the same collector,
//! at `/v1/metrics` beside the traces' `/v1/traces`.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{ExporterBuildError, MetricExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::PeriodicReader;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Tracer};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use weft_config::model::TelemetryConfig;

use crate::report::errln;

/// Why the exporters could not be built from `telemetry.otlp_endpoint` (it is a URL already:
/// the configuration checked it).
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The span exporter refused the endpoint.
    #[error("telemetry.otlp_endpoint: {0}")]
    Traces(#[source] ExporterBuildError),
    /// The metric exporter refused the endpoint derived for metrics (`metrics_url`).
    #[error("telemetry.otlp_endpoint: metrics at {url}: {source}")]
    Metrics {
        url: String,
        #[source]
        source: ExporterBuildError,
    },
}

/// The OTLP side of the metrics, for `Metrics::exporting`: the reader that sends them every
/// `OTEL_METRIC_EXPORT_INTERVAL` milliseconds (60 s by default), on a thread of its own, and
/// the resource they come from (the traces' `service.name`).
pub struct MetricsExport {
    pub reader: PeriodicReader<MetricExporter>,
    pub resource: Resource,
}

/// The exporter's provider (flushed by [`Exporter::shutdown`]) and the tracer for the
/// `tracing` layer; and, until taken, the metrics' OTLP reader.
pub struct Exporter {
    provider: SdkTracerProvider,
    pub tracer: Tracer,
    metrics: Option<MetricsExport>,
}

impl Exporter {
    /// The exporter `config` asks for; `Ok(None)` when no endpoint is set. Call it outside the
    /// async runtime: the exporters' blocking HTTP clients live on threads of their own.
    pub fn new(config: &TelemetryConfig) -> Result<Option<Exporter>, TelemetryError> {
        let Some(endpoint) = &config.otlp_endpoint else {
            return Ok(None);
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(endpoint.clone())
            .build()
            .map_err(TelemetryError::Traces)?;
        let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.sampling_ratio.get(),
        )));
        let resource = Resource::builder()
            .with_service_name(config.service_name.clone())
            .build();
        let metrics = match metrics_url(endpoint) {
            Some(url) => Some(MetricsExport {
                reader: metrics_reader(&url)?,
                resource: resource.clone(),
            }),
            None => {
                errln!(
                    "warning: telemetry.otlp_endpoint does not end in /v1/traces: metrics are not \
                     exported over OTLP (GET /metrics still serves them)"
                );
                None
            }
        };
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("weft");
        Ok(Some(Exporter {
            provider,
            tracer,
            metrics,
        }))
    }

    /// The metrics' OTLP reader, for `Metrics::exporting` (once).
    pub fn take_metrics(&mut self) -> Option<MetricsExport> {
        self.metrics.take()
    }

    /// Sends the spans still buffered, then stops.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            errln!("warning: telemetry: {e}");
        }
    }
}

/// Where metrics go: the traces URL with its `/v1/traces` path ending turned into
/// `/v1/metrics` (an OTLP/HTTP receiver's two paths), any query kept. `None` when the traces
/// URL does not end so: there is no telling where that receiver takes metrics.
fn metrics_url(traces: &str) -> Option<String> {
    let (path, query) = match traces.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (traces, None),
    };
    let base = path.strip_suffix("/v1/traces")?;
    Some(match query {
        Some(query) => format!("{base}/v1/metrics?{query}"),
        None => format!("{base}/v1/metrics"),
    })
}

/// The periodic reader exporting metrics to `url` over OTLP/HTTP (JSON), cumulative like
/// `/metrics`. Its interval is the SDK's: `OTEL_METRIC_EXPORT_INTERVAL` or 60 s.
fn metrics_reader(url: &str) -> Result<PeriodicReader<MetricExporter>, TelemetryError> {
    let exporter = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(url.to_owned())
        .build()
        .map_err(|source| TelemetryError::Metrics {
            url: url.to_owned(),
            source,
        })?;
    Ok(PeriodicReader::builder(exporter).build())
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The span of one GraphQL HTTP request, a child of the client's trace context if it sent
/// one. Without an exporter it is an ordinary `tracing` span.
pub fn request_span(method: &axum::http::Method, headers: &HeaderMap) -> Span {
    let span = tracing::info_span!(
        "graphql.request",
        otel.kind = "server",
        http.request.method = %method,
        url.path = "/graphql",
    );
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if parent.span().span_context().is_valid() {
        // Fails only without an OpenTelemetry layer, when there is nothing to continue.
        let _ = span.set_parent(parent);
    }
    span
}

/// Puts `span`'s trace context in `headers` (replacing the client's `traceparent` and
/// `tracestate`), so the subgraph's spans are children of the fetch (the span is the
/// executor's `weft_executor::trace::fetch_span`; this is the engine's `Propagate`). Nothing changes when no
/// spans are exported: the client's context then goes through as it came.
pub fn inject(span: &Span, headers: &mut Vec<(HeaderName, HeaderValue)>) {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return;
    }
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    if carrier.is_empty() {
        return;
    }
    headers.retain(|(name, _)| name != "traceparent" && name != "tracestate");
    for (name, value) in carrier {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.push((name, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::metrics_url;

    #[test]
    fn metrics_go_beside_the_traces() {
        for (traces, metrics) in [
            (
                "http://otel-collector:4318/v1/traces",
                Some("http://otel-collector:4318/v1/metrics"),
            ),
            (
                "https://vendor.example/otlp/v1/traces?tenant=a",
                Some("https://vendor.example/otlp/v1/metrics?tenant=a"),
            ),
            ("http://otel-collector:4318/traces", None),
            ("http://otel-collector:4318/v1/traces/", None),
            ("http://otel-collector:4318", None),
        ] {
            assert_eq!(metrics_url(traces).as_deref(), metrics, "{traces}");
        }
    }
}
