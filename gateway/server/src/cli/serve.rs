//! `weft serve [--config weft.yaml] [--supergraph FILE] [--listen HOST:PORT]`: the gateway.
//! Reads the configuration and the supergraph, starts logging and tracing, builds the runtime,
//! serves it (`http`) and watches the files to reload them (`runtime::reload`,
//! `runtime::watch`).

use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use weft_config::{Flags, Sources};

use crate::http::{connections, health, router_working_on};
use crate::observability::{log, metrics, telemetry};
use crate::report::{self, errln};
use crate::runtime::reload::Reloader;
use crate::runtime::source::{self, LoadError, SupergraphSource, SupergraphVersion};
use crate::runtime::watch::FileWatch;
use crate::runtime::{Live, SchemaRuntime};
use crate::runtime::{composed, preflight};

/// Tries at start-up to read a remote supergraph: a source that does not answer is asked
/// again (a CDN's hiccup should not fail a rollout), one that answers something else is not.
const FIRST_TRIES: u32 = 3;

/// Flags override the configuration file and the `WEFT_*` environment (docs/configuration.md).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (weft.yaml); watched, and applied again when it changes.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The supergraph to serve: a file (`supergraph.path`), or an `http://` or `https://`
    /// URL polled every `supergraph.poll_interval_ms` (`supergraph.url`).
    #[arg(long)]
    pub supergraph: Option<PathBuf>,
    /// Address to listen on (`listen`; default 127.0.0.1:4000).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Per-subgraph request timeout, in milliseconds (`subgraphs.all.timeout_ms`; default
    /// 30000).
    #[arg(long)]
    pub subgraph_timeout_ms: Option<NonZeroU64>,
    /// Let clients ask for the query plan with the request header
    /// `weft-query-plan: include` (plan in `extensions.queryPlan`) or `dry-run` (plan only,
    /// nothing executed). Off by default: plans describe the subgraphs behind the gateway.
    /// (`query_plan.expose`)
    #[arg(long, env = "WEFT_EXPOSE_QUERY_PLANS")]
    pub expose_query_plans: bool,
    /// Compose the supergraph at start-up from running subgraphs instead of reading a file:
    /// `NAME=URL`, repeated (each is asked for `{ _service { sdl } }`, as `weft demo` does).
    #[arg(long = "subgraph", value_name = "NAME=URL")]
    pub subgraphs: Vec<String>,
}

