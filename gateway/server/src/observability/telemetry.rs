//! OpenTelemetry traces (docs/observability.md): the `tracing` spans of a request — the
//! request, parse, validate, plan, execute and each subgraph fetch — exported over OTLP/HTTP
//! (JSON) by `tracing-opentelemetry` when `telemetry.otlp_endpoint` is set. The request span
//! continues the client's W3C trace context; each subgraph request carries its fetch span's.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Tracer};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use weft_config::model::TelemetryConfig;

use crate::report::errln;

/// The exporter's provider (flushed by [`Exporter::shutdown`]) and the tracer for the
/// `tracing` layer.
pub struct Exporter {
    provider: SdkTracerProvider,
    pub tracer: Tracer,
}

impl Exporter {
    /// The exporter `config` asks for; `Ok(None)` when no endpoint is set. Call it outside the
    /// async runtime: the exporter's blocking HTTP client lives on its own thread.
    pub fn new(config: &TelemetryConfig) -> Result<Option<Exporter>, String> {
        let Some(endpoint) = &config.otlp_endpoint else {
            return Ok(None);
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(endpoint.clone())
            .build()
            .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
        let sampler =
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sampling_ratio)));
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .build();
        let tracer = provider.tracer("weft");
        Ok(Some(Exporter { provider, tracer }))
    }

    /// Sends the spans still buffered, then stops.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            errln!("warning: telemetry: {e}");
        }
    }
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
