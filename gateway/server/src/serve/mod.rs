//! `weft serve [--config weft.yaml] [--supergraph FILE] [--listen HOST:PORT]`: the gateway.
//! GraphQL at `/graphql` (POST, and GET for queries), `GET /health` once the schema is loaded.
//! The supergraph and config files are watched and reloaded (`crate::config::reload`).

pub(crate) mod csrf;
mod engine;
mod exec;
mod pipeline;
mod request;
pub(crate) mod runtime;
mod shape;

use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use weft_federation::Supergraph;

use crate::config::reload::Reloader;
use crate::config::watch::FileWatch;
use crate::config::{self, Config, Flags, Sources};
use crate::report;
use request::{MediaType, Parsed};
use runtime::{Live, SchemaRuntime};

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
}

pub fn run(args: ServeArgs) -> ExitCode {
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
        Some((Err(e), path)) => Err(config::unreadable(&path, &e)),
        Some((Ok(text), _)) => sources.load_text(Some(&text)),
        None => sources.load_text(None),
    };
    let config = match loaded {
        Ok(config) => Arc::new(config),
        Err(errors) => {
            for e in errors {
                eprintln!("error: {e}");
            }
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    let log = config::log::init(&config.log);
    let Some(path) = config.supergraph.path.clone() else {
        eprintln!(
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
            eprintln!(
                "error: {name}: {e}\n  hint: pass --supergraph with a supergraph .graphql file"
            );
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    let supergraph = match Supergraph::parse(&sdl, &name) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            report::supergraph_error(&e);
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let live = match SchemaRuntime::new(supergraph.clone(), config.clone()) {
            Ok(s) => Arc::new(Live::new(s)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "error: cannot listen on {}: {e}\n  hint: pick a free address with --listen",
                    config.listen
                );
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(config.listen);
        tracing::info!(listen = %addr, supergraph = %name, "weft gateway ready");
        println!("weft serving {name} at http://{addr}/graphql");
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
        let server = axum::serve(listener, router(live)).with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        let result = server.await;
        watching.abort();
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Serves `supergraph` on `listener` until `shutdown` resolves (used by `weft demo`).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    supergraph: Supergraph,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let mut config = Config::default();
    // The demo is for exploring: plans are on.
    config.query_plan.expose = true;
    let schema = SchemaRuntime::new(Arc::new(supergraph), Arc::new(config))?;
    axum::serve(listener, router(Arc::new(Live::new(schema))))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// The gateway's HTTP routes over the runtime being served.
pub fn router(live: Arc<Live>) -> Router {
    Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .route("/", get(graphql).post(graphql))
        .route("/health", get(|| async { "ok" }))
        .with_state(live)
}

/// One GraphQL-over-HTTP request: the response media type from `Accept` (406 if none fits),
/// CSRF prevention (400 `CSRF_ERROR`), the request itself (415 for other content types, 400 for
/// malformed ones), then the pipeline. See docs/http.md.
async fn graphql(
    State(live): State<Arc<Live>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    // This request's runtime to the end, even if a reload swaps another in meanwhile.
    let schema = live.current();
    // HEAD is a GET whose answer has no body (axum drops it): same rules, queries only.
    let method = if method == Method::HEAD {
        Method::GET
    } else {
        method
    };
    let Some(media) = request::negotiate(&headers) else {
        let body = serde_json::json!({ "errors": [{
            "message": "Accept application/graphql-response+json or application/json",
            "extensions": { "code": "NOT_ACCEPTABLE" },
        }] });
        return respond(MediaType::Json, StatusCode::NOT_ACCEPTABLE, &body);
    };
    let parsed = match csrf::check(&headers, &schema.config.csrf) {
        Ok(()) => request::parse(&method, &headers, query.as_deref(), &body),
        Err(rejection) => Parsed::Invalid(rejection),
    };
    let outcome = match parsed {
        Parsed::Request(req) => {
            let exposure =
                pipeline::PlanExposure::from_headers(&headers, schema.config.query_plan.expose);
            pipeline::run(&schema, &method, req, media, exposure).await
        }
        Parsed::Invalid(rejection) => pipeline::Outcome {
            status: rejection.status,
            body: rejection.body(),
        },
    };
    let mut response = respond(media, outcome.status, &outcome.body);
    if outcome.status == StatusCode::METHOD_NOT_ALLOWED {
        // Only a mutation or subscription sent with GET gets here: it needs POST.
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// A JSON body with `Content-Type: <media>; charset=utf-8`.
fn respond(media: MediaType, status: StatusCode, body: &serde_json::Value) -> Response {
    let body = serde_json::to_vec(body)
        .unwrap_or_else(|_| b"{\"errors\":[{\"message\":\"serialization failed\"}]}".to_vec());
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("{}; charset=utf-8", media.as_str())) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
