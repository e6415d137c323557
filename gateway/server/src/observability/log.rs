//! `log.format` and `log.level`: logging to stderr, one line per event, readable or JSON. The
//! level sits behind a reload handle so a changed config applies it without a restart. The
//! JSON lines are tracing-subscriber's `json` format (docs/observability.md shows one).

use std::io::IsTerminal;

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::{MakeWriter, layer};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};
use weft_config::model::{LogConfig, LogFormat};

/// Changes the level of the logging set up by [`init`].
pub struct LogHandle(Option<reload::Handle<EnvFilter, Registry>>);

impl LogHandle {
    pub fn set_level(&self, config: &LogConfig) {
        if let Some(handle) = &self.0
            && let Err(e) = handle.reload(filter(config))
        {
            tracing::warn!("cannot change the log level: {e}");
        }
    }
}

/// The filter for `config`: `log.level`, else `RUST_LOG`, else `info`.
fn filter(config: &LogConfig) -> EnvFilter {
    match &config.level {
        Some(level) => EnvFilter::new(level),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    }
}

/// Installs the global logger (once per process; later calls change nothing), and with a
/// `tracer` the layer that exports spans to OpenTelemetry (`telemetry.rs`). The log
/// level filters the log lines only: the exporter gets the gateway's own spans whatever it is.
pub fn init(config: &LogConfig, tracer: Option<opentelemetry_sdk::trace::Tracer>) -> LogHandle {
    let (filter, handle) = reload::Layer::new(filter(config));
    let lines: Box<dyn Layer<Registry> + Send + Sync> = match config.format {
        LogFormat::Pretty => Box::new(
            layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr),
        ),
        LogFormat::Json => Box::new(json_lines(std::io::stderr)),
    };
    let spans = tracer.map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t)
            .with_filter(Targets::new().with_target("weft", Level::INFO))
    });
    let installed = tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(spans)
        .try_init()
        .is_ok();
    LogHandle(installed.then_some(handle))
}

/// One JSON object per event: `timestamp`, `level`, the event's fields (`message` among them)
/// at the top level, `target`, and `spans`, the event's spans from the root, each
/// `{"name":…, its fields…}`.
fn json_lines<S, W>(writer: W) -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_writer(writer)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex, PoisonError};

    use serde_json::Value;
    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt;

    use super::json_lines;

    /// Collects what the layer writes.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn a_json_line_keeps_the_documented_keys() {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(json_lines(buffer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("graphql.request", operation = "Q");
            let _outer = outer.enter();
            let inner = tracing::info_span!("fetch", subgraph = "products");
            let _inner = inner.enter();
            tracing::warn!(
                attempt = 2,
                retried = true,
                "subgraph failed: {}",
                "timeout"
            );
        });
        let bytes = buffer
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "attempt",
                "level",
                "message",
                "retried",
                "spans",
                "target",
                "timestamp"
            ],
            "{text}"
        );
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["target"], module_path!());
        assert_eq!(line["message"], "subgraph failed: timeout");
        assert_eq!(line["attempt"], 2);
        assert_eq!(line["retried"], true);
        assert_eq!(
            line["spans"],
            serde_json::json!([
                { "name": "graphql.request", "operation": "Q" },
                { "name": "fetch", "subgraph": "products" },
            ])
        );
        // RFC 3339, UTC, as before.
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(
            timestamp.ends_with('Z') && timestamp.contains('T'),
            "{timestamp}"
        );
    }
}