pub fn run(mut args: ServeArgs) -> ExitCode {
    if !args.subgraphs.is_empty() {
        if args.supergraph.is_some() {
            errln!(
                "error: --subgraph and --supergraph both say where the supergraph comes from\n  \
                 hint: pass one of them"
            );
            return ExitCode::from(report::INPUT_ERROR);
        }
        // Before logging starts (the config may set it up): straight to stderr.
        match composed::compose_from(&args.subgraphs, |line| errln!("{line}")) {
            Ok(path) => args.supergraph = Some(path),
            Err(e) => {
                errln!("error: {e}");
                return ExitCode::from(report::INPUT_ERROR);
            }
        }
    }
    let sources = Sources {
        file: args.config,
        flags: Flags {
            supergraph: args.supergraph,
            listen: args.listen,
            subgraph_timeout_ms: args.subgraph_timeout_ms,
            expose_query_plans: args.expose_query_plans,
        },
    };
    let mut config_file = sources.file.clone().map(FileWatch::new);
    let config_text = match config_file
        .as_mut()
        .map(|f| (f.read(), f.path().to_owned()))
    {
        Some((Err(e), path)) => return report::config_errors(weft_config::unreadable(&path, &e)),
        Some((Ok(text), _)) => Some(text),
        None => None,
    };
    // The config file's path and text, to place errors found after reading it.
    let config_file_text = sources.file.as_deref().zip(config_text.as_deref());
    let loaded = sources.load_text(config_text.as_deref());
    let config = match loaded {
        Ok(config) => Arc::new(config),
        Err(errors) => return report::config_errors(errors),
    };
    let mut exporter = match telemetry::Exporter::new(&config.telemetry) {
        Ok(exporter) => exporter,
        Err(e) => {
            errln!("error: {e}");
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    // One set of metrics for the process, sent over OTLP too when an endpoint is set.
    let metrics = Arc::new(
        match exporter
            .as_mut()
            .and_then(telemetry::Exporter::take_metrics)
        {
            Some(export) => metrics::Metrics::exporting(export.reader, export.resource),
            None => metrics::Metrics::new(),
        },
    );
    let log = log::init(&config.log, exporter.as_ref().map(|e| e.tracer.clone()));
    let loaded = preflight::supergraph(&config, config_file_text);
    let jwks = preflight::jwks_files(&config, config_file_text);
    let (name, mut source, read) = match loaded {
        Ok(l) if jwks.is_empty() => (l.name, l.source, l.supergraph),
        Ok(_) => return report::config_errors(jwks),
        Err(mut errors) => {
            errors.extend(jwks);
            return report::config_errors(errors);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // GraphQL requests are worked on by a runtime of their own (see `http::offload`), unless
    // `server.work_runtime` is off.
    let work = if config.server.work_runtime {
        match tokio::runtime::Builder::new_multi_thread()
            .thread_name("weft-work")
            .enable_all()
            .build()
        {
            Ok(rt) => Some(rt),
            Err(e) => {
                errln!("error: cannot start the async runtime: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let work_handle = work.as_ref().map(|rt| rt.handle().clone());
    let serving = metrics.clone();
    let code = runtime.block_on(async move {
        let (supergraph, version) = match read {
            Some(read) => read,
            None => match first_from(source.as_mut()).await {
                Ok(read) => read,
                Err(code) => return code,
            },
        };
        let (config, safelist) = match with_remote_safelist(config).await {
            Ok(read) => read,
            Err(code) => return code,
        };
        let live = match SchemaRuntime::new(supergraph.clone(), config.clone(), serving) {
            Ok(s) => Arc::new(Live::new(s)),
            Err(e) => {
                errln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        live.set_version(version);
        let listener = match tokio::net::TcpListener::bind(config.listen.get()).await {
            Ok(l) => l,
            Err(e) => {
                errln!(
                    "error: cannot listen on {}: {e}\n  hint: pick a free address with --listen",
                    config.listen
                );
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(config.listen.get());
        tracing::info!(listen = %addr, supergraph = %name, "weft gateway ready");
        // A closed stdout is no reason to stop serving.
        let _ = report::print(&format!("weft serving {name} at http://{addr}/graphql\n"));
        let reloader = Reloader {
            live: live.clone(),
            sources,
            config,
            supergraph,
            source,
            safelist,
            config_file,
            log,
        };
        // Read once: a reload does not move a shutdown already planned.
        let shutdown_delay = reloader.config.server.shutdown_delay();
        let watching = tokio::spawn(reloader.run());
        connections::serve(
            listener,
            router_working_on(live.clone(), work_handle),
            live,
            health::shutdown_signal(shutdown_delay),
        )
        .await;
        watching.abort();
        ExitCode::SUCCESS
    });
    // Outside the runtime: the exporter's last spans go out on its own thread. Work still
    // running (a request stuck in CPU) does not hold the exit up for long.
    if let Some(work) = work {
        work.shutdown_timeout(std::time::Duration::from_secs(1));
    }
    drop(runtime);
    if let Some(exporter) = exporter {
        // The metrics' last export, then the spans still buffered.
        metrics.shutdown();
        exporter.shutdown();
    }
    code
}

/// The first supergraph of a remote source, or the exit code after saying why there is none.
async fn first_from(
    source: &mut dyn SupergraphSource,
) -> Result<(Arc<weft_federation::Supergraph>, SupergraphVersion), ExitCode> {
    let name = source.describe().to_owned();
    let text = first_text(
        source,
        "`supergraph.url` (or `supergraph.hive`, or --supergraph)",
    )
    .await?;
    let version = SupergraphVersion::of(&text, &name);
    match source::load(text, name).await {
        Ok(supergraph) => Ok((supergraph, version)),
        Err(LoadError::Invalid(e)) => {
            for error in preflight::diagnostics(e) {
                errln!("error: {error}");
            }
            Err(ExitCode::from(report::INPUT_ERROR))
        }
        Err(e) => {
            errln!("error: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// `config` with the persisted-document manifest of `persisted_documents.url` read, and the
/// source to poll it; the config as it is when it names no URL.
async fn with_remote_safelist(
    config: Arc<weft_config::Config>,
) -> Result<(Arc<weft_config::Config>, Option<Box<dyn SupergraphSource>>), ExitCode> {
    let pd = &config.persisted_documents;
    let Some(url) = &pd.url else {
        return Ok((config, None));
    };
    let mut polled = source::safelist(url.as_str(), pd.poll_interval()).map_err(|e| {
        errln!("error: {e}");
        ExitCode::FAILURE
    })?;
    let text = first_text(polled.as_mut(), "`persisted_documents.url`").await?;
    match source::with_safelist(&config, &text) {
        Ok(config) => Ok((Arc::new(config), Some(polled))),
        Err(e) => {
            errln!(
                "error: {url}: {e}\n  hint: `persisted_documents.url` must serve a persisted \
                 document manifest"
            );
            Err(ExitCode::from(report::INPUT_ERROR))
        }
    }
}

/// The first text of a remote source (asked up to [`FIRST_TRIES`] times), or the exit code
/// after saying why there is none; `key` names the setting in the hint.
async fn first_text(source: &mut dyn SupergraphSource, key: &str) -> Result<String, ExitCode> {
    let name = source.describe().to_owned();
    let mut tries = 0;
    let text = loop {
        tries += 1;
        match source.poll().await {
            Ok(Some(text)) => break text,
            // A first poll always has the text; `None` would mean a source that lies.
            Ok(None) => {
                errln!("error: {name}: nothing to read");
                return Err(ExitCode::from(report::INPUT_ERROR));
            }
            Err(e) if tries < FIRST_TRIES => {
                errln!("warning: {e}; trying again in 1 s");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Err(e) => {
                errln!("error: {e}\n  hint: {key} must name a URL that answers");
                return Err(ExitCode::from(report::INPUT_ERROR));
            }
        }
    };
    Ok(text)
}
