//! `log.format` and `log.level`: logging to stderr, one line per event, readable or JSON. The
//! level sits behind a reload handle so a changed config applies it without a restart. The
//! JSON lines are written here (tracing-subscriber's `json` feature would add a crate).

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, layer};
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
        LogFormat::Json => Box::new(layer().event_format(JsonLines).with_writer(std::io::stderr)),
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

/// `{"timestamp":…,"level":…,"target":…,"message":…, other fields…, "spans":[…]}`.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(timestamp));
        line.insert("level".into(), Value::String(meta.level().to_string()));
        line.insert("target".into(), Value::String(meta.target().to_owned()));
        event.record(&mut Fields(&mut line));
        if let Some(scope) = ctx.event_scope() {
            let spans: Vec<Value> = scope
                .from_root()
                .map(|span| Value::String(span.name().to_owned()))
                .collect();
            line.insert("spans".into(), Value::Array(spans));
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}
