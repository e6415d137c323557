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
use weft_federation::Supergraph;

use crate::http::{connections, health, router_working_on};
use crate::observability::{log, metrics, telemetry};
use crate::report::{self, errln};
use crate::runtime::composed;
use crate::runtime::reload::Reloader;
use crate::runtime::watch::FileWatch;
use crate::runtime::{Live, SchemaRuntime};

/// Flags override the configuration file and the `WEFT_*` environment (docs/configuration.md).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (weft.yaml); watched, and applied again when it changes.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The supergraph SDL to serve (`supergraph.path`).
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
        match composed::compose_from(&args.subgraphs) {
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
    let loaded = match config_file
        .as_mut()
        .map(|f| (f.read(), f.path().to_owned()))
    {
        Some((Err(e), path)) => Err(weft_config::unreadable(&path, &e)),
        Some((Ok(text), _)) => sources.load_text(Some(&text)),
        None => sources.load_text(None),
    };
    let config = match loaded {
        Ok(config) => Arc::new(config),
        Err(errors) => {
            for e in errors {
                errln!("error: {e}");
            }
            return ExitCode::from(report::INPUT_ERROR);
        }
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
    let Some(path) = config.supergraph.path.clone() else {
        errln!(
            "error: no supergraph to serve\n  hint: pass --supergraph FILE, or set \
             `supergraph.path` in the --config file (or WEFT_SUPERGRAPH_PATH)"
        );
        return ExitCode::from(report::INPUT_ERROR);
    };
    let name = path.display().to_string();
    let mut supergraph_file = FileWatch::new(path);
    let sdl = match supergraph_file.read() {
        Ok(sdl) => sdl,
        Err(e) => {
            errln!("error: {name}: {e}\n  hint: pass --supergraph with a supergraph .graphql file");
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    // A supergraph needing features Weft does not execute is refused like a malformed one.
    let supergraph =
        match Supergraph::parse(&sdl, &name).and_then(|s| s.check_executable(&name).map(|()| s)) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                report::supergraph_error(&e);
                return ExitCode::from(report::INPUT_ERROR);
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
        let live = match SchemaRuntime::new(supergraph.clone(), config.clone(), serving) {
            Ok(s) => Arc::new(Live::new(s)),
            Err(e) => {
                errln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
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
            supergraph_file,
            config_file,
            log,
        };
        let watching = tokio::spawn(reloader.run());
        connections::serve(
            listener,
            router_working_on(live.clone(), work_handle),
            live,
            health::shutdown_signal(std::time::Duration::ZERO),
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
